/* decide.c - see decide.h. */
#include "core/decide.h"
#include "core/decide_int.h"

#include <string.h>

/* The only place a decision's outcome and answered status are set. */
static void set(struct decision *d, enum outcome o, int denied_status, const char *reason,
                const char *detail)
{
    d->outcome = o;
    d->status = outcome_http_status(o, denied_status);
    d->reason = reason;
    d->detail = detail;
}

static void fail(struct decision *d, enum cause cause, const char *detail)
{
    set(d, OUTCOME_ERROR, 0, "error", detail);
    d->cause = cause;
    d->nvars = 0;
}

void decide_bad_request(struct decision *d, const char *detail)
{
    memset(d, 0, sizeof(*d));
    set(d, OUTCOME_BAD_REQUEST, 0, "bad request", detail);
}

void decide_unanswerable(struct decision *d, const struct middleware *mw)
{
    memset(d, 0, sizeof(*d));
    d->mw = mw;
    fail(d, CAUSE_TOO_LARGE, "the answer does not fit in the response buffer");
}

long decide_middleware_of_view(const struct config *cfg, const struct path_views *views, size_t k,
                               bool split)
{
    for (size_t i = 0; i < cfg->nmiddlewares; i++) {
        const struct middleware *m = &cfg->middlewares[i];
        for (size_t p = 0; p < m->npaths; p++)
            if (path_pattern_match_view(&m->paths[p], views, k, split))
                return (long)i;
    }
    return -1;
}

size_t decide_find_middlewares(const struct config *cfg, const struct path_views *views,
                               size_t *out)
{
    size_t n = 0;
    /* Every reading on its own: each view as is, and split where it can be (pathmatch.h). */
    for (size_t r = 0; r < 2 * views->n; r++) {
        size_t k = r / 2;
        bool split = r % 2 == 1;
        if (split && !views->split[k])
            continue;
        long m = decide_middleware_of_view(cfg, views, k, split);
        if (m < 0)
            continue;
        size_t at = 0;
        while (at < n && out[at] < (size_t)m)
            at++;
        if (at < n && out[at] == (size_t)m)
            continue;
        memmove(out + at + 1, out + at, (n - at) * sizeof(*out));
        out[at] = (size_t)m;
        n++;
    }
    return n;
}

long decide_find_middleware(const struct config *cfg, const struct path_views *views)
{
    size_t found[PATH_MAX_READINGS];
    return decide_find_middlewares(cfg, views, found) ? (long)found[0] : -1;
}

/* Sets d->query to the query the upstream gets; false (and a 500) if it would not fit. */
static bool rewrite_query(struct decision *d, const char *query, const struct query_target *params,
                          size_t nparams, const char *const *values, struct decide_ctx *ctx)
{
    if (nparams == 0) {
        d->query = query;
        return true;
    }
    if (query_rewrite(query, params, nparams, values, ctx->query_buf, sizeof(ctx->query_buf)) < 0) {
        fail(d, CAUSE_TOO_LARGE, "rewritten query string too long");
        return false;
    }
    d->query = ctx->query_buf;
    return true;
}

/* The value exported for a wanted name: a header that came several times (its values joined
 * by '\n', core/policy.h) is none, as no one value of it is the answer's. An empty one is
 * none too: nginx's proxy_set_header and lighttpd drop an empty value, Apache's RequestHeader
 * would send it, and an application must see the same on every server. */
static const char *single_value(const struct auth_result *res, size_t wanted)
{
    const char *v = res->values[wanted];
    return v && *v && !strchr(v, '\n') ? v : NULL;
}

/* How many values a '\n'-joined list holds (core/policy.h); 0 for none. */
static size_t values_count(const char *joined)
{
    size_t n = joined && *joined ? 1 : 0;
    for (const char *c = joined; n && (c = strchr(c, '\n')); c++)
        n++;
    return n;
}

