/* decide.c - see decide.h. */
#include "core/decide.h"
#include "core/decide_int.h"

#include <string.h>

static void set(struct decision *d, int status, const char *reason, const char *detail)
{
    d->status = status;
    d->reason = reason;
    d->detail = detail;
}

void decide_bad_request(struct decision *d, const char *detail)
{
    memset(d, 0, sizeof(*d));
    set(d, 400, "bad request", detail);
}

void decide_abandoned(struct decision *d)
{
    memset(d, 0, sizeof(*d));
    set(d, 500, "abandoned", "the web server closed the connection before it was decided");
    d->cause = "abandoned";
}

const struct middleware *decide_find_middleware(const struct config *cfg,
                                                const struct path_views *views)
{
    for (size_t i = 0; i < cfg->nmiddlewares; i++) {
        const struct middleware *m = &cfg->middlewares[i];
        for (size_t k = 0; k < m->npaths; k++)
            if (path_pattern_match(&m->paths[k], views))
                return m;
    }
    return NULL;
}

/* Sets d->query to the query the upstream gets; false (and a 500) if it would not fit. */
static bool rewrite_query(struct decision *d, const char *query, const struct mapping *params,
                          size_t nparams, const char *const *values, struct decide_ctx *ctx)
{
    if (nparams == 0) {
        d->query = query;
        return true;
    }
    if (query_rewrite(query, params, nparams, values, ctx->query_buf, sizeof(ctx->query_buf)) < 0) {
        d->nvars = 0;
        set(d, 500, "error", "rewritten query string too long");
        d->cause = "too_large";
        return false;
    }
    d->query = ctx->query_buf;
    return true;
}

static void allow(struct decision *d, const struct rule *r, const struct auth_result *res,
                  const struct request_view *req, struct decide_ctx *ctx)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        const char *v = res->values[r->headers[i].wanted];
        if (v) {
            d->vars[d->nvars].name = r->headers[i].target;
            d->vars[d->nvars].value = v;
            d->nvars++;
        }
    }
    const char *values[CONFIG_MAX_MAPPINGS];
    for (size_t i = 0; i < r->nparams; i++)
        values[i] = res->values[r->params[i].wanted];
    if (!rewrite_query(d, req->query, r->params, r->nparams, values, ctx))
        return;
    set(d, 200, "allowed", res->dropped ? "an unsafe auth response value was dropped" : NULL);
}

static void deny(struct decision *d, const struct auth_result *res)
{
    set(d, res->status, "denied", NULL);
    d->www_authenticate = res->values[WANTED_WWW_AUTHENTICATE];
    d->content_type = res->values[WANTED_CONTENT_TYPE];
    d->body = res->body;
    d->body_len = res->body_len;
}

void decide_outcome(struct decision *d, const struct rule *r, enum backend_status bs,
                    const struct auth_result *res, const struct request_view *req,
                    struct decide_ctx *ctx)
{
    d->auth_seconds = res->seconds;
    switch (bs) {
    case BACKEND_BAD_REQUEST:
        set(d, 400, "bad request", res->error);
        return;
    case BACKEND_FAILED:
        set(d, 500, "error", res->error);
        d->cause = res->cause ? res->cause : "transport";
        return;
    case BACKEND_OK:
        break;
    }
    d->auth_status = res->status;
    if (res->status >= 200 && res->status <= 299)
        allow(d, r, res, req, ctx);
    else if (res->status == 401 || res->status == 403)
        deny(d, res);
    else {
        set(d, 500, "error", "unexpected auth service status");
        d->cause = "status";
    }
}

void decide(const struct config *cfg, const struct request_view *req, struct decide_ctx *ctx,
            struct decision *d)
{
    memset(d, 0, sizeof(*d));
    switch (path_normalize(req->path, req->path_len, &ctx->views)) {
    case PATH_OK:
        break;
    case PATH_TOO_LONG:
        set(d, 400, "bad request", "path too long");
        return;
    default:
        set(d, 400, "bad request", "malformed path");
        return;
    }

    const struct middleware *m = decide_find_middleware(cfg, &ctx->views);
    d->mw = m;
    if (!m) {
        /* Not protected: allowed with no identity, and the client's query without any
         * parameter that a middleware would set (a client may forge them nowhere). */
        if (rewrite_query(d, req->query, cfg->all_params, cfg->nall_params, NULL, ctx))
            set(d, 200, "unprotected", NULL);
        return;
    }

    const struct rule *r = &m->rule;
    for (size_t i = 0; i < r->nrequired; i++) {
        const char *v = request_param(req->envp, r->required[i].cgi);
        if (!v || !*v) {
            set(d, 403, "missing header", r->required[i].name);
            return;
        }
    }

    struct auth_result res;
    if (!r->cache.enabled) {
        decide_outcome(d, r, backend_call(ctx->backend, r, req, &res), &res, req, ctx);
        return;
    }
    struct cache_key key;
    cache_key_build(r, req, ctx->cache_scratch, &key);
    enum backend_status bs;
    switch (cache_lookup(r->cache.cache, r, &key, ctx->cache_scratch, &res, r->timeout_ms)) {
    case CACHE_HIT:
        decide_outcome(d, r, BACKEND_OK, &res, req, ctx);
        d->cache = "hit";
        return;
    case CACHE_LEADER:
        bs = backend_call(ctx->backend, r, req, &res);
        cache_fill(r->cache.cache, r, &key, bs, &res); /* always: others may be waiting */
        break;
    default:
        bs = backend_call(ctx->backend, r, req, &res);
        break;
    }
    decide_outcome(d, r, bs, &res, req, ctx);
    d->cache = "miss";
}
