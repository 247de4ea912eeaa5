/* config.c - see config.h. */
#include "config/config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/httpsyntax.h"
#include "base/log.h"

#define DEFAULT_WORKERS 16
#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_CONNECT_TIMEOUT_MS 2000
#define MAX_TIMEOUT_MS 300000
#define MAX_CACHE_TTL_MS 86400000
#define DEFAULT_CACHE_ENTRIES 10000
#define MAX_CACHE_ENTRIES 10000000

/* Headers the authorizer sets itself on the auth request, or that only the transport may set. */
static const char *const reserved_headers[] = {
    "Host",
    "Content-Length",
    "Transfer-Encoding",
    "Connection",
    "Keep-Alive",
    "TE",
    "Trailer",
    "Upgrade",
    "Expect",
    "Proxy-Connection",
    "X-Original-URI",
    "X-Original-Method",
    "X-Original-URL",
    "X-Forwarded-Method",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Forwarded-Uri",
    "X-Forwarded-For",
};

/* Headers a web server or HTTP library must never receive from us as exported identity. */
static const char *const forbidden_targets[] = {
    "Host",   "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
    "TE",     "Trailer",        "Upgrade",           "Expect",     "Proxy-Connection",
    "Status", "Location",       "Content-Type",
};

/* "a.b" (or "b" when a is empty): the dotted name of a setting, for messages. */
static const char *join(char *out, size_t len, const char *a, const char *sep, const char *b)
{
    int n = snprintf(out, len, "%s%s%s", a, *a ? sep : "", b);
    if (n < 0 || (size_t)n >= len)
        out[len - 1] = '\0';
    return out;
}

struct loader {
    const char *file;
    char *err;
    size_t errlen;
};

static int fail(struct loader *ld, const config_setting_t *s, const char *path, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

static int fail(struct loader *ld, const config_setting_t *s, const char *path, const char *fmt,
                ...)
{
    const char *file = s ? config_setting_source_file(s) : NULL;
    int line = s ? (int)config_setting_source_line(s) : 0;
    /* The root setting has no line of its own: name the file only. */
    int n = line > 0
                ? snprintf(ld->err, ld->errlen, "%s:%d: %s: ", file ? file : ld->file, line, path)
                : snprintf(ld->err, ld->errlen, "%s: %s: ", file ? file : ld->file, path);
    if (n < 0 || (size_t)n >= ld->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (http_name_eq(name, strlen(name), list[i], strlen(list[i])))
            return true;
    return false;
}

/* Rejects settings the loader does not know: a typo must not silently drop protection. */
static int check_known(struct loader *ld, const config_setting_t *group, const char *path,
                       const char *const *known)
{
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        bool ok = false;
        for (const char *const *k = known; *k; k++)
            if (name && strcmp(name, *k) == 0)
                ok = true;
        if (!ok) {
            char sub[256];
            join(sub, sizeof(sub), path, ".", name ? name : "?");
            return fail(ld, s, sub, "unknown setting");
        }
    }
    return 0;
}

static int get_string(struct loader *ld, const config_setting_t *parent, const char *name,
                      const char *path, bool required, char **out)
{
    *out = NULL;
    const config_setting_t *s = config_setting_get_member(parent, name);
    char sub[256];
    join(sub, sizeof(sub), path, ".", name);
    if (!s)
        return required ? fail(ld, parent, sub, "is required") : 0;
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return fail(ld, s, sub, "must be a string");
    const char *v = config_setting_get_string(s);
    if (!*v)
        return fail(ld, s, sub, "must not be empty");
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return fail(ld, s, sub, "must not contain control characters");
    *out = strdup(v);
    return *out ? 0 : fail(ld, s, sub, "out of memory");
}

/* A duration in seconds (integer or decimal) within (0, max], stored in milliseconds. */
/* A duration in seconds (integer or decimal) within [min_ms, max_ms], stored in milliseconds. */
static int get_duration(struct loader *ld, const config_setting_t *parent, const char *name,
                        const char *path, long def_ms, long min_ms, long max_ms, long *out_ms)
{
    *out_ms = def_ms;
    const config_setting_t *s = config_setting_get_member(parent, name);
    if (!s)
        return 0;
    char sub[256];
    join(sub, sizeof(sub), path, ".", name);
    double v;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        v = (double)config_setting_get_int64(s);
        break;
    case CONFIG_TYPE_FLOAT:
        v = config_setting_get_float(s);
        break;
    default:
        return fail(ld, s, sub, "must be a number of seconds");
    }
    if (!(v * 1000 >= (double)min_ms && v * 1000 <= (double)max_ms))
        return fail(ld, s, sub, "must be between %g and %g seconds", (double)min_ms / 1000,
                    (double)max_ms / 1000);
    *out_ms = (long)(v * 1000 + 0.5);
    return 0;
}

