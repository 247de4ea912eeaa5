/*
 * jwa.c - the JWS algorithm table, and keys whose OpenSSL state is prepared once so that a
 * verification only duplicates it.
 */
#include "auth/jwa.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum family { FAM_RSA_PKCS1, FAM_RSA_PSS, FAM_ECDSA, FAM_EDDSA, FAM_HMAC };

static const struct alg_info {
    const char *name;
    enum family family;
    const char *digest; /* OpenSSL name; NULL for EdDSA (it hashes by itself) */
    size_t hash_size;   /* HMAC: the tag size, and the smallest secret */
    int curve_nid;      /* ECDSA: the one curve it signs with */
    size_t coord_size;  /* ECDSA: bytes of r and of s */
} algs[JWT_ALG_COUNT] = {
    [JWT_RS256] = {"RS256", FAM_RSA_PKCS1, "SHA256", 32, 0, 0},
    [JWT_RS384] = {"RS384", FAM_RSA_PKCS1, "SHA384", 48, 0, 0},
    [JWT_RS512] = {"RS512", FAM_RSA_PKCS1, "SHA512", 64, 0, 0},
    [JWT_PS256] = {"PS256", FAM_RSA_PSS, "SHA256", 32, 0, 0},
    [JWT_PS384] = {"PS384", FAM_RSA_PSS, "SHA384", 48, 0, 0},
    [JWT_PS512] = {"PS512", FAM_RSA_PSS, "SHA512", 64, 0, 0},
    [JWT_ES256] = {"ES256", FAM_ECDSA, "SHA256", 32, NID_X9_62_prime256v1, 32},
    [JWT_ES384] = {"ES384", FAM_ECDSA, "SHA384", 48, NID_secp384r1, 48},
    [JWT_ES512] = {"ES512", FAM_ECDSA, "SHA512", 64, NID_secp521r1, 66},
    [JWT_EDDSA] = {"EdDSA", FAM_EDDSA, NULL, 0, 0, 0},
    [JWT_HS256] = {"HS256", FAM_HMAC, "SHA256", 32, 0, 0},
    [JWT_HS384] = {"HS384", FAM_HMAC, "SHA384", 48, 0, 0},
    [JWT_HS512] = {"HS512", FAM_HMAC, "SHA512", 64, 0, 0},
};

#define EC_MAX_COORD 66 /* P-521 */

struct jwa_key {
    enum jwa_key_type type;
    unsigned algs;
    EVP_PKEY *pkey;  /* NULL for a secret */
    int bits;        /* RSA modulus bits */
    size_t sig_size; /* RSA: modulus bytes; EC: r||s; Ed25519: 64 */
    enum jwt_alg ec_alg;
    unsigned char order[EC_MAX_COORD]; /* EC: the group order, big-endian, coord_size bytes */
    size_t secret_len;
    /* Per algorithm, prepared at load: what each verification duplicates. */
    struct {
        EVP_MD *md;        /* RSA, ECDSA: for hashing the signing input */
        EVP_PKEY_CTX *ctx; /* RSA, ECDSA: initialized for verification with md and padding */
        EVP_MAC_CTX *mac;  /* HMAC: initialized with the secret and the digest */
    } per[JWT_ALG_COUNT];
};

int jwt_alg_parse(const char *name, size_t len)
{
    if (!name)
        return -1;
    for (int a = 0; a < JWT_ALG_COUNT; a++)
        if (strlen(algs[a].name) == len && memcmp(algs[a].name, name, len) == 0)
            return a;
    return -1;
}

const char *jwt_alg_name(enum jwt_alg alg)
{
    return (unsigned)alg < JWT_ALG_COUNT ? algs[alg].name : "?";
}

static const char *fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static const char *fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    ERR_clear_error();
    return err;
}

static const char *curve_name(int nid)
{
    return nid == NID_X9_62_prime256v1 ? "P-256"
           : nid == NID_secp384r1      ? "P-384"
           : nid == NID_secp521r1      ? "P-521"
                                       : "?";
}

void jwa_key_free(struct jwa_key *k)
{
    if (!k)
        return;
    for (int a = 0; a < JWT_ALG_COUNT; a++) {
        EVP_MD_free(k->per[a].md);
        EVP_PKEY_CTX_free(k->per[a].ctx);
        EVP_MAC_CTX_free(k->per[a].mac);
    }
    EVP_PKEY_free(k->pkey);
    free(k);
}

