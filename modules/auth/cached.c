/* cached.c - see cached.h. */
#include "auth/cached.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/cache.h"
#include "auth/worker.h"
#include "base/log.h"

#define LOCK_POLL_MS 10 /* how often a worker waiting for another authorizer looks again */

struct cached_authenticator {
    struct authenticator base; /* first: the interface's pointer is this one's */
    const struct authenticator *inner;
    const struct rule *rule;
    struct cache *cache;
    bool has_shared;
    struct shared_level shared;
};

/* The shared level's value: when it expires (wall clock, ms), then the answer as the
 * process's cache packs it. The expiry lets a hit fill the local cache for what is left. */
#define EXPIRY_LEN sizeof(int64_t)

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool shared_ready(struct auth_worker *w)
{
    if (!w->shared)
        w->shared = sharedcache_conn_new(); /* once per worker, at its first shared lookup */
    if (!w->shared_blob)
        w->shared_blob = malloc(SHAREDCACHE_MAX_BLOB);
    return w->shared && w->shared_blob;
}

static void note(const struct cached_authenticator *ca, const char *what,
                 enum sharedcache_status st, const struct sharedcache_result *sr)
{
    if (st == SHAREDCACHE_TAMPERED)
        log_warn("middleware '%s': shared cache: an entry that does not open under its name "
                 "and secret was ignored (changed or replayed in Redis?)",
                 ca->shared.middleware);
    else if (st == SHAREDCACHE_ERROR || st == SHAREDCACHE_INVALID)
        log_info("middleware '%s': shared cache: %s: %s", ca->shared.middleware, what,
                 sr->error ? sr->error : sharedcache_status_name(st));
}

/* A hit in the shared level, unpacked into res and kept locally (which also answers the
 * local waiters for this key). False for anything else. */
static bool shared_get(const struct cached_authenticator *ca, struct auth_worker *w,
                       const struct cache_key *key, struct auth_result *res,
                       enum sharedcache_status *status)
{
    struct sharedcache_result sr;
    *status =
        sharedcache_get(w->shared, ca->shared.cache, key->digest, ca->shared.fingerprint, &sr);
    note(ca, "get", *status, &sr);
    if (*status != SHAREDCACHE_HIT)
        return false;
    int64_t expires;
    if (sr.blob_len < EXPIRY_LEN)
        return false;
    memcpy(&expires, sr.blob, EXPIRY_LEN);
    long left = (long)(expires - wall_ms());
    if (left <= 0 || !cache_unpack_answer(ca->rule, sr.blob + EXPIRY_LEN, sr.blob_len - EXPIRY_LEN,
                                          w->cache, res))
        return false;
    cache_fill_at_most(ca->cache, ca->rule, key, w->cache, res, left);
    return true;
}

