/* registry.c - see registry.h. */
#include "auth/registry.h"

#include <stdio.h>
#include <stdlib.h>

#include "auth/cached.h"
#include "auth/forward.h"
#include "auth/basicauth.h"
#include "auth/htpasswd.h"
#include "auth/jwks.h"
#include "auth/jwtauth.h"
#include "auth/sharedlevel.h"

/* What a policy owns besides its configuration: per middleware, the authenticators built. */
struct guard {
    struct authenticator *decider; /* how the type decides */
    struct authenticator *cached;  /* the cache in front of it, or NULL */
};

struct owned_policy {
    struct policy pub; /* first: a struct policy * is this one's */
    struct guard *guards;
    const struct authenticator **table; /* pub.guards */
    struct sharedcache *shared;         /* the fleet's cache level, or NULL */
};

static struct authenticator *make_forward(const struct middleware *m, int workers, char *err,
                                          size_t errlen)
{
    (void)workers;
    struct authenticator *a = forward_authenticator_new(&m->rule);
    if (!a)
        snprintf(err, errlen, "out of memory");
    return a;
}

static struct authenticator *make_jwt(const struct middleware *m, int workers, char *err,
                                      size_t errlen)
{
    (void)workers;
    return jwt_authenticator_new(m, err, errlen);
}

/* What -t can check of a middleware beyond its configuration (NULL: nothing to check). */
static const char *check_jwt(const struct middleware *m, char *err, size_t errlen)
{
    return jwks_check(&m->rule, err, errlen);
}

/* How each kind of middleware decides: one row per way of deciding. */
static const struct {
    enum middleware_kind kind;
    struct authenticator *(*make)(const struct middleware *m, int workers, char *err,
                                  size_t errlen);
    void (*free)(struct authenticator *a);
    const char *(*check)(const struct middleware *m, char *err, size_t errlen);
} kinds[] = {
    {MIDDLEWARE_FORWARD, make_forward, forward_authenticator_free, NULL},
    {MIDDLEWARE_JWT, make_jwt, jwt_authenticator_free, check_jwt},
    {MIDDLEWARE_BASIC, basic_authenticator_new, basic_authenticator_free, basic_check},
};

static bool build_guard(const struct middleware *m, int workers, struct sharedcache *shared,
                        bool lock, struct guard *g, char *err, size_t errlen)
{
    struct shared_level level = {.middleware = m->name, .cache = shared, .lock = lock};
    bool with_shared = shared && m->rule.cache.shared;
    if (with_shared && !sharedlevel_fingerprint(m, level.fingerprint)) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
        if (kinds[i].kind != m->kind)
            continue;
        g->decider = kinds[i].make(m, workers, err, errlen);
        if (!g->decider)
            return false;
        if (m->rule.cache.enabled && !(g->cached = cached_authenticator_new(
                                           &m->rule, g->decider, with_shared ? &level : NULL))) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
        return true;
    }
    snprintf(err, errlen, "no way to decide for this kind of middleware");
    return false;
}

const char *auth_global_init(void)
{
    const char *msg = forward_global_init();
    return msg ? msg : htpasswd_global_init();
}

void auth_global_cleanup(void)
{
    htpasswd_global_cleanup();
    forward_global_cleanup();
}

const char *policy_check(const struct config *cfg, char *err, size_t errlen)
{
    if (sharedlevel_check(cfg, err, errlen))
        return err;
    for (size_t m = 0; m < cfg->nmiddlewares; m++)
        for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
            if (kinds[i].kind == cfg->middlewares[m].kind && kinds[i].check &&
                kinds[i].check(&cfg->middlewares[m], err, errlen))
                return err;
    return NULL;
}

static void free_guard(const struct middleware *m, struct guard *g)
{
    cached_authenticator_free(g->cached);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
        if (kinds[i].kind == m->kind && g->decider)
            kinds[i].free(g->decider);
}

const char *policy_new(struct config *cfg, struct policy **out, char *err, size_t errlen)
{
    *out = NULL;
    struct owned_policy *p = calloc(1, sizeof(*p));
    size_t n = cfg->nmiddlewares;
    if (p) {
        p->pub.cfg = cfg;
        p->guards = calloc(n + 1, sizeof(*p->guards));
        p->table = calloc(n + 1, sizeof(*p->table));
    }
    if (!p || !p->guards || !p->table) {
        if (p)
            p->pub.cfg = NULL;
        policy_free(p ? &p->pub : NULL);
        config_free(cfg);
        snprintf(err, errlen, "out of memory");
        return err;
    }
    p->pub.guards = p->table;
    if (cfg->shared_cache.enabled && !(p->shared = sharedlevel_new(cfg, err, errlen))) {
        policy_free(&p->pub);
        return err;
    }
    for (size_t i = 0; i < n; i++) {
        struct guard *g = &p->guards[i];
        char why[768];
        if (!build_guard(&cfg->middlewares[i], cfg->workers, p->shared, cfg->shared_cache.lock, g,
                         why, sizeof(why))) {
            snprintf(err, errlen, "middleware '%s': %s", cfg->middlewares[i].name, why);
            policy_free(&p->pub);
            return err;
        }
        p->table[i] = g->cached ? g->cached : g->decider;
    }
    *out = &p->pub;
    return NULL;
}

void policy_free(struct policy *pub)
{
    struct owned_policy *p = (struct owned_policy *)pub;
    if (!p)
        return;
    struct config *cfg = p->pub.cfg;
    for (size_t i = 0; cfg && p->guards && i < cfg->nmiddlewares; i++)
        free_guard(&cfg->middlewares[i], &p->guards[i]);
    free(p->guards);
    free(p->table);
    sharedcache_free(p->shared);
    config_free(cfg);
    free(p);
}
