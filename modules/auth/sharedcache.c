/* sharedcache.c - see sharedcache.h. */
#include "auth/sharedcache.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/breaker.h"
#include "auth/redisconn.h"

#define SCRATCH_SPACE (SHAREDCACHE_MAX_BLOB + SEAL_OVERHEAD)
#define DEFAULT_FAILURES 5
#define DEFAULT_OPEN_MS 1000
#define DEFAULT_MAX_OPEN_MS 30000
#define MAX_OPEN_MS (3600 * 1000)

_Static_assert(SCRATCH_SPACE <= REDISCONN_MAX_VALUE, "a sealed value fits a command and a reply");
_Static_assert(SHAREDCACHE_MAX_ADDRESS == REDISCONN_MAX_ADDRESS &&
                   SHAREDCACHE_MAX_CREDENTIAL == REDISCONN_MAX_CREDENTIAL,
               "the settings' bounds are the connection's");

/* Deletes the lock only if it still holds the caller's token, in one step on the server. */
static const char UNLOCK_SCRIPT[] =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end "
    "return 0";

struct sharedcache {
    uint64_t generation;
    struct redis_endpoint endpoint;
    bool has_old;
    struct seal_keys keys, old_keys;
    char prefix[SEAL_MAX_PREFIX + 1];
    long timeout_ms;
    struct breaker breaker;
};

struct sharedcache_conn {
    struct redisconn redis;
    uint64_t generation; /* of the sharedcache the open connection was made for */
    struct seal_ctx *seal;
    char name[SEAL_NAME_MAX];
    unsigned char scratch[SCRATCH_SPACE]; /* a sealed value to send, or an opened blob */
};

/* One call's breaker verdict and clock. */
struct call {
    enum breaker_pass pass;
    int64_t start_us, deadline_us;
};

static _Atomic uint64_t next_generation = 1;
static _Atomic uint64_t stat_hits, stat_misses, stat_tampered, stat_expired, stat_stored,
    stat_locked, stat_lock_busy, stat_errors, stat_skipped, stat_breaker_opens, stat_calls,
    stat_micros;
/* The state of the breaker last used, for a process-wide gauge (metrics know no policy). */
static _Atomic int stat_breaker_state;

static int64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

const char *sharedcache_status_name(enum sharedcache_status s)
{
    static const char *const names[] = {
        [SHAREDCACHE_HIT] = "hit",
        [SHAREDCACHE_MISS] = "miss",
        [SHAREDCACHE_TAMPERED] = "tampered",
        [SHAREDCACHE_EXPIRED] = "expired",
        [SHAREDCACHE_OK] = "ok",
        [SHAREDCACHE_BUSY] = "busy",
        [SHAREDCACHE_SKIPPED] = "skipped",
        [SHAREDCACHE_ERROR] = "error",
        [SHAREDCACHE_INVALID] = "invalid",
    };
    if ((unsigned)s < sizeof(names) / sizeof(names[0]) && names[s])
        return names[s];
    return "unknown";
}

/* ---- settings ---- */

static const char *check_settings(const struct sharedcache_settings *s, char *err, size_t errlen)
{
    const char *prefix = s->key_prefix ? s->key_prefix : "";
    if (strlen(prefix) > SEAL_MAX_PREFIX) {
        snprintf(err, errlen, "keyPrefix: longer than %d bytes", SEAL_MAX_PREFIX);
        return err;
    }
    for (const char *p = prefix; *p; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            snprintf(err, errlen, "keyPrefix: only printable characters, no spaces");
            return err;
        }
    }
    if (s->timeout_ms < 1 || s->timeout_ms > SHAREDCACHE_MAX_TIMEOUT_MS) {
        snprintf(err, errlen, "timeout: must be 1 to %d ms", SHAREDCACHE_MAX_TIMEOUT_MS);
        return err;
    }
    if (s->failures_to_open > 1000 || s->open_ms < 0 || s->max_open_ms < 0 ||
        s->open_ms > MAX_OPEN_MS || s->max_open_ms > MAX_OPEN_MS) {
        snprintf(err, errlen, "breaker: at most 1000 failures and %d ms", MAX_OPEN_MS);
        return err;
    }
    return NULL;
}

