/* metrics.c - see metrics.h. */
#include "daemon/metrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "auth/cache.h"
#include "auth/htpasswd.h"
#include "auth/sharedcache.h"
#include "base/buf.h"
#include "base/log.h"
#include "daemon/listener.h"

/* Auth answers by status class: a label of the raw status, not what it means (outcome.h). */
static const char *const codes[] = {"none", "2xx", "3xx", "401", "403", "4xx", "5xx", "other"};
enum { N_CODES = sizeof(codes) / sizeof(*codes) };

/* Upper bounds in seconds; the last bucket is +Inf. */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                0.1,    0.25,  0.5,    1,     2.5,  5,     10};
enum { N_BOUNDS = sizeof(bounds) / sizeof(*bounds) };

struct histogram {
    _Atomic uint64_t buckets[N_BOUNDS + 1]; /* not cumulative; summed when rendered */
    _Atomic uint64_t count;
    _Atomic uint64_t sum_us;
};

static _Atomic uint64_t decisions[OUTCOME_COUNT];
static _Atomic uint64_t auth_codes[N_CODES];
static _Atomic uint64_t errors[CAUSE_COUNT];
static _Atomic int64_t in_flight;
static struct histogram decision_seconds, auth_seconds;

static void add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static void observe(struct histogram *h, double seconds)
{
    size_t i = 0;
    while (i < N_BOUNDS && seconds > bounds[i])
        i++;
    add(&h->buckets[i], 1);
    add(&h->count, 1);
    add(&h->sum_us, (uint64_t)(seconds * 1e6 + 0.5));
}

void metrics_in_flight(int delta)
{
    atomic_fetch_add_explicit(&in_flight, delta, memory_order_relaxed);
}

static size_t code_index(int status)
{
    if (status == 0)
        return 0;
    if (status == 401)
        return 3;
    if (status == 403)
        return 4;
    if (status >= 200 && status < 300)
        return 1;
    if (status >= 300 && status < 400)
        return 2;
    if (status >= 400 && status < 500)
        return 5;
    if (status >= 500 && status < 600)
        return 6;
    return 7;
}

void metrics_record(const struct decision *d, double seconds)
{
    add(&decisions[d->outcome], 1);
    /* Answers the service gave now: a cached answer was counted when it was fetched. */
    if (d->mw && d->cache != CACHE_HIT && d->cache != CACHE_SHARED_HIT)
        add(&auth_codes[code_index(d->auth_status)], 1);
    if (d->cause != CAUSE_NONE)
        add(&errors[d->cause], 1);
    observe(&decision_seconds, seconds);
    if (d->auth_seconds > 0)
        observe(&auth_seconds, d->auth_seconds);
}

/* ---- rendering ---- */

static void render_histogram(struct buf *o, const char *name, const char *help, struct histogram *h)
{
    buf_printf(o, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= N_BOUNDS; i++) {
        cumulative += get(&h->buckets[i]);
        if (i < N_BOUNDS)
            buf_printf(o, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i],
                       (unsigned long long)cumulative);
        else
            buf_printf(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cumulative);
    }
    buf_printf(o, "%s_sum %.6f\n%s_count %llu\n", name, (double)get(&h->sum_us) / 1e6, name,
               (unsigned long long)get(&h->count));
}

