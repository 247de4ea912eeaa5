/* schema.c - see schema.h. */
#include "config/schema.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
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
#define MAX_TARGET_NAME 128
#define MAX_LEEWAY_MS 3600000

#define N(array) (sizeof(array) / sizeof(*(array)))

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

/* Auth-response headers kept with every value they come with (see WANTED_* in config.h). */
static const char *const joined_sources[] = {"Set-Cookie"};

/* The client's credentials: an identity written there would replace (the glue strips every
 * client copy of a target) what the upstream authenticates the client by. */
static const char *const credential_targets[] = {"Authorization", "Cookie"};

/* Name prefixes no target may have: proxy headers (Proxy-Authorization, ...); the FastCGI
 * authorizer's own Variable- headers; the authorizer's AUTHZ_ variables, also with '-', which
 * nginx reads as '_' ($upstream_http_variable_authz_...). */
static const char *const reserved_target_prefixes[] = {"Proxy-", "Variable-", "AUTHZ_", "AUTHZ-"};

/* The middleware types there are. */
static const char *const types[] = {"jwt", "jwtAuth", "basicAuth", "basic", "forwardAuth"};

static bool in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (http_name_eq(name, strlen(name), list[i], strlen(list[i])))
            return true;
    return false;
}

/* ---- client headers: requiredHeaders, forwardHeaders, cache.key ---- */

/* Adds a header (once, case-insensitively) with its CGI parameter name. */
static int add_client_header(struct loader *ld, const config_setting_t *at,
                             struct client_header *arr, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (http_name_eq(arr[i].name, strlen(arr[i].name), name, strlen(name)))
            return 0;
    if (*n >= CONFIG_MAX_CLIENT_HEADERS)
        return settings_fail(ld, at, "at most %d client headers can be forwarded",
                             CONFIG_MAX_CLIENT_HEADERS);
    char cgi[300];
    if (!http_cgi_name(name, cgi, sizeof(cgi)))
        return settings_fail(ld, at, "header name '%s' is too long", name);
    arr[*n].name = strdup(name);
    arr[*n].cgi = strdup(cgi);
    if (!arr[*n].name || !arr[*n].cgi)
        return settings_fail(ld, at, "out of memory");
    (*n)++;
    return 0;
}

/* A list of header names s (NULL: none) added to arr. */
static int add_header_list(struct loader *ld, const config_setting_t *s, struct client_header *arr,
                           size_t *n)
{
    if (!s)
        return 0;
    if (!settings_is_list(s))
        return settings_fail(ld, s, "must be a list of header names");
    int len = config_setting_length(s);
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return settings_fail(ld, e, "must be a string");
        const char *h = config_setting_get_string(e);
        if (!http_is_token(h, strlen(h)))
            return settings_fail(ld, e, "'%s' is not a valid header name", h);
        if (in_list(h, reserved_headers, N(reserved_headers)))
            return settings_fail(ld, e, "'%s' is set by the authorizer itself and cannot be listed",
                                 h);
        if (add_client_header(ld, e, arr, n, h) < 0)
            return -1;
    }
    return 0;
}

static struct client_header *new_header_array(struct loader *ld, const config_setting_t *at)
{
    struct client_header *a = calloc(CONFIG_MAX_CLIENT_HEADERS, sizeof(*a));
    if (!a)
        settings_fail(ld, at, "out of memory");
    return a;
}

static int parse_required(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule *r = field;
    return add_header_list(ld, s, r->required, &r->nrequired);
}

/* What the auth service sees: the credentials first, then requiredHeaders, then these. */
static int parse_forward(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule *r = field;
    if (s && r->kind != MIDDLEWARE_FORWARD)
        return settings_fail(ld, s, "there is no auth service to forward to (no url)");
    const config_setting_t *at = s ? s : ld->group;
    if (add_client_header(ld, at, r->forward, &r->nforward, "Authorization") < 0 ||
        add_client_header(ld, at, r->forward, &r->nforward, "Cookie") < 0)
        return -1;
    for (size_t i = 0; i < r->nrequired; i++)
        if (add_client_header(ld, at, r->forward, &r->nforward, r->required[i].name) < 0)
            return -1;
    return add_header_list(ld, s, r->forward, &r->nforward);
}

/* ---- headers and params: auth-response header -> upstream header or parameter ---- */

static size_t want(struct rule *r, const char *source)
{
    for (size_t i = 0; i < r->nwanted; i++) {
        /* Header names compare case-insensitively; claim names exactly. */
        bool same = r->jwt.local
                        ? i >= WANTED_FIXED && strcmp(r->wanted[i], source) == 0
                        : http_name_eq(r->wanted[i], strlen(r->wanted[i]), source, strlen(source));
        if (same)
            return i;
    }
    r->wanted[r->nwanted] = strdup(source);
    return r->nwanted++;
}

static int check_target(struct loader *ld, const config_setting_t *e, const char *target,
                        bool param)
{
    if (param) {
        if (!*target || strlen(target) > QUERY_MAX_NAME)
            return settings_fail(ld, e, "parameter name must be 1 to %d characters",
                                 QUERY_MAX_NAME);
        if (!query_target_name_ok(target))
            return settings_fail(
                ld, e, "parameter name '%s' may contain only letters, digits and -._~", target);
        return 0;
    }
    if (!http_is_token(target, strlen(target)) || strlen(target) > MAX_TARGET_NAME)
        return settings_fail(ld, e, "'%s' is not a valid header name", target);
    if (in_list(target, forbidden_targets, N(forbidden_targets)))
        return settings_fail(ld, e,
                             "'%s' is the web server's own header and cannot be set from the "
                             "auth response",
                             target);
    if (in_list(target, credential_targets, N(credential_targets)))
        return settings_fail(ld, e,
                             "'%s' carries the client's credentials and cannot be set from the "
                             "auth response",
                             target);
    for (size_t i = 0; i < N(reserved_target_prefixes); i++) {
        const char *prefix = reserved_target_prefixes[i];
        size_t n = strlen(prefix);
        if (strlen(target) >= n && http_name_eq(target, n, prefix, n))
            return settings_fail(ld, e, "'%s': names starting with %s are reserved", target,
                                 prefix);
    }
    return 0;
}

/* One entry of headers or params: a member `source = "target"`, or (list form) a list of two
 * strings ( "source", "target" ), for sources no libconfig name can spell. */