const char *sharedcache_new(const struct sharedcache_settings *s, struct sharedcache **out,
                            char *err, size_t errlen)
{
    *out = NULL;
    const char *rv = check_settings(s, err, errlen);
    if (rv)
        return rv;
    struct sharedcache *sc = calloc(1, sizeof(*sc));
    if (!sc) {
        snprintf(err, errlen, "out of memory");
        return err;
    }
    sc->generation = atomic_fetch_add(&next_generation, 1);
    sc->timeout_ms = s->timeout_ms;
    snprintf(sc->prefix, sizeof(sc->prefix), "%s", s->key_prefix ? s->key_prefix : "");
    rv = redis_endpoint_init(&sc->endpoint, s->address, s->user, s->password, err, errlen);
    const char *kdf = rv ? NULL : seal_keys_derive(s->secret, &sc->keys);
    /* The same secret twice would only look everything up twice. */
    sc->has_old = s->has_old_secret && memcmp(s->old_secret, s->secret, sizeof(s->secret)) != 0;
    if (!rv && !kdf && sc->has_old)
        kdf = seal_keys_derive(s->old_secret, &sc->old_keys);
    if (kdf) {
        snprintf(err, errlen, "secret: %s", kdf);
        rv = err;
    }
    if (rv) {
        OPENSSL_cleanse(sc, sizeof(*sc));
        free(sc);
        return rv;
    }
    unsigned failures = s->failures_to_open ? s->failures_to_open : DEFAULT_FAILURES;
    long open_ms = s->open_ms ? s->open_ms : DEFAULT_OPEN_MS;
    long max_open_ms = s->max_open_ms ? s->max_open_ms : DEFAULT_MAX_OPEN_MS;
    if (max_open_ms < open_ms)
        max_open_ms = open_ms;
    breaker_init(&sc->breaker, failures, open_ms, max_open_ms);
    *out = sc;
    return NULL;
}

void sharedcache_free(struct sharedcache *sc)
{
    if (!sc)
        return;
    breaker_destroy(&sc->breaker);
    OPENSSL_cleanse(sc, sizeof(*sc)); /* the password and the keys */
    free(sc);
}

struct sharedcache_conn *sharedcache_conn_new(void)
{
    struct sharedcache_conn *w = malloc(sizeof(*w));
    if (!w)
        return NULL;
    redisconn_init(&w->redis);
    w->generation = 0;
    w->seal = seal_ctx_new();
    if (!w->seal) {
        free(w);
        return NULL;
    }
    return w;
}

void sharedcache_conn_free(struct sharedcache_conn *w)
{
    if (!w)
        return;
    redisconn_close(&w->redis);
    seal_ctx_free(w->seal);
    OPENSSL_cleanse(w->scratch, sizeof(w->scratch));
    free(w);
}

/* A connection for sc's generation, open before the deadline; false on a fault. */
static bool ready(struct sharedcache_conn *w, const struct sharedcache *sc, int64_t deadline_us)
{
    if (w->generation != sc->generation)
        redisconn_close(&w->redis);
    if (!redisconn_ready(&w->redis, &sc->endpoint, deadline_us))
        return false;
    w->generation = sc->generation;
    return true;
}

/* ---- calls ---- */

static void result_reset(struct sharedcache_conn *w, struct sharedcache_result *res)
{
    w->redis.error[0] = '\0';
    res->blob = NULL;
    res->blob_len = 0;
    res->error = NULL;
    res->micros = 0;
}

static enum sharedcache_status invalid(struct sharedcache_conn *w, const struct sharedcache *sc,
                                       struct sharedcache_result *res, const char *why)
{
    redisconn_fail(&w->redis, &sc->endpoint, false, "%s", why);
    res->error = w->redis.error;
    return SHAREDCACHE_INVALID;
}

/* Asks the breaker; false if it refuses (the call is then SKIPPED). */
static bool call_begin(struct sharedcache *sc, struct call *c)
{
    c->start_us = redisconn_clock_us();
    c->pass = breaker_enter(&sc->breaker, c->start_us / 1000);
    if (c->pass == BREAKER_REFUSE) {
        atomic_fetch_add(&stat_skipped, 1);
        atomic_store(&stat_breaker_state, (int)breaker_state(&sc->breaker));
        return false;
    }
    c->deadline_us = c->start_us + sc->timeout_ms * 1000;
    return true;
}

