/* worker.c - see worker.h. */
#include "auto_config.h"

#include "daemon/worker.h"

#include <errno.h>
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
#include "daemon/closer.h"
#include "daemon/decisionlog.h"
#include "daemon/listener.h"
#include "daemon/metrics.h"
#include "http/fcgi.h"
#include "http/request.h"

/* Bytes read from a connection at a time. */
#define INPUT_SPACE (64 * 1024)

struct worker {
    pthread_t thread;
    size_t index; /* its slot in the swap */
    struct worker_pool *pool;
    struct decide_ctx *ctx;

    /* The connection being served, and what was read from it but not parsed yet. */
    int fd;
    struct fcgi_parser parser;
    char *input; /* INPUT_SPACE bytes */
    size_t in_start, in_len;

    struct buf text; /* the CGI-style response */
    struct buf out;  /* the same, framed as FastCGI records */
    char *mem;       /* the memory of all the above, allocated once */
};

struct worker_pool {
    int listen_fd;
    bool unix_listener;
    struct closer *closer; /* TCP only: lingers on finished connections */
    struct swap *swap;
    _Atomic bool stopping; /* set once by workers_stop, read by every worker */
    struct worker *workers;
    size_t n, started;
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Waits until fd is ready for `events` or the deadline passes; false if it passed. */
static bool wait_for(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (rc > 0)
            return true;
        if (rc < 0 && errno != EINTR)
            return false;
    }
}

/*
 * Sends all of data before the deadline; false if the peer went away or was too slow. flags
 * may add MSG_MORE: the data waits in the kernel for the close, which sends it with the FIN.
 */
static bool send_all(int fd, const char *data, size_t len, int64_t deadline, int flags)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT | flags);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_for(fd, POLLOUT, deadline))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

/* Sends what the parser has to answer by itself (management records, refused requests). */
static bool send_replies(struct worker *w, int64_t deadline)
{
    struct buf *r = &w->parser.replies;
    bool ok = r->len == 0 || send_all(w->fd, r->data, r->len, deadline, 0);
    buf_reset(r);
    return ok;
}

enum read_result { READ_REQUEST, READ_CLOSE };

/*
 * Reads the next request whole. The first byte must come within WORKER_IO_TIMEOUT_S, and the
 * whole request within WORKER_IO_TIMEOUT_S of its first byte: a peer that trickles bytes
 * holds a worker that long at most, whatever it announces.
 */
static enum read_result read_request(struct worker *w, struct fcgi_request *req)
{
    int64_t deadline = now_ms() + WORKER_IO_TIMEOUT_S * 1000;
    bool started = false;
    for (;;) {
        while (w->in_len > 0) {
            size_t used = 0;
            const char *why = NULL;
            enum fcgi_status st =
                fcgi_feed(&w->parser, w->input + w->in_start, w->in_len, &used, req, &why);
            w->in_start += used;
            w->in_len -= used;
            if (!send_replies(w, deadline))
                return READ_CLOSE;
            if (st == FCGI_REQUEST)
                return READ_REQUEST;
            if (st == FCGI_BROKEN) {
                log_debug("closing a FastCGI connection: %s", why);
                return READ_CLOSE;
            }
        }
        w->in_start = 0;
        ssize_t n = recv(w->fd, w->input, INPUT_SPACE, MSG_DONTWAIT);
        if (n > 0) {
            if (!started) { /* the request's time runs from its first byte */
                deadline = now_ms() + WORKER_IO_TIMEOUT_S * 1000;
                started = true;
            }
            w->in_len = (size_t)n;
            continue;
        }
        if (n == 0)
            return READ_CLOSE; /* the web server closed the connection */
        if (errno == EINTR)
            continue;
        if ((errno != EAGAIN && errno != EWOULDBLOCK) || !wait_for(w->fd, POLLIN, deadline))
            return READ_CLOSE;
        if (atomic_load(&w->pool->stopping) && !fcgi_in_request(&w->parser))
            return READ_CLOSE;
    }
}

/*
 * True if the web server has closed the connection already: its client gave up while the
 * request waited for a worker, and asking the auth service now would only add load when it
 * is highest. The auth layer asks just before an auth call or a password hash
 * (auth_worker_gave_up), so an answer from a cache costs no system call for it. On a unix
 * socket a full close shows as POLLHUP; on TCP it cannot be told from a half-close, so TCP
 * requests are always decided.
 */