static int mapping_entry(struct loader *ld, const config_setting_t *e, bool listed,
                         const char **source, const char **target)
{
    if (!listed) {
        *source = config_setting_name(e);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return settings_fail(ld, e, "must be a string");
        *target = config_setting_get_string(e);
        return 0;
    }
    const config_setting_t *a = config_setting_get_elem(e, 0), *b = config_setting_get_elem(e, 1);
    if (!settings_is_list(e) || config_setting_length(e) != 2 ||
        config_setting_type(a) != CONFIG_TYPE_STRING ||
        config_setting_type(b) != CONFIG_TYPE_STRING)
        return settings_fail(ld, e, "must be a list of two strings ( \"source\", \"target\" )");
    *source = config_setting_get_string(a);
    *target = config_setting_get_string(b);
    return 0;
}

static int check_source(struct loader *ld, const config_setting_t *e, const struct rule *r,
                        const char *source)
{
    if (r->kind == MIDDLEWARE_BASIC) {
        if (strcmp(source, "user") != 0)
            return settings_fail(ld, e, "'%s': a basicAuth rule exports only \"user\"", source);
        return 0;
    }
    if (!r->jwt.local) {
        if (!http_is_token(source, strlen(source)))
            return settings_fail(ld, e, "'%s' is not a valid header name", source);
        /* Kept with all its values, one per line: no single header or parameter value (a
         * WWW-Authenticate is exported where it came once). */
        if (in_list(source, joined_sources, N(joined_sources)))
            return settings_fail(ld, e,
                                 "'%s' may come several times and cannot be exported (see "
                                 "addAuthCookiesToResponse)",
                                 source);
        return 0;
    }
    if (!*source || strlen(source) > 255)
        return settings_fail(ld, e, "a claim name must be 1 to 255 characters");
    for (const char *p = source; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return settings_fail(ld, e, "a claim name must not contain control characters");
    return 0;
}

/* One checked entry of headers or params (either form): source and target checked, the
 * target not given twice, the source kept among the rule's wanted answer headers. */
static int add_mapping(struct loader *ld, const config_setting_t *e, struct rule *r, bool param,
                       const char *source, const char *target, struct mapping *out, size_t *nout)
{
    if (check_source(ld, e, r, source) < 0 || check_target(ld, e, target, param) < 0)
        return -1;
    for (size_t k = 0; k < *nout; k++)
        if (http_name_eq(out[k].target, strlen(out[k].target), target, strlen(target)))
            return settings_fail(ld, e, "target '%s' is set twice", target);
    if (r->nwanted >= CONFIG_MAX_WANTED)
        return settings_fail(ld, e, "too many distinct source headers");
    struct mapping *m = &out[(*nout)++];
    m->source = strdup(source);
    m->target = strdup(target);
    m->wanted = want(r, source);
    if (!m->source || !m->target || !r->wanted[m->wanted])
        return settings_fail(ld, e, "out of memory");
    return 0;
}

static int parse_mappings(struct loader *ld, const config_setting_t *s, struct rule *r, bool param,
                          struct mapping **out, size_t *nout)
{
    if (!s)
        return 0;
    bool listed = settings_is_list(s);
    if (config_setting_type(s) != CONFIG_TYPE_GROUP && !listed)
        return settings_fail(ld, s,
                             "must be a group { source = \"target\"; ... } or a list of "
                             "( \"source\", \"target\" )");
    int len = config_setting_length(s);
    if (len > CONFIG_MAX_MAPPINGS)
        return settings_fail(ld, s, "at most %d entries", CONFIG_MAX_MAPPINGS);
    *out = calloc((size_t)len + 1, sizeof(**out));
    if (!*out)
        return settings_fail(ld, s, "out of memory");
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *source = NULL, *target = NULL;
        if (mapping_entry(ld, e, listed, &source, &target) < 0 ||
            add_mapping(ld, e, r, param, source, target, *out, nout) < 0)
            return -1;
    }
    return 0;
}

static int parse_headers(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule *r = field;
    return parse_mappings(ld, s, r, false, &r->headers, &r->nheaders);
}

/* The query.h form of every params target, once they are all read. */
static int finish_params(struct loader *ld, const config_setting_t *s, struct rule *r)
{
    if (r->nparams == 0)
        return 0;
    r->param_targets = calloc(r->nparams, sizeof(*r->param_targets));
    if (!r->param_targets)
        return settings_fail(ld, s, "out of memory");
    for (size_t i = 0; i < r->nparams; i++)
        query_target_init(&r->param_targets[i], r->params[i].target);
    return 0;
}

static int parse_params(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule *r = field;
    if (parse_mappings(ld, s, r, true, &r->params, &r->nparams) < 0)
        return -1;
    return finish_params(ld, s, r);
}

/* ---- the gateway's forwardAuth names ---- */

/* One entry of authResponseHeaders or authResponseHeadersAsParams: "Name" (the same name
 * upstream) or "From: To". Written into source and target, both of at most len bytes. */
static int split_rename(struct loader *ld, const config_setting_t *e, char *source, char *target,
                        size_t len)
{
    if (config_setting_type(e) != CONFIG_TYPE_STRING)
        return settings_fail(ld, e, "must be a string \"Name\" or \"From: To\"");
    const char *text = config_setting_get_string(e), *colon = strchr(text, ':');
    const char *to = colon ? colon + 1 : text;
    size_t n = colon ? (size_t)(colon - text) : strlen(text);
    while (n > 0 && text[n - 1] == ' ')
        n--;
    while (*to == ' ')
        to++;
    if (n == 0 || n >= len || strlen(to) >= len)
        return settings_fail(ld, e, "'%s' must be \"Name\" or \"From: To\"", text);
    memcpy(source, text, n);
    source[n] = '\0';
    snprintf(target, len, "%s", to);
    return 0;
}

/* authResponseHeaders / authResponseHeadersAsParams: the list form of headers / params,
 * checked the same way. Either form, never both: which one wins would be a guess. */
static int parse_rename_list(struct loader *ld, const config_setting_t *s, struct rule *r,
                             bool param, struct mapping **out, size_t *nout)
{
    if (!s)
        return 0;
    if (*nout > 0)
        return settings_fail(ld, s, "give %s or this, not both", param ? "params" : "headers");
    if (!settings_is_list(s))
        return settings_fail(ld, s, "must be a list of \"Name\" or \"From: To\" strings");
    int len = config_setting_length(s);
    if (len > CONFIG_MAX_MAPPINGS)
        return settings_fail(ld, s, "at most %d entries", CONFIG_MAX_MAPPINGS);
    free(*out); /* an empty headers = {} */
    *out = calloc((size_t)len + 1, sizeof(**out));
    if (!*out)
        return settings_fail(ld, s, "out of memory");
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        char source[256], target[256];
        if (split_rename(ld, e, source, target, sizeof(source)) < 0 ||
            add_mapping(ld, e, r, param, source, target, *out, nout) < 0)
            return -1;
    }
    return 0;
}