/* Tells the breaker how the call went, and fills in its time and error. */
static enum sharedcache_status call_end(struct sharedcache_conn *w, struct sharedcache *sc,
                                        const struct call *c, enum sharedcache_status st,
                                        struct sharedcache_result *res)
{
    int64_t now = redisconn_clock_us();
    if (breaker_leave(&sc->breaker, c->pass, st != SHAREDCACHE_ERROR, now / 1000))
        atomic_fetch_add(&stat_breaker_opens, 1);
    if (st == SHAREDCACHE_ERROR) {
        atomic_fetch_add(&stat_errors, 1);
        res->error = w->redis.error;
    }
    res->micros = (long)(now - c->start_us);
    atomic_store(&stat_breaker_state, (int)breaker_state(&sc->breaker));
    atomic_fetch_add(&stat_calls, 1);
    atomic_fetch_add(&stat_micros, (uint64_t)res->micros);
    return st;
}

/* GET of one name, opened with keys: HIT, MISS, TAMPERED, EXPIRED or ERROR. */
static enum sharedcache_status get_under(struct sharedcache_conn *w, struct sharedcache *sc,
                                         const struct seal_keys *keys, const unsigned char *digest,
                                         const unsigned char *fingerprint, const struct call *c,
                                         struct sharedcache_result *res)
{
    if (!seal_name(w->seal, keys, sc->prefix, fingerprint, digest, w->name)) {
        redisconn_fail(&w->redis, &sc->endpoint, false, "cannot name the entry (OpenSSL)");
        return SHAREDCACHE_ERROR;
    }
    if (!ready(w, sc, c->deadline_us))
        return SHAREDCACHE_ERROR;
    const char *argv[] = {"GET", w->name};
    size_t lens[] = {3, strlen(w->name)};
    redisReply *r = NULL;
    if (!redisconn_command(&w->redis, &sc->endpoint, 2, argv, lens, "$-", c->deadline_us, &r))
        return SHAREDCACHE_ERROR;
    enum sharedcache_status st = SHAREDCACHE_ERROR;
    if (r->type == REDIS_REPLY_NIL) {
        st = SHAREDCACHE_MISS;
    } else if (r->type == REDIS_REPLY_STRING) {
        size_t len = 0;
        enum seal_open o = seal_open_value(w->seal, keys, w->name, fingerprint, wall_ms(),
                                           (const unsigned char *)r->str, r->len, w->scratch,
                                           SHAREDCACHE_MAX_BLOB, &len);
        st = o == SEAL_OPENED    ? SHAREDCACHE_HIT
             : o == SEAL_EXPIRED ? SHAREDCACHE_EXPIRED
                                 : SHAREDCACHE_TAMPERED;
        if (st == SHAREDCACHE_HIT) {
            res->blob = w->scratch;
            res->blob_len = len;
        }
    } else if (r->type == REDIS_REPLY_ERROR) {
        redisconn_error_reply(&w->redis, &sc->endpoint, r);
    } else {
        redisconn_fail(&w->redis, &sc->endpoint, true, "unexpected reply type %d to GET", r->type);
    }
    freeReplyObject(r);
    return st;
}

enum sharedcache_status
sharedcache_get(struct sharedcache_conn *w, struct sharedcache *sc,
                const unsigned char digest[SHAREDCACHE_DIGEST_LEN],
                const unsigned char fingerprint[SHAREDCACHE_FINGERPRINT_LEN],
                struct sharedcache_result *res)
{
    result_reset(w, res);
    struct call c;
    if (!call_begin(sc, &c))
        return SHAREDCACHE_SKIPPED;
    enum sharedcache_status st = get_under(w, sc, &sc->keys, digest, fingerprint, &c, res);
    if (sc->has_old &&
        (st == SHAREDCACHE_MISS || st == SHAREDCACHE_TAMPERED || st == SHAREDCACHE_EXPIRED)) {
        enum sharedcache_status old = get_under(w, sc, &sc->old_keys, digest, fingerprint, &c, res);
        /* A hit or a fault under the old secret decides; otherwise the more telling miss. */
        if (old == SHAREDCACHE_HIT || old == SHAREDCACHE_ERROR || st == SHAREDCACHE_MISS)
            st = old;
    }
    static _Atomic uint64_t *const counters[] = {
        [SHAREDCACHE_HIT] = &stat_hits,
        [SHAREDCACHE_MISS] = &stat_misses,
        [SHAREDCACHE_TAMPERED] = &stat_tampered,
        [SHAREDCACHE_EXPIRED] = &stat_expired,
    };
    if (st <= SHAREDCACHE_EXPIRED)
        atomic_fetch_add(counters[st], 1);
    return call_end(w, sc, &c, st, res);
}