/* A timeout: (0, 300] seconds. */
static int get_seconds(struct loader *ld, const config_setting_t *parent, const char *name,
                       const char *path, long def_ms, long *out_ms)
{
    return get_duration(ld, parent, name, path, def_ms, 1, MAX_TIMEOUT_MS, out_ms);
}

static int get_bool(struct loader *ld, const config_setting_t *parent, const char *name,
                    const char *path, bool def, bool *out)
{
    *out = def;
    const config_setting_t *s = config_setting_get_member(parent, name);
    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
        char sub[256];
        join(sub, sizeof(sub), path, ".", name);
        return fail(ld, s, sub, "must be true or false");
    }
    *out = config_setting_get_bool(s) != 0;
    return 0;
}

static bool is_list(const config_setting_t *s)
{
    int t = config_setting_type(s);
    return t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY;
}

static int add_client_header(struct loader *ld, const config_setting_t *s, const char *path,
                             struct client_header *arr, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (http_name_eq(arr[i].name, strlen(arr[i].name), name, strlen(name)))
            return 0;
    if (*n >= CONFIG_MAX_CLIENT_HEADERS)
        return fail(ld, s, path, "at most %d client headers can be forwarded",
                    CONFIG_MAX_CLIENT_HEADERS);
    char cgi[300];
    if (!http_cgi_name(name, cgi, sizeof(cgi)))
        return fail(ld, s, path, "header name '%s' is too long", name);
    arr[*n].name = strdup(name);
    arr[*n].cgi = strdup(cgi);
    if (!arr[*n].name || !arr[*n].cgi)
        return fail(ld, s, path, "out of memory");
    (*n)++;
    return 0;
}

/* requiredHeaders / forwardHeaders: lists of header names. */
static int load_header_list(struct loader *ld, const config_setting_t *rule, const char *name,
                            const char *path, struct client_header *arr, size_t *n)
{
    const config_setting_t *s = config_setting_get_member(rule, name);
    if (!s)
        return 0;
    char sub[256];
    join(sub, sizeof(sub), path, ".", name);
    if (!is_list(s))
        return fail(ld, s, sub, "must be a list of header names");
    int len = config_setting_length(s);
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        char esub[300];
        snprintf(esub, sizeof(esub), "%s[%d]", sub, i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return fail(ld, e, esub, "must be a string");
        const char *h = config_setting_get_string(e);
        if (!http_is_token(h, strlen(h)))
            return fail(ld, e, esub, "'%s' is not a valid header name", h);
        if (in_list(h, reserved_headers, sizeof(reserved_headers) / sizeof(*reserved_headers)))
            return fail(ld, e, esub, "'%s' is set by the authorizer itself and cannot be listed",
                        h);
        if (add_client_header(ld, e, esub, arr, n, h) < 0)
            return -1;
    }
    return 0;
}

static size_t want(struct rule *r, const char *source)
{
    for (size_t i = 0; i < r->nwanted; i++)
        if (http_name_eq(r->wanted[i], strlen(r->wanted[i]), source, strlen(source)))
            return i;
    r->wanted[r->nwanted] = strdup(source);
    return r->nwanted++;
}