static int parse_auth_response_headers(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule *r = field;
    return parse_rename_list(ld, s, r, false, &r->headers, &r->nheaders);
}

static int parse_auth_response_params(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule *r = field;
    if (!s)
        return 0;
    if (parse_rename_list(ld, s, r, true, &r->params, &r->nparams) < 0)
        return -1;
    return finish_params(ld, s, r);
}

/* authRequestHeaders: the client headers the auth service is shown, as forwardHeaders
 * (Authorization and Cookie are always among them). */
static int parse_auth_request_headers(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule *r = field;
    if (s && r->kind != MIDDLEWARE_FORWARD)
        return settings_fail(ld, s, "there is no auth service to forward to (no authUrl)");
    return add_header_list(ld, s, r->forward, &r->nforward);
}

static int parse_url(struct loader *ld, const config_setting_t *s, void *field);

/* authUrl and authSignIn: the same as url and signIn, which must not be given too. */
static int parse_alias_url(struct loader *ld, const config_setting_t *s, void *field,
                           const char *twin)
{
    char **url = field;
    if (!s)
        return 0;
    if (*url)
        return settings_fail(ld, s, "give %s or this, not both", twin);
    return parse_url(ld, s, url);
}

static int parse_auth_url(struct loader *ld, const config_setting_t *s, void *field)
{
    return parse_alias_url(ld, s, field, "url");
}

static int parse_auth_sign_in(struct loader *ld, const config_setting_t *s, void *field)
{
    return parse_alias_url(ld, s, field, "signIn");
}

/* ---- url and files ---- */

static int parse_url(struct loader *ld, const config_setting_t *s, void *field)
{
    char **url = field;
    if (settings_string(ld, s, url) < 0)
        return -1;
    const char *host;
    if (strncmp(*url, "http://", 7) == 0)
        host = *url + 7;
    else if (strncmp(*url, "https://", 8) == 0)
        host = *url + 8;
    else
        return settings_fail(ld, s, "must start with http:// or https://");
    if (*host == '\0' || *host == '/' || *host == '?' || *host == '#')
        return settings_fail(ld, s, "has no host");
    for (const char *p = *url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return settings_fail(ld, s, "must not contain spaces or control characters");
    return 0;
}

/* A file the authorizer must be able to read: checked now, not at the first request. */
static int parse_readable(struct loader *ld, const config_setting_t *s, void *field)
{
    char **file = field;
    *file = NULL;
    if (!s)
        return 0;
    if (settings_string(ld, s, file) < 0)
        return -1;
    if (access(*file, R_OK) != 0)
        return settings_fail(ld, s, "cannot read '%s': %s", *file, strerror(errno));
    return 0;
}

/* ---- jwt rules with keys ---- */

static const char *const key_settings[] = {"jwksUrl", "jwksFile", "publicKey", "secretFile"};

/* Whether the rule names keys (read before the rest of its settings: it decides what the
 * sources of headers and params are, and which settings apply). */
static bool names_keys(const config_setting_t *rule)
{
    for (size_t i = 0; i < N(key_settings); i++)
        if (config_setting_get_member(rule, key_settings[i]))
            return true;
    return false;
}

static int parse_string_list(struct loader *ld, const config_setting_t *s, bool single_ok,
                             char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!s)
        return 0;
    bool single = config_setting_type(s) == CONFIG_TYPE_STRING;
    if (!(single && single_ok) && (!settings_is_list(s) || config_setting_length(s) == 0))
        return settings_fail(ld, s,
                             single_ok ? "must be a string or a non-empty list of strings"
                                       : "must be a non-empty list of strings");
    int len = single ? 1 : config_setting_length(s);
    *out = calloc((size_t)len + 1, sizeof(**out));
    if (!*out)
        return settings_fail(ld, s, "out of memory");
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = single ? s : config_setting_get_elem(s, (unsigned)i);
        if (settings_string(ld, e, &(*out)[i]) < 0)
            return -1;
        (*n)++;
    }
    return 0;
}

static int parse_algorithms(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule_jwt *j = field;
    return parse_string_list(ld, s, false, &j->algorithms, &j->nalgorithms);
}

static int parse_audience(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule_jwt *j = field;
    return parse_string_list(ld, s, true, &j->audiences, &j->naudiences);
}

static int parse_jwks_url(struct loader *ld, const config_setting_t *s, void *field)
{
    char **url = field;
    *url = NULL;
    return s ? parse_url(ld, s, url) : 0;
}

static int parse_cookie_name(struct loader *ld, const config_setting_t *s, void *field)
{
    char **name = field;
    *name = NULL;
    if (!s)
        return 0;
    if (settings_string(ld, s, name) < 0)
        return -1;
    if (!http_is_token(*name, strlen(*name)))
        return settings_fail(ld, s, "'%s' is not a valid cookie name", *name);
    return 0;
}

/* A claim as written: its name, or a JSON Pointer (RFC 6901) if it starts with '/'. */
static const char *claim_path_parse(const char *text, struct claim_path *out)
{
    out->seg = NULL;
    out->n = 0;
    size_t len = strlen(text), max = text[0] == '/' ? 1 : 1;
    for (size_t i = 0; i < len; i++)
        max += text[i] == '/';
    out->seg = calloc(max + 1, sizeof(*out->seg));
    if (!out->seg)
        return "out of memory";
    if (text[0] != '/') {
        out->seg[0] = strdup(text);
        out->n = 1;
        return out->seg[0] ? NULL : "out of memory";
    }
    for (const char *p = text + 1;; p++) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0)
            return "a JSON Pointer with an empty member name";
        char *seg = malloc(n + 1), *o = seg;
        if (!seg)
            return "out of memory";
        out->seg[out->n++] = seg;
        for (size_t i = 0; i < n; i++) {
            if (p[i] != '~') {
                *o++ = p[i];
            } else if (i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
                *o++ = p[++i] == '0' ? '~' : '/';
            } else {
                return "a JSON Pointer with '~' not followed by 0 or 1";
            }
        }
        *o = '\0';
        if (!end)
            return NULL;
        p = end;
    }
}

/* requiredClaims: a group { claim = "value" or ( "values" ); } or a list of
 * ( "claim", "value" or ( "values" ) ) for claims no libconfig name can spell. */
