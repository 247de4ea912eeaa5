/*
 * identity.h - the identity headers of a configuration: every `headers` target of every
 * middleware, each once. Every web server's glue removes exactly these from what a client
 * sends and sets them from the authorizer's answer.
 */
#ifndef AUTHZ_IDENTITY_H
#define AUTHZ_IDENTITY_H

#include <stddef.h>

#include "config/config.h"

/* Distinct names kept; further ones are left out of the glue. */
#define IDENTITY_MAX (CONFIG_MAX_MAPPINGS * 8)

struct identity_headers {
    const char *name[IDENTITY_MAX]; /* borrowed from the config */
    size_t n;
};

/* Collects cfg's identity headers in configuration order, compared case-insensitively. */
void identity_collect(const struct config *cfg, struct identity_headers *ids);

#endif
