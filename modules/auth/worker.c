/* worker.c - see worker.h. */
#include "auth/worker.h"

#include <stdio.h>
#include <stdlib.h>

#include "auth/cache.h"
#include "auth/forward.h"
#include "auth/jwtauth.h"
#include "auth/sharedcache.h"

struct auth_worker *auth_worker_new(char *err, size_t errlen)
{
    struct auth_worker *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->forward = forward_client_new(err, errlen);
    if (!w->forward) {
        auth_worker_free(w);
        return NULL;
    }
    w->cache = cache_scratch_new();
    w->jwt_values = malloc(JWTAUTH_VALUES_SPACE);
    if (!w->cache || !w->jwt_values) {
        snprintf(err, errlen, "out of memory");
        auth_worker_free(w);
        return NULL;
    }
    return w;
}

void auth_worker_free(struct auth_worker *w)
{
    if (!w)
        return;
    forward_client_free(w->forward);
    cache_scratch_free(w->cache);
    free(w->jwt_values);
    sharedcache_conn_free(w->shared);
    free(w->shared_blob);
    free(w);
}
