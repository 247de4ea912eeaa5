/*
 * cached.h - an authenticator that puts a rule's decision cache in front of another one.
 *
 * It looks the request's key up (auth/cache.h); on a hit it answers from the cache, on a miss
 * it asks the inner authenticator and offers its answer to the cache, so that concurrent
 * misses for one key ask once. What is kept, for how long, and what never is, is cache.h's.
 *
 * With a shared level (auth/sharedcache.h), a local miss looks in Redis before asking: a hit
 * there answers and fills the local cache for the time the entry has left; an answer of the
 * service fills both. Anything but a hit in Redis (a miss, a fault, the breaker open, an
 * entry that does not open) asks the service: Redis never decides by failing. With `lock`, a
 * worker that finds another authorizer asking for the same key waits for its answer (at most
 * the rule's timeout, polling Redis) instead of asking too.
 */
#ifndef AUTHZ_CACHED_H
#define AUTHZ_CACHED_H

#include <stdbool.h>

#include "auth/sharedcache.h"
#include "config/config.h"
#include "core/policy.h"

/* The second level of one middleware's cache: the policy's shared cache (not owned) and what
 * binds the middleware's entries to its settings. */
struct shared_level {
    const char *middleware; /* its name, for the log */
    struct sharedcache *cache;
    unsigned char fingerprint[SHAREDCACHE_FINGERPRINT_LEN];
    bool lock;
};

/*
 * A caching authenticator for rule r (whose cache settings are enabled) in front of inner,
 * which it does not own; shared (copied) is NULL for a cache of this process only. NULL if
 * out of memory.
 */
struct authenticator *cached_authenticator_new(const struct rule *r,
                                               const struct authenticator *inner,
                                               const struct shared_level *shared);
void cached_authenticator_free(struct authenticator *a);

#endif
