/* seal.c - see seal.h. */
#include "auth/seal.h"

#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

/* Fixed HKDF inputs: the salt separates this use of the secret from any other, the infos
 * separate the two keys from each other. Changing any of them renames and voids every entry. */
static const char KDF_SALT[] = "fcgi-authorizer shared cache";
static const char KDF_INFO_NAME[] = "entry names v1";
static const char KDF_INFO_VALUE[] = "entry values v1";

struct seal_ctx {
    EVP_MAC *hmac;
    EVP_MAC_CTX *mac;
    EVP_CIPHER_CTX *cipher;
};

static const char *derive(EVP_KDF_CTX *kctx, const unsigned char *secret, const char *info,
                          unsigned char out[32])
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, SEAL_SECRET_LEN),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)KDF_SALT,
                                          sizeof(KDF_SALT) - 1),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info)),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_KDF_derive(kctx, out, 32, params) <= 0)
        return "HKDF-SHA256 failed";
    return NULL;
}

const char *seal_keys_derive(const unsigned char secret[SEAL_SECRET_LEN], struct seal_keys *out)
{
    const char *err = "HKDF is not available";
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (!kctx)
        goto end;
    err = derive(kctx, secret, KDF_INFO_NAME, out->name);
    if (!err)
        err = derive(kctx, secret, KDF_INFO_VALUE, out->value);
end:
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    if (err)
        seal_keys_wipe(out);
    return err;
}

void seal_keys_wipe(struct seal_keys *k)
{
    OPENSSL_cleanse(k, sizeof(*k));
}

struct seal_ctx *seal_ctx_new(void)
{
    struct seal_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    c->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    c->mac = c->hmac ? EVP_MAC_CTX_new(c->hmac) : NULL;
    c->cipher = EVP_CIPHER_CTX_new();
    if (!c->mac || !c->cipher || EVP_MAC_CTX_set_params(c->mac, params) <= 0) {
        seal_ctx_free(c);
        return NULL;
    }
    return c;
}

void seal_ctx_free(struct seal_ctx *c)
{
    if (!c)
        return;
    EVP_CIPHER_CTX_free(c->cipher);
    EVP_MAC_CTX_free(c->mac);
    EVP_MAC_free(c->hmac);
    free(c);
}

/* out = HMAC-SHA256(key, a | b). */
static bool hmac(struct seal_ctx *c, const unsigned char key[32], const void *a, size_t alen,
                 const void *b, size_t blen, unsigned char out[32])
{
    size_t len = 0;
    return EVP_MAC_init(c->mac, key, 32, NULL) > 0 && EVP_MAC_update(c->mac, a, alen) > 0 &&
           EVP_MAC_update(c->mac, b, blen) > 0 && EVP_MAC_final(c->mac, out, &len, 32) > 0 &&
           len == 32;
}

bool seal_name(struct seal_ctx *c, const struct seal_keys *k, const char *prefix,
               const unsigned char fingerprint[SEAL_FINGERPRINT_LEN],
               const unsigned char digest[SEAL_DIGEST_LEN], char out[SEAL_NAME_MAX])
{
    static const char hex[] = "0123456789abcdef";
    size_t plen = strlen(prefix);
    unsigned char mac[32];
    out[0] = '\0';
    if (plen > SEAL_MAX_PREFIX ||
        !hmac(c, k->name, fingerprint, SEAL_FINGERPRINT_LEN, digest, SEAL_DIGEST_LEN, mac))
        return false;
    memcpy(out, prefix, plen);
    for (size_t i = 0; i < sizeof(mac); i++) {
        out[plen + 2 * i] = hex[mac[i] >> 4];
        out[plen + 2 * i + 1] = hex[mac[i] & 15];
    }
    out[plen + 2 * sizeof(mac)] = '\0';
    return true;
}