static void shared_set(const struct cached_authenticator *ca, struct auth_worker *w,
                       const struct cache_key *key, enum auth_status st,
                       const struct auth_result *res)
{
    long ttl = cache_lifetime(ca->rule, st, res);
    if (ttl <= 0)
        return;
    const unsigned char *packed;
    size_t n = cache_pack_answer(ca->rule, res, w->cache, &packed);
    if (n == 0 || n > SHAREDCACHE_MAX_BLOB - EXPIRY_LEN)
        return;
    int64_t expires = wall_ms() + ttl;
    memcpy(w->shared_blob, &expires, EXPIRY_LEN);
    memcpy(w->shared_blob + EXPIRY_LEN, packed, n);
    struct sharedcache_result sr;
    enum sharedcache_status s =
        sharedcache_set(w->shared, ca->shared.cache, key->digest, ca->shared.fingerprint,
                        w->shared_blob, n + EXPIRY_LEN, ttl, &sr);
    note(ca, "set", s, &sr);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum wait_end {
    WAIT_HIT,     /* the other's answer appeared: res holds it */
    WAIT_OURS,    /* the other left without an answer to share; the lock is ours now */
    WAIT_GAVE_UP, /* the rule's timeout passed, or Redis failed: ask without the lock */
};

/*
 * Another authorizer holds the lock for this key: it is asking the service. Waits for its
 * answer to appear, until a deadline on the clock (the rule's timeout: slow Redis calls
 * count against it too). An answer that is not kept (no-store, an error, a denial without
 * negativeTtl) never appears, but its asker releases the lock: taking the lock then tells
 * this worker to stop waiting and ask itself.
 */
static enum wait_end wait_for_other(const struct cached_authenticator *ca, struct auth_worker *w,
                                    const struct cache_key *key, long hold,
                                    struct sharedcache_lock *lock, struct auth_result *res)
{
    int64_t deadline = monotonic_ms() + ca->rule->timeout_ms;
    for (;;) {
        int64_t left = deadline - monotonic_ms();
        if (left <= 0)
            return WAIT_GAVE_UP;
        sleep_ms(left < LOCK_POLL_MS ? (long)left : LOCK_POLL_MS);
        enum sharedcache_status st;
        if (shared_get(ca, w, key, res, &st))
            return WAIT_HIT;
        if (st != SHAREDCACHE_MISS || monotonic_ms() >= deadline)
            return WAIT_GAVE_UP; /* a fault, or an entry we cannot use: stop waiting */
        struct sharedcache_result sr;
        st = sharedcache_try_lock(w->shared, ca->shared.cache, key->digest, ca->shared.fingerprint,
                                  hold, lock, &sr);
        note(ca, "lock", st, &sr);
        if (st == SHAREDCACHE_OK)
            return WAIT_OURS;
        if (st != SHAREDCACHE_BUSY)
            return WAIT_GAVE_UP;
    }
}

/* The leader's way to an answer with a shared level: Redis, perhaps the lock, the service. */
static enum auth_status lead_shared(const struct cached_authenticator *ca, struct auth_worker *w,
                                    const struct request_view *req, const struct cache_key *key,
                                    struct auth_result *res, enum cache_state *state)
{
    const struct authenticator *inner = ca->inner;
    enum cache_state inner_state;
    enum sharedcache_status got;
    if (shared_get(ca, w, key, res, &got)) {
        *state = CACHE_SHARED_HIT;
        return AUTH_OK;
    }
    struct sharedcache_lock lock;
    bool locked = false;
    /* Only when Redis answered: on a fault nobody knows who asks, so ask at once. */
    if (ca->shared.lock && (got == SHAREDCACHE_MISS || got == SHAREDCACHE_EXPIRED)) {
        long hold = ca->rule->timeout_ms + 100;
        if (hold > SHAREDCACHE_MAX_HOLD_MS)
            hold = SHAREDCACHE_MAX_HOLD_MS;
        struct sharedcache_result sr;
        enum sharedcache_status ls = sharedcache_try_lock(w->shared, ca->shared.cache, key->digest,
                                                          ca->shared.fingerprint, hold, &lock, &sr);
        note(ca, "lock", ls, &sr);
        locked = ls == SHAREDCACHE_OK;
        if (ls == SHAREDCACHE_BUSY) {
            switch (wait_for_other(ca, w, key, hold, &lock, res)) {
            case WAIT_HIT:
                *state = CACHE_SHARED_HIT;
                return AUTH_OK;
            case WAIT_OURS:
                locked = true;
                break;
            case WAIT_GAVE_UP:
                break;
            }
        }
    }
    enum auth_status st = inner->ask(inner, w, req, res, &inner_state);
    cache_fill(ca->cache, ca->rule, key, w->cache, st, res); /* always: others may be waiting */
    shared_set(ca, w, key, st, res);
    if (locked) {
        struct sharedcache_result sr;
        sharedcache_unlock(w->shared, ca->shared.cache, &lock, &sr);
    }
    *state = CACHE_MISS;
    return st;
}

static enum auth_status cached_ask(const struct authenticator *self, struct auth_worker *w,
                                   const struct request_view *req, struct auth_result *res,
                                   enum cache_state *state)
{
    const struct cached_authenticator *ca = (const struct cached_authenticator *)self;
    const struct rule *r = ca->rule;
    const struct authenticator *inner = ca->inner;
    enum cache_state inner_state;
    struct cache_key key;
    if (!inner->cache_key) {
        cache_key_build(r, req, w->cache, &key);
    } else if (!inner->cache_key(inner, w, req, key.digest)) {
        *state = CACHE_OFF;
        return inner->ask(inner, w, req, res, &inner_state);
    }
    enum auth_status st;
    switch (cache_lookup(ca->cache, r, &key, w->cache, res, r->timeout_ms)) {
    case LOOKUP_HIT:
        *state = CACHE_HIT;
        return AUTH_OK;
    case LOOKUP_LEADER:
        if (ca->has_shared && shared_ready(w))
            return lead_shared(ca, w, req, &key, res, state);
        st = inner->ask(inner, w, req, res, &inner_state);
        cache_fill(ca->cache, r, &key, w->cache, st, res); /* always: others may be waiting */
        break;
    default:
        st = inner->ask(inner, w, req, res, &inner_state);
        break;
    }
    *state = CACHE_MISS;
    return st;
}

struct authenticator *cached_authenticator_new(const struct rule *r,
                                               const struct authenticator *inner,
                                               const struct shared_level *shared)
{
    struct cached_authenticator *ca = calloc(1, sizeof(*ca));
    if (!ca)
        return NULL;
    ca->cache = cache_new(&r->cache);
    if (!ca->cache) {
        free(ca);
        return NULL;
    }
    ca->base.ask = cached_ask;
    ca->inner = inner;
    ca->rule = r;
    if (shared) {
        ca->has_shared = true;
        ca->shared = *shared;
    }
    return &ca->base;
}

void cached_authenticator_free(struct authenticator *a)
{
    struct cached_authenticator *ca = (struct cached_authenticator *)a;
    if (!ca)
        return;
    cache_free(ca->cache);
    free(ca);
}