/* headers / params: groups whose member names are auth-response headers. */
static int load_mappings(struct loader *ld, const config_setting_t *rule, const char *name,
                         const char *path, struct rule *r, bool params, struct mapping **out,
                         size_t *nout)
{
    const config_setting_t *s = config_setting_get_member(rule, name);
    if (!s)
        return 0;
    char sub[256];
    join(sub, sizeof(sub), path, ".", name);
    if (config_setting_type(s) != CONFIG_TYPE_GROUP)
        return fail(ld, s, sub, "must be a group { sourceHeader = \"target\"; ... }");
    int len = config_setting_length(s);
    if (len > CONFIG_MAX_MAPPINGS)
        return fail(ld, s, sub, "at most %d entries", CONFIG_MAX_MAPPINGS);
    *out = calloc((size_t)len + 1, sizeof(**out));
    if (!*out)
        return fail(ld, s, sub, "out of memory");
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *source = config_setting_name(e);
        char esub[300];
        join(esub, sizeof(esub), sub, ".", source);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return fail(ld, e, esub, "must be a string");
        const char *target = config_setting_get_string(e);
        if (!http_is_token(source, strlen(source)))
            return fail(ld, e, esub, "'%s' is not a valid header name", source);
        if (params) {
            if (!*target || strlen(target) > QUERY_MAX_NAME)
                return fail(ld, e, esub, "parameter name must be 1 to %d characters",
                            QUERY_MAX_NAME);
            if (!query_target_name_ok(target))
                return fail(ld, e, esub,
                            "parameter name '%s' may contain only letters, digits and -._~",
                            target);
        } else {
            if (!http_is_token(target, strlen(target)) || strlen(target) > 128)
                return fail(ld, e, esub, "'%s' is not a valid header name", target);
            if (in_list(target, forbidden_targets,
                        sizeof(forbidden_targets) / sizeof(*forbidden_targets)))
                return fail(ld, e, esub,
                            "'%s' is the web server's own header and cannot be set from the "
                            "auth response",
                            target);
            if (strlen(target) >= 6 && http_name_eq(target, 6, "AUTHZ_", 6))
                return fail(ld, e, esub, "'%s': names starting with AUTHZ_ are reserved", target);
        }
        for (size_t k = 0; k < *nout; k++)
            if (http_name_eq((*out)[k].target, strlen((*out)[k].target), target, strlen(target)))
                return fail(ld, e, esub, "target '%s' is set twice", target);
        if (r->nwanted >= CONFIG_MAX_WANTED)
            return fail(ld, e, esub, "too many distinct source headers");
        struct mapping *m = &(*out)[(*nout)++];
        m->source = strdup(source);
        m->target = strdup(target);
        m->wanted = want(r, source);
        if (!m->source || !m->target || !r->wanted[m->wanted])
            return fail(ld, e, esub, "out of memory");
    }
    return 0;
}

static int check_url(struct loader *ld, const config_setting_t *rule, const char *path,
                     const char *url)
{
    const config_setting_t *s = config_setting_get_member(rule, "url");
    char sub[256];
    join(sub, sizeof(sub), path, ".", "url");
    const char *host;
    if (strncmp(url, "http://", 7) == 0)
        host = url + 7;
    else if (strncmp(url, "https://", 8) == 0)
        host = url + 8;
    else
        return fail(ld, s, sub, "must start with http:// or https://");
    if (*host == '\0' || *host == '/' || *host == '?' || *host == '#')
        return fail(ld, s, sub, "has no host");
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return fail(ld, s, sub, "must not contain spaces or control characters");
    return 0;
}

static int check_readable(struct loader *ld, const config_setting_t *rule, const char *path,
                          const char *name, const char *file)
{
    if (!file || access(file, R_OK) == 0)
        return 0;
    char sub[256];
    join(sub, sizeof(sub), path, ".", name);
    return fail(ld, config_setting_get_member(rule, name), sub, "cannot read '%s': %s", file,
                strerror(errno));
}

/* rule.cache = { ttl; negativeTtl; maxEntries; key }: the decision cache, off without it. */
static int load_cache(struct loader *ld, const config_setting_t *rule, const char *path,
                      struct rule *r)
{
    const config_setting_t *s = config_setting_get_member(rule, "cache");
    if (!s)
        return 0;
    char sub[256];
    join(sub, sizeof(sub), path, ".", "cache");
    if (config_setting_type(s) != CONFIG_TYPE_GROUP)
        return fail(ld, s, sub, "must be a group { ttl = 30; ... }");
    static const char *const known[] = {"ttl", "negativeTtl", "maxEntries", "key", NULL};
    if (check_known(ld, s, sub, known) < 0)
        return -1;
    struct rule_cache *c = &r->cache;
    if (!config_setting_get_member(s, "ttl"))
        return fail(ld, s, sub, "ttl is required");
    if (get_duration(ld, s, "ttl", sub, 0, 1, MAX_CACHE_TTL_MS, &c->ttl_ms) < 0 ||
        get_duration(ld, s, "negativeTtl", sub, 0, 0, MAX_CACHE_TTL_MS, &c->negative_ttl_ms) < 0)
        return -1;
    c->max_entries = DEFAULT_CACHE_ENTRIES;
    const config_setting_t *m = config_setting_get_member(s, "maxEntries");
    if (m) {
        char msub[300];
        join(msub, sizeof(msub), sub, ".", "maxEntries");
        if (config_setting_type(m) != CONFIG_TYPE_INT &&
            config_setting_type(m) != CONFIG_TYPE_INT64)
            return fail(ld, m, msub, "must be an integer");
        long long v = config_setting_get_int64(m);
        if (v < 1 || v > MAX_CACHE_ENTRIES)
            return fail(ld, m, msub, "must be between 1 and %d", MAX_CACHE_ENTRIES);
        c->max_entries = (size_t)v;
    }
    const config_setting_t *k = config_setting_get_member(s, "key");
    if (k) {
        char ksub[300];
        join(ksub, sizeof(ksub), sub, ".", "key");
        if (!is_list(k) || config_setting_length(k) == 0)
            return fail(ld, k, ksub, "must be a non-empty list of client header names");
        c->key = calloc(CONFIG_MAX_CLIENT_HEADERS, sizeof(*c->key));
        if (!c->key)
            return fail(ld, k, ksub, "out of memory");
        if (load_header_list(ld, s, "key", sub, c->key, &c->nkey) < 0)
            return -1;
    }
    c->enabled = true;
    return 0;
}

