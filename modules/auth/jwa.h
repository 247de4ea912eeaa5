/*
 * jwa.h - the signature algorithms of JWS (RFC 7518, RFC 8037) and one key made ready to verify
 * with them.
 *
 * Algorithms are named by an enum and allowed by a bitmask (JWT_ALG_BIT); names are the exact,
 * case-sensitive JWA names, and "none" is not one of them. A key verifies only the algorithms
 * its type allows: RSA keys RS* and PS*, an EC key the ES* of its own curve, an Ed25519 key
 * EdDSA, a secret HS*; jwa_key_* narrow that further to what the caller allows.
 *
 * A jwa_key is built once (at startup or reload) and then only read: everything a verification
 * can prepare ahead (the EVP_PKEY, the digests, an initialized EVP_PKEY_CTX or EVP_MAC_CTX per
 * algorithm, the curve order) is prepared in jwa_key_from_*, and jwa_key_verify only duplicates
 * those templates. So jwa_key_verify may run on the same key from many threads at once; it
 * allocates only what OpenSSL needs for one operation and leaves no OpenSSL error queued.
 *
 * Errors are values: constructors return NULL on success or a message written into the caller's
 * buffer; jwa_key_verify returns false with a static reason.
 */
#ifndef AUTHZ_JWA_H
#define AUTHZ_JWA_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

enum jwt_alg {
    JWT_RS256,
    JWT_RS384,
    JWT_RS512,
    JWT_PS256,
    JWT_PS384,
    JWT_PS512,
    JWT_ES256,
    JWT_ES384,
    JWT_ES512,
    JWT_EDDSA, /* Ed25519 only */
    JWT_HS256,
    JWT_HS384,
    JWT_HS512,
    JWT_ALG_COUNT
};

#define JWT_ALG_BIT(a) (1u << (a))
#define JWT_ALGS_RSA                                                                               \
    (JWT_ALG_BIT(JWT_RS256) | JWT_ALG_BIT(JWT_RS384) | JWT_ALG_BIT(JWT_RS512) |                    \
     JWT_ALG_BIT(JWT_PS256) | JWT_ALG_BIT(JWT_PS384) | JWT_ALG_BIT(JWT_PS512))
#define JWT_ALGS_EC (JWT_ALG_BIT(JWT_ES256) | JWT_ALG_BIT(JWT_ES384) | JWT_ALG_BIT(JWT_ES512))
#define JWT_ALGS_HMAC (JWT_ALG_BIT(JWT_HS256) | JWT_ALG_BIT(JWT_HS384) | JWT_ALG_BIT(JWT_HS512))
#define JWT_ALGS_ALL ((1u << JWT_ALG_COUNT) - 1)

/* The algorithm with exactly this name ("RS256"), or -1 (unknown, "none", other case). */
int jwt_alg_parse(const char *name, size_t len);

/* The JWA name of an algorithm ("RS256"); "?" for a value out of range. */
const char *jwt_alg_name(enum jwt_alg alg);

/* Smallest RSA modulus accepted, in bits; smaller keys are refused when loaded. */
#define JWA_RSA_MIN_BITS 2048
/* Largest RSA modulus accepted (OpenSSL's own limit for verification). */
#define JWA_RSA_MAX_BITS 16384

enum jwa_key_type { JWA_KEY_RSA, JWA_KEY_EC, JWA_KEY_ED25519, JWA_KEY_OCT };

/* One verification key; opaque. */
struct jwa_key;

/*
 * A key from a public EVP_PKEY: RSA (JWA_RSA_MIN_BITS .. JWA_RSA_MAX_BITS), EC on P-256, P-384
 * or P-521 (named curves only), or Ed25519. It will verify the algorithms of its type that are
 * also in `algs`; none left is an error. Takes a reference of its own to pkey (the caller keeps
 * and frees its own). On success *out is the key and NULL is returned.
 */
const char *jwa_key_from_pkey(EVP_PKEY *pkey, unsigned algs, struct jwa_key **out, char *err,
                              size_t errlen);

/*
 * A key from an HMAC secret (len bytes, copied). Per RFC 7518 section 3.2 a secret is used for
 * an HS algorithm only if it is at least as long as the hash (32, 48, 64 bytes); if that leaves
 * none of `algs`, it is an error saying how long the secret must be.
 */
const char *jwa_key_from_secret(const void *secret, size_t len, unsigned algs, struct jwa_key **out,
                                char *err, size_t errlen);

void jwa_key_free(struct jwa_key *k);

/* The algorithms this key verifies (a JWT_ALG_BIT mask, never 0). */
unsigned jwa_key_algs(const struct jwa_key *k);

enum jwa_key_type jwa_key_type(const struct jwa_key *k);

/* "RSA 2048", "EC P-256", "Ed25519", "secret of 32 bytes": for messages. */
void jwa_key_describe(const struct jwa_key *k, char *out, size_t outlen);

/*
 * Whether sig is a valid signature by k with alg over input[0..len). An algorithm the key does
 * not verify is false. Sizes are exact: RSA the modulus size, ECDSA r||s of twice the curve
 * size with r and s in [1, n-1], Ed25519 64 bytes, HMAC the hash size (compared in constant
 * time). On false, *why (if not NULL) says why, statically.
 */
bool jwa_key_verify(const struct jwa_key *k, enum jwt_alg alg, const void *input, size_t len,
                    const unsigned char *sig, size_t siglen, const char **why);

#endif
