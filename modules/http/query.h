/*
 * query.h - the query string the upstream receives.
 *
 * Client parameters that share a name with a `params` target are removed, whatever spelling a
 * lenient framework would still read as that name (case, %-encoding, '+', '.' for '_', a
 * "[...]" suffix, ';' as a separator; PHP's leading spaces, a NUL ending the name and '[' without
 * ']' read as '_'; Rack 2's brackets around the name), so a client can never forge a parameter
 * the auth service is meant to set. Every other client parameter is kept byte for byte, in
 * order. The targets the auth service answered are then appended, URL-encoded.
 */
#ifndef AUTHZ_QUERY_H
#define AUTHZ_QUERY_H

#include <stddef.h>

#include "config/config.h"

/* Largest rewritten query; a larger one is an error (500), never a silent truncation. */
#define QUERY_MAX_OUT 65536

/*
 * Writes the rewritten query (NUL-terminated, without '?') into out. values[i] is the auth
 * service's value for params[i], or NULL if it sent none; values NULL: none at all (only
 * removes). Returns the length, or -1 if the result does not fit in outlen bytes.
 */
long query_rewrite(const char *query, const struct mapping *params, size_t nparams,
                   const char *const *values, char *out, size_t outlen);

#endif