static void allow(struct decision *d, const struct rule *r, const struct auth_result *res,
                  const struct request_view *req, struct decide_ctx *ctx)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        const char *v = single_value(res, r->headers[i].wanted);
        if (v) {
            d->vars[d->nvars].name = r->headers[i].target;
            d->vars[d->nvars].value = v;
            d->nvars++;
        }
    }
    /* This rule's values; every other middleware's parameters are only removed. */
    for (size_t i = 0; i < r->nquery_targets; i++)
        ctx->values[i] = i < r->nparams ? single_value(res, r->params[i].wanted) : NULL;
    if (!rewrite_query(d, req->query, r->query_targets, r->nquery_targets, ctx->values, ctx))
        return;
    const char *detail = res->dropped ? "an unsafe auth response value was dropped" : NULL;
    if (r->add_auth_cookies) {
        d->set_cookie = res->values[WANTED_SET_COOKIE];
        /* response.c passes the first CONFIG_MAX_AUTH_COOKIES (the glue has that many
         * slots): an operator must learn from the log that the rest never reached the
         * client, as a session that silently loses a cookie is hard to debug. */
        if (values_count(d->set_cookie) > CONFIG_MAX_AUTH_COOKIES)
            detail = "more Set-Cookie headers on an allow than are passed on; the first ones "
                     "were passed";
    }
    set(d, OUTCOME_ALLOWED, 0, "allowed", detail);
}

static void deny(struct decision *d, const struct auth_result *res)
{
    set(d, OUTCOME_DENIED, res->status, "denied", res->error); /* why, if it says */
    d->www_authenticate = res->values[WANTED_WWW_AUTHENTICATE];
    d->content_type = res->values[WANTED_CONTENT_TYPE];
    d->location = res->values[WANTED_LOCATION];
    d->set_cookie = res->values[WANTED_SET_COOKIE];
    d->body = res->body;
    d->body_len = res->body_len;
}

static bool is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/*
 * With signIn: a 401, or a redirect the auth service chose itself (oauth2-proxy as a reverse
 * proxy), sends a browser to sign in; another client keeps the 401 (a redirect it could not
 * use becomes one). Returns false where signIn does not apply and the status decides.
 */
static bool sign_in(struct decision *d, const struct rule *r, const struct auth_result *res,
                    const struct request_view *req, struct decide_ctx *ctx)
{
    bool redirect = is_redirect(res->status);
    if (!r->sign_in || (res->status != 401 && !redirect))
        return false;
    if (!signin_wants_page(req->envp)) {
        deny(d, res);
        if (redirect) {
            /* Only a browser may be sent elsewhere; for others it means "not signed in". */
            set(d, OUTCOME_DENIED, 401, "denied", "a redirect for a client that is no browser");
            d->location = NULL;
            d->body_len = 0;
        }
        return true;
    }
    const char *to = NULL, *why = NULL;
    if (!redirect && !(why = signin_location(r, req, ctx->location, sizeof(ctx->location))))
        to = ctx->location;
    else if (redirect && signin_location_ok(res->values[WANTED_LOCATION]))
        to = res->values[WANTED_LOCATION]; /* what the service chose, nothing of ours added */
    else if (redirect)
        why = "the auth service redirected to no http(s) URL or path";
    if (!to) {
        if (redirect) {
            fail(d, CAUSE_MALFORMED, why);
            return true;
        }
        deny(d, res); /* the 401 itself, with its challenge */
        d->detail = why;
        return true;
    }
    deny(d, res);
    set(d, OUTCOME_DENIED, 302, "sign-in", redirect ? "relayed the auth service's redirect" : NULL);
    d->www_authenticate = NULL;
    d->location = to;
    d->body_len = 0; /* a short text of our own: the page of a 401 is no redirect's */
    return true;
}

void decide_outcome(struct decision *d, const struct rule *r, enum auth_status st,
                    const struct auth_result *res, const struct request_view *req,
                    struct decide_ctx *ctx)
{
    d->auth_seconds = res->seconds;
    switch (st) {
    case AUTH_BAD_REQUEST:
        set(d, OUTCOME_BAD_REQUEST, 0, "bad request", res->error);
        return;
    case AUTH_FAILED:
        fail(d, res->cause != CAUSE_NONE ? res->cause : CAUSE_TRANSPORT, res->error);
        if (res->cause == CAUSE_ABANDONED)
            d->reason = "abandoned";
        return;
    case AUTH_OK:
        break;
    }
    d->auth_status = res->status;
    if (sign_in(d, r, res, req, ctx))
        return;
    switch (outcome_of_auth_status(res->status)) {
    case OUTCOME_ALLOWED:
        allow(d, r, res, req, ctx);
        break;
    case OUTCOME_DENIED:
        deny(d, res);
        break;
    default:
        fail(d, CAUSE_STATUS, "unexpected auth service status");
        break;
    }
}

