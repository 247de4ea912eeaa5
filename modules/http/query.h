/*
 * query.h - the query string the upstream receives.
 *
 * Client parameters that share a name with a `params` target are removed, whatever spelling a
 * lenient framework would still read as that name (case, %-encoding, '+', '.' for '_', a
 * "[...]" suffix, ';' as a separator; PHP's leading spaces, a NUL ending the name and '[' without
 * ']' read as '_'; Rack 2's brackets around the name; control characters and Unicode white
 * space around it, which Java, .NET and Python trim; ASP.NET's %uXXXX escapes; leading '?',
 * which Node's URLSearchParams drops from
 * "/x??name=v"; non-ASCII letters whose case mapping is an ASCII one,
 * as Java's equalsIgnoreCase compares them: "ı", "ſ", the Kelvin sign), so a client can never
 * forge a parameter the auth service is meant to set. Every other client parameter is kept byte for
 * byte, in order. The targets the auth service answered are then appended, URL-encoded.
 */
#ifndef AUTHZ_QUERY_H
#define AUTHZ_QUERY_H

#include <stdbool.h>
#include <stddef.h>

/* Largest rewritten query; a larger one is an error (500), never a silent truncation. */
#define QUERY_MAX_OUT 65536

/* Longest parameter name a middleware may set. */
#define QUERY_MAX_NAME 128

/* A parameter the upstream gets only from the authorizer. */
struct query_target {
    const char *name;                    /* as configured (borrowed): what is appended */
    char match_name[QUERY_MAX_NAME + 1]; /* what client names are compared with */
};

/* True if name can be a target: 1 to QUERY_MAX_NAME letters, digits and -._~ . */
bool query_target_name_ok(const char *name);

/* Prepares a target for a configured name (which query_target_name_ok accepted). */
void query_target_init(struct query_target *t, const char *name);

/*
 * Writes the rewritten query (NUL-terminated, without '?') into out. values[i] is the auth
 * service's value for targets[i], or NULL if it sent none; values NULL: none at all (only
 * removes). Returns the length, or -1 if the result does not fit in outlen bytes.
 */
long query_rewrite(const char *query, const struct query_target *targets, size_t ntargets,
                   const char *const *values, char *out, size_t outlen);

#endif
