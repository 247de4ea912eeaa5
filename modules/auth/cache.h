/*
 * cache.h - a per-middleware cache of auth-service answers (off unless configured).
 *
 * Safe by default: the key is a SHA-256 digest of every input the auth service saw (method,
 * scheme, host, raw URI, client address, and every forwarded client header, present or not),
 * so one user's answer is never served to another and a path-dependent policy stays right.
 * `key = ( "Authorization" )` narrows it to those client headers, for services whose answer
 * depends only on the credential.
 *
 * 2xx answers are kept for `ttl` (with their exported values), 401/403 for `negativeTtl`
 * (0: never), errors never; the service's Cache-Control no-store / no-cache prevent caching
 * and max-age shortens the time. Memory is bounded by maxEntries with CLOCK eviction. The
 * table is split into shards with a lock each (no global lock); while one worker asks the
 * service for a key, others wanting the same key wait for its answer instead of asking too.
 */
#ifndef AUTHZ_CACHE_H
#define AUTHZ_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/policy.h"
#include "http/request.h"

struct cache;

struct cache_key {
    unsigned char digest[32];
};

/* What a worker needs for its cache lookups, allocated once per worker. */
struct cache_scratch;
struct cache_scratch *cache_scratch_new(void);
void cache_scratch_free(struct cache_scratch *s);

/* A cache for these settings (config.h's struct rule_cache), or NULL if out of memory. Its
 * index is allocated here, at once: lookups never grow it. */
struct cache *cache_new(const struct rule_cache *settings);
void cache_free(struct cache *c);

/* Computes the key of a request for this rule (whose cache settings say what it covers). */
void cache_key_build(const struct rule *r, const struct request_view *req, struct cache_scratch *s,
                     struct cache_key *k);

/* The key of bytes that alone decide an answer (a token), for authenticators that say so. */
void cache_key_of_bytes(struct cache_scratch *s, const void *data, size_t len, struct cache_key *k);

enum cache_lookup {
    LOOKUP_HIT,    /* res holds the cached answer (valid until the next lookup with s) */
    LOOKUP_LEADER, /* not cached: ask the service, then call cache_fill with the key */
    LOOKUP_MISS,   /* not cached and another answer is pending too long: ask, do not fill */
};

/*
 * Looks the key up. A pending answer for the same key is waited for up to wait_ms. On a hit
 * the cached status, values and body are copied into s and res points at them.
 */
enum cache_lookup cache_lookup(struct cache *c, const struct rule *r, const struct cache_key *k,
                               struct cache_scratch *s, struct auth_result *res, long wait_ms);

/* Stores the leader's answer (if cacheable; s is the leader's scratch space) and wakes the
 * workers waiting for it. */
void cache_fill(struct cache *c, const struct rule *r, const struct cache_key *k,
                struct cache_scratch *s, enum auth_status st, const struct auth_result *res);

/*
 * For a second level (auth/cached.h): an answer packed as the cache keeps it (pointing into
 * s, valid until its next use; 0 if it cannot be kept), and unpacked again (false if the
 * bytes are not a packed answer of this rule).
 */
size_t cache_pack_answer(const struct rule *r, const struct auth_result *res,
                         struct cache_scratch *s, const unsigned char **out);
bool cache_unpack_answer(const struct rule *r, const unsigned char *blob, size_t len,
                         struct cache_scratch *s, struct auth_result *res);

/* How long an answer may be kept (ms; 0: not at all), by the rule and Cache-Control. */
long cache_lifetime(const struct rule *r, enum auth_status st, const struct auth_result *res);

/* cache_fill, keeping the answer for at most max_ms (an answer from the second level, which
 * has its own time left). */
void cache_fill_at_most(struct cache *c, const struct rule *r, const struct cache_key *k,
                        struct cache_scratch *s, const struct auth_result *res, long max_ms);

/* Totals over all caches, for metrics and the log. */
struct cache_stats {
    uint64_t hits, misses, evictions, entries;
};
void cache_stats(struct cache_stats *out);

#endif
