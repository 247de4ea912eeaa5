/*
 * config.c - see config.h: loading a file (libconfig parses it, schema.c checks and reads its
 * settings), the tables derived from the settings, and freeing.
 */
#include "config/config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/schema.h"
#include "config/settings.h"

/* Each rule's query targets (config.h): its own params first, then all the others. */
static int derive_query_targets(struct loader *ld, struct config *cfg)
{
    for (size_t i = 0; i < cfg->nmiddlewares; i++) {
        struct rule *r = &cfg->middlewares[i].rule;
        r->query_targets = calloc(r->nparams + cfg->nall_params + 1, sizeof(*r->query_targets));
        if (!r->query_targets)
            return settings_fail_in(ld, NULL, "middlewares", "out of memory");
        for (size_t k = 0; k < r->nparams; k++)
            r->query_targets[r->nquery_targets++] = r->param_targets[k];
        for (size_t j = 0; j < cfg->nall_params; j++) {
            bool own = false;
            for (size_t k = 0; k < r->nparams && !own; k++)
                own = strcmp(cfg->all_params[j].match_name, r->param_targets[k].match_name) == 0;
            if (!own)
                r->query_targets[r->nquery_targets++] = cfg->all_params[j];
        }
    }
    return 0;
}

/* The union of all params targets (see config.h), pointing into the middlewares' mappings. */
static int collect_params(struct loader *ld, struct config *cfg)
{
    size_t max = 0;
    for (size_t i = 0; i < cfg->nmiddlewares; i++)
        max += cfg->middlewares[i].rule.nparams;
    if (max == 0)
        return derive_query_targets(ld, cfg);
    cfg->all_params = calloc(max, sizeof(*cfg->all_params));
    if (!cfg->all_params)
        return settings_fail_in(ld, NULL, "middlewares", "out of memory");
    for (size_t i = 0; i < cfg->nmiddlewares; i++) {
        const struct rule *r = &cfg->middlewares[i].rule;
        for (size_t k = 0; k < r->nparams; k++) {
            bool dup = false;
            for (size_t j = 0; j < cfg->nall_params; j++)
                dup = dup ||
                      strcmp(cfg->all_params[j].match_name, r->param_targets[k].match_name) == 0;
            if (dup)
                continue;
            if (cfg->nall_params == CONFIG_MAX_QUERY_TARGETS)
                return settings_fail_in(ld, NULL, "middlewares",
                                        "more than %d distinct params targets",
                                        CONFIG_MAX_QUERY_TARGETS);
            cfg->all_params[cfg->nall_params++] = r->param_targets[k];
        }
    }
    return derive_query_targets(ld, cfg);
}

static int load_root(struct loader *ld, config_t *lc, struct config *cfg)
{
    if (schema_load(ld, config_root_setting(lc), cfg) < 0)
        return -1;
    return collect_params(ld, cfg);
}

static const char *finish(config_t *lc, int rc, bool parsed, struct loader *ld, struct config *cfg,
                          struct config **out)
{
    if (!parsed) {
        const char *file = config_error_file(lc);
        snprintf(ld->err, ld->errlen, "%s:%d: %s", file ? file : ld->file, config_error_line(lc),
                 config_error_text(lc));
        rc = -1;
    }
    config_destroy(lc);
    if (rc < 0) {
        config_free(cfg);
        return ld->err;
    }
    *out = cfg;
    return NULL;
}

const char *config_load(const char *file, struct config **out, char *err, size_t errlen)
{
    struct loader ld = {.file = file, .err = err, .errlen = errlen};
    err[0] = '\0';
    *out = NULL;
    struct config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg || !(cfg->file = strdup(file))) {
        free(cfg);
        snprintf(err, errlen, "%s: out of memory", file);
        return err;
    }
    FILE *fp = fopen(file, "r");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open: %s", file, strerror(errno));
        config_free(cfg);
        return err;
    }
    config_t lc;
    config_init(&lc);
    /* Resolve @include relative to the config file's own directory. */
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        config_set_include_dir(&lc, dir);
    }
    bool parsed = config_read(&lc, fp) == CONFIG_TRUE;
    fclose(fp);
    int rc = parsed ? load_root(&ld, &lc, cfg) : -1;
    return finish(&lc, rc, parsed, &ld, cfg, out);
}

