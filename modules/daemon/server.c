/* server.c - see server.h. */
#include "auto_config.h"
#include "daemon/server.h"

#include <errno.h>
#include <fastcgi.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "auth/forward.h"
#include "auth/cache.h"
#include "core/decide.h"
#include "base/log.h"
#include "daemon/metrics.h"
#include "http/request.h"
#include "core/response.h"

struct worker {
    pthread_t thread;
    int listen_fd;
    bool unix_listener;
    /* The configuration this worker's current request uses, NULL between requests. */
    _Atomic(struct config *) in_use;
    struct decide_ctx *ctx;
    FCGX_Request req;
};

static _Atomic int stopping; /* set once by the main thread, read by every worker */

/*
 * The configuration new requests use. A reload swaps it; the old one is freed once no worker
 * holds it any more. Workers publish what they hold in `in_use` (a hazard pointer): taking a
 * configuration is two atomic stores and loads, no lock.
 */
static _Atomic(struct config *) current;

static struct config *config_acquire(struct worker *w)
{
    struct config *c;
    do {
        c = atomic_load(&current);
        atomic_store(&w->in_use, c);
        /* If a reload swapped `current` meanwhile, it may have looked at in_use too early. */
    } while (c != atomic_load(&current));
    return c;
}

static void config_release(struct worker *w)
{
    atomic_store(&w->in_use, NULL);
}

/* ---- listening ---- */

static int listen_unix(const char *path, int mode, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "listen: socket path '%s' is too long", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    struct stat st;
    /* A socket left by an earlier run would make bind fail; anything else is not ours. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        (mode >= 0 && chmod(path, (mode_t)mode) < 0) || listen(fd, SOMAXCONN) < 0) {
        snprintf(err, errlen, "listen: %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int listen_inet(const char *spec, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon[1] == '\0' || (size_t)(colon - spec) >= sizeof(host)) {
        snprintf(err, errlen, "listen: '%s' is not host:port, :port or a socket path", spec);
        return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    char *h = host;
    size_t hl = strlen(h);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h[hl - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "listen: %s: %s", spec, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    int saved = 0;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0)
        snprintf(err, errlen, "listen: %s: %s", spec, strerror(saved));
    return fd;
}

int server_listen(const char *spec, int mode, char *err, size_t errlen)
{
    if (spec[0] == '/')
        return listen_unix(spec, mode, err, errlen);
    return listen_inet(spec, err, errlen);
}

bool server_is_listener(int fd)
{
    int val = 0;
    socklen_t len = sizeof(val);
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == 0 && val;
}

/* The first socket systemd passed (fd 3), if it passed any to this very process. */
static int systemd_listener(void)
{
    const char *pid = getenv("LISTEN_PID");
    const char *fds = getenv("LISTEN_FDS");
    if (!pid || !fds || atol(pid) != (long)getpid() || atoi(fds) < 1)
        return -1;
    if (atoi(fds) > 1)
        log_warn("systemd passed %s sockets; accepting on the first only", fds);
    return server_is_listener(3) ? 3 : -1;
}

int server_open_listener(const struct config *cfg, char *err, size_t errlen)
{
    int fd = systemd_listener();
    if (fd >= 0) {
        if (cfg->listen)
            log_info("accepting on the socket from systemd; `listen` is not used");
        return fd;
    }
    if (cfg->listen)
        return server_listen(cfg->listen, cfg->listen_mode, err, errlen);
    if (server_is_listener(0))
        return 0;
    snprintf(err, errlen,
             "no `listen` is configured and fd 0 is not a listening socket (set listen, start "
             "it from the web server, spawn-fcgi or a systemd socket unit)");
    return -1;
}

/* ---- one request ---- */

static void to_fcgx(void *ud, const char *data, size_t len)
{
    FCGX_PutStr(data, (int)len, (FCGX_Stream *)ud);
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The path as logged: printable, bounded, never able to forge a log line. */
static void loggable(const char *s, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len && s && o + 4 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c < 0x21 || c >= 0x7f) ? '?' : (char)c;
    }
    if (s && len > 0 && o + 4 >= outlen)
        memcpy(out + o, "...", 3), o += 3;
    out[o] = '\0';
}

/*
 * One line per decision, key=value, stable keys. Values that come from the client are made
 * printable and bounded; header values (credentials) are never logged.
 */