static int load_rule(struct loader *ld, const config_setting_t *mw, const char *mpath,
                     struct rule *r)
{
    static _Atomic unsigned long next_rule_id;
    r->id = atomic_fetch_add(&next_rule_id, 1) + 1;
    char path[256];
    join(path, sizeof(path), mpath, ".", "rule");
    const config_setting_t *s = config_setting_get_member(mw, "rule");
    if (!s)
        return fail(ld, mw, path, "is required");
    if (config_setting_type(s) != CONFIG_TYPE_GROUP)
        return fail(ld, s, path, "must be a group { url = ...; }");
    static const char *const known[] = {
        "url",    "timeout",   "connectTimeout", "requiredHeaders", "forwardHeaders", "headers",
        "params", "tlsCaFile", "tlsClientCert",  "tlsClientKey",    "tlsVerify",      "cache",
        NULL,
    };
    if (check_known(ld, s, path, known) < 0)
        return -1;
    if (get_string(ld, s, "url", path, true, &r->url) < 0 || check_url(ld, s, path, r->url) < 0)
        return -1;
    if (get_seconds(ld, s, "timeout", path, DEFAULT_TIMEOUT_MS, &r->timeout_ms) < 0 ||
        get_seconds(ld, s, "connectTimeout", path,
                    DEFAULT_CONNECT_TIMEOUT_MS < r->timeout_ms ? DEFAULT_CONNECT_TIMEOUT_MS
                                                               : r->timeout_ms,
                    &r->connect_timeout_ms) < 0)
        return -1;
    if (r->connect_timeout_ms > r->timeout_ms) {
        char sub[300];
        join(sub, sizeof(sub), path, ".", "connectTimeout");
        return fail(ld, config_setting_get_member(s, "connectTimeout"), sub,
                    "must not exceed timeout");
    }

    r->required = calloc(CONFIG_MAX_CLIENT_HEADERS, sizeof(*r->required));
    r->forward = calloc(CONFIG_MAX_CLIENT_HEADERS, sizeof(*r->forward));
    if (!r->required || !r->forward)
        return fail(ld, s, path, "out of memory");
    if (load_header_list(ld, s, "requiredHeaders", path, r->required, &r->nrequired) < 0)
        return -1;
    /* What the auth service sees: credentials first, then what the rule names. */
    if (add_client_header(ld, s, path, r->forward, &r->nforward, "Authorization") < 0 ||
        add_client_header(ld, s, path, r->forward, &r->nforward, "Cookie") < 0)
        return -1;
    for (size_t i = 0; i < r->nrequired; i++)
        if (add_client_header(ld, s, path, r->forward, &r->nforward, r->required[i].name) < 0)
            return -1;
    if (load_header_list(ld, s, "forwardHeaders", path, r->forward, &r->nforward) < 0)
        return -1;

    r->wanted[r->nwanted++] = strdup("WWW-Authenticate");
    r->wanted[r->nwanted++] = strdup("Content-Type");
    r->wanted[r->nwanted++] = strdup("Cache-Control");
    if (!r->wanted[0] || !r->wanted[1] || !r->wanted[2])
        return fail(ld, s, path, "out of memory");
    if (load_mappings(ld, s, "headers", path, r, false, &r->headers, &r->nheaders) < 0 ||
        load_mappings(ld, s, "params", path, r, true, &r->params, &r->nparams) < 0)
        return -1;
    if (r->nparams) {
        r->param_targets = calloc(r->nparams, sizeof(*r->param_targets));
        if (!r->param_targets)
            return fail(ld, s, path, "out of memory");
        for (size_t i = 0; i < r->nparams; i++)
            query_target_init(&r->param_targets[i], r->params[i].target);
    }

