/*
 * decide.h - one authorization decision, from request view to answer.
 *
 * The whole policy in one place: find the first middleware whose paths protect the request,
 * check requiredHeaders, ask the auth service, map its answer (2xx allow, 401/403 deny, anything
 * else fail closed), and prepare what is exported on allow. It writes nothing to the client;
 * response.h turns the decision into bytes.
 */
#ifndef AUTHZ_DECIDE_H
#define AUTHZ_DECIDE_H

#include <stddef.h>

#include "auth/forward.h"
#include "auth/cache.h"
#include "config/config.h"
#include "http/pathmatch.h"
#include "http/query.h"
#include "http/request.h"

struct export_var {
    const char *name; /* target header name, e.g. "X-Auth-UserId" */
    const char *value;
};

struct decision {
    int status;                  /* 200, 400, 401, 403 or 500 */
    const struct middleware *mw; /* the matching middleware, NULL if none */
    int auth_status;             /* the auth service's status, 0 if it was not asked */
    double auth_seconds;         /* how long the auth call took, 0 if none was made */
    const char *reason;          /* a short word for the log: "allowed", "missing header" ... */
    const char *detail;          /* more for the log (an error text), or NULL */
    const char *cause;           /* for 500: the kind of failure (metrics label), else NULL */
    const char *cache;           /* "hit" or "miss" where the middleware caches, else NULL */

    /* On allow: identity headers and the query for the upstream. */
    struct export_var vars[CONFIG_MAX_MAPPINGS];
    size_t nvars;
    const char *query; /* points into `query_buf` or at the request's own query */

    /* On 401/403: what is relayed from the auth service (already checked safe), or NULL. */
    const char *www_authenticate;
    const char *content_type;
    const char *body;
    size_t body_len;
};

/* Per-worker scratch space for decisions, allocated once. */
struct decide_ctx {
    struct backend *backend;
    struct cache_scratch *cache_scratch; /* for middlewares with a cache */
    struct path_views views;
    char query_buf[QUERY_MAX_OUT];
};

/* Decides about one request. Never fails: every problem becomes a 4xx/5xx decision. */
void decide(const struct config *cfg, const struct request_view *req, struct decide_ctx *ctx,
            struct decision *d);

/* Decides about a request whose parameters could not be read into a view (400). */
void decide_bad_request(struct decision *d, const char *detail);

/* Decides about a request the web server gave up on before it was decided (500, never sent):
 * the auth service is not asked. */
void decide_abandoned(struct decision *d);

#endif
