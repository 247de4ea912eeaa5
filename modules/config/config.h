/*
 * config.h - the configuration, parsed and validated once into plain structs.
 *
 * Nothing on the request path parses text: header names are canonicalized, CGI parameter
 * names derived, path patterns compiled and the list of auth-response headers worth keeping
 * computed here, at load time. A loaded config is plain data: it holds no runtime state (no
 * cache, no connection), is immutable and may be shared by all workers. `authorizer -t` loads
 * one and allocates nothing else.
 */
#ifndef AUTHZ_CONFIG_H
#define AUTHZ_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "http/pathmatch.h"
#include "http/query.h"

/* Upper bounds that keep per-request work and buffers bounded. */
#define CONFIG_MAX_WORKERS 256
#define CONFIG_MAX_CLIENT_HEADERS 32 /* forwarded client headers per middleware */
#define CONFIG_MAX_MAPPINGS 32       /* headers + params entries per middleware */
#define CONFIG_MAX_WANTED 40         /* distinct auth-response headers kept per middleware */
#define CONFIG_MAX_QUERY_TARGETS 256 /* distinct params targets of all middlewares */
#define CONFIG_MAX_AUTH_COOKIES 8    /* an allow's cookies passed on (addAuthCookiesToResponse) */

/* Indexes of the auth-response headers every middleware keeps: for relaying denials, and
 * for the cache's lifetime rules. */
#define WANTED_WWW_AUTHENTICATE 0
#define WANTED_CONTENT_TYPE 1
#define WANTED_CACHE_CONTROL 2
#define WANTED_SET_COOKIE 3
#define WANTED_LOCATION 4
#define WANTED_FIXED 5

/* A client request header the authorizer reads and forwards to the auth service. */
struct client_header {
    char *name; /* as configured, e.g. "Authorization" */
    char *cgi;  /* FastCGI parameter carrying it, e.g. "HTTP_AUTHORIZATION" */
};

/* A JWT claim, named by the path of members leading to it: {"sub"}, {"address", "country"}.
 * Written in the configuration as its name, or as a JSON Pointer ("/address/country",
 * "/https:~1~1example.com~1roles") when it starts with '/'. */
struct claim_path {
    char **seg;
    size_t n;
};

/* One requiredClaims entry: the claim must hold one of the values. */
struct required_claim {
    char *name; /* as configured, for logs */
    struct claim_path path;
    char **values;
    size_t nvalues;
};

/* A `jwt` rule that verifies tokens itself (keys instead of url). */
struct rule_jwt {
    bool local; /* keys are configured: this rule verifies tokens itself */
    char *jwks_url, *jwks_file, *public_key, *secret_file; /* at least one */
    char **algorithms; /* the allow-list as configured (names checked by auth/); NULL: any */
    size_t nalgorithms;
    char *issuer;     /* NULL: not checked */
    char **audiences; /* none: not checked */
    size_t naudiences;
    long leeway_s;
    bool require_expiration;
    char *token_cookie;              /* NULL: the token comes from Authorization: Bearer only */
    long refresh_ms, min_refresh_ms; /* jwksUrl */
    struct required_claim *required_claims;
    size_t nrequired_claims;
    /* The claim of each rule.wanted entry past WANTED_FIXED (what headers and params name). */
    struct claim_path claims[CONFIG_MAX_WANTED];
    char *where; /* "FILE:LINE: middlewares[N].rule", for key errors found after loading */
};

/* How a middleware decides, resolved from its type and rule at load time. */
enum middleware_kind {
    MIDDLEWARE_FORWARD, /* asks the auth service at rule.url */
    MIDDLEWARE_JWT,     /* verifies tokens itself with rule.jwt's keys */
    MIDDLEWARE_BASIC,   /* checks Basic credentials against rule.basic's htpasswd data */
};

/* A `basicAuth` rule: users and password hashes in Apache's htpasswd format. */
struct rule_basic {
    char *htpasswd; /* a file, or NULL */
    char **users;   /* inline "user:hash" entries */
    size_t nusers;
    char *realm;           /* NULL: the middleware's name */
    int concurrent_hashes; /* slow hashes at once, 0: half the workers (at least 1) */
    char *where;           /* "FILE:LINE: middlewares[N].rule", for messages after loading */
};

/* `rule.cache`: the decision cache's settings (the cache itself is auth/registry.h's). */
struct rule_cache {
    bool enabled;
    long ttl_ms;
    long negative_ttl_ms; /* 0: denials are not cached */
    size_t max_entries;
    struct client_header *key; /* NULL: every input the auth service saw */
    size_t nkey;
    bool shared; /* also the fleet's level in Redis (config.shared_cache) */
};

