/* cached.c - see cached.h. */
#include "auth/cached.h"

#include <stdlib.h>

#include "auth/cache.h"
#include "auth/worker.h"

struct cached_authenticator {
    struct authenticator base; /* first: the interface's pointer is this one's */
    const struct authenticator *inner;
    const struct rule *rule;
    struct cache *cache;
};

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
                                               const struct authenticator *inner)
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