static bool abandoned(void *arg)
{
    const struct worker *w = arg;
    if (!w->pool->unix_listener)
        return false;
    struct pollfd p = {.fd = w->fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

/* Writes the decision and frames it for the web server, in w->out. */
static void frame(struct worker *w, uint16_t id, const struct decision *d)
{
    buf_reset(&w->text);
    if (!response_write(d, &w->text)) {
        /* Cannot happen within the bounds; if it did, fail closed rather than cut it short. */
        struct decision failed;
        decide_unanswerable(&failed, d->mw);
        buf_reset(&w->text);
        response_write(&failed, &w->text);
    }
    buf_reset(&w->out);
    fcgi_frame_answer(&w->out, id, w->text.data, w->text.len);
}

/* last: the connection is closed after this answer. */
static bool handle(struct worker *w, const struct fcgi_request *req, bool last)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    metrics_in_flight(1);
    struct policy *p = swap_acquire(w->pool->swap, w->index);
    struct request_view view;
    struct decision d;
    const char *bad = request_view_init(&view, req->envp);
    if (req->refusal || bad) {
        decide_bad_request(&d, req->refusal ? req->refusal : bad);
        decide_phase(req->envp, &d);
    } else
        decide(p, &view, w->ctx, &d);
    frame(w, req->id, &d);
    double ms = ms_since(&t0);
    metrics_record(&d, ms / 1e3);
    /* Logged before it is sent: the log line of a request comes before anything the web
     * server does after the answer (its next request, say). */
    decisionlog_write(&view, &d, req->role != FCGI_ROLE_AUTHORIZER, ms);
    swap_release(w->pool->swap, w->index); /* d points into the policy until here */
    metrics_in_flight(-1);
    /* On TCP the last answer and the FIN go in one segment: one packet less for the web
     * server to take in. */
    int more = last && !w->pool->unix_listener ? MSG_MORE : 0;
    return send_all(w->fd, w->out.data, w->out.len, now_ms() + WORKER_IO_TIMEOUT_S * 1000, more);
}

/* True if nothing the web server sent is waiting unread in the kernel. */
static bool nothing_unread(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

/*
 * Closes the connection. On TCP, unread input (a request body the authorizer never reads)
 * would turn the close into a reset that can cost the web server the answer: the closer
 * lingers on it instead, so that this worker is free for the next request at once. When the
 * web server has sent the end of its input (the empty STDIN record, as nginx does with the
 * parameters) and nothing is unread, it has nothing more to send and a plain close cannot
 * reset. A unix socket has no resets and closes here.
 */
static void close_connection(struct worker *w, bool input_ended)
{
    if (w->pool->closer && !(input_ended && nothing_unread(w->fd)))
        closer_close(w->pool->closer, w->fd);
    else
        close(w->fd);
    w->fd = -1;
}

/* Serves the requests of one connection: one, or several if the web server keeps it. */
static void serve_connection(struct worker *w)
{
    fcgi_parser_reset(&w->parser);
    w->in_start = w->in_len = 0;
    struct fcgi_request req;
    bool input_ended = false;
    while (read_request(w, &req) == READ_REQUEST) {
        bool last = !req.keep_conn || atomic_load(&w->pool->stopping);
        if (last)
            input_ended = fcgi_input_ends(w->input + w->in_start, w->in_len, req.id);
        if (!handle(w, &req, last) || last)
            break;
    }
    close_connection(w, input_ended);
}

/* The next connection from the web server, or -1 when stopping. */
static int next_connection(struct worker_pool *pool)
{
    while (!atomic_load(&pool->stopping)) {
        int fd = accept4(pool->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0)
            return fd;
        if (atomic_load(&pool->stopping))
            break;
        if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED || errno == EPROTO)
            continue;
        /* Once a second at most: every worker meets the same error (out of descriptors). */
        static _Atomic int64_t last_warned;
        int64_t now = now_ms(), last = atomic_load(&last_warned);
        if (now - last >= 1000 && atomic_compare_exchange_strong(&last_warned, &last, now))
            log_warn("accept failed: %s", strerror(errno));
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL); /* e.g. out of descriptors: do not spin */
    }
    return -1;
}

/*
 * Each worker accepts on its own (accept(2) is safe to call from many threads) and reads its
 * own connection: a peer that stalls in the middle of a request holds up that one worker for
 * WORKER_IO_TIMEOUT_S at most, never the others.
 */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    while ((w->fd = next_connection(w->pool)) >= 0)
        serve_connection(w);
    return NULL;
}

static void free_worker(struct worker *w)
{
    if (w->ctx)
        auth_worker_free(w->ctx->auth);
    free(w->ctx);
    free(w->mem);
}

/* One allocation for a worker's buffers: the parameters' arena and slots, the input, the
 * response text and its framing. */
#define ARENA_SPACE FCGI_MAX_PARAMS_BYTES
#define SLOTS_SPACE ((FCGI_MAX_PARAMS + 1) * sizeof(char *))
#define OUT_SPACE (RESPONSE_MAX + FCGI_FRAMING(RESPONSE_MAX))
#define WORKER_SPACE (SLOTS_SPACE + ARENA_SPACE + INPUT_SPACE + RESPONSE_MAX + OUT_SPACE)

static bool setup_worker(struct worker_pool *pool, size_t i, char *err, size_t errlen)
{
    struct worker *w = &pool->workers[i];
    w->index = i;
    w->pool = pool;
    w->fd = -1;
    w->ctx = calloc(1, sizeof(*w->ctx));
    w->mem = malloc(WORKER_SPACE);
    if (!w->ctx || !w->mem) {
        snprintf(err, errlen, "cannot set up worker %zu: out of memory", i);
        return false;
    }
    char *m = w->mem;
    char **slots = (char **)m; /* first: malloc's alignment suits the pointers */
    m += SLOTS_SPACE;
    fcgi_parser_init(&w->parser, m, slots, (unsigned)pool->n);
    m += ARENA_SPACE;
    w->input = m;
    m += INPUT_SPACE;
    buf_init(&w->text, m, RESPONSE_MAX);
    m += RESPONSE_MAX;
    buf_init(&w->out, m, OUT_SPACE);
    char why[256];
    w->ctx->auth = auth_worker_new(why, sizeof(why));
    if (!w->ctx->auth) {
        snprintf(err, errlen, "cannot set up worker %zu: %s", i, why);
        return false;
    }
    w->ctx->auth->gave_up = abandoned;
    w->ctx->auth->gave_up_arg = w;
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
    if (!pool->unix_listener && !(pool->closer = closer_start(err, errlen))) {
        free(pool->workers);
        free(pool);
        return NULL;
    }
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
    shutdown(pool->listen_fd, SHUT_RDWR);
    for (size_t i = 0; i < pool->started; i++)
        pthread_join(pool->workers[i].thread, NULL);
    closer_stop(pool->closer); /* after the workers: they hand it their last connections */
    for (size_t i = 0; i < pool->n; i++)
        free_worker(&pool->workers[i]);
    free(pool->workers);
    free(pool);
}