static int parse_required_claims(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule *r = field;
    if (!s)
        return 0;
    if (!r->jwt.local)
        return settings_fail(ld, s,
                             "needs keys (jwksUrl, jwksFile, publicKey or secretFile): "
                             "with url the auth service decides");
    bool listed = settings_is_list(s);
    if (!listed && config_setting_type(s) != CONFIG_TYPE_GROUP)
        return settings_fail(ld, s, "must be a group { claim = \"value\"; ... }");
    int len = config_setting_length(s);
    r->jwt.required_claims = calloc((size_t)len + 1, sizeof(*r->jwt.required_claims));
    if (!r->jwt.required_claims)
        return settings_fail(ld, s, "out of memory");
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const config_setting_t *value = e;
        const char *name = config_setting_name(e);
        if (listed) {
            if (!settings_is_list(e) || config_setting_length(e) != 2 ||
                config_setting_type(config_setting_get_elem(e, 0)) != CONFIG_TYPE_STRING)
                return settings_fail(ld, e, "must be a list ( \"claim\", \"value\" )");
            name = config_setting_get_string(config_setting_get_elem(e, 0));
            value = config_setting_get_elem(e, 1);
        }
        struct required_claim *c = &r->jwt.required_claims[r->jwt.nrequired_claims++];
        if (check_source(ld, e, r, name) < 0 || !(c->name = strdup(name)))
            return c->name ? -1 : settings_fail(ld, e, "out of memory");
        const char *msg = claim_path_parse(name, &c->path);
        if (msg)
            return settings_fail(ld, e, "'%s': %s", name, msg);
        if (parse_string_list(ld, value, true, &c->values, &c->nvalues) < 0)
            return -1;
    }
    return 0;
}

/* ---- basicAuth rules ---- */

static int parse_users(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule_basic *b = field;
    return parse_string_list(ld, s, false, &b->users, &b->nusers);
}

/* forwardUsername: the header the user name is exported as (a headers entry of "user"). */
static int parse_forward_username(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule *r = field;
    if (!s)
        return 0;
    char *target = NULL;
    if (settings_string(ld, s, &target) < 0)
        return -1;
    int rc = check_target(ld, s, target, false);
    r->headers = rc == 0 ? calloc(2, sizeof(*r->headers)) : NULL;
    if (rc == 0 && !r->headers)
        rc = settings_fail(ld, s, "out of memory");
    if (rc < 0) {
        free(target);
        return -1;
    }
    struct mapping *m = &r->headers[r->nheaders++];
    m->target = target;
    m->source = strdup("user");
    m->wanted = want(r, "user");
    return m->source && r->wanted[m->wanted] ? 0 : settings_fail(ld, s, "out of memory");
}

/* ---- sign-in ---- */

/* allowedHosts: the Host values ("name" for any port, or "name:port") a sign-in redirect may
 * send a browser back to. */
static int parse_allowed_hosts(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule *r = field;
    if (parse_string_list(ld, s, false, &r->allowed_hosts, &r->nallowed_hosts) < 0)
        return -1;
    for (size_t i = 0; i < r->nallowed_hosts; i++) {
        const char *h = r->allowed_hosts[i];
        if (!*h || strlen(h) > 255 || strcspn(h, "/?#@ ,\\") != strlen(h) ||
            !http_value_is_clean(h, strlen(h)))
            return settings_fail(ld, config_setting_get_elem(s, (unsigned)i),
                                 "'%s' is not a host name (\"example.com\" or "
                                 "\"example.com:8443\")",
                                 h);
    }
    return 0;
}

/* ---- rule.cache ---- */

static int parse_cache_key(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule_cache *c = field;
    if (!s)
        return 0;
    if (!settings_is_list(s) || config_setting_length(s) == 0)
        return settings_fail(ld, s, "must be a non-empty list of client header names");
    if (!(c->key = new_header_array(ld, s)))
        return -1;
    return add_header_list(ld, s, c->key, &c->nkey);
}

static const struct setting cache_settings[] = {
    {"ttl", SETTING_SECONDS, offsetof(struct rule_cache, ttl_ms), .required = true, .min = 1,
     .max = MAX_CACHE_TTL_MS},
    {"negativeTtl", SETTING_SECONDS, offsetof(struct rule_cache, negative_ttl_ms), .min = 0,
     .max = MAX_CACHE_TTL_MS},
    {"maxEntries", SETTING_SIZE, offsetof(struct rule_cache, max_entries), .min = 1,
     .max = MAX_CACHE_ENTRIES, .def = DEFAULT_CACHE_ENTRIES},
    {"key", SETTING_CUSTOM, 0, .parse = parse_cache_key},
    {"shared", SETTING_BOOL, offsetof(struct rule_cache, shared), .def = 0},
    SETTINGS_END,
};

/* rule.cache = { ... }: the decision cache, off without it. */
static int parse_cache(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule_cache *c = field;
    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_GROUP)
        return settings_fail(ld, s, "must be a group { ttl = 30; ... }");
    if (settings_load(ld, s, cache_settings, c) < 0)
        return -1;
    c->enabled = true;
    return 0;
}

/* ---- rule ---- */

