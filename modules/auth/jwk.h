/*
 * jwk.h - key sets for local JWT verification: built once from JWKS documents (RFC 7517),
 * PEM public keys and raw secrets, then shared read-only by every worker.
 *
 * Building: a builder collects keys from any number of sources, each checked when it is added;
 * jwt_keyset_build turns it into an immutable set (an empty one is an error). Every key is
 * narrowed to the algorithms it may verify: those of its type (jwa.h), its JWK "alg" if it has
 * one, the builder's allow-list and, for PEM keys and secrets, the caller's own mask. In a JWKS,
 * a key that cannot be used (a "use" other than "sig", "key_ops" without "verify", an unknown
 * "kty" or curve, an "alg" that is not allowed or does not fit the key, an RSA modulus below
 * 2048 bits, bad key material) is skipped, and the builder's note function (if any) is told why,
 * so that one odd key in an identity provider's document does not stop the others; the document
 * itself is refused if it is not JSON (duplicate member names included), has no "keys" array,
 * or has more keys than JWT_KEYSET_MAX_KEYS. A PEM key or a secret that cannot be used is an
 * error: the operator named exactly that key.
 *
 * Key IDs: a key may have a kid (at most JWT_KID_MAX bytes); several keys may share one. A
 * token's kid selects the keys with that kid and the keys without any (a configured PEM key or
 * secret usually has none); a token without kid may use every key. A kid is only ever compared
 * with the configured keys' kids: nothing is looked up or fetched by it.
 *
 * Lifetime and threads: the builder belongs to one thread. A set starts with one reference;
 * jwt_keyset_ref and jwt_keyset_unref count atomically, so a reload can publish a new set while
 * requests in flight still use the old one, which is freed with its last reference. A set is
 * never modified after jwt_keyset_build, so any number of threads may verify with it at once.
 *
 * Errors are values: functions that can fail return NULL on success or a message written into
 * the caller's err buffer (no file name or setting: the caller adds those).
 */
#ifndef AUTHZ_JWK_H
#define AUTHZ_JWK_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/jwa.h"

/* Most keys in one set, over all sources; a token without kid may try each. */
#define JWT_KEYSET_MAX_KEYS 64
/* Longest kid kept; a JWK with a longer one is skipped. */
#define JWT_KID_MAX 256

struct jwt_keyset_builder;
struct jwt_keyset;

/* Told about each JWK that was skipped, with the reason (for the caller's log). */
typedef void jwt_note_fn(void *arg, const char *msg);

/*
 * A builder for keys allowed to verify the algorithms in `algs` (a JWT_ALG_BIT mask). note may
 * be NULL. Returns NULL if out of memory.
 */
struct jwt_keyset_builder *jwt_keyset_builder_new(unsigned algs, jwt_note_fn *note, void *arg);

/* Frees a builder that was not built (NULL is fine). */
void jwt_keyset_builder_free(struct jwt_keyset_builder *b);

/*
 * Adds the usable keys of a JWKS document ({"keys": [...]}, len bytes, not NUL-terminated
 * necessarily). Skipped keys are reported to the note function; a document with none usable is
 * not an error here (jwt_keyset_build reports an empty set).
 */
const char *jwt_keyset_add_jwks(struct jwt_keyset_builder *b, const char *json, size_t len,
                                char *err, size_t errlen);

/*
 * Adds one PEM public key ("PUBLIC KEY" or "RSA PUBLIC KEY": RSA of at least 2048 bits, EC on
 * P-256, P-384 or P-521, Ed25519), with an optional kid (NULL: none). algs further narrows
 * what it verifies (0: no narrowing). Private keys, certificates and several keys in one text
 * are refused.
 */
const char *jwt_keyset_add_pem(struct jwt_keyset_builder *b, const char *pem, size_t len,
                               const char *kid, unsigned algs, char *err, size_t errlen);

/*
 * Adds an HMAC secret (len raw bytes, copied) for the HS algorithms it is long enough for (at
 * least 32, 48, 64 bytes for HS256, HS384, HS512), with an optional kid; algs as above.
 */
const char *jwt_keyset_add_secret(struct jwt_keyset_builder *b, const void *secret, size_t len,
                                  const char *kid, unsigned algs, char *err, size_t errlen);

/*
 * The set of the keys added so far. Always consumes the builder. Returns NULL with a message in
 * err if there is no usable key (the message says how many were skipped and the first reason)
 * or memory ran out.
 */
struct jwt_keyset *jwt_keyset_build(struct jwt_keyset_builder *b, char *err, size_t errlen);

/* Takes one more reference and returns s. */
struct jwt_keyset *jwt_keyset_ref(struct jwt_keyset *s);

/* Drops one reference; the last one frees the set (NULL is fine). */
void jwt_keyset_unref(struct jwt_keyset *s);

/* How many keys the set has. */
size_t jwt_keyset_count(const struct jwt_keyset *s);

/* The algorithms at least one key of the set verifies (a JWT_ALG_BIT mask). */
unsigned jwt_keyset_algs(const struct jwt_keyset *s);

/* Key i (< jwt_keyset_count), its kid (NULL: none, else *kidlen bytes), for verification. */
const struct jwa_key *jwt_keyset_key(const struct jwt_keyset *s, size_t i, const char **kid,
                                     size_t *kidlen);

/*
 * Text from outside (a kid, a JSON parser's message) as it may appear in a log line: printable
 * ASCII, with '"' and every other byte as '?'; cut to outlen - 4 characters and "..." if longer.
 * out is always NUL-terminated (outlen >= 5).
 */
void jwt_printable(const char *s, size_t len, char *out, size_t outlen);

/*
 * jansson's message for a document it refused, without the part that quotes the document
 * ("... near 'x'"), made printable: safe for a log line even when the document is hostile.
 */
void jwt_json_error(const char *jansson_text, char *out, size_t outlen);

#endif