/* The shared cache level's counters (zero when no middleware shares). */
static void render_shared_cache(struct buf *o)
{
    struct sharedcache_stats ss;
    sharedcache_stats(NULL, &ss);
    buf_printf(
        o,
        "# HELP authorizer_shared_cache_lookups_total Shared cache (Redis) lookups by result.\n"
        "# TYPE authorizer_shared_cache_lookups_total counter\n"
        "authorizer_shared_cache_lookups_total{result=\"hit\"} %llu\n"
        "authorizer_shared_cache_lookups_total{result=\"miss\"} %llu\n"
        "authorizer_shared_cache_lookups_total{result=\"tampered\"} %llu\n"
        "authorizer_shared_cache_lookups_total{result=\"expired\"} %llu\n"
        "# HELP authorizer_shared_cache_stores_total Answers stored in the shared cache.\n"
        "# TYPE authorizer_shared_cache_stores_total counter\n"
        "authorizer_shared_cache_stores_total %llu\n"
        "# HELP authorizer_shared_cache_errors_total Shared cache calls that met a Redis fault.\n"
        "# TYPE authorizer_shared_cache_errors_total counter\n"
        "authorizer_shared_cache_errors_total %llu\n"
        "# HELP authorizer_shared_cache_skipped_total Shared cache calls the open breaker "
        "skipped.\n"
        "# TYPE authorizer_shared_cache_skipped_total counter\n"
        "authorizer_shared_cache_skipped_total %llu\n"
        "# HELP authorizer_shared_cache_breaker_opens_total Times the Redis breaker opened.\n"
        "# TYPE authorizer_shared_cache_breaker_opens_total counter\n"
        "authorizer_shared_cache_breaker_opens_total %llu\n"
        "# HELP authorizer_shared_cache_breaker_open Whether the Redis breaker skips Redis now "
        "(1 open, 0.5 probing, 0 closed).\n"
        "# TYPE authorizer_shared_cache_breaker_open gauge\n"
        "authorizer_shared_cache_breaker_open %s\n"
        "# HELP authorizer_shared_cache_call_seconds Time of Redis calls (connecting included).\n"
        "# TYPE authorizer_shared_cache_call_seconds summary\n"
        "authorizer_shared_cache_call_seconds_sum %.6f\n"
        "authorizer_shared_cache_call_seconds_count %llu\n",
        (unsigned long long)ss.hits, (unsigned long long)ss.misses, (unsigned long long)ss.tampered,
        (unsigned long long)ss.expired, (unsigned long long)ss.stored,
        (unsigned long long)ss.errors, (unsigned long long)ss.skipped,
        (unsigned long long)ss.breaker_opens,
        ss.breaker_state == 0   ? "0"
        : ss.breaker_state == 1 ? "1"
                                : "0.5",
        ss.micros / 1e6, (unsigned long long)ss.calls);
}