static const struct setting rule_settings[] = {
    {"url", SETTING_CUSTOM, offsetof(struct rule, url), .parse = parse_jwks_url},
    {"jwksUrl", SETTING_CUSTOM, offsetof(struct rule, jwt.jwks_url), .parse = parse_jwks_url},
    {"jwksFile", SETTING_CUSTOM, offsetof(struct rule, jwt.jwks_file), .parse = parse_readable},
    {"publicKey", SETTING_CUSTOM, offsetof(struct rule, jwt.public_key), .parse = parse_readable},
    {"secretFile", SETTING_CUSTOM, offsetof(struct rule, jwt.secret_file), .parse = parse_readable},
    {"algorithms", SETTING_CUSTOM, offsetof(struct rule, jwt), .parse = parse_algorithms},
    {"issuer", SETTING_STRING, offsetof(struct rule, jwt.issuer), .required = false},
    {"audience", SETTING_CUSTOM, offsetof(struct rule, jwt), .parse = parse_audience},
    {"leeway", SETTING_SECONDS, offsetof(struct rule, jwt.leeway_s), .min = 0, .max = MAX_LEEWAY_MS,
     .def = 0},
    {"requireExpiration", SETTING_BOOL, offsetof(struct rule, jwt.require_expiration), .def = 1},
    {"tokenCookie", SETTING_CUSTOM, offsetof(struct rule, jwt.token_cookie),
     .parse = parse_cookie_name},
    {"jwksRefresh", SETTING_SECONDS, offsetof(struct rule, jwt.refresh_ms), .min = 10000,
     .max = 86400000, .def = 600000},
    {"jwksMinRefresh", SETTING_SECONDS, offsetof(struct rule, jwt.min_refresh_ms), .min = 1000,
     .max = 3600000, .def = 30000},
    {"requiredClaims", SETTING_CUSTOM, 0, .parse = parse_required_claims},
    {"timeout", SETTING_SECONDS, offsetof(struct rule, timeout_ms), .min = 1, .max = MAX_TIMEOUT_MS,
     .def = DEFAULT_TIMEOUT_MS},
    {"connectTimeout", SETTING_SECONDS, offsetof(struct rule, connect_timeout_ms), .min = 1,
     .max = MAX_TIMEOUT_MS, .def = 0 /* 0: DEFAULT_CONNECT_TIMEOUT_MS, at most timeout */},
    {"requiredHeaders", SETTING_CUSTOM, 0, .parse = parse_required},
    {"forwardHeaders", SETTING_CUSTOM, 0, .parse = parse_forward},
    {"headers", SETTING_CUSTOM, 0, .parse = parse_headers},
    {"params", SETTING_CUSTOM, 0, .parse = parse_params},
    {"tlsCaFile", SETTING_CUSTOM, offsetof(struct rule, tls_ca_file), .parse = parse_readable},
    {"tlsClientCert", SETTING_CUSTOM, offsetof(struct rule, tls_client_cert),
     .parse = parse_readable},
    {"tlsClientKey", SETTING_CUSTOM, offsetof(struct rule, tls_client_key),
     .parse = parse_readable},
    {"tlsVerify", SETTING_BOOL, offsetof(struct rule, tls_verify), .def = 1},
    {"cache", SETTING_CUSTOM, offsetof(struct rule, cache), .parse = parse_cache},
    {"signIn", SETTING_CUSTOM, offsetof(struct rule, sign_in), .parse = parse_jwks_url},
    {"allowedHosts", SETTING_CUSTOM, 0, .parse = parse_allowed_hosts},
    {"addAuthCookiesToResponse", SETTING_BOOL, offsetof(struct rule, add_auth_cookies), .def = 0},
    /* The gateway's forwardAuth names, read into the settings above. */
    {"authUrl", SETTING_CUSTOM, offsetof(struct rule, url), .parse = parse_auth_url},
    {"authSignIn", SETTING_CUSTOM, offsetof(struct rule, sign_in), .parse = parse_auth_sign_in},
    {"authRequestHeaders", SETTING_CUSTOM, 0, .parse = parse_auth_request_headers},
    {"authResponseHeaders", SETTING_CUSTOM, 0, .parse = parse_auth_response_headers},
    {"authResponseHeadersAsParams", SETTING_CUSTOM, 0, .parse = parse_auth_response_params},
    {"forwardHostHeaders", SETTING_BOOL, offsetof(struct rule, forward_host), .def = 1},
    SETTINGS_END,
};

static const struct setting basic_settings[] = {
    {"htpasswd", SETTING_CUSTOM, offsetof(struct rule, basic.htpasswd), .parse = parse_readable},
    {"users", SETTING_CUSTOM, offsetof(struct rule, basic), .parse = parse_users},
    {"realm", SETTING_STRING, offsetof(struct rule, basic.realm), .required = false},
    {"requiredHeaders", SETTING_CUSTOM, 0, .parse = parse_required},
    {"forwardHeaders", SETTING_CUSTOM, 0, .parse = parse_forward},
    {"forwardUsername", SETTING_CUSTOM, 0, .parse = parse_forward_username},
    {"params", SETTING_CUSTOM, 0, .parse = parse_params},
    {"concurrentHashes", SETTING_INT, offsetof(struct rule, basic.concurrent_hashes), .min = 1,
     .max = CONFIG_MAX_WORKERS, .def = 0},
    {"cache", SETTING_CUSTOM, offsetof(struct rule, cache), .parse = parse_cache},
    SETTINGS_END,
};

/* A basicAuth rule: users to check against, and its place for messages after loading. */
static int finish_basic_rule(struct loader *ld, const config_setting_t *s, struct rule *r)
{
    if (!r->basic.htpasswd && !r->basic.nusers)
        return settings_fail_in(ld, s, "htpasswd", "is required (or users)");
    if (r->cache.key)
        return settings_fail_in(ld, config_setting_get_member(s, "cache"), "key",
                                "a credential cache is keyed by the credential itself");
    if (r->basic.realm)
        for (const char *p = r->basic.realm; *p; p++)
            if (*p == '"' || *p == '\\')
                return settings_fail_in(ld, s, "realm", "must not contain '\"' or '\\'");
    char path[256], where[512];
    settings_path(s, path, sizeof(path));
    snprintf(where, sizeof(where), "%s:%d: %s",
             config_setting_source_file(s) ? config_setting_source_file(s) : ld->file,
             (int)config_setting_source_line(s), path);
    r->basic.where = strdup(where);
    return r->basic.where ? 0 : settings_fail(ld, s, "out of memory");
}

/* The checks across a rule's settings, once all of them are read. */
/* A rule with keys: what only applies to the auth service's answers is refused, the
 * claims of headers and params are read, and the rule's place is kept for key errors. */
static int finish_jwt_rule(struct loader *ld, const config_setting_t *s, struct rule *r)
{
    if (r->url)
        return settings_fail_in(ld, s, "url",
                                "a rule either asks an auth service (url) or verifies tokens "
                                "itself (jwksUrl, jwksFile, publicKey, secretFile), not both");
    if (r->cache.key)
        return settings_fail_in(ld, config_setting_get_member(s, "cache"), "key",
                                "a verified-token cache is keyed by the token itself");
    for (size_t i = WANTED_FIXED; i < r->nwanted; i++) {
        const char *msg = claim_path_parse(r->wanted[i], &r->jwt.claims[i]);
        if (msg)
            return settings_fail(ld, s, "claim '%s': %s", r->wanted[i], msg);
    }
    r->jwt.leeway_s /= 1000; /* read as milliseconds like every duration */
    char path[256], where[512];
    settings_path(s, path, sizeof(path));
    snprintf(where, sizeof(where), "%s:%d: %s",
             config_setting_source_file(s) ? config_setting_source_file(s) : ld->file,
             (int)config_setting_source_line(s), path);
    r->jwt.where = strdup(where);
    return r->jwt.where ? 0 : settings_fail(ld, s, "out of memory");
}

