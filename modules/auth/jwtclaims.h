/*
 * jwtclaims.h - what the jwt middleware does with the claims of a verified token (jwt.h):
 * check required claims, and export claims as request header values.
 *
 * A claim is named by a path of member names, already split by the caller: {"sub"},
 * {"address", "country"} for a nested member, {"https://example.com/roles"} for a namespaced
 * one. Each step must be an object; a null claim counts as missing. How a path is written in
 * the configuration is the configuration layer's business.
 *
 * The text of a claim: a string as it is (its UTF-8 bytes), an integer in decimal, a real in
 * the shortest form that reads back the same ("1.5", "3.0"), true and false as such.
 *
 * Threads: these functions only read the claims; no state, no allocation.
 */
#ifndef AUTHZ_JWTCLAIMS_H
#define AUTHZ_JWTCLAIMS_H

#include <jansson.h>
#include <stddef.h>

#include "base/buf.h"

/* The claim at path (npath >= 1 segments), or NULL if absent, null, or not below objects. */
const json_t *jwt_claim_find(const json_t *claims, const char *const *path, size_t npath);

enum jwt_claim_match {
    JWT_CLAIM_MATCH,
    JWT_CLAIM_MISSING,  /* no such claim (or null) */
    JWT_CLAIM_MISMATCH, /* present, but holds none of the accepted values */
};

/*
 * A requiredClaims check: whether the claim holds one of the accepted values (any one of
 * them). A string, number or boolean claim holds a value if its text equals it; an array holds
 * it if one of its strings, numbers or booleans does; the top-level claim "scope" (a string of
 * space-separated scopes, RFC 8693 section 4.2) holds each of its scopes. Objects hold nothing.
 */
enum jwt_claim_match jwt_claim_require(const json_t *claims, const char *const *path, size_t npath,
                                       const char *const *accepted, size_t naccepted);

enum jwt_export {
    JWT_EXPORT_OK,
    JWT_EXPORT_MISSING,     /* no such claim (or null) */
    JWT_EXPORT_UNSUPPORTED, /* an object, or an array holding an object, array or null */
    JWT_EXPORT_UNSAFE,      /* not http_value_is_exportable (a control, a line separator,
                             * white space at an end), also for an element of an array, or
                             * an empty element */
    JWT_EXPORT_TOO_LONG,    /* its text is longer than HTTP_MAX_VALUE, or does not fit out */
};

/*
 * Appends the claim's text as a header value to out: a string, number or boolean as its text,
 * an array of those as their texts joined with ',' (an empty array as ""). Anything but
 * JWT_EXPORT_OK leaves out as it was; the caller drops the header and logs why. out should have
 * room for HTTP_MAX_VALUE bytes (base/httpsyntax.h).
 */
enum jwt_export jwt_claim_export(const json_t *claims, const char *const *path, size_t npath,
                                 struct buf *out);

/* "ok", "missing", "not a string, number, boolean or array of those", ...: for the log. */
const char *jwt_export_name(enum jwt_export e);

#endif
