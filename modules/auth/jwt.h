/*
 * jwt.h - local verification of a JWT in JWS compact serialization (RFC 7515, RFC 7519)
 * against a key set (jwk.h) and a policy.
 *
 * What is accepted, and nothing else:
 *   - at most the policy's max_len (never more than JWT_MAX_TOKEN_LEN, 16 KB) bytes, exactly
 *     three non-empty parts separated by '.', each strict base64url (b64url.h): no padding, no
 *     '+' or '/', no whitespace, no non-zero trailing bits. Five parts (JWE) and any other
 *     count are refused;
 *   - a header that is a JSON object without duplicate member names, whose "alg" is exactly a
 *     JWA name (jwa.h) the policy allows ("none", in any case, is never one), without "crit"
 *     (no extension is understood, so none may be required), with "kid" a string if present.
 *     "jku", "x5u", "jwk", "x5c" and every other member are ignored: no key and no URL is ever
 *     taken from a token;
 *   - a signature by a key of the set that verifies that alg (jwk.h says which keys a kid
 *     selects); a token whose kid no key of the set has, and that no key without kid verifies
 *     either, is JWT_UNKNOWN_KID;
 *   - a payload that is a JSON object without duplicate member names; "exp", "nbf", "iat" (when
 *     present) are JSON numbers: the token is refused if now >= exp + leeway, now + leeway <
 *     nbf or iat > now + leeway; "exp" is required unless the policy says exp_optional;
 *     "iss" equals the policy's issuer exactly, if one is set; "aud" (a string or an array of
 *     strings) holds one of the policy's audiences, if any are set.
 * A JSON integer beyond 64 bits makes the JSON invalid (jansson reads integers as long long).
 *
 * Cost: the signature check is one duplication of prepared OpenSSL state (jwa.h); the token is
 * decoded into a buffer on the stack (about 13 KB); the header and the payload are parsed by
 * jansson. The payload is parsed only after the signature verified. Nothing else is allocated.
 *
 * Threads: jwt_verify reads the set and the policy only; any number of threads may call it at
 * once with the same ones. A result belongs to its caller.
 */
#ifndef AUTHZ_JWT_H
#define AUTHZ_JWT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/jwa.h"
#include "auth/jwk.h"

/* The longest token ever accepted, in bytes. */
#define JWT_MAX_TOKEN_LEN 16384

/* Room for the reason of a refusal (always NUL-terminated, cut if longer). */
#define JWT_REASON_MAX 160

/* What a token must satisfy. All-zero is the strictest policy (it accepts nothing: no alg). */
struct jwt_policy {
    unsigned algs;                /* JWT_ALG_BIT mask of accepted algorithms */
    const char *issuer;           /* NULL: "iss" is not checked */
    const char *const *audiences; /* naudiences strings; none: "aud" is not checked */
    size_t naudiences;
    long leeway;       /* seconds allowed for clock skew (negative counts as 0) */
    bool exp_optional; /* false (default): a token without "exp" is refused */
    size_t max_len;    /* 0 or above JWT_MAX_TOKEN_LEN: JWT_MAX_TOKEN_LEN */
};

enum jwt_status {
    JWT_OK,          /* valid: the claims are in the result */
    JWT_INVALID,     /* refused: the reason says why */
    JWT_UNKNOWN_KID, /* well-formed, but its kid is not in the set: the set may be stale */
};

struct jwt_result {
    enum jwt_status status;
    enum jwt_alg alg; /* the header's alg; JWT_ALG_COUNT if not (yet) known */
    bool has_exp;     /* the payload had "exp" (JWT_OK only) */
    int64_t exp;      /* "exp" in whole seconds (clamped to int64_t), for cache lifetimes */
    json_t *claims;   /* JWT_OK only: the payload object, owned by the result */
    char reason[JWT_REASON_MAX]; /* JWT_INVALID, JWT_UNKNOWN_KID: why, for the log */
};

/*
 * Verifies token[0..len) at time `now` (seconds since the epoch, from the caller so that tests
 * are deterministic). Fills *res (always; release it with jwt_result_release) and returns its
 * status. A reason is safe for a log line: of the token it shows only the kid, cut and made
 * printable (jwt_printable), and of jansson's message on JSON it refused not the quoted text.
 */
enum jwt_status jwt_verify(const struct jwt_keyset *set, const struct jwt_policy *policy,
                           const char *token, size_t len, int64_t now, struct jwt_result *res);

/* Frees what a result holds (the claims); the result may be reused. */
void jwt_result_release(struct jwt_result *res);

/* "ok", "invalid", "unknown kid": for logs and metrics. */
const char *jwt_status_name(enum jwt_status status);

#endif