/* Whether two header names reach the authorizer as the same CGI parameter ("X-Id", "x_id"). */
static bool same_cgi_name(const char *a, const char *b)
{
    char ca[300], cb[300];
    return http_cgi_name(a, ca, sizeof(ca)) && http_cgi_name(b, cb, sizeof(cb)) &&
           strcmp(ca, cb) == 0;
}

/* A required header that is also a header target is one the client could supply itself:
 * the identity the upstream trusts would be what the request was let in for carrying. */
static int check_required_not_targets(struct loader *ld, const config_setting_t *s,
                                      const struct rule *r)
{
    const config_setting_t *list = config_setting_get_member(s, "requiredHeaders");
    int n = list ? config_setting_length(list) : 0;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
        const char *name = config_setting_get_string(e);
        for (size_t k = 0; name && k < r->nheaders; k++)
            if (same_cgi_name(name, r->headers[k].target))
                return settings_fail(ld, e,
                                     "'%s' is also a header target: the upstream would take "
                                     "the client's own copy for the identity",
                                     name);
    }
    return 0;
}

/* Warns when a cache key names no credential: one caller's allow would be served to every
 * other caller whose key headers match. */
static void warn_key_without_credential(struct loader *ld, const config_setting_t *s,
                                        const struct rule *r)
{
    if (!r->cache.key)
        return; /* the default key is everything the auth service saw */
    for (size_t k = 0; k < r->cache.nkey; k++) {
        const char *name = r->cache.key[k].name;
        if (in_list(name, credential_targets, N(credential_targets)))
            return;
        for (size_t i = 0; i < r->nrequired; i++)
            if (http_name_eq(name, strlen(name), r->required[i].name, strlen(r->required[i].name)))
                return;
    }
    const config_setting_t *key =
        config_setting_get_member(config_setting_get_member(s, "cache"), "key");
    char path[256];
    settings_path(key, path, sizeof(path));
    log_warn("%s:%d: %s: names no credential (Authorization, Cookie or a requiredHeaders "
             "entry): a cached allow is served to every caller with the same key headers",
             config_setting_source_file(key) ? config_setting_source_file(key) : ld->file,
             (int)config_setting_source_line(key), path);
}

static int finish_rule(struct loader *ld, const config_setting_t *s, struct rule *r)
{
    if (check_required_not_targets(ld, s, r) < 0)
        return -1;
    if (r->kind == MIDDLEWARE_BASIC)
        return finish_basic_rule(ld, s, r);
    if (!r->url && !r->jwt.local)
        return settings_fail_in(ld, s, "url",
                                "is required, or authUrl (or keys: jwksUrl, jwksFile, publicKey "
                                "or secretFile, to verify tokens locally)");
    if (r->jwt.local && finish_jwt_rule(ld, s, r) < 0)
        return -1;
    const config_setting_t *ct = config_setting_get_member(s, "connectTimeout");
    if (!ct)
        r->connect_timeout_ms =
            DEFAULT_CONNECT_TIMEOUT_MS < r->timeout_ms ? DEFAULT_CONNECT_TIMEOUT_MS : r->timeout_ms;
    else if (r->connect_timeout_ms > r->timeout_ms)
        return settings_fail(ld, ct, "must not exceed timeout");
    /* A key header the auth service never sees would let callers with other credentials
     * share one caller's answer. */
    for (size_t k = 0; k < r->cache.nkey; k++) {
        const char *name = r->cache.key[k].name;
        bool forwarded = false;
        for (size_t i = 0; i < r->nforward && !forwarded; i++)
            forwarded =
                http_name_eq(name, strlen(name), r->forward[i].name, strlen(r->forward[i].name));
        if (!forwarded) {
            const config_setting_t *key =
                config_setting_get_member(config_setting_get_member(s, "cache"), "key");
            return settings_fail(ld, config_setting_get_elem(key, (unsigned)k),
                                 "'%s' is not forwarded to the auth service, so its answer "
                                 "cannot depend on it (add it to forwardHeaders)",
                                 name);
        }
    }
    warn_key_without_credential(ld, s, r);
    if (!!r->tls_client_cert != !!r->tls_client_key)
        return settings_fail(ld, s, "tlsClientCert and tlsClientKey must be given together");
    if (!r->tls_verify) {
        char path[256];
        settings_path(s, path, sizeof(path));
        log_warn("%s:%d: %s.tlsVerify is false: the auth service's certificate is not checked",
                 ld->file, (int)config_setting_source_line(s), path);
    }
    return 0;
}

static int parse_rule(struct loader *ld, const config_setting_t *s, void *field)
{
    struct rule *r = field;
    static _Atomic unsigned long next_rule_id;
    r->id = atomic_fetch_add(&next_rule_id, 1) + 1;
    if (config_setting_type(s) != CONFIG_TYPE_GROUP)
        return settings_fail(ld, s, "must be a group { url = ...; }");
    /* The middleware's type and the rule's keys decide which settings apply. */
    const struct middleware *m =
        (const struct middleware *)((const char *)r - offsetof(struct middleware, rule));
    bool basic = strcmp(m->type, "basicAuth") == 0 || strcmp(m->type, "basic") == 0;
    r->kind = basic ? MIDDLEWARE_BASIC : names_keys(s) ? MIDDLEWARE_JWT : MIDDLEWARE_FORWARD;
    if (strcmp(m->type, "forwardAuth") == 0 && r->kind != MIDDLEWARE_FORWARD)
        return settings_fail(ld, s,
                             "a forwardAuth rule asks an auth service (authUrl): verify "
                             "tokens with type \"jwt\"");
    r->jwt.local = r->kind == MIDDLEWARE_JWT;
    if (!(r->required = new_header_array(ld, s)) || !(r->forward = new_header_array(ld, s)))
        return -1;
    /* Kept from every answer, whatever the mappings say: for relaying denials, and for the
     * cache's lifetime rules (WANTED_* in config.h). */
    r->wanted[r->nwanted++] = strdup("WWW-Authenticate");
    r->wanted[r->nwanted++] = strdup("Content-Type");
    r->wanted[r->nwanted++] = strdup("Cache-Control");
    r->wanted[r->nwanted++] = strdup("Set-Cookie");
    r->wanted[r->nwanted++] = strdup("Location");
    if (!r->wanted[0] || !r->wanted[1] || !r->wanted[2] || !r->wanted[3] || !r->wanted[4])
        return settings_fail(ld, s, "out of memory");
    if (settings_load(ld, s, r->kind == MIDDLEWARE_BASIC ? basic_settings : rule_settings, r) < 0)
        return -1;
    return finish_rule(ld, s, r);
}