static void log_decision(const struct request_view *v, const struct decision *d, int role,
                         double ms)
{
    enum log_level level = d->status >= 500 ? LOG_LEVEL_WARN : LOG_LEVEL_INFO;
    if (!log_enabled(level))
        return;
    char path[300], id[80];
    loggable(v->path, v->path_len, path, sizeof(path));
    const char *rid = request_param(v->envp, "HTTP_X_REQUEST_ID");
    loggable(rid, rid ? strlen(rid) : 0, id, sizeof(id));
    log_msg(level,
            "decision role=%s path=%s middleware=%s status=%d auth_status=%d reason=\"%s\"%s%s%s "
            "ms=%.1f cache=%s request_id=%s",
            role == FCGI_AUTHORIZER ? "authorizer" : "responder", *path ? path : "-",
            d->mw ? d->mw->name : "-", d->status, d->auth_status, d->reason,
            d->detail ? " detail=\"" : "", d->detail ? d->detail : "", d->detail ? "\"" : "", ms,
            d->cache ? d->cache : "off", *id ? id : "-");
}

/*
 * True if the web server has closed the connection already: its client gave up while the
 * request waited for a worker, and asking the auth service now would only add load when it
 * is highest. On a unix socket a full close shows as POLLHUP; on TCP it cannot be told from
 * a half-close, so TCP requests are always decided.
 */
static bool abandoned(const struct worker *w)
{
    if (!w->unix_listener)
        return false;
    struct pollfd p = {.fd = w->req.ipcFd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

static void handle(struct worker *w)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    metrics_in_flight(1);
    struct config *cfg = config_acquire(w);
    struct request_view view;
    struct decision d;
    const char *bad = request_view_init(&view, w->req.envp);
    if (bad)
        decide_bad_request(&d, bad);
    else if (abandoned(w))
        decide_abandoned(&d);
    else
        decide(cfg, &view, w->ctx, &d);
    response_write(&d, to_fcgx, w->req.out);
    double ms = ms_since(&t0);
    metrics_record(&d, ms / 1e3);
    if (d.auth_seconds > 0)
        metrics_record_auth_call(d.auth_seconds);
    log_decision(&view, &d, w->req.role, ms);
    config_release(w); /* d points into cfg until here */
    metrics_in_flight(-1);
}

/* Seconds a FastCGI connection may stall while the authorizer reads or writes it. */
static void set_io_timeouts(int fd)
{
    struct timeval tv = {SERVER_IO_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* The next connection from the web server, or -1 when stopping. */
static int next_connection(int listen_fd)
{
    while (!stopping) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            set_io_timeouts(fd);
            return fd;
        }
        if (stopping)
            break;
        if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED || errno == EPROTO)
            continue;
        log_warn("accept failed: %s", strerror(errno));
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL); /* e.g. out of descriptors: do not spin */
    }
    return -1;
}

/*
 * Each worker accepts on its own (accept(2) is safe to call from many threads) and only then
 * lets libfcgi read the request from that connection. FCGX_Accept_r would also read the
 * BEGIN_REQUEST and PARAMS records, so serializing it behind one lock lets a single stalled
 * peer stop every worker. libfcgi reads a connection it is given in its request (as for
 * FCGI_KEEP_CONN) instead of accepting; its request has no listening socket of its own.
 */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (;;) {
        if (w->req.ipcFd < 0) {
            int fd = next_connection(w->listen_fd);
            if (fd < 0)
                break;
            w->req.ipcFd = fd;
            w->req.keepConnection = 1; /* makes FCGX_Accept_r read it rather than close it */
        }
        if (FCGX_Accept_r(&w->req) < 0)
            continue; /* the connection ended or broke before a whole request; it is closed */
        handle(w);
        /* libfcgi closes a TCP connection by shutting down its side and then reading until
         * the peer closes, so that unread input cannot turn into a reset that costs the peer
         * the answer. A unix socket has no resets: close at once, one wait fewer. */
        if (w->unix_listener)
            w->req.detached = 1;
        /* Answers now; closes the connection unless the web server asked to keep it. */
        FCGX_Finish_r(&w->req);
        if (stopping && w->req.ipcFd >= 0) {
            close(w->req.ipcFd);
            w->req.ipcFd = -1;
        }
    }
    return NULL;
}

/* ---- lifecycle ---- */

/* One line of totals (SIGUSR1), at warn level so that it shows with the default level. */
static void log_stats(void)
{
    struct cache_stats cs;
    cache_stats(&cs);
    log_warn("stats cache_hits=%llu cache_misses=%llu cache_evictions=%llu cache_entries=%llu",
             (unsigned long long)cs.hits, (unsigned long long)cs.misses,
             (unsigned long long)cs.evictions, (unsigned long long)cs.entries);
}