    if (get_string(ld, s, "tlsCaFile", path, false, &r->tls_ca_file) < 0 ||
        get_string(ld, s, "tlsClientCert", path, false, &r->tls_client_cert) < 0 ||
        get_string(ld, s, "tlsClientKey", path, false, &r->tls_client_key) < 0 ||
        get_bool(ld, s, "tlsVerify", path, true, &r->tls_verify) < 0)
        return -1;
    if (check_readable(ld, s, path, "tlsCaFile", r->tls_ca_file) < 0 ||
        check_readable(ld, s, path, "tlsClientCert", r->tls_client_cert) < 0 ||
        check_readable(ld, s, path, "tlsClientKey", r->tls_client_key) < 0)
        return -1;
    if (load_cache(ld, s, path, r) < 0)
        return -1;
    if (!!r->tls_client_cert != !!r->tls_client_key)
        return fail(ld, s, path, "tlsClientCert and tlsClientKey must be given together");
    if (!r->tls_verify)
        log_warn("%s:%d: %s.tlsVerify is false: the auth service's certificate is not checked",
                 ld->file, (int)config_setting_source_line(s), path);
    return 0;
}

static int load_paths(struct loader *ld, const config_setting_t *mw, const char *mpath,
                      struct middleware *m)
{
    char path[256];
    join(path, sizeof(path), mpath, ".", "paths");
    const config_setting_t *s = config_setting_get_member(mw, "paths");
    if (!s)
        return fail(ld, mw, path, "is required");
    if (!is_list(s) || config_setting_length(s) == 0)
        return fail(ld, s, path, "must be a non-empty list of paths");
    int len = config_setting_length(s);
    m->paths = calloc((size_t)len, sizeof(*m->paths));
    if (!m->paths)
        return fail(ld, s, path, "out of memory");
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        char esub[300];
        snprintf(esub, sizeof(esub), "%s[%d]", path, i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return fail(ld, e, esub, "must be a string");
        const char *msg = path_pattern_compile(config_setting_get_string(e), &m->paths[i]);
        if (msg)
            return fail(ld, e, esub, "'%s' %s", config_setting_get_string(e), msg);
        m->npaths++;
    }
    return 0;
}

static int load_middleware(struct loader *ld, const config_setting_t *s, int index,
                           struct middleware *m, const struct middleware *earlier)
{
    char path[64];
    snprintf(path, sizeof(path), "middlewares[%d]", index);
    if (config_setting_type(s) != CONFIG_TYPE_GROUP)
        return fail(ld, s, path, "must be a group { name = ...; type = \"jwt\"; ... }");
    static const char *const known[] = {"name", "type", "paths", "rule", NULL};
    if (check_known(ld, s, path, known) < 0)
        return -1;
    if (get_string(ld, s, "name", path, true, &m->name) < 0 ||
        get_string(ld, s, "type", path, true, &m->type) < 0)
        return -1;
    for (int i = 0; i < index; i++)
        if (strcmp(earlier[i].name, m->name) == 0)
            return fail(ld, config_setting_get_member(s, "name"), path, "name '%s' is used twice",
                        m->name);
    if (strcmp(m->type, "jwt") != 0)
        return fail(ld, config_setting_get_member(s, "type"), path,
                    "type '%s' is not supported (only \"jwt\")", m->type);
    m->kind = MIDDLEWARE_FORWARD;
    if (load_paths(ld, s, path, m) < 0 || load_rule(ld, s, path, &m->rule) < 0)
        return -1;
    return 0;
}

static int parse_mode(const char *text, int *mode)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 8);
    if (errno || *end || end == text || v < 0 || v > 0777)
        return -1;
    *mode = (int)v;
    return 0;
}

/* The union of all params targets (see config.h), pointing into the middlewares' mappings. */
static int collect_params(struct loader *ld, struct config *cfg)
{
    size_t max = 0;
    for (size_t i = 0; i < cfg->nmiddlewares; i++)
        max += cfg->middlewares[i].rule.nparams;
    if (max == 0)
        return 0;
    cfg->all_params = calloc(max, sizeof(*cfg->all_params));
    if (!cfg->all_params)
        return fail(ld, NULL, "middlewares", "out of memory");
    for (size_t i = 0; i < cfg->nmiddlewares; i++) {
        const struct rule *r = &cfg->middlewares[i].rule;
        for (size_t k = 0; k < r->nparams; k++) {
            bool dup = false;
            for (size_t j = 0; j < cfg->nall_params; j++)
                dup = dup ||
                      strcmp(cfg->all_params[j].match_name, r->param_targets[k].match_name) == 0;
            if (!dup)
                cfg->all_params[cfg->nall_params++] = r->param_targets[k];
        }
    }
    return 0;
}