/* `sharedCache`: the second cache level a fleet shares, in Redis. Files are read (and their
 * contents checked) when the policy is built. */
struct shared_cache_settings {
    bool enabled;
    char *address; /* "host:port" or a unix socket path */
    char *user;    /* NULL: AUTH with the password alone */
    char *password_file, *secret_file, *old_secret_file;
    char *key_prefix;
    int timeout_ms;
    bool lock;   /* a short lock per key so that a cold fleet asks about once */
    char *where; /* "FILE:LINE: sharedCache", for errors found later */
    /* The same for each file setting ("FILE:LINE: sharedCache.secretFile"), NULL if unset:
     * what a file holds is checked when the policy is built, and named at its own line. */
    char *password_where, *secret_where, *old_secret_where;
};

/* One `headers` or `params` entry: auth-response header -> upstream header or parameter. */
struct mapping {
    char *source;  /* auth-response header name, as configured */
    char *target;  /* upstream header name or query parameter name */
    size_t wanted; /* index of source in rule.wanted */
};

struct rule {
    /* Unique over the process's life, across reloads: lets a worker tell that the rule it
     * set its libcurl handle up for is still this one (an address could be reused). */
    unsigned long id;
    enum middleware_kind kind; /* the same as its middleware's */
    char *url;
    long timeout_ms;
    long connect_timeout_ms;

    struct client_header *required; /* requiredHeaders */
    size_t nrequired;
    /* Everything forwarded to the auth service: Authorization, Cookie, requiredHeaders and
     * forwardHeaders, each once. */
    struct client_header *forward;
    size_t nforward;

    struct mapping *headers;
    size_t nheaders;
    struct mapping *params;
    size_t nparams;
    struct query_target *param_targets; /* params[i].target as query.h compares it */
    /* What the upstream's query is rewritten with on allow: first this rule's params (its
     * values appended), then every other middleware's (only removed), each once. */
    struct query_target *query_targets;
    size_t nquery_targets;

    /* Auth-response header names kept from a response; the first WANTED_FIXED as above. */
    char *wanted[CONFIG_MAX_WANTED];
    size_t nwanted;

    /* Forward auth for sites with a sign-in page (auth services such as oauth2-proxy). */
    char *sign_in;         /* signIn: where a browser is sent on a 401, NULL: nowhere */
    char **allowed_hosts;  /* allowedHosts: Host values a sign-in redirect may name */
    size_t nallowed_hosts; /* 0: the server's own name is used instead of Host */
    bool add_auth_cookies; /* addAuthCookiesToResponse: an allow's Set-Cookie reaches the client */
    bool forward_host;     /* forwardHostHeaders: the auth service is told the original Host */

    char *tls_ca_file;
    char *tls_client_cert;
    char *tls_client_key;
    bool tls_verify;

    struct rule_cache cache;
    struct rule_jwt jwt;     /* MIDDLEWARE_JWT only */
    struct rule_basic basic; /* MIDDLEWARE_BASIC only */
};

struct middleware {
    char *name;
    char *type;
    enum middleware_kind kind;
    struct path_pattern *paths;
    size_t npaths;
    struct rule rule;
};

struct config {
    char *file;
    char *listen; /* NULL: accept on the socket inherited as fd 0 */
    int listen_mode;
    int workers;
    int log_level;
    int log_target;
    char *metrics_listen; /* NULL: no metrics listener */
    struct middleware *middlewares;
    size_t nmiddlewares;
    /* Every `params` target of every middleware, each once: removed from the query of
     * unprotected requests too, so that a client can forge them nowhere. */
    struct query_target *all_params;
    size_t nall_params;
    struct shared_cache_settings shared_cache;
    /* The application readings of request paths (pathmatch.h), and their front controllers. */
    struct path_options path_options;
    struct path_segment *front_controllers;
    size_t nfront_controllers;
};

/*
 * Reads and validates a configuration file. On success returns NULL and stores a new config
 * in *out. On failure returns a message naming the file, the line and the setting, written
 * into err (which it returns), and leaves *out NULL.
 */
const char *config_load(const char *file, struct config **out, char *err, size_t errlen);

/* Same, from a string (tests and fuzzing); `name` stands in for the file name in messages. */
const char *config_load_string(const char *text, const char *name, struct config **out, char *err,
                               size_t errlen);

void config_free(struct config *cfg);

#endif