/* ---- middleware ---- */

static int parse_type(struct loader *ld, const config_setting_t *s, void *field)
{
    char **type = field;
    if (settings_string(ld, s, type) < 0)
        return -1;
    for (size_t i = 0; i < N(types); i++)
        if (strcmp(*type, types[i]) == 0)
            return 0;
    char path[256];
    settings_path(config_setting_parent(s), path, sizeof(path));
    return settings_fail_at(
        ld, s, path,
        "type '%s' is not supported (\"jwt\", \"jwtAuth\", \"forwardAuth\", \"basicAuth\" or "
        "\"basic\")",
        *type);
}

static int parse_paths(struct loader *ld, const config_setting_t *s, void *field)
{
    struct middleware *m = field;
    if (!settings_is_list(s) || config_setting_length(s) == 0)
        return settings_fail(ld, s, "must be a non-empty list of paths");
    int len = config_setting_length(s);
    m->paths = calloc((size_t)len, sizeof(*m->paths));
    if (!m->paths)
        return settings_fail(ld, s, "out of memory");
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return settings_fail(ld, e, "must be a string");
        const char *msg = path_pattern_compile(config_setting_get_string(e), &m->paths[i]);
        if (msg)
            return settings_fail(ld, e, "'%s' %s", config_setting_get_string(e), msg);
        m->npaths++;
    }
    return 0;
}

static const struct setting middleware_settings[] = {
    {"name", SETTING_STRING, offsetof(struct middleware, name), .required = true},
    {"type", SETTING_CUSTOM, offsetof(struct middleware, type), .required = true,
     .parse = parse_type},
    {"paths", SETTING_CUSTOM, 0, .required = true, .parse = parse_paths},
    {"rule", SETTING_CUSTOM, offsetof(struct middleware, rule), .required = true,
     .parse = parse_rule},
    SETTINGS_END,
};

static int load_middleware(struct loader *ld, const config_setting_t *s, struct config *cfg)
{
    struct middleware *m = &cfg->middlewares[cfg->nmiddlewares++]; /* freed if it fails */
    if (config_setting_type(s) != CONFIG_TYPE_GROUP)
        return settings_fail(ld, s, "must be a group { name = ...; type = \"jwt\"; ... }");
    if (settings_load(ld, s, middleware_settings, m) < 0)
        return -1;
    for (size_t i = 0; i + 1 < cfg->nmiddlewares; i++) {
        if (strcmp(cfg->middlewares[i].name, m->name) == 0) {
            char path[64];
            settings_path(s, path, sizeof(path));
            return settings_fail_at(ld, config_setting_get_member(s, "name"), path,
                                    "name '%s' is used twice", m->name);
        }
    }
    m->kind = m->rule.kind;
    return 0;
}

/* ---- top level ---- */

static int parse_listen_mode(struct loader *ld, const config_setting_t *s, void *field)
{
    int *mode = field;
    *mode = -1;
    if (!s)
        return 0;
    char *text = NULL;
    if (settings_string(ld, s, &text) < 0)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 8);
    bool bad = errno || *end || end == text || v < 0 || v > 0777;
    free(text);
    if (bad)
        return settings_fail(ld, s, "must be an octal mode such as \"0660\"");
    *mode = (int)v;
    return 0;
}

static int parse_log_level(struct loader *ld, const config_setting_t *s, void *field)
{
    int *level = field;
    *level = LOG_LEVEL_WARN;
    char *text = NULL;
    if (!s)
        return 0;
    if (settings_string(ld, s, &text) < 0)
        return -1;
    *level = log_level_parse(text);
    free(text);
    if (*level < 0)
        return settings_fail(ld, s, "must be \"error\", \"warn\", \"info\" or \"debug\"");
    return 0;
}

static int parse_log_target(struct loader *ld, const config_setting_t *s, void *field)
{
    int *target = field;
    *target = LOG_TARGET_STDERR;
    char *text = NULL;
    if (!s)
        return 0;
    if (settings_string(ld, s, &text) < 0)
        return -1;
    *target = log_target_parse(text);
    free(text);
    if (*target < 0)
        return settings_fail(ld, s, "must be \"stderr\" or \"syslog\"");
    return 0;
}

/* Warns about a middleware that no request can reach: an earlier one protects all its paths
 * ("/" first protects everything). */
static void warn_shadowed(struct loader *ld, const config_setting_t *list, struct config *cfg)
{
    for (size_t b = 1; b < cfg->nmiddlewares; b++) {
        const struct middleware *mb = &cfg->middlewares[b];
        for (size_t a = 0; a < b; a++) {
            const struct middleware *ma = &cfg->middlewares[a];
            size_t covered = 0;
            for (size_t q = 0; q < mb->npaths; q++) {
                bool c = false;
                for (size_t p = 0; p < ma->npaths && !c; p++)
                    c = path_pattern_covers(&ma->paths[p], &mb->paths[q]);
                covered += c;
            }
            if (covered == mb->npaths) {
                const config_setting_t *e = config_setting_get_elem(list, (unsigned)b);
                log_warn("%s:%d: middleware '%s' is never used: middleware '%s' before it "
                         "protects all of its paths",
                         ld->file, e ? (int)config_setting_source_line(e) : 0, mb->name, ma->name);
                break;
            }
        }
    }
}

static int parse_middlewares(struct loader *ld, const config_setting_t *s, void *field)
{
    struct config *cfg = field;
    if (!settings_is_list(s))
        return settings_fail(ld, s, "must be a list ( { ... }, ... )");
    int n = config_setting_length(s);
    if (n == 0)
        return settings_fail(ld, s,
                             "is empty: nothing would be protected (use paths = (\"/\") to "
                             "protect all)");
    cfg->middlewares = calloc((size_t)n + 1, sizeof(*cfg->middlewares));
    if (!cfg->middlewares)
        return settings_fail(ld, s, "out of memory");
    for (int i = 0; i < n; i++)
        if (load_middleware(ld, config_setting_get_elem(s, (unsigned)i), cfg) < 0)
            return -1;
    warn_shadowed(ld, s, cfg);
    return 0;
}