/* Starts AES-256-GCM under the name's own key, and feeds the additional data. */
static bool cipher_start(struct seal_ctx *c, const struct seal_keys *k, const char *name,
                         const unsigned char fingerprint[SEAL_FINGERPRINT_LEN],
                         const unsigned char *nonce, int encrypt)
{
    unsigned char key[32];
    const unsigned char version = SEAL_VERSION;
    size_t nlen = strlen(name);
    int outl = 0;
    bool ok = nlen < INT_MAX && hmac(c, k->value, name, nlen, "", 0, key) &&
              EVP_CipherInit_ex(c->cipher, EVP_aes_256_gcm(), NULL, key, nonce, encrypt) > 0 &&
              EVP_CipherUpdate(c->cipher, NULL, &outl, &version, 1) > 0 &&
              EVP_CipherUpdate(c->cipher, NULL, &outl, fingerprint, SEAL_FINGERPRINT_LEN) > 0 &&
              EVP_CipherUpdate(c->cipher, NULL, &outl, (const unsigned char *)name, (int)nlen) > 0;
    OPENSSL_cleanse(key, sizeof(key));
    return ok;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

bool seal_value(struct seal_ctx *c, const struct seal_keys *k, const char *name,
                const unsigned char fingerprint[SEAL_FINGERPRINT_LEN], int64_t expires_ms,
                const void *blob, size_t len, unsigned char *out, size_t cap, size_t *out_len)
{
    *out_len = 0;
    if (len > INT_MAX - SEAL_OVERHEAD || cap < len + SEAL_OVERHEAD)
        return false;
    unsigned char *nonce = out + 1, *body = nonce + SEAL_NONCE_LEN;
    unsigned char expiry[8];
    int n1 = 0, n2 = 0, n3 = 0;
    out[0] = SEAL_VERSION;
    put_be64(expiry, (uint64_t)expires_ms);
    bool ok = RAND_bytes(nonce, SEAL_NONCE_LEN) == 1 &&
              cipher_start(c, k, name, fingerprint, nonce, 1) &&
              EVP_EncryptUpdate(c->cipher, body, &n1, expiry, sizeof(expiry)) > 0 &&
              EVP_EncryptUpdate(c->cipher, body + n1, &n2, blob, (int)len) > 0 &&
              EVP_EncryptFinal_ex(c->cipher, body + n1 + n2, &n3) > 0 &&
              (size_t)n1 + n2 + n3 == sizeof(expiry) + len &&
              EVP_CIPHER_CTX_ctrl(c->cipher, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN,
                                  body + sizeof(expiry) + len) > 0;
    if (ok)
        *out_len = len + SEAL_OVERHEAD;
    return ok;
}

enum seal_open seal_open_value(struct seal_ctx *c, const struct seal_keys *k, const char *name,
                               const unsigned char fingerprint[SEAL_FINGERPRINT_LEN],
                               int64_t now_ms, const unsigned char *in, size_t len,
                               unsigned char *out, size_t cap, size_t *out_len)
{
    *out_len = 0;
    if (len < SEAL_OVERHEAD || in[0] != SEAL_VERSION || len - SEAL_OVERHEAD > cap || len > INT_MAX)
        return SEAL_REFUSED;
    size_t blen = len - SEAL_OVERHEAD;
    const unsigned char *nonce = in + 1, *body = nonce + SEAL_NONCE_LEN;
    unsigned char expiry[8], tag[SEAL_TAG_LEN], rest[16];
    int n1 = 0, n2 = 0, n3 = 0;
    memcpy(tag, body + sizeof(expiry) + blen, SEAL_TAG_LEN);
    bool ok = cipher_start(c, k, name, fingerprint, nonce, 0) &&
              EVP_DecryptUpdate(c->cipher, expiry, &n1, body, sizeof(expiry)) > 0 &&
              EVP_DecryptUpdate(c->cipher, out, &n2, body + sizeof(expiry), (int)blen) > 0 &&
              EVP_CIPHER_CTX_ctrl(c->cipher, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tag) > 0 &&
              EVP_DecryptFinal_ex(c->cipher, rest, &n3) > 0 &&
              (size_t)n1 + n2 + n3 == sizeof(expiry) + blen;
    if (!ok) {
        OPENSSL_cleanse(out, blen);
        return SEAL_REFUSED;
    }
    if ((int64_t)get_be64(expiry) <= now_ms) {
        OPENSSL_cleanse(out, blen);
        return SEAL_EXPIRED;
    }
    *out_len = blen;
    return SEAL_OPENED;
}
