/*
 * decide.h - one authorization decision, from request view to answer.
 *
 * The whole policy in one place: find the middleware that protects the request, check
 * requiredHeaders, ask the middleware's authenticator, map its answer (2xx allow, 401/403
 * deny, anything else fail closed: outcome_of_auth_status), and prepare what is exported on
 * allow.
 *
 * A request path has several readings (http/pathmatch.h) and each is decided on its own: its
 * middleware is the first, in configuration order, whose paths match it. When the readings
 * lead to different middlewares (a lenient one on "/api/public" before a strict one on "/api",
 * and "/api/public/..;/admin"), every one of them must allow, so the request gets the
 * strictest answer, never the most lenient; the first of them in configuration order
 * exports the identity, the others only gate. A reading that no middleware protects does not
 * make a protected request unprotected. It writes nothing to the client (response.h turns the
 * decision into bytes), keeps no state between requests, and touches no socket, thread or signal
 * itself: what an authenticator does to answer is its own business (core/policy.h).
 */
#ifndef AUTHZ_DECIDE_H
#define AUTHZ_DECIDE_H

#include <stddef.h>

#include "config/config.h"
#include "core/outcome.h"
#include "core/policy.h"
#include "core/signin.h"
#include "http/pathmatch.h"
#include "http/query.h"
#include "http/request.h"

struct export_var {
    const char *name; /* target header name, e.g. "X-Auth-UserId" */
    const char *value;
};

struct decision {
    enum outcome outcome;
    int status;                  /* what the web server is answered: 200, 400, 401, 403, 500 */
    enum cause cause;            /* why it failed (OUTCOME_ERROR), else CAUSE_NONE */
    enum cache_state cache;      /* what the middleware's cache did */
    const struct middleware *mw; /* the matching middleware, NULL if none */
    int auth_status;             /* the answer's status, 0 if nothing was asked */
    double auth_seconds;         /* how long asking took, 0 if nothing was asked */
    const char *reason;          /* a short word for the log: "allowed", "missing header" ... */
    const char *detail;          /* more for the log (an error text), or NULL */

    /* On allow: identity headers and the query for the upstream. */
    struct export_var vars[CONFIG_MAX_MAPPINGS];
    size_t nvars;
    const char *query; /* points into `query_buf` or at the request's own query */

    /* On 401/403/302: what is relayed from the answer (already checked safe), or NULL.
     * www_authenticate and set_cookie hold every value, '\n'-joined (core/policy.h). */
    const char *www_authenticate;
    const char *content_type;
    const char *location; /* on 302 where the browser goes; on 401/403 the service's own */
    const char *body;
    size_t body_len;

    /* Only the status line is written for a denial (nginx's auth_request subrequest, which
     * relays nothing else): a 302 becomes 401 there, for error_page to ask again. */
    bool status_only;

    /* Cookies from the auth service for the client: on a denial always, on an allow with
     * addAuthCookiesToResponse; '\n'-joined, or NULL. */
    const char *set_cookie;
};

/* Per-worker scratch space for decisions, allocated once. */
struct decide_ctx {
    struct auth_worker *auth; /* the auth layer's per-worker space, passed to authenticators */
    struct path_views views;
    char query_buf[QUERY_MAX_OUT];
    const char *values[CONFIG_MAX_QUERY_TARGETS]; /* the query's new values */
    char location[SIGNIN_MAX_LOCATION];           /* a sign-in redirect's */
};

/* Decides about one request. Never fails: every problem becomes a 4xx/5xx decision. */
void decide(const struct policy *p, const struct request_view *req, struct decide_ctx *ctx,
            struct decision *d);

/* Decides about a request whose parameters could not be read into a view (400). */
void decide_bad_request(struct decision *d, const char *detail);

/* What the web server's phase (AUTHZ_PHASE, see decide.c) makes of decision d: decide applies
 * it; a bad request decided without a view is given it by its caller. */
void decide_phase(char *const *envp, struct decision *d);

/* A decision whose answer could not be written within the bounds (500), about middleware mw. */
void decide_unanswerable(struct decision *d, const struct middleware *mw);

#endif
