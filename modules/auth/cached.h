/*
 * cached.h - an authenticator that puts a rule's decision cache in front of another one.
 *
 * It looks the request's key up (auth/cache.h); on a hit it answers from the cache, on a miss
 * it asks the inner authenticator and offers its answer to the cache, so that concurrent
 * misses for one key ask once. What is kept, for how long, and what never is, is cache.h's.
 */
#ifndef AUTHZ_CACHED_H
#define AUTHZ_CACHED_H

#include "config/config.h"
#include "core/policy.h"

/*
 * A caching authenticator for rule r (whose cache settings are enabled) in front of inner,
 * which it does not own. NULL if out of memory.
 */
struct authenticator *cached_authenticator_new(const struct rule *r,
                                               const struct authenticator *inner);
void cached_authenticator_free(struct authenticator *a);

#endif
