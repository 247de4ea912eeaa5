/* jwtauth.c - see jwtauth.h. */
#include "auth/jwtauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/cache.h"
#include "auth/jwks.h"
#include "auth/jwt.h"
#include "auth/jwtclaims.h"
#include "auth/worker.h"
#include "base/buf.h"
#include "base/httpsyntax.h"
#include "base/log.h"

/* How long a request waits for a refetch of the keys when its token's kid is unknown. */
#define UNKNOWN_KID_WAIT_MS 2000

struct jwt_authenticator {
    struct authenticator base; /* first: the interface's pointer is this one's */
    const struct rule *rule;
    struct jwks_source *keys;
    struct jwt_policy policy;
    /* The challenges, made once: Bearer realm="name" and its error forms. */
    char *www_missing, *www_invalid, *www_scope;
};

/* ---- the token ---- */

/* The token of "Bearer <token>", or NULL. */
static const char *bearer(const char *v, size_t *len)
{
    if (!v || strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t'))
        return NULL;
    v += 6;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    *len = n;
    return n ? v : NULL;
}

/* The value of cookie `name` in a Cookie header ("a=1; b=2"), or NULL. */
static const char *cookie(const char *header, const char *name, size_t *len)
{
    size_t nlen = strlen(name);
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t n = strcspn(p, ";");
        if (n > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            size_t vlen = n - nlen - 1;
            while (vlen > 0 && v[vlen - 1] == ' ')
                vlen--;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"')
                v++, vlen -= 2;
            *len = vlen;
            return vlen ? v : NULL;
        }
        p += n;
    }
    return NULL;
}

static const char *token_of(const struct jwt_authenticator *ja, const struct request_view *req,
                            size_t *len)
{
    const char *t = bearer(request_param(req->envp, "HTTP_AUTHORIZATION"), len);
    if (!t && ja->rule->jwt.token_cookie)
        t = cookie(request_param(req->envp, "HTTP_COOKIE"), ja->rule->jwt.token_cookie, len);
    return t;
}

/* ---- answers ---- */

static enum auth_status answer(struct auth_result *res, int status, const char *www,
                               const char *why)
{
    res->status = status;
    res->values[WANTED_WWW_AUTHENTICATE] = www;
    res->error = why;
    return AUTH_OK;
}

/* The claims headers and params name, as text in the worker's space. */
static void export_claims(const struct rule *r, const json_t *claims, struct buf *b,
                          struct auth_result *res)
{
    for (size_t i = WANTED_FIXED; i < r->nwanted; i++) {
        const struct claim_path *c = &r->jwt.claims[i];
        size_t mark = b->len;
        enum jwt_export e = jwt_claim_export(claims, (const char *const *)c->seg, c->n, b);
        if (e == JWT_EXPORT_OK && buf_addc(b, '\0')) {
            res->values[i] = b->data + mark;
        } else {
            buf_truncate(b, mark);
            if (e == JWT_EXPORT_UNSAFE || e == JWT_EXPORT_TOO_LONG)
                res->dropped = r->wanted[i];
        }
    }
}

/* The first requiredClaims entry the claims do not hold, or NULL. */
static const char *missing_claim(const struct rule *r, const json_t *claims)
{
    for (size_t i = 0; i < r->jwt.nrequired_claims; i++) {
        const struct required_claim *c = &r->jwt.required_claims[i];
        if (jwt_claim_require(claims, (const char *const *)c->path.seg, c->path.n,
                              (const char *const *)c->values, c->nvalues) != JWT_CLAIM_MATCH)
            return c->name;
    }
    return NULL;
}

static enum auth_status verified(const struct jwt_authenticator *ja, struct auth_worker *w,
                                 const struct jwt_result *jr, int64_t now, struct auth_result *res)
{
    const struct rule *r = ja->rule;
    const char *unheld = missing_claim(r, jr->claims);
    if (unheld) {
        snprintf(w->jwt_why, sizeof(w->jwt_why), "the token does not hold claim '%s'", unheld);
        return answer(res, 403, ja->www_scope, w->jwt_why);
    }
    struct buf b;
    buf_init(&b, w->jwt_values, JWTAUTH_VALUES_SPACE);
    export_claims(r, jr->claims, &b, res);
    /* A cached allow must not outlive the token. */
    if (jr->has_exp) {
        size_t mark = b.len;
        long long left = jr->exp > now ? (long long)(jr->exp - now) : 0;
        if (buf_printf(&b, "max-age=%lld", left) && buf_addc(&b, '\0'))
            res->values[WANTED_CACHE_CONTROL] = b.data + mark;
        else
            res->values[WANTED_CACHE_CONTROL] = "no-store";
    }
    res->status = 200;
    return AUTH_OK;
}