enum sharedcache_status
sharedcache_set(struct sharedcache_conn *w, struct sharedcache *sc,
                const unsigned char digest[SHAREDCACHE_DIGEST_LEN],
                const unsigned char fingerprint[SHAREDCACHE_FINGERPRINT_LEN], const void *blob,
                size_t len, long ttl_ms, struct sharedcache_result *res)
{
    result_reset(w, res);
    if (len > SHAREDCACHE_MAX_BLOB || (len > 0 && !blob))
        return invalid(w, sc, res, "blob too large to share");
    if (ttl_ms < 1 || ttl_ms > SHAREDCACHE_MAX_TTL_MS)
        return invalid(w, sc, res, "ttl out of bounds");
    struct call c;
    if (!call_begin(sc, &c))
        return SHAREDCACHE_SKIPPED;
    enum sharedcache_status st = SHAREDCACHE_ERROR;
    size_t sealed_len = 0;
    char px[24];
    snprintf(px, sizeof(px), "%ld", ttl_ms);
    /* The sealed expiry starts before Redis' PX does: no reader believes it for longer. */
    if (!seal_name(w->seal, &sc->keys, sc->prefix, fingerprint, digest, w->name) ||
        !seal_value(w->seal, &sc->keys, w->name, fingerprint, wall_ms() + ttl_ms, blob, len,
                    w->scratch, sizeof(w->scratch), &sealed_len)) {
        redisconn_fail(&w->redis, &sc->endpoint, false, "cannot seal the entry (OpenSSL)");
    } else if (ready(w, sc, c.deadline_us)) {
        const char *argv[] = {"SET", w->name, (const char *)w->scratch, "PX", px};
        size_t lens[] = {3, strlen(w->name), sealed_len, 2, strlen(px)};
        redisReply *r = NULL;
        if (redisconn_command(&w->redis, &sc->endpoint, 5, argv, lens, "+-", c.deadline_us, &r)) {
            if (r->type == REDIS_REPLY_STATUS) {
                st = SHAREDCACHE_OK;
                atomic_fetch_add(&stat_stored, 1);
            } else {
                redisconn_error_reply(&w->redis, &sc->endpoint, r); /* e.g. OOM: Redis is full */
            }
            freeReplyObject(r);
        }
    }
    return call_end(w, sc, &c, st, res);
}