static int load_root(struct loader *ld, config_t *lc, struct config *cfg)
{
    const config_setting_t *root = config_root_setting(lc);
    static const char *const known[] = {"listen",     "listen_mode",    "workers",     "log_level",
                                        "log_target", "metrics_listen", "middlewares", NULL};
    if (check_known(ld, root, "", known) < 0)
        return -1;

    if (get_string(ld, root, "listen", "", false, &cfg->listen) < 0)
        return -1;
    char *mode = NULL;
    if (get_string(ld, root, "listen_mode", "", false, &mode) < 0)
        return -1;
    cfg->listen_mode = -1;
    if (mode) {
        int bad = parse_mode(mode, &cfg->listen_mode);
        free(mode);
        if (bad)
            return fail(ld, config_setting_get_member(root, "listen_mode"), "listen_mode",
                        "must be an octal mode such as \"0660\"");
    }

    cfg->workers = DEFAULT_WORKERS;
    const config_setting_t *s = config_setting_get_member(root, "workers");
    if (s) {
        if (config_setting_type(s) != CONFIG_TYPE_INT)
            return fail(ld, s, "workers", "must be an integer");
        int w = config_setting_get_int(s);
        if (w < 1 || w > CONFIG_MAX_WORKERS)
            return fail(ld, s, "workers", "must be between 1 and %d", CONFIG_MAX_WORKERS);
        cfg->workers = w;
    }

    cfg->log_level = LOG_LEVEL_WARN;
    char *level = NULL;
    if (get_string(ld, root, "log_level", "", false, &level) < 0)
        return -1;
    if (level) {
        cfg->log_level = log_level_parse(level);
        free(level);
        if (cfg->log_level < 0)
            return fail(ld, config_setting_get_member(root, "log_level"), "log_level",
                        "must be \"error\", \"warn\", \"info\" or \"debug\"");
    }

    if (get_string(ld, root, "metrics_listen", "", false, &cfg->metrics_listen) < 0)
        return -1;

    cfg->log_target = LOG_TARGET_STDERR;
    char *target = NULL;
    if (get_string(ld, root, "log_target", "", false, &target) < 0)
        return -1;
    if (target) {
        cfg->log_target = log_target_parse(target);
        free(target);
        if (cfg->log_target < 0)
            return fail(ld, config_setting_get_member(root, "log_target"), "log_target",
                        "must be \"stderr\" or \"syslog\"");
    }

    s = config_setting_get_member(root, "middlewares");
    if (!s)
        return fail(ld, root, "middlewares", "is required");
    if (!is_list(s))
        return fail(ld, s, "middlewares", "must be a list ( { ... }, ... )");
    int n = config_setting_length(s);
    if (n == 0)
        return fail(ld, s, "middlewares",
                    "is empty: nothing would be protected (use paths = (\"/\") to protect all)");
    cfg->middlewares = calloc((size_t)n + 1, sizeof(*cfg->middlewares));
    if (!cfg->middlewares)
        return fail(ld, s, "middlewares", "out of memory");
    for (int i = 0; i < n; i++) {
        if (load_middleware(ld, config_setting_get_elem(s, (unsigned)i), i, &cfg->middlewares[i],
                            cfg->middlewares) < 0) {
            cfg->nmiddlewares = (size_t)i + 1; /* free the partial one too */
            return -1;
        }
        cfg->nmiddlewares = (size_t)i + 1;
    }
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
    struct loader ld = {file, err, errlen};
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
    struct loader ld = {name, err, errlen};
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
        for (size_t k = 0; k < r->nwanted; k++)
            free(r->wanted[k]);
        free(r->tls_ca_file);
        free(r->tls_client_cert);
        free(r->tls_client_key);
        free_client_headers(r->cache.key, r->cache.nkey);
    }
    free(cfg->middlewares);
    free(cfg->all_params); /* its strings belong to the middlewares */
    free(cfg->listen);
    free(cfg->metrics_listen);
    free(cfg->file);
    free(cfg);
}
