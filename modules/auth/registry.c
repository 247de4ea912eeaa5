/* registry.c - see registry.h. */
#include "auth/registry.h"

#include <stdio.h>
#include <stdlib.h>

#include "auth/cached.h"
#include "auth/forward.h"

/* What a policy owns besides its configuration: per middleware, the authenticators built. */
struct guard {
    struct authenticator *decider; /* how the type decides */
    struct authenticator *cached;  /* the cache in front of it, or NULL */
};

struct owned_policy {
    struct policy pub; /* first: a struct policy * is this one's */
    struct guard *guards;
    const struct authenticator **table; /* pub.guards */
};

/* How each kind of middleware decides: one row per way of deciding. */
static const struct {
    enum middleware_kind kind;
    struct authenticator *(*make)(const struct rule *r);
    void (*free)(struct authenticator *a);
} kinds[] = {
    {MIDDLEWARE_FORWARD, forward_authenticator_new, forward_authenticator_free},
};

static bool build_guard(const struct middleware *m, struct guard *g)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
        if (kinds[i].kind != m->kind)
            continue;
        g->decider = kinds[i].make(&m->rule);
        if (!g->decider)
            return false;
        if (m->rule.cache.enabled && !(g->cached = cached_authenticator_new(&m->rule, g->decider)))
            return false;
        return true;
    }
    return false;
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
    for (size_t i = 0; i < n; i++) {
        struct guard *g = &p->guards[i];
        if (!build_guard(&cfg->middlewares[i], g)) {
            snprintf(err, errlen, "middleware '%s': out of memory", cfg->middlewares[i].name);
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
    config_free(cfg);
    free(p);
}