unsigned jwa_key_algs(const struct jwa_key *k)
{
    return k->algs;
}

enum jwa_key_type jwa_key_type(const struct jwa_key *k)
{
    return k->type;
}

void jwa_key_describe(const struct jwa_key *k, char *out, size_t outlen)
{
    switch (k->type) {
    case JWA_KEY_RSA:
        snprintf(out, outlen, "RSA %d", k->bits);
        break;
    case JWA_KEY_EC:
        snprintf(out, outlen, "EC %s", curve_name(algs[k->ec_alg].curve_nid));
        break;
    case JWA_KEY_ED25519:
        snprintf(out, outlen, "Ed25519");
        break;
    case JWA_KEY_OCT:
        snprintf(out, outlen, "secret of %zu bytes", k->secret_len);
        break;
    }
}

/* The names of the algorithms in a mask, for messages: "RS256, PS256". */
static void names_of(unsigned mask, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (int a = 0; a < JWT_ALG_COUNT; a++) {
        if (!(mask & JWT_ALG_BIT(a)))
            continue;
        int n = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", algs[a].name);
        if (n < 0 || (size_t)n >= outlen - used)
            return;
        used += (size_t)n;
    }
}

/* Prepares the verification context of an RSA or ECDSA algorithm. */
static bool prepare_pkey_alg(struct jwa_key *k, enum jwt_alg a)
{
    const struct alg_info *info = &algs[a];
    EVP_MD *md = EVP_MD_fetch(NULL, info->digest, NULL);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    if (!md || !ctx || EVP_PKEY_verify_init(ctx) != 1)
        goto fail;
    if (info->family == FAM_RSA_PKCS1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1)
        goto fail;
    if (info->family == FAM_RSA_PSS &&
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) != 1)
        goto fail;
    if (EVP_PKEY_CTX_set_signature_md(ctx, md) != 1)
        goto fail;
    /* RFC 7518 section 3.5: MGF1 with the same hash, a salt exactly as long as the hash. */
    if (info->family == FAM_RSA_PSS &&
        (EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) != 1))
        goto fail;
    k->per[a].md = md;
    k->per[a].ctx = ctx;
    return true;

fail:
    EVP_MD_free(md);
    EVP_PKEY_CTX_free(ctx);
    return false;
}

/* RSA: size limits and a sane public exponent; OpenSSL checks the rest when it verifies. */
static const char *check_rsa(struct jwa_key *k, char *err, size_t errlen)
{
    k->bits = EVP_PKEY_get_bits(k->pkey);
    if (k->bits < JWA_RSA_MIN_BITS)
        return fail(err, errlen, "RSA key of %d bits (at least %d required)", k->bits,
                    JWA_RSA_MIN_BITS);
    if (k->bits > JWA_RSA_MAX_BITS)
        return fail(err, errlen, "RSA key of %d bits (at most %d)", k->bits, JWA_RSA_MAX_BITS);
    BIGNUM *e = NULL, *n = NULL;
    bool sane = EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
                EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1 && BN_is_odd(e) &&
                !BN_is_one(e) && BN_is_odd(n);
    BN_free(e);
    BN_free(n);
    if (!sane)
        return fail(err, errlen, "RSA key with an even or trivial modulus or exponent");
    k->sig_size = (size_t)EVP_PKEY_get_size(k->pkey);
    return NULL;
}

/* EC: a named curve JWS signs with, a valid public point, and the order for range checks. */
static const char *check_ec(struct jwa_key *k, char *err, size_t errlen)
{
    char group[64];
    size_t glen = 0;
    if (EVP_PKEY_get_group_name(k->pkey, group, sizeof(group), &glen) != 1)
        return fail(err, errlen, "EC key without a named curve");
    /* Parameters spelled out could differ from the curve they claim to be: names only. */
    char encoding[32] = "";
    if (EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_EC_ENCODING, encoding,
                                       sizeof(encoding), NULL) == 1 &&
        strcmp(encoding, OSSL_PKEY_EC_ENCODING_EXPLICIT) == 0)
        return fail(err, errlen, "EC key with explicit curve parameters (a named curve required)");
    int nid = OBJ_sn2nid(group);
    int a;
    for (a = JWT_ES256; a <= JWT_ES512; a++)
        if (algs[a].curve_nid == nid)
            break;
    if (a > JWT_ES512)
        return fail(err, errlen, "EC key on curve %s (P-256, P-384 or P-521 required)", group);
    k->ec_alg = (enum jwt_alg)a;

    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    bool valid = ctx && EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!valid)
        return fail(err, errlen, "EC public key is not a valid point of %s", curve_name(nid));

    size_t coord = algs[a].coord_size;
    EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);
    bool ok = g && BN_bn2binpad(EC_GROUP_get0_order(g), k->order, (int)coord) == (int)coord;
    EC_GROUP_free(g);
    if (!ok)
        return fail(err, errlen, "cannot read the order of %s", curve_name(nid));
    k->sig_size = 2 * coord;
    return NULL;
}