size_t metrics_render(char *buf, size_t cap)
{
    struct buf o;
    buf_init(&o, buf, cap);
    buf_printf(&o, "# HELP authorizer_decisions_total Decisions by outcome.\n"
                   "# TYPE authorizer_decisions_total counter\n");
    for (size_t i = 0; i < OUTCOME_COUNT; i++)
        buf_printf(&o, "authorizer_decisions_total{outcome=\"%s\"} %llu\n", outcome_name(i),
                   (unsigned long long)get(&decisions[i]));
    buf_printf(&o, "# HELP authorizer_auth_responses_total Auth service answers by status "
                   "(\"none\": no usable answer).\n"
                   "# TYPE authorizer_auth_responses_total counter\n");
    for (size_t i = 0; i < N_CODES; i++)
        buf_printf(&o, "authorizer_auth_responses_total{code=\"%s\"} %llu\n", codes[i],
                   (unsigned long long)get(&auth_codes[i]));
    buf_printf(&o, "# HELP authorizer_errors_total Failed decisions (500) by cause.\n"
                   "# TYPE authorizer_errors_total counter\n");
    for (size_t i = 1; i < CAUSE_COUNT; i++) /* every cause but CAUSE_NONE */
        buf_printf(&o, "authorizer_errors_total{cause=\"%s\"} %llu\n", cause_name(i),
                   (unsigned long long)get(&errors[i]));
    buf_printf(&o,
               "# HELP authorizer_requests_in_flight Requests being decided now.\n"
               "# TYPE authorizer_requests_in_flight gauge\n"
               "authorizer_requests_in_flight %lld\n",
               (long long)atomic_load_explicit(&in_flight, memory_order_relaxed));
    struct cache_stats cs;
    cache_stats(&cs);
    buf_printf(
        &o,
        "# HELP authorizer_cache_lookups_total Decision cache lookups by result.\n"
        "# TYPE authorizer_cache_lookups_total counter\n"
        "authorizer_cache_lookups_total{result=\"hit\"} %llu\n"
        "authorizer_cache_lookups_total{result=\"miss\"} %llu\n"
        "# HELP authorizer_cache_evictions_total Entries evicted to stay within maxEntries.\n"
        "# TYPE authorizer_cache_evictions_total counter\n"
        "authorizer_cache_evictions_total %llu\n"
        "# HELP authorizer_cache_entries Entries in the decision caches.\n"
        "# TYPE authorizer_cache_entries gauge\n"
        "authorizer_cache_entries %llu\n",
        (unsigned long long)cs.hits, (unsigned long long)cs.misses,
        (unsigned long long)cs.evictions, (unsigned long long)cs.entries);
    buf_printf(&o,
               "# HELP authorizer_password_hashes_total Password hashes computed (basicAuth).\n"
               "# TYPE authorizer_password_hashes_total counter\n"
               "authorizer_password_hashes_total %llu\n",
               (unsigned long long)htpasswd_hashes_computed());
    render_shared_cache(&o);
    render_histogram(&o, "authorizer_decision_duration_seconds",
                     "Time to decide one request, auth call included.", &decision_seconds);
    render_histogram(&o, "authorizer_auth_request_duration_seconds",
                     "Time of one call to the auth service.", &auth_seconds);
    return o.len;
}

/* ---- the listener ---- */

static int metrics_fd = -1;
static pthread_t metrics_thread;
static _Atomic bool metrics_stopping;

static void answer(int fd)
{
    char req[1024];
    ssize_t n = recv(fd, req, sizeof(req) - 1, 0);
    if (n <= 0)
        return;
    req[n] = '\0';
    static char body[16384];
    const char *status = "200 OK";
    size_t blen;
    /* Any path: a web server proxying to this listener need not rewrite its own. */
    if (strncmp(req, "GET /", 5) == 0) {
        blen = metrics_render(body, sizeof(body));
    } else {
        status = "405 Method Not Allowed";
        blen = (size_t)snprintf(body, sizeof(body), "GET /metrics\n");
    }
    char head[256];
    int hl = snprintf(head, sizeof(head),
                      "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      status, blen);
    if (send(fd, head, (size_t)hl, MSG_NOSIGNAL) == hl)
        send(fd, body, blen, MSG_NOSIGNAL);
}

static void *serve(void *arg)
{
    (void)arg;
    while (!atomic_load(&metrics_stopping)) {
        int fd = accept(metrics_fd, NULL, NULL);
        if (fd < 0) {
            if (atomic_load(&metrics_stopping))
                break;
            usleep(10000);
            continue;
        }
        struct timeval tv = {2, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        answer(fd); /* one scrape at a time: the body buffer is shared */
        close(fd);
    }
    return NULL;
}

const char *metrics_start(const char *listen, char *err, size_t errlen)
{
    metrics_fd = listener_bind(listen, -1, err, errlen);
    if (metrics_fd < 0)
        return err;
    if (pthread_create(&metrics_thread, NULL, serve, NULL) != 0) {
        close(metrics_fd);
        metrics_fd = -1;
        snprintf(err, errlen, "metrics: cannot start its thread");
        return err;
    }
    log_info("metrics on %s (GET /metrics)", listen);
    return NULL;
}

void metrics_stop(void)
{
    if (metrics_fd < 0)
        return;
    atomic_store(&metrics_stopping, true);
    shutdown(metrics_fd, SHUT_RDWR);
    pthread_join(metrics_thread, NULL);
    close(metrics_fd);
    metrics_fd = -1;
}
