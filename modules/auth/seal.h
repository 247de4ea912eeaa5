/*
 * seal.h - names and sealed values for the shared cache: nothing readable, nothing forgeable.
 *
 * One 32-byte secret yields, through HKDF-SHA256, two keys with separate purposes: a name key
 * and a value key. An entry's name is
 *
 *     prefix + hex(HMAC-SHA256(name key, fingerprint | digest))
 *
 * so it tells nothing about the request, and nobody without the secret can compute the name a
 * given request would use. The fingerprint (of the caller's policy) is part of the name so
 * that two policies never share or overwrite each other's entries. A value is
 *
 *     version (1) | nonce (12) | AES-256-GCM(expires_ms (8, big-endian) | blob) | tag (16)
 *
 * with a random nonce, under a key of its own for each name (HMAC-SHA256(value key, name)),
 * so one key never seals so many values that random nonces could repeat. The additional
 * authenticated data is version | fingerprint | name: a value moved to another name, sealed
 * for another policy or with another secret, cut short, or changed in any bit does not open.
 * The expiry is inside the sealed part, so a store that ignores or loses its own expiry cannot
 * make an old answer live longer.
 *
 * Keys are plain structs the owner keeps and wipes (seal_keys_wipe). The OpenSSL contexts a
 * thread needs live in a seal_ctx: one per thread, never used by two at once. Nothing here
 * allocates after seal_ctx_new.
 */
#ifndef AUTHZ_SEAL_H
#define AUTHZ_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEAL_SECRET_LEN 32
#define SEAL_DIGEST_LEN 32
#define SEAL_FINGERPRINT_LEN 32
#define SEAL_VERSION 1
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
/* Bytes a sealed value has beyond its blob: version, nonce, expiry and tag. */
#define SEAL_OVERHEAD (1 + SEAL_NONCE_LEN + 8 + SEAL_TAG_LEN)
#define SEAL_MAX_PREFIX 64
/* A name: the prefix, 64 hex digits and the terminating NUL. */
#define SEAL_NAME_MAX (SEAL_MAX_PREFIX + 64 + 1)

struct seal_keys {
    unsigned char name[32];
    unsigned char value[32];
};

/* Derives both keys from a secret. NULL on success, or what failed (OpenSSL's HKDF). */
const char *seal_keys_derive(const unsigned char secret[SEAL_SECRET_LEN], struct seal_keys *out);

/* Overwrites the keys so that they do not linger in freed memory. */
void seal_keys_wipe(struct seal_keys *k);

/* The OpenSSL contexts for one thread; NULL if out of memory. */
struct seal_ctx;
struct seal_ctx *seal_ctx_new(void);
void seal_ctx_free(struct seal_ctx *c);

/*
 * Writes the entry's name, NUL-terminated, to out (SEAL_NAME_MAX bytes). False (out empty)
 * if the prefix is longer than SEAL_MAX_PREFIX or OpenSSL fails.
 */
bool seal_name(struct seal_ctx *c, const struct seal_keys *k, const char *prefix,
               const unsigned char fingerprint[SEAL_FINGERPRINT_LEN],
               const unsigned char digest[SEAL_DIGEST_LEN], char out[SEAL_NAME_MAX]);

/*
 * Seals blob[0..len) for the entry `name`, to be refused after expires_ms (wall-clock ms
 * since the epoch). Writes len + SEAL_OVERHEAD bytes to out and sets *out_len. False (and
 * nothing usable in out) if that exceeds cap, or no random nonce or cipher could be had.
 */
bool seal_value(struct seal_ctx *c, const struct seal_keys *k, const char *name,
                const unsigned char fingerprint[SEAL_FINGERPRINT_LEN], int64_t expires_ms,
                const void *blob, size_t len, unsigned char *out, size_t cap, size_t *out_len);

enum seal_open {
    SEAL_OPENED,  /* out[0..*out_len) holds the blob */
    SEAL_REFUSED, /* not a value these keys sealed for this name and fingerprint */
    SEAL_EXPIRED, /* authentic, but its own expiry has passed */
};

/*
 * Opens a value read back from the store. Only an authentic value is believed, expiry
 * included: anything else (truncated, another version, another key, name or fingerprint, a
 * blob longer than cap) is SEAL_REFUSED, and out holds nothing of it.
 */
enum seal_open seal_open_value(struct seal_ctx *c, const struct seal_keys *k, const char *name,
                               const unsigned char fingerprint[SEAL_FINGERPRINT_LEN],
                               int64_t now_ms, const unsigned char *in, size_t len,
                               unsigned char *out, size_t cap, size_t *out_len);

#endif