/* Decides with middleware m alone: requiredHeaders, then its authenticator. */
static void decide_with(const struct policy *p, size_t m, const struct request_view *req,
                        struct decide_ctx *ctx, struct decision *d)
{
    memset(d, 0, sizeof(*d));
    const struct middleware *mw = &p->cfg->middlewares[m];
    d->mw = mw;
    const struct rule *r = &mw->rule;
    /* A header the auth service is shown must be the one the application reads. */
    for (size_t k = 0; k < r->nforward; k++) {
        if (request_param_repeated(req->envp, r->forward[k].cgi)) {
            set(d, OUTCOME_BAD_REQUEST, 0, "bad request", "a forwarded header given twice");
            return;
        }
    }
    for (size_t k = 0; k < r->nrequired; k++) {
        const char *v = request_param(req->envp, r->required[k].cgi);
        if (!v || !*v) {
            set(d, OUTCOME_DENIED, 403, "missing header", r->required[k].name);
            return;
        }
    }
    const struct authenticator *a = p->guards[m];
    struct auth_result res;
    enum auth_status st = a->ask(a, ctx->auth, req, &res, &d->cache);
    decide_outcome(d, r, st, &res, req, ctx);
}

static void decide_request(const struct policy *p, const struct request_view *req,
                           struct decide_ctx *ctx, struct decision *d)
{
    memset(d, 0, sizeof(*d));
    const struct config *cfg = p->cfg;
    switch (path_normalize(req->path, req->path_len, &cfg->path_options, &ctx->views)) {
    case PATH_OK:
        break;
    case PATH_TOO_LONG:
        set(d, OUTCOME_BAD_REQUEST, 0, "bad request", "path too long");
        return;
    case PATH_DOT_SEGMENT:
        set(d, OUTCOME_BAD_REQUEST, 0, "bad request", "dot segment in path");
        return;
    default:
        set(d, OUTCOME_BAD_REQUEST, 0, "bad request", "malformed path");
        return;
    }

    size_t found[PATH_MAX_READINGS];
    size_t n = decide_find_middlewares(cfg, &ctx->views, found);
    if (n == 0) {
        /* Not protected: allowed with no identity, and the client's query without any
         * parameter that a middleware would set (a client may forge them nowhere). */
        if (rewrite_query(d, req->query, cfg->all_params, cfg->nall_params, NULL, ctx))
            set(d, OUTCOME_UNPROTECTED, 0, "unprotected", NULL);
        return;
    }
    /*
     * Readings that lead to different middlewares: the later ones gate first, and the first
     * one decides last, so that what it exports (pointing into the worker's buffers) is what
     * the last authenticator call left there.
     */
    for (size_t j = n; j-- > 1;) {
        decide_with(p, found[j], req, ctx, d);
        if (d->outcome != OUTCOME_ALLOWED)
            return;
    }
    decide_with(p, found[0], req, ctx, d);
}

/*
 * nginx's glue asks twice about a denied request (etc/nginx): its auth_request subrequest
 * (AUTHZ_PHASE=auth_request) relays nothing but 401 and 403, so it gets the status alone; then
 * error_page asks again as a normal request (AUTHZ_PHASE=denial), whose whole answer reaches
 * the client. The parameter comes from the server's configuration: a client's headers all
 * arrive as HTTP_*.
 */
void decide(const struct policy *p, const struct request_view *req, struct decide_ctx *ctx,
            struct decision *d)
{
    decide_request(p, req, ctx, d);
    decide_phase(req->envp, d);
}

void decide_phase(char *const *envp, struct decision *d)
{
    const char *phase = request_param(envp, "AUTHZ_PHASE");
    if (!phase)
        return;
    bool allowed = d->outcome == OUTCOME_ALLOWED || d->outcome == OUTCOME_UNPROTECTED;
    if (strcmp(phase, "auth_request") == 0) {
        d->status_only = true;
    } else if (strcmp(phase, "denial") == 0 && allowed) {
        /* Denied a moment ago: an allow now must not become an empty page, nor show the
         * client its Variable- answers. */
        fail(d, CAUSE_STATUS, "allowed when asked again about a denial");
    }
}