enum sharedcache_status
sharedcache_try_lock(struct sharedcache_conn *w, struct sharedcache *sc,
                     const unsigned char digest[SHAREDCACHE_DIGEST_LEN],
                     const unsigned char fingerprint[SHAREDCACHE_FINGERPRINT_LEN], long hold_ms,
                     struct sharedcache_lock *lock, struct sharedcache_result *res)
{
    static const char hex[] = "0123456789abcdef";
    result_reset(w, res);
    lock->name[0] = lock->token[0] = '\0';
    if (hold_ms < 1 || hold_ms > SHAREDCACHE_MAX_HOLD_MS)
        return invalid(w, sc, res, "lock time out of bounds");
    struct call c;
    if (!call_begin(sc, &c))
        return SHAREDCACHE_SKIPPED;
    enum sharedcache_status st = SHAREDCACHE_ERROR;
    unsigned char random[16];
    char name[SEAL_NAME_MAX], token[33], px[24];
    snprintf(px, sizeof(px), "%ld", hold_ms);
    if (!seal_name(w->seal, &sc->keys, sc->prefix, fingerprint, digest, name) ||
        RAND_bytes(random, sizeof(random)) != 1) {
        redisconn_fail(&w->redis, &sc->endpoint, false, "cannot name the lock (OpenSSL)");
        return call_end(w, sc, &c, st, res);
    }
    for (size_t i = 0; i < sizeof(random); i++) {
        token[2 * i] = hex[random[i] >> 4];
        token[2 * i + 1] = hex[random[i] & 15];
    }
    token[32] = '\0';
    snprintf(lock->name, sizeof(lock->name), "%s:lock", name);
    if (ready(w, sc, c.deadline_us)) {
        const char *argv[] = {"SET", lock->name, token, "NX", "PX", px};
        size_t lens[] = {3, strlen(lock->name), 32, 2, 2, strlen(px)};
        redisReply *r = NULL;
        if (redisconn_command(&w->redis, &sc->endpoint, 6, argv, lens, "+$-", c.deadline_us, &r)) {
            if (r->type == REDIS_REPLY_STATUS) {
                st = SHAREDCACHE_OK;
                memcpy(lock->token, token, sizeof(token));
                atomic_fetch_add(&stat_locked, 1);
            } else if (r->type == REDIS_REPLY_NIL) {
                st = SHAREDCACHE_BUSY;
                atomic_fetch_add(&stat_lock_busy, 1);
            } else if (r->type == REDIS_REPLY_ERROR) {
                redisconn_error_reply(&w->redis, &sc->endpoint, r);
            } else {
                redisconn_fail(&w->redis, &sc->endpoint, true, "unexpected reply type %d to SET NX",
                               r->type);
            }
            freeReplyObject(r);
        }
    }
    if (st != SHAREDCACHE_OK)
        lock->name[0] = '\0';
    return call_end(w, sc, &c, st, res);
}

enum sharedcache_status sharedcache_unlock(struct sharedcache_conn *w, struct sharedcache *sc,
                                           const struct sharedcache_lock *lock,
                                           struct sharedcache_result *res)
{
    result_reset(w, res);
    if (!lock->name[0] || strlen(lock->token) != 32)
        return invalid(w, sc, res, "not a lock that was taken");
    struct call c;
    if (!call_begin(sc, &c))
        return SHAREDCACHE_SKIPPED;
    enum sharedcache_status st = SHAREDCACHE_ERROR;
    if (ready(w, sc, c.deadline_us)) {
        const char *argv[] = {"EVAL", UNLOCK_SCRIPT, "1", lock->name, lock->token};
        size_t lens[] = {4, sizeof(UNLOCK_SCRIPT) - 1, 1, strlen(lock->name), 32};
        redisReply *r = NULL;
        if (redisconn_command(&w->redis, &sc->endpoint, 5, argv, lens, ":-", c.deadline_us, &r)) {
            if (r->type == REDIS_REPLY_INTEGER)
                st = r->integer == 1 ? SHAREDCACHE_OK : SHAREDCACHE_BUSY;
            else
                redisconn_error_reply(&w->redis, &sc->endpoint, r);
            freeReplyObject(r);
        }
    }
    return call_end(w, sc, &c, st, res);
}

void sharedcache_stats(const struct sharedcache *sc, struct sharedcache_stats *out)
{
    out->hits = atomic_load(&stat_hits);
    out->misses = atomic_load(&stat_misses);
    out->tampered = atomic_load(&stat_tampered);
    out->expired = atomic_load(&stat_expired);
    out->stored = atomic_load(&stat_stored);
    out->locked = atomic_load(&stat_locked);
    out->lock_busy = atomic_load(&stat_lock_busy);
    out->errors = atomic_load(&stat_errors);
    out->skipped = atomic_load(&stat_skipped);
    redisconn_counts(&out->round_trips, &out->connects);
    out->breaker_opens = atomic_load(&stat_breaker_opens);
    out->calls = atomic_load(&stat_calls);
    out->micros = atomic_load(&stat_micros);
    out->breaker_state = sc ? (int)breaker_state(&sc->breaker) : atomic_load(&stat_breaker_state);
    out->breaker_failures = sc ? breaker_failures(&sc->breaker) : 0;
}