static enum auth_status jwt_ask(const struct authenticator *self, struct auth_worker *w,
                                const struct request_view *req, struct auth_result *res,
                                enum cache_state *cache)
{
    const struct jwt_authenticator *ja = (const struct jwt_authenticator *)self;
    memset(res, 0, sizeof(*res));
    *cache = CACHE_OFF;
    size_t len = 0;
    const char *token = token_of(ja, req, &len);
    if (!token)
        return answer(res, 401, ja->www_missing, "no token");
    struct jwt_keyset *keys = jwks_acquire(ja->keys);
    /* No keys yet (the identity provider was down): a request may bring the next fetch
     * forward, as an unknown kid does, at most once per jwksMinRefresh. */
    if (!keys && jwks_refresh_for_unknown_kid(ja->keys, NULL, UNKNOWN_KID_WAIT_MS))
        keys = jwks_acquire(ja->keys);
    if (!keys) {
        res->error = "no keys to verify tokens with (yet): see the jwksUrl messages";
        res->cause = CAUSE_KEYS;
        return AUTH_FAILED;
    }
    int64_t now = (int64_t)time(NULL);
    struct jwt_result jr;
    enum jwt_status st = jwt_verify(keys, &ja->policy, token, len, now, &jr);
    if (st == JWT_UNKNOWN_KID &&
        jwks_refresh_for_unknown_kid(ja->keys, keys, UNKNOWN_KID_WAIT_MS)) {
        jwt_result_release(&jr);
        jwt_keyset_unref(keys);
        if (!(keys = jwks_acquire(ja->keys))) {
            res->error = "no keys to verify tokens with";
            res->cause = CAUSE_KEYS;
            return AUTH_FAILED;
        }
        st = jwt_verify(keys, &ja->policy, token, len, now, &jr);
    }
    enum auth_status rc;
    if (st == JWT_OK) {
        rc = verified(ja, w, &jr, now, res);
    } else {
        snprintf(w->jwt_why, sizeof(w->jwt_why), "token refused: %s", jr.reason);
        rc = answer(res, 401, ja->www_invalid, w->jwt_why);
    }
    jwt_result_release(&jr);
    jwt_keyset_unref(keys);
    return rc;
}

static bool jwt_cache_key(const struct authenticator *self, struct auth_worker *w,
                          const struct request_view *req, unsigned char key[32])
{
    const struct jwt_authenticator *ja = (const struct jwt_authenticator *)self;
    size_t len = 0;
    const char *token = token_of(ja, req, &len);
    if (!token)
        return false;
    struct cache_key k;
    cache_key_of_bytes(w->cache, token, len, &k);
    memcpy(key, k.digest, sizeof(k.digest));
    return true;
}

/* ---- lifecycle ---- */

/* Bearer realm="name"[, error="..."]: the name with '"' and '\\' made harmless. */
static char *challenge(const char *name, const char *error)
{
    char realm[256];
    size_t n = 0;
    for (; name[n] && n + 1 < sizeof(realm); n++)
        realm[n] = name[n] == '"' || name[n] == '\\' ? '_' : name[n];
    realm[n] = '\0';
    char text[400];
    if (error)
        snprintf(text, sizeof(text), "Bearer realm=\"%s\", error=\"%s\"", realm, error);
    else
        snprintf(text, sizeof(text), "Bearer realm=\"%s\"", realm);
    return strdup(text);
}

struct authenticator *jwt_authenticator_new(const struct middleware *m, char *err, size_t errlen)
{
    struct jwt_authenticator *ja = calloc(1, sizeof(*ja));
    if (!ja) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const struct rule *r = &m->rule;
    ja->base.ask = jwt_ask;
    ja->base.cache_key = jwt_cache_key;
    ja->rule = r;
    ja->policy.algs = jwks_rule_algs(r, err, errlen);
    ja->policy.issuer = r->jwt.issuer;
    ja->policy.audiences = (const char *const *)r->jwt.audiences;
    ja->policy.naudiences = r->jwt.naudiences;
    ja->policy.leeway = r->jwt.leeway_s;
    ja->policy.exp_optional = !r->jwt.require_expiration;
    ja->www_missing = challenge(m->name, NULL);
    ja->www_invalid = challenge(m->name, "invalid_token");
    ja->www_scope = challenge(m->name, "insufficient_scope");
    if (!ja->policy.algs || !ja->www_missing || !ja->www_invalid || !ja->www_scope ||
        !(ja->keys = jwks_source_new(r, err, errlen))) {
        if (ja->policy.algs && !(ja->www_missing && ja->www_invalid && ja->www_scope))
            snprintf(err, errlen, "out of memory");
        jwt_authenticator_free(&ja->base);
        return NULL;
    }
    return &ja->base;
}

void jwt_authenticator_free(struct authenticator *a)
{
    struct jwt_authenticator *ja = (struct jwt_authenticator *)a;
    if (!ja)
        return;
    jwks_source_free(ja->keys);
    free(ja->www_missing);
    free(ja->www_invalid);
    free(ja->www_scope);
    free(ja);
}