/* Reads the configuration again; on success new requests use it (SIGHUP). */
static void reload(const char *file, struct worker *workers, int n)
{
    struct config *next = NULL;
    char err[1024];
    if (config_load(file, &next, err, sizeof(err))) {
        log_error("reload: %s; still serving with the previous configuration", err);
        return;
    }
    struct config *old = atomic_load(&current);
    if ((old->listen == NULL) != (next->listen == NULL) ||
        (old->listen && strcmp(old->listen, next->listen) != 0) || old->workers != next->workers)
        log_warn("reload: listen and workers take effect only after a restart");
    if ((old->metrics_listen == NULL) != (next->metrics_listen == NULL) ||
        (old->metrics_listen && strcmp(old->metrics_listen, next->metrics_listen) != 0))
        log_warn("reload: metrics_listen takes effect only after a restart");
    log_set_level((enum log_level)next->log_level);
    log_set_target((enum log_target)next->log_target);
    atomic_store(&current, next);
    /* Requests in flight finish on the old configuration; free it when the last one is done. */
    for (int i = 0; i < n; i++) {
        while (atomic_load(&workers[i].in_use) == old) {
            struct timespec pause = {0, 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    config_free(old);
    log_info("reload: %s: now serving with %zu middlewares", file, next->nmiddlewares);
}

static void serve_signals(const char *file, struct worker *workers, int n)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGUSR1) {
            log_stats();
            continue;
        }
        if (sig == SIGHUP) {
            reload(file, workers, n);
            continue;
        }
        log_info("signal %d: finishing requests in flight", sig);
        return;
    }
}

int server_run(struct config *cfg, const char *file, int listen_fd)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* workers inherit the mask; main waits */
    signal(SIGPIPE, SIG_IGN);

    if (FCGX_Init() != 0) {
        log_error("FCGX_Init failed");
        return 1;
    }

    atomic_store(&current, cfg);
    struct sockaddr_storage addr;
    socklen_t addrlen = sizeof(addr);
    bool unix_listener = getsockname(listen_fd, (struct sockaddr *)&addr, &addrlen) == 0 &&
                         addr.ss_family == AF_UNIX;
    int n = cfg->workers;
    struct worker *workers = calloc((size_t)n, sizeof(*workers));
    if (!workers) {
        log_error("out of memory");
        return 1;
    }
    int started = 0, rc = 0;
    for (; started < n; started++) {
        struct worker *w = &workers[started];
        w->ctx = calloc(1, sizeof(*w->ctx));
        if (w->ctx) {
            w->ctx->backend = backend_new();
            w->ctx->cache_scratch = cache_scratch_new();
        }
        if (!w->ctx || !w->ctx->backend || !w->ctx->cache_scratch) {
            log_error("cannot set up worker %d: out of memory", started);
            rc = 1;
            break;
        }
        w->listen_fd = listen_fd;
        w->unix_listener = unix_listener;
        FCGX_InitRequest(&w->req, -1, 0); /* no socket: libfcgi never accepts by itself */
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            log_error("cannot start worker %d: %s", started, strerror(errno));
            rc = 1;
            break;
        }
    }
    char err[512];
    if (rc == 0 && cfg->metrics_listen && metrics_start(cfg->metrics_listen, err, sizeof(err))) {
        log_error("metrics_listen: %s", err);
        rc = 1;
    }
    if (rc == 0) {
        log_info("serving with %d workers, %zu middlewares", n, cfg->nmiddlewares);
        serve_signals(file, workers, n);
    }

    /* Stop accepting: shutting the listener down wakes every worker blocked in accept();
     * a worker in the middle of a request finishes it, then sees `stopping`. */
    stopping = 1;
    FCGX_ShutdownPending();
    shutdown(listen_fd, SHUT_RDWR);
    for (int i = 0; i < started; i++)
        pthread_join(workers[i].thread, NULL);
    metrics_stop();
    for (int i = 0; i < n; i++) {
        if (workers[i].ctx) {
            backend_free(workers[i].ctx->backend);
            cache_scratch_free(workers[i].ctx->cache_scratch);
            free(workers[i].ctx);
        }
    }
    free(workers);
    config_free(atomic_exchange(&current, NULL));
    return rc;
}