const char *jwa_key_from_pkey(EVP_PKEY *pkey, unsigned allowed, struct jwa_key **out, char *err,
                              size_t errlen)
{
    *out = NULL;
    struct jwa_key *k = calloc(1, sizeof(*k));
    if (!k)
        return fail(err, errlen, "out of memory");
    const char *msg = NULL;
    unsigned type_algs;
    if (!EVP_PKEY_up_ref(pkey)) {
        msg = fail(err, errlen, "out of memory");
        goto end;
    }
    k->pkey = pkey;
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        k->type = JWA_KEY_RSA;
        type_algs = JWT_ALGS_RSA;
        msg = check_rsa(k, err, errlen);
    } else if (EVP_PKEY_is_a(pkey, "EC")) {
        k->type = JWA_KEY_EC;
        msg = check_ec(k, err, errlen);
        type_algs = msg ? 0 : JWT_ALG_BIT(k->ec_alg);
    } else if (EVP_PKEY_is_a(pkey, "ED25519")) {
        k->type = JWA_KEY_ED25519;
        type_algs = JWT_ALG_BIT(JWT_EDDSA);
        k->sig_size = 64;
    } else {
        msg = fail(err, errlen, "%s key (RSA, EC or Ed25519 required)",
                   EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "unknown");
    }
    if (msg)
        goto end;
    k->algs = type_algs & allowed;
    if (!k->algs) {
        char have[96], desc[48];
        names_of(type_algs, have, sizeof(have));
        jwa_key_describe(k, desc, sizeof(desc));
        msg = fail(err, errlen, "%s key fits none of the allowed algorithms (it could verify %s)",
                   desc, have);
        goto end;
    }
    for (int a = 0; a < JWT_ALG_COUNT; a++)
        if ((k->algs & JWT_ALG_BIT(a)) && algs[a].family != FAM_EDDSA && !prepare_pkey_alg(k, a)) {
            msg = fail(err, errlen, "cannot prepare %s verification", algs[a].name);
            goto end;
        }
    *out = k;
    k = NULL;
end:
    jwa_key_free(k);
    return msg;
}

const char *jwa_key_from_secret(const void *secret, size_t len, unsigned allowed,
                                struct jwa_key **out, char *err, size_t errlen)
{
    *out = NULL;
    unsigned fits = 0;
    for (int a = JWT_HS256; a <= JWT_HS512; a++)
        if (len >= algs[a].hash_size)
            fits |= JWT_ALG_BIT(a);
    if (!(allowed & JWT_ALGS_HMAC))
        return fail(err, errlen, "a secret, but no HS algorithm is allowed");
    if (!(fits & allowed)) {
        int shortest = JWT_HS256;
        while (!(allowed & JWT_ALG_BIT(shortest)))
            shortest++;
        return fail(err, errlen, "secret of %zu bytes is too short for %s (at least %zu bytes)",
                    len, algs[shortest].name, algs[shortest].hash_size);
    }
    struct jwa_key *k = calloc(1, sizeof(*k));
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    const char *msg = NULL;
    if (!k || !mac) {
        msg = fail(err, errlen, "out of memory");
        goto end;
    }
    k->type = JWA_KEY_OCT;
    k->algs = fits & allowed;
    k->secret_len = len;
    for (int a = JWT_HS256; a <= JWT_HS512; a++) {
        if (!(k->algs & JWT_ALG_BIT(a)))
            continue;
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)algs[a].digest, 0),
            OSSL_PARAM_construct_end(),
        };
        k->per[a].mac = EVP_MAC_CTX_new(mac);
        if (!k->per[a].mac || EVP_MAC_init(k->per[a].mac, secret, len, params) != 1) {
            msg = fail(err, errlen, "cannot prepare %s verification", algs[a].name);
            goto end;
        }
    }
    *out = k;
    k = NULL;
end:
    EVP_MAC_free(mac);
    jwa_key_free(k);
    return msg;
}

