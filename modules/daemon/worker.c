/* worker.c - see worker.h. */
#include "auto_config.h"

#include "daemon/worker.h"

#include <errno.h>
#include <fastcgi.h>
#include <fcgiapp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth/worker.h"
#include "base/buf.h"
#include "base/log.h"
#include "core/decide.h"
#include "core/response.h"
#include "daemon/decisionlog.h"
#include "daemon/listener.h"
#include "daemon/metrics.h"
#include "http/request.h"

struct worker {
    pthread_t thread;
    size_t index; /* its slot in the swap */
    struct worker_pool *pool;
    struct decide_ctx *ctx;
    FCGX_Request req;
    struct buf out;
    char *outmem; /* RESPONSE_MAX bytes */
};

struct worker_pool {
    int listen_fd;
    bool unix_listener;
    struct swap *swap;
    _Atomic bool stopping; /* set once by workers_stop, read by every worker */
    struct worker *workers;
    size_t n, started;
};

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * True if the web server has closed the connection already: its client gave up while the
 * request waited for a worker, and asking the auth service now would only add load when it
 * is highest. On a unix socket a full close shows as POLLHUP; on TCP it cannot be told from
 * a half-close, so TCP requests are always decided.
 */
static bool abandoned(const struct worker *w)
{
    if (!w->pool->unix_listener)
        return false;
    struct pollfd p = {.fd = w->req.ipcFd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

static void answer(struct worker *w, const struct decision *d)
{
    buf_reset(&w->out);
    if (!response_write(d, &w->out)) {
        /* Cannot happen within the bounds; if it did, fail closed rather than cut it short. */
        struct decision failed;
        decide_unanswerable(&failed, d->mw);
        buf_reset(&w->out);
        response_write(&failed, &w->out);
    }
    FCGX_PutStr(w->out.data, (int)w->out.len, w->req.out);
}

static void handle(struct worker *w)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    metrics_in_flight(1);
    struct policy *p = swap_acquire(w->pool->swap, w->index);
    struct request_view view;
    struct decision d;
    const char *bad = request_view_init(&view, w->req.envp);
    if (bad)
        decide_bad_request(&d, bad);
    else if (abandoned(w))
        decide_abandoned(&d);
    else
        decide(p, &view, w->ctx, &d);
    answer(w, &d);
    double ms = ms_since(&t0);
    metrics_record(&d, ms / 1e3);
    decisionlog_write(&view, &d, w->req.role != FCGI_AUTHORIZER, ms);
    swap_release(w->pool->swap, w->index); /* d points into the policy until here */
    metrics_in_flight(-1);
}

/* Seconds a FastCGI connection may stall while the authorizer reads or writes it. */
static void set_io_timeouts(int fd)
{
    struct timeval tv = {WORKER_IO_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* The next connection from the web server, or -1 when stopping. */
static int next_connection(struct worker_pool *pool)
{
    while (!atomic_load(&pool->stopping)) {
        int fd = accept4(pool->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            set_io_timeouts(fd);
            return fd;
        }
        if (atomic_load(&pool->stopping))
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
    struct worker_pool *pool = w->pool;
    for (;;) {
        if (w->req.ipcFd < 0) {
            int fd = next_connection(pool);
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
        if (pool->unix_listener)
            w->req.detached = 1;
        /* Answers now; closes the connection unless the web server asked to keep it. */
        FCGX_Finish_r(&w->req);
        if (atomic_load(&pool->stopping) && w->req.ipcFd >= 0) {
            close(w->req.ipcFd);
            w->req.ipcFd = -1;
        }
    }
    return NULL;
}

static void free_worker(struct worker *w)
{
    if (w->ctx)
        auth_worker_free(w->ctx->auth);
    free(w->ctx);
    free(w->outmem);
}

static bool setup_worker(struct worker_pool *pool, size_t i, char *err, size_t errlen)
{
    struct worker *w = &pool->workers[i];
    w->index = i;
    w->pool = pool;
    w->ctx = calloc(1, sizeof(*w->ctx));
    w->outmem = malloc(RESPONSE_MAX);
    if (!w->ctx || !w->outmem) {
        snprintf(err, errlen, "cannot set up worker %zu: out of memory", i);
        return false;
    }
    buf_init(&w->out, w->outmem, RESPONSE_MAX);
    char why[256];
    w->ctx->auth = auth_worker_new(why, sizeof(why));
    if (!w->ctx->auth) {
        snprintf(err, errlen, "cannot set up worker %zu: %s", i, why);
        return false;
    }
    FCGX_InitRequest(&w->req, -1, 0); /* no socket: libfcgi never accepts by itself */
    return true;
}

struct worker_pool *workers_start(int listen_fd, struct swap *swap, size_t n, char *err,
                                  size_t errlen)
{
    struct worker_pool *pool = calloc(1, sizeof(*pool));
    if (!pool || !(pool->workers = calloc(n, sizeof(*pool->workers)))) {
        free(pool);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pool->listen_fd = listen_fd;
    pool->unix_listener = listener_is_unix(listen_fd);
    pool->swap = swap;
    pool->n = n;
    atomic_init(&pool->stopping, false);
    for (size_t i = 0; i < n; i++) {
        if (!setup_worker(pool, i, err, errlen)) {
            workers_stop(pool);
            return NULL;
        }
        if (pthread_create(&pool->workers[i].thread, NULL, worker_main, &pool->workers[i]) != 0) {
            snprintf(err, errlen, "cannot start worker %zu: %s", i, strerror(errno));
            workers_stop(pool);
            return NULL;
        }
        pool->started = i + 1;
    }
    return pool;
}

void workers_stop(struct worker_pool *pool)
{
    if (!pool)
        return;
    atomic_store(&pool->stopping, true);
    FCGX_ShutdownPending();
    shutdown(pool->listen_fd, SHUT_RDWR);
    for (size_t i = 0; i < pool->started; i++)
        pthread_join(pool->workers[i].thread, NULL);
    for (size_t i = 0; i < pool->n; i++)
        free_worker(&pool->workers[i]);
    free(pool->workers);
    free(pool);
}