const char *config_load_string(const char *text, const char *name, struct config **out, char *err,
                               size_t errlen)
{
    struct loader ld = {.file = name, .err = err, .errlen = errlen};
    err[0] = '\0';
    *out = NULL;
    struct config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg || !(cfg->file = strdup(name))) {
        free(cfg);
        snprintf(err, errlen, "%s: out of memory", name);
        return err;
    }
    config_t lc;
    config_init(&lc);
    bool parsed = config_read_string(&lc, text) == CONFIG_TRUE;
    int rc = parsed ? load_root(&ld, &lc, cfg) : -1;
    return finish(&lc, rc, parsed, &ld, cfg, out);
}

static void free_client_headers(struct client_header *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        free(h[i].cgi);
    }
    free(h);
}

static void free_mappings(struct mapping *m, size_t n)
{
    if (!m)
        return;
    for (size_t i = 0; i <= n; i++) { /* <= n: a failed load may leave one partly filled */
        free(m[i].source);
        free(m[i].target);
    }
    free(m);
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static void free_claim(struct claim_path *c)
{
    free_strings(c->seg, c->n);
    c->seg = NULL;
    c->n = 0;
}

static void free_rule_jwt(struct rule_jwt *j)
{
    free(j->jwks_url);
    free(j->jwks_file);
    free(j->public_key);
    free(j->secret_file);
    free_strings(j->algorithms, j->nalgorithms);
    free(j->issuer);
    free_strings(j->audiences, j->naudiences);
    free(j->token_cookie);
    for (size_t i = 0; j->required_claims && i <= j->nrequired_claims; i++) {
        struct required_claim *c = &j->required_claims[i]; /* <=: one may be partly filled */
        free(c->name);
        free_claim(&c->path);
        free_strings(c->values, c->nvalues);
    }
    free(j->required_claims);
    for (size_t i = 0; i < CONFIG_MAX_WANTED; i++)
        free_claim(&j->claims[i]);
    free(j->where);
}

static void free_rule_basic(struct rule_basic *b)
{
    free(b->htpasswd);
    free_strings(b->users, b->nusers);
    free(b->realm);
    free(b->where);
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->nmiddlewares; i++) {
        struct middleware *m = &cfg->middlewares[i];
        free(m->name);
        free(m->type);
        for (size_t k = 0; k < m->npaths; k++)
            path_pattern_free(&m->paths[k]);
        free(m->paths);
        struct rule *r = &m->rule;
        free(r->url);
        free_client_headers(r->required, r->nrequired);
        free_client_headers(r->forward, r->nforward);
        free_mappings(r->headers, r->nheaders);
        free_mappings(r->params, r->nparams);
        free(r->param_targets);
        free(r->query_targets);
        free_rule_jwt(&r->jwt);
        free_rule_basic(&r->basic);
        for (size_t k = 0; k < r->nwanted; k++)
            free(r->wanted[k]);
        free(r->sign_in);
        free_strings(r->allowed_hosts, r->nallowed_hosts);
        free(r->tls_ca_file);
        free(r->tls_client_cert);
        free(r->tls_client_key);
        free_client_headers(r->cache.key, r->cache.nkey);
    }
    free(cfg->middlewares);
    free(cfg->all_params); /* its strings belong to the middlewares */
    for (size_t i = 0; i < cfg->nfront_controllers; i++)
        free(cfg->front_controllers[i].text);
    free(cfg->front_controllers);
    free(cfg->shared_cache.address);
    free(cfg->shared_cache.user);
    free(cfg->shared_cache.password_file);
    free(cfg->shared_cache.secret_file);
    free(cfg->shared_cache.old_secret_file);
    free(cfg->shared_cache.key_prefix);
    free(cfg->shared_cache.where);
    free(cfg->shared_cache.password_where);
    free(cfg->shared_cache.secret_where);
    free(cfg->shared_cache.old_secret_where);
    free(cfg->listen);
    free(cfg->metrics_listen);
    free(cfg->file);
    free(cfg);
}
