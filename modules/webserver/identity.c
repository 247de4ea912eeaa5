/* identity.c - see identity.h. */
#include "webserver/identity.h"

#include <stdbool.h>
#include <string.h>

#include "base/httpsyntax.h"

/* Adds name to list (of n) unless it is there already. */
static void add_once(const char **list, size_t *n, const char *name)
{
    for (size_t j = 0; j < *n; j++)
        if (http_name_eq(list[j], strlen(list[j]), name, strlen(name)))
            return;
    if (*n < IDENTITY_MAX)
        list[(*n)++] = name;
}

void identity_collect(const struct config *cfg, struct identity_headers *ids)
{
    ids->n = ids->nread = 0;
    for (size_t i = 0; i < cfg->nmiddlewares; i++) {
        const struct rule *r = &cfg->middlewares[i].rule;
        for (size_t k = 0; k < r->nheaders; k++)
            add_once(ids->name, &ids->n, r->headers[k].target);
        for (size_t k = 0; k < r->nforward; k++)
            add_once(ids->read, &ids->nread, r->forward[k].name);
    }
}

bool identity_underscore_spellings(const char *name, void (*emit)(void *arg, const char *s),
                                   void *arg)
{
    size_t dash[IDENTITY_MAX_SPELLING_DASHES], n = 0, len = strlen(name);
    for (size_t i = 0; i < len; i++) {
        if (name[i] != '-')
            continue;
        if (n == IDENTITY_MAX_SPELLING_DASHES)
            return false;
        dash[n++] = i;
    }
    char s[512];
    if (len >= sizeof(s))
        return false;
    for (unsigned mask = 1; mask < (1u << n); mask++) {
        memcpy(s, name, len + 1);
        for (size_t k = 0; k < n; k++)
            if (mask & (1u << k))
                s[dash[k]] = '_';
        emit(arg, s);
    }
    return true;
}

const char *const identity_routing_headers[] = {
    /* host, port and prefix */
    "Forwarded",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Prefix",
    "X-Forwarded-Server",
    "X-Host",
    "X-Original-Host",
    "X-HTTP-Host-Override",
    /* scheme (Rack reads X-Forwarded-Ssl before X-Forwarded-Proto) */
    "X-Forwarded-Proto",
    "X-Forwarded-Ssl",
    "X-Forwarded-Scheme",
    "X-Forwarded-Protocol",
    "X-Url-Scheme",
    "X-Scheme",
    "Front-End-Https",
    /* path (Symfony's X-Original-URL and X-Rewrite-URL; what forward-auth-aware
     * applications read) */
    "X-Original-URL",
    "X-Rewrite-URL",
    "X-Original-URI",
    "X-Forwarded-Uri",
    "X-Forwarded-Path",
    /* method: the auth service is told the request's own */
    "X-HTTP-Method-Override",
    "X-Method-Override",
    "X-HTTP-Method",
    NULL,
};
