/* lifecycle.c - see lifecycle.h. */
#include "daemon/lifecycle.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/cache.h"
#include "auth/registry.h"
#include "base/log.h"
#include "config/config.h"
#include "daemon/listener.h"
#include "daemon/metrics.h"
#include "daemon/signals.h"
#include "daemon/swap.h"
#include "daemon/worker.h"

/* How often retired policies are looked at again while a request still holds one. */
#define RECLAIM_INTERVAL_MS 100

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

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
static void reload(const char *file, struct swap *swap)
{
    struct config *next = NULL;
    struct policy *p = NULL;
    char err[1024];
    if (config_load(file, &next, err, sizeof(err)) ||
        policy_new(next, &p, err, sizeof(err))) { /* policy_new frees next on failure */
        log_error("reload: %s; still serving with the previous configuration", err);
        return;
    }
    const struct config *old = swap_current(swap)->cfg;
    if (!same(old->listen, next->listen) || old->workers != next->workers)
        log_warn("reload: listen and workers take effect only after a restart");
    if (!same(old->metrics_listen, next->metrics_listen))
        log_warn("reload: metrics_listen takes effect only after a restart");
    if (!swap_publish(swap, p)) {
        policy_free(p);
        log_error("reload: out of memory; still serving with the previous configuration");
        return;
    }
    log_set_level((enum log_level)next->log_level);
    log_set_target((enum log_target)next->log_target);
    log_info("reload: %s: now serving with %zu middlewares", file, next->nmiddlewares);
}

/*
 * Takes the daemon's signals until a stop. While a retired policy is still held by a request
 * in flight, it wakes now and then to free it: a reload never waits for a request, so a stop
 * is never held up behind a slow one.
 */
static void serve_signals(const char *file, struct swap *swap)
{
    sigset_t set;
    signals_set(&set);
    for (;;) {
        int sig;
        if (swap_reclaim(swap) > 0) {
            struct timespec t = {0, RECLAIM_INTERVAL_MS * 1000000L};
            sig = sigtimedwait(&set, NULL, &t);
        } else if (sigwait(&set, &sig) != 0) {
            sig = -1;
        }
        if (sig < 0)
            continue;
        if (sig == SIGUSR1) {
            log_stats();
        } else if (sig == SIGHUP) {
            reload(file, swap);
        } else {
            log_info("signal %d: finishing requests in flight", sig);
            return;
        }
    }
}

/* Everything daemon_serve sets up, undone in reverse order by teardown. */
struct daemon {
    int fd;
    bool forward_ready, swap_ready;
    struct swap swap;
    struct worker_pool *pool;
};

static int start(struct daemon *dm, struct config *cfg, char *err, size_t errlen)
{
    dm->fd = listener_open(cfg, err, errlen);
    if (dm->fd < 0) {
        config_free(cfg);
        return -1;
    }
    const char *msg = auth_global_init();
    if (msg) {
        snprintf(err, errlen, "%s", msg);
        config_free(cfg);
        return -1;
    }
    dm->forward_ready = true;
    size_t workers = (size_t)cfg->workers;
    struct policy *p = NULL;
    if (policy_new(cfg, &p, err, errlen)) /* owns cfg from here on */
        return -1;
    if (!swap_init(&dm->swap, p, workers)) {
        policy_free(p);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    dm->swap_ready = true;
    dm->pool = workers_start(dm->fd, &dm->swap, workers, err, errlen);
    if (!dm->pool)
        return -1;
    const char *metrics = p->cfg->metrics_listen;
    char merr[512];
    if (metrics && metrics_start(metrics, merr, sizeof(merr))) {
        snprintf(err, errlen, "metrics_listen: %s", merr);
        return -1;
    }
    log_info("serving with %zu workers, %zu middlewares", workers, p->cfg->nmiddlewares);
    return 0;
}

static void teardown(struct daemon *dm)
{
    workers_stop(dm->pool); /* stop accepting; requests in flight finish */
    metrics_stop();
    if (dm->swap_ready)
        swap_destroy(&dm->swap);
    if (dm->forward_ready)
        auth_global_cleanup();
    if (dm->fd > 0)
        close(dm->fd);
}

int daemon_serve(const char *file)
{
    signal(SIGPIPE, SIG_IGN);
    struct config *cfg = NULL;
    char err[1024];
    if (config_load(file, &cfg, err, sizeof(err))) {
        fprintf(stderr, "authorizer: %s\n", err);
        return 1;
    }
    log_set_level((enum log_level)cfg->log_level);
    log_set_target((enum log_target)cfg->log_target);

    struct daemon dm = {.fd = -1};
    int rc = 0;
    if (start(&dm, cfg, err, sizeof(err)) < 0) {
        log_error("%s: %s", file, err);
        rc = 1;
    } else {
        serve_signals(file, &dm.swap);
    }
    teardown(&dm);
    return rc;
}