/* Hashes the input and verifies sig over the hash with the prepared context's copy. */
static bool verify_prehashed(const struct jwa_key *k, enum jwt_alg a, const void *input, size_t len,
                             const unsigned char *sig, size_t siglen)
{
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int hlen = 0;
    if (EVP_Digest(input, len, hash, &hlen, k->per[a].md, NULL) != 1)
        return false;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_dup(k->per[a].ctx);
    bool ok = ctx && EVP_PKEY_verify(ctx, sig, siglen, hash, hlen) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static bool all_zero(const unsigned char *p, size_t n)
{
    unsigned char acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* JWS's r||s (RFC 7518 section 3.4), range-checked, as the DER that OpenSSL verifies. */
static bool verify_ecdsa(const struct jwa_key *k, enum jwt_alg a, const void *input, size_t len,
                         const unsigned char *sig, const char **why)
{
    size_t c = algs[a].coord_size;
    const unsigned char *r = sig, *s = sig + c;
    if (all_zero(r, c) || all_zero(s, c) || memcmp(r, k->order, c) >= 0 ||
        memcmp(s, k->order, c) >= 0) {
        *why = "ECDSA r or s is not in [1, n-1]";
        return false;
    }
    unsigned char der[2 * EC_MAX_COORD + 16];
    unsigned char *p = der;
    int dlen = -1;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *br = BN_bin2bn(r, (int)c, NULL), *bs = BN_bin2bn(s, (int)c, NULL);
    if (es && br && bs && ECDSA_SIG_set0(es, br, bs) == 1) {
        br = bs = NULL; /* owned by es now */
        int need = i2d_ECDSA_SIG(es, NULL);
        if (need > 0 && (size_t)need <= sizeof(der))
            dlen = i2d_ECDSA_SIG(es, &p);
    }
    BN_free(br);
    BN_free(bs);
    ECDSA_SIG_free(es);
    *why = "signature does not verify";
    return dlen > 0 && verify_prehashed(k, a, input, len, der, (size_t)dlen);
}

static bool verify_eddsa(const struct jwa_key *k, const void *input, size_t len,
                         const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, k->pkey, NULL) == 1 &&
              EVP_DigestVerify(ctx, sig, siglen, input, len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

static bool verify_hmac(const struct jwa_key *k, enum jwt_alg a, const void *input, size_t len,
                        const unsigned char *sig, size_t siglen)
{
    unsigned char tag[EVP_MAX_MD_SIZE];
    size_t tlen = 0;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(k->per[a].mac);
    bool ok = ctx && EVP_MAC_update(ctx, input, len) == 1 &&
              EVP_MAC_final(ctx, tag, &tlen, sizeof(tag)) == 1 && tlen == siglen &&
              CRYPTO_memcmp(tag, sig, siglen) == 0;
    EVP_MAC_CTX_free(ctx);
    OPENSSL_cleanse(tag, sizeof(tag));
    return ok;
}

bool jwa_key_verify(const struct jwa_key *k, enum jwt_alg alg, const void *input, size_t len,
                    const unsigned char *sig, size_t siglen, const char **why)
{
    const char *reason = "signature does not verify";
    bool ok = false;
    if ((unsigned)alg >= JWT_ALG_COUNT || !(k->algs & JWT_ALG_BIT(alg))) {
        reason = "the key does not verify this algorithm";
        goto end;
    }
    switch (algs[alg].family) {
    case FAM_RSA_PKCS1:
    case FAM_RSA_PSS:
        if (siglen != k->sig_size)
            reason = "RSA signature is not the size of the modulus";
        else
            ok = verify_prehashed(k, alg, input, len, sig, siglen);
        break;
    case FAM_ECDSA:
        if (siglen != k->sig_size)
            reason = "ECDSA signature is not r||s of the curve's size";
        else
            ok = verify_ecdsa(k, alg, input, len, sig, &reason);
        break;
    case FAM_EDDSA:
        if (siglen != k->sig_size)
            reason = "Ed25519 signature is not 64 bytes";
        else
            ok = verify_eddsa(k, input, len, sig, siglen);
        break;
    case FAM_HMAC:
        if (siglen != algs[alg].hash_size)
            reason = "HMAC is not the size of the hash";
        else
            ok = verify_hmac(k, alg, input, len, sig, siglen);
        break;
    }
end:
    if (!ok) {
        ERR_clear_error();
        if (why)
            *why = reason;
    }
    return ok;
}