/* frontControllers: segment globs; default "*.php" (PHP's PATH_INFO: "/x.php/admin"). */
static int parse_front_controllers(struct loader *ld, const config_setting_t *s, void *field)
{
    struct config *cfg = field;
    static const char *const defaults[] = {"*.php"};
    int n = s ? config_setting_length(s) : (int)N(defaults);
    if (s && !settings_is_list(s))
        return settings_fail(ld, s, "must be a list of path segments such as \"index.php\"");
    cfg->front_controllers = calloc((size_t)n + 1, sizeof(*cfg->front_controllers));
    if (!cfg->front_controllers)
        return settings_fail(ld, s ? s : ld->group, "out of memory");
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = s ? config_setting_get_elem(s, (unsigned)i) : NULL;
        if (e && config_setting_type(e) != CONFIG_TYPE_STRING)
            return settings_fail(ld, e, "must be a string");
        const char *text = e ? config_setting_get_string(e) : defaults[i];
        const char *msg = path_segment_compile(text, &cfg->front_controllers[i]);
        if (msg)
            return settings_fail(ld, e, "'%s' %s", text, msg);
        cfg->nfront_controllers++;
    }
    cfg->path_options.front_controllers = cfg->front_controllers;
    cfg->path_options.nfront_controllers = cfg->nfront_controllers;
    return 0;
}

static const struct setting shared_cache_settings[] = {
    {"address", SETTING_STRING, offsetof(struct shared_cache_settings, address), .required = true},
    {"user", SETTING_STRING, offsetof(struct shared_cache_settings, user), .required = false},
    {"passwordFile", SETTING_CUSTOM, offsetof(struct shared_cache_settings, password_file),
     .parse = parse_readable},
    {"secretFile", SETTING_CUSTOM, offsetof(struct shared_cache_settings, secret_file),
     .required = true, .parse = parse_readable},
    {"oldSecretFile", SETTING_CUSTOM, offsetof(struct shared_cache_settings, old_secret_file),
     .parse = parse_readable},
    {"keyPrefix", SETTING_STRING, offsetof(struct shared_cache_settings, key_prefix),
     .required = false},
    {"timeout", SETTING_INT, offsetof(struct shared_cache_settings, timeout_ms), .min = 1,
     .max = 10000, .def = 20},
    {"lock", SETTING_BOOL, offsetof(struct shared_cache_settings, lock), .def = 0},
    SETTINGS_END,
};

/* "FILE:LINE: NAME" for setting s, for errors found after loading; NULL if out of memory. */
static char *where_of(struct loader *ld, const config_setting_t *s, const char *name,
                      const char *suffix)
{
    char where[768];
    snprintf(where, sizeof(where), "%s:%d: %s%s",
             config_setting_source_file(s) ? config_setting_source_file(s) : ld->file,
             (int)config_setting_source_line(s), name, suffix);
    return strdup(where);
}

/* sharedCache = { ... } (milliseconds for timeout, as Redis calls are short). */
static int parse_shared_cache(struct loader *ld, const config_setting_t *s, void *field)
{
    struct shared_cache_settings *sc = field;
    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_GROUP)
        return settings_fail(ld, s, "must be a group { address = ...; secretFile = ...; }");
    if (settings_load(ld, s, shared_cache_settings, sc) < 0)
        return -1;
    if (!sc->key_prefix && !(sc->key_prefix = strdup("authz:")))
        return settings_fail(ld, s, "out of memory");
    sc->where = where_of(ld, s, "sharedCache", "");
    sc->enabled = true;
    bool ok = sc->where;
    static const char *const files[] = {"passwordFile", "secretFile", "oldSecretFile"};
    char **wheres[] = {&sc->password_where, &sc->secret_where, &sc->old_secret_where};
    for (size_t i = 0; i < N(files); i++) {
        const config_setting_t *f = config_setting_get_member(s, files[i]);
        if (f && !(*wheres[i] = where_of(ld, f, "sharedCache.", files[i])))
            ok = false;
    }
    return ok ? 0 : settings_fail(ld, s, "out of memory");
}

/* A middleware's cache with shared = true needs the sharedCache it shares through. */
static int check_shared(struct loader *ld, const config_setting_t *root, const struct config *cfg)
{
    for (size_t i = 0; i < cfg->nmiddlewares; i++) {
        if (!cfg->middlewares[i].rule.cache.shared)
            continue;
        const config_setting_t *list = config_setting_get_member(root, "middlewares");
        const config_setting_t *m = config_setting_get_elem(list, (unsigned)i);
        const config_setting_t *cache =
            config_setting_get_member(config_setting_get_member(m, "rule"), "cache");
        if (!cfg->shared_cache.enabled)
            return settings_fail_in(ld, cache, "shared",
                                    "needs a top-level sharedCache = { ... } to share through");
        /* A local decision costs less than a Redis round trip, and a basicAuth key is
         * keyed per process: sharing would only add a network call. */
        if (cfg->middlewares[i].kind != MIDDLEWARE_FORWARD)
            return settings_fail_in(ld, cache, "shared",
                                    "is for forward-auth middlewares only (a %s middleware "
                                    "decides locally, faster than Redis answers)",
                                    cfg->middlewares[i].type);
    }
    return 0;
}

static const struct setting root_settings[] = {
    {"listen", SETTING_STRING, offsetof(struct config, listen), .required = false},
    {"listen_mode", SETTING_CUSTOM, offsetof(struct config, listen_mode),
     .parse = parse_listen_mode},
    {"workers", SETTING_INT, offsetof(struct config, workers), .min = 1, .max = CONFIG_MAX_WORKERS,
     .def = DEFAULT_WORKERS},
    {"log_level", SETTING_CUSTOM, offsetof(struct config, log_level), .parse = parse_log_level},
    {"metrics_listen", SETTING_STRING, offsetof(struct config, metrics_listen), .required = false},
    {"log_target", SETTING_CUSTOM, offsetof(struct config, log_target), .parse = parse_log_target},
    {"formatSuffixes", SETTING_BOOL, offsetof(struct config, path_options.format_suffixes),
     .def = 1},
    {"frontControllers", SETTING_CUSTOM, 0, .parse = parse_front_controllers},
    {"sharedCache", SETTING_CUSTOM, offsetof(struct config, shared_cache),
     .parse = parse_shared_cache},
    {"middlewares", SETTING_CUSTOM, 0, .required = true, .parse = parse_middlewares},
    SETTINGS_END,
};

int schema_load(struct loader *ld, const config_setting_t *root, struct config *cfg)
{
    if (settings_load(ld, root, root_settings, cfg) < 0)
        return -1;
    return check_shared(ld, root, cfg);
}
