/*
 * identity.h - the headers a web server's glue must guard for a configuration:
 *   - the identity headers, every `headers` target of every middleware, each once: the glue
 *     removes them, in every spelling, from what a client sends and sets them from the
 *     authorizer's answer;
 *   - the headers the authorizer reads for an auth service (Authorization, Cookie,
 *     requiredHeaders, forwardHeaders): the glue lets none of them through in a spelling
 *     with '_' ("X_Api_Key"), which CGI-style applications read as the same header while
 *     the authorizer was shown another.
 */
#ifndef AUTHZ_IDENTITY_H
#define AUTHZ_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/* Distinct names kept; further ones are left out of the glue. */
#define IDENTITY_MAX (CONFIG_MAX_MAPPINGS * 8)

struct identity_headers {
    const char *name[IDENTITY_MAX]; /* borrowed from the config */
    size_t n;
    const char *read[IDENTITY_MAX]; /* the headers the authorizer reads, borrowed too */
    size_t nread;
};

/* Header names with more '-' than this get no list of every '_' spelling (2^n of them). */
#define IDENTITY_MAX_SPELLING_DASHES 8

/*
 * Calls emit(arg, spelling) for every spelling of name with '_' in place of one or more of
 * its '-' (not name itself); false if it has too many '-' for that.
 */
bool identity_underscore_spellings(const char *name, void (*emit)(void *arg, const char *s),
                                   void *arg);

/*
 * The headers an application behind a proxy may read as the request's host, scheme, port,
 * path or method (Express's trust proxy, Django's USE_X_FORWARDED_HOST, Rack's
 * X-Forwarded-Ssl, Symfony's X-Original-URL, method-override middleware):
 * the glue removes a client's copies, or sets them from what the authorizer was shown, so
 * that the application reads the request that was decided on. NULL-terminated.
 */
extern const char *const identity_routing_headers[];

/* Collects cfg's headers in configuration order, compared case-insensitively. */
void identity_collect(const struct config *cfg, struct identity_headers *ids);

#endif
