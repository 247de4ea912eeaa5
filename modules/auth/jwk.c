/*
 * jwk.c - key sets: JWKS members and PEM texts turned into EVP_PKEYs, secrets into HMAC keys,
 * all prepared once (jwa.c) and kept in an immutable, reference-counted array.
 */
#include "auth/jwk.h"

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/b64url.h"

struct entry {
    char *kid; /* NULL: none */
    size_t kidlen;
    struct jwa_key *key;
};

struct jwt_keyset_builder {
    unsigned algs;
    jwt_note_fn *note;
    void *arg;
    size_t n;
    struct entry keys[JWT_KEYSET_MAX_KEYS];
    size_t skipped;
    char first_skip[192];
};

struct jwt_keyset {
    atomic_uint refs;
    unsigned algs;
    size_t n;
    struct entry keys[];
};

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

void jwt_printable(const char *s, size_t len, char *out, size_t outlen)
{
    size_t keep = len <= outlen - 1 ? len : outlen - 4;
    for (size_t i = 0; i < keep; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ? s[i] : '?';
    if (keep < len) {
        memcpy(out + keep, "...", 3);
        keep += 3;
    }
    out[keep] = '\0';
}

void jwt_json_error(const char *text, char *out, size_t outlen)
{
    const char *near = strstr(text, " near ");
    jwt_printable(text, near ? (size_t)(near - text) : strlen(text), out, outlen);
}

struct jwt_keyset_builder *jwt_keyset_builder_new(unsigned algs, jwt_note_fn *note, void *arg)
{
    struct jwt_keyset_builder *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->algs = algs & JWT_ALGS_ALL;
    b->note = note;
    b->arg = arg;
    return b;
}

static void entry_clear(struct entry *e)
{
    free(e->kid);
    jwa_key_free(e->key);
    e->kid = NULL;
    e->key = NULL;
}

void jwt_keyset_builder_free(struct jwt_keyset_builder *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        entry_clear(&b->keys[i]);
    free(b);
}

/* Takes the key (freed on failure); kid is copied. */
static const char *add_key(struct jwt_keyset_builder *b, struct jwa_key *key, const char *kid,
                           size_t kidlen, char *err, size_t errlen)
{
    if (b->n == JWT_KEYSET_MAX_KEYS) {
        jwa_key_free(key);
        return fail(err, errlen, "more than %d keys", JWT_KEYSET_MAX_KEYS);
    }
    struct entry *e = &b->keys[b->n];
    e->kid = NULL;
    e->kidlen = 0;
    if (kid) {
        e->kid = malloc(kidlen + 1);
        if (!e->kid) {
            jwa_key_free(key);
            return fail(err, errlen, "out of memory");
        }
        memcpy(e->kid, kid, kidlen);
        e->kid[kidlen] = '\0';
        e->kidlen = kidlen;
    }
    e->key = key;
    b->n++;
    return NULL;
}

/* ---- JWK members ---- */

/* Decodes a base64url member of a JWK into a new buffer (*out, *outlen; the caller frees). */
static const char *member_bytes(const json_t *jwk, const char *name, unsigned char **out,
                                size_t *outlen, char *err, size_t errlen)
{
    *out = NULL;
    const json_t *v = json_object_get(jwk, name);
    if (!v)
        return fail(err, errlen, "no \"%s\"", name);
    if (!json_is_string(v))
        return fail(err, errlen, "\"%s\" is not a string", name);
    size_t len = json_string_length(v);
    size_t room = B64URL_DECODE_ROOM(len);
    unsigned char *buf = malloc(room ? room : 1);
    if (!buf)
        return fail(err, errlen, "out of memory");
    long n = b64url_decode(json_string_value(v), len, buf, room);
    if (n <= 0) {
        free(buf);
        return fail(err, errlen, "\"%s\" is %s", name, n == 0 ? "empty" : "not base64url");
    }
    *out = buf;
    *outlen = (size_t)n;
    return NULL;
}

static const char *rsa_from_jwk(const json_t *jwk, EVP_PKEY **pkey, char *err, size_t errlen)
{
    unsigned char *n = NULL, *e = NULL;
    size_t nlen = 0, elen = 0;
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    const char *msg = member_bytes(jwk, "n", &n, &nlen, err, errlen);
    if (!msg)
        msg = member_bytes(jwk, "e", &e, &elen, err, errlen);
    if (msg)
        goto end;
    bn = BN_bin2bn(n, (int)nlen, NULL);
    be = BN_bin2bn(e, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (!bn || !be || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)) ||
        !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) ||
        EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        msg = fail(err, errlen, "\"n\" and \"e\" are not an RSA public key");
end:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    free(n);
    free(e);
    return msg;
}

static const char *ec_from_jwk(const json_t *jwk, EVP_PKEY **pkey, char *err, size_t errlen)
{
    static const struct {
        const char *crv, *group;
        size_t size;
    } curves[] = {{"P-256", "P-256", 32}, {"P-384", "P-384", 48}, {"P-521", "P-521", 66}};
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    size_t c;
    for (c = 0; crv && c < sizeof(curves) / sizeof(curves[0]); c++)
        if (strcmp(crv, curves[c].crv) == 0)
            break;
    if (!crv || c == sizeof(curves) / sizeof(curves[0]))
        return fail(err, errlen, "EC key without \"crv\" P-256, P-384 or P-521");
    size_t size = curves[c].size;

    unsigned char *x = NULL, *y = NULL, point[1 + 2 * 66];
    size_t xlen = 0, ylen = 0;
    EVP_PKEY_CTX *ctx = NULL;
    const char *msg = member_bytes(jwk, "x", &x, &xlen, err, errlen);
    if (!msg)
        msg = member_bytes(jwk, "y", &y, &ylen, err, errlen);
    if (msg)
        goto end;
    /* RFC 7518 section 6.2.1.2: the full coordinate size, leading zeros included. */
    if (xlen != size || ylen != size) {
        msg = fail(err, errlen, "\"x\" or \"y\" is not %zu bytes as %s needs", size, crv);
        goto end;
    }
    point[0] = 0x04; /* uncompressed */
    memcpy(point + 1, x, size);
    memcpy(point + 1 + size, y, size);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)curves[c].group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * size),
        OSSL_PARAM_construct_end(),
    };
    if (!(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        msg = fail(err, errlen, "\"x\" and \"y\" are not a point of %s", crv);
end:
    EVP_PKEY_CTX_free(ctx);
    free(x);
    free(y);
    return msg;
}

static const char *okp_from_jwk(const json_t *jwk, EVP_PKEY **pkey, char *err, size_t errlen)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (!crv || strcmp(crv, "Ed25519") != 0)
        return fail(err, errlen, "OKP key with \"crv\" %s (Ed25519 required)",
                    crv ? (strlen(crv) < 16 ? crv : "too long") : "missing");
    unsigned char *x = NULL;
    size_t xlen = 0;
    const char *msg = member_bytes(jwk, "x", &x, &xlen, err, errlen);
    if (msg)
        return msg;
    if (xlen != 32)
        msg = fail(err, errlen, "Ed25519 \"x\" is %zu bytes (32 required)", xlen);
    else if (!(*pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x, xlen)))
        msg = fail(err, errlen, "\"x\" is not an Ed25519 public key");
    free(x);
    return msg;
}

/* "use" and "key_ops" (RFC 7517 section 4.2, 4.3): whether the key is meant for verifying. */
static const char *check_purpose(const json_t *jwk, char *err, size_t errlen)
{
    const json_t *use = json_object_get(jwk, "use");
    if (use && !(json_is_string(use) && strcmp(json_string_value(use), "sig") == 0))
        return fail(err, errlen, "\"use\" is not \"sig\"");
    const json_t *ops = json_object_get(jwk, "key_ops");
    if (!ops)
        return NULL;
    size_t i;
    const json_t *op;
    if (json_is_array(ops))
        json_array_foreach(ops, i, op)
        {
            if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0)
                return NULL;
        }
    return fail(err, errlen, "\"key_ops\" does not hold \"verify\"");
}

/* Adds one JWK, or returns why it is skipped. */
static const char *add_jwk(struct jwt_keyset_builder *b, const json_t *jwk, char *err,
                           size_t errlen)
{
    if (!json_is_object(jwk))
        return fail(err, errlen, "not an object");
    const json_t *kidv = json_object_get(jwk, "kid");
    if (kidv && !json_is_string(kidv))
        return fail(err, errlen, "\"kid\" is not a string");
    if (kidv && json_string_length(kidv) > JWT_KID_MAX)
        return fail(err, errlen, "\"kid\" is longer than %d bytes", JWT_KID_MAX);
    const char *msg = check_purpose(jwk, err, errlen);
    if (msg)
        return msg;

    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    unsigned family = !kty                      ? 0
                      : strcmp(kty, "RSA") == 0 ? JWT_ALGS_RSA
                      : strcmp(kty, "EC") == 0  ? JWT_ALGS_EC
                      : strcmp(kty, "OKP") == 0 ? JWT_ALG_BIT(JWT_EDDSA)
                      : strcmp(kty, "oct") == 0 ? JWT_ALGS_HMAC
                                                : 0;
    if (!family)
        return fail(err, errlen, "\"kty\" is not RSA, EC, OKP or oct");

    unsigned mask = b->algs;
    const json_t *algv = json_object_get(jwk, "alg");
    if (algv) {
        int alg = json_is_string(algv)
                      ? jwt_alg_parse(json_string_value(algv), json_string_length(algv))
                      : -1;
        if (alg < 0)
            return fail(err, errlen, "\"alg\" is not a JWS signature algorithm");
        if (!(family & JWT_ALG_BIT(alg)))
            return fail(err, errlen, "\"alg\" %s does not fit \"kty\" %s", jwt_alg_name(alg), kty);
        if (!(b->algs & JWT_ALG_BIT(alg)))
            return fail(err, errlen, "\"alg\" %s is not allowed", jwt_alg_name(alg));
        mask = JWT_ALG_BIT(alg);
    }
    if (!(family & b->algs))
        return fail(err, errlen, "no allowed algorithm uses %s keys", kty);

    struct jwa_key *key = NULL;
    if (family == JWT_ALGS_HMAC) {
        unsigned char *k = NULL;
        size_t klen = 0;
        msg = member_bytes(jwk, "k", &k, &klen, err, errlen);
        if (!msg)
            msg = jwa_key_from_secret(k, klen, mask, &key, err, errlen);
        if (k)
            OPENSSL_clear_free(k, klen);
    } else {
        EVP_PKEY *pkey = NULL;
        msg = family == JWT_ALGS_RSA  ? rsa_from_jwk(jwk, &pkey, err, errlen)
              : family == JWT_ALGS_EC ? ec_from_jwk(jwk, &pkey, err, errlen)
                                      : okp_from_jwk(jwk, &pkey, err, errlen);
        if (!msg)
            msg = jwa_key_from_pkey(pkey, mask, &key, err, errlen);
        EVP_PKEY_free(pkey);
    }
    if (msg)
        return msg;
    return add_key(b, key, kidv ? json_string_value(kidv) : NULL,
                   kidv ? json_string_length(kidv) : 0, err, errlen);
}

static void skip(struct jwt_keyset_builder *b, size_t index, const json_t *jwk, const char *why)
{
    char kid[96] = "", msg[sizeof(b->first_skip)];
    const json_t *kidv = json_object_get(jwk, "kid");
    if (json_is_string(kidv)) {
        char p[68];
        jwt_printable(json_string_value(kidv), json_string_length(kidv), p, sizeof(p));
        snprintf(kid, sizeof(kid), " (kid \"%s\")", p);
    }
    snprintf(msg, sizeof(msg), "JWKS keys[%zu]%s skipped: %s", index, kid, why);
    if (b->skipped++ == 0)
        memcpy(b->first_skip, msg, sizeof(msg));
    if (b->note)
        b->note(b->arg, msg);
}

const char *jwt_keyset_add_jwks(struct jwt_keyset_builder *b, const char *text, size_t len,
                                char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        char why[sizeof(jerr.text)];
        jwt_json_error(jerr.text, why, sizeof(why));
        return fail(err, errlen, "JWKS is not JSON: %s at line %d column %d", why, jerr.line,
                    jerr.column);
    }
    const char *msg = NULL;
    const json_t *keys = json_object_get(doc, "keys");
    if (!json_is_object(doc) || !json_is_array(keys)) {
        msg = fail(err, errlen, "JWKS is not an object with a \"keys\" array");
        goto end;
    }
    if (b->n + json_array_size(keys) > JWT_KEYSET_MAX_KEYS) {
        msg = fail(err, errlen, "JWKS has %zu keys, more than %d in all", json_array_size(keys),
                   JWT_KEYSET_MAX_KEYS);
        goto end;
    }
    size_t i;
    const json_t *jwk;
    json_array_foreach(keys, i, jwk)
    {
        char why[160];
        const char *skipped = add_jwk(b, jwk, why, sizeof(why));
        if (skipped)
            skip(b, i, jwk, skipped);
    }
end:
    json_decref(doc);
    return msg;
}

static const char *check_kid(const char *kid, char *err, size_t errlen)
{
    if (kid && strlen(kid) > JWT_KID_MAX)
        return fail(err, errlen, "kid is longer than %d bytes", JWT_KID_MAX);
    return NULL;
}

/* How often s[0..len) holds needle. */
static size_t occurrences(const char *s, size_t len, const char *needle)
{
    size_t count = 0, nlen = strlen(needle);
    for (size_t i = 0; i + nlen <= len; i++)
        if (memcmp(s + i, needle, nlen) == 0)
            count++;
    return count;
}

const char *jwt_keyset_add_pem(struct jwt_keyset_builder *b, const char *pem, size_t len,
                               const char *kid, unsigned algs, char *err, size_t errlen)
{
    const char *msg = check_kid(kid, err, errlen);
    if (msg)
        return msg;
    if (occurrences(pem, len, "-----BEGIN CERTIFICATE") > 0)
        return fail(err, errlen, "a certificate, not a PEM public key");
    size_t blocks = occurrences(pem, len, "-----BEGIN ");
    if (blocks != 1)
        return fail(err, errlen, blocks ? "more than one PEM block" : "not PEM");

    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL, EVP_PKEY_PUBLIC_KEY, NULL, NULL);
    const unsigned char *data = (const unsigned char *)pem;
    size_t left = len;
    if (!dctx || OSSL_DECODER_from_data(dctx, &data, &left) != 1 || !pkey) {
        msg = fail(err, errlen, "not a PEM public key (a private key, or malformed)");
        goto end;
    }
    struct jwa_key *key = NULL;
    msg = jwa_key_from_pkey(pkey, b->algs & (algs ? algs : JWT_ALGS_ALL), &key, err, errlen);
    if (!msg)
        msg = add_key(b, key, kid, kid ? strlen(kid) : 0, err, errlen);
end:
    OSSL_DECODER_CTX_free(dctx);
    EVP_PKEY_free(pkey);
    return msg;
}

const char *jwt_keyset_add_secret(struct jwt_keyset_builder *b, const void *secret, size_t len,
                                  const char *kid, unsigned algs, char *err, size_t errlen)
{
    const char *msg = check_kid(kid, err, errlen);
    if (msg)
        return msg;
    struct jwa_key *key = NULL;
    msg =
        jwa_key_from_secret(secret, len, b->algs & (algs ? algs : JWT_ALGS_ALL), &key, err, errlen);
    if (msg)
        return msg;
    return add_key(b, key, kid, kid ? strlen(kid) : 0, err, errlen);
}

struct jwt_keyset *jwt_keyset_build(struct jwt_keyset_builder *b, char *err, size_t errlen)
{
    struct jwt_keyset *s = NULL;
    if (b->n == 0) {
        if (b->skipped)
            fail(err, errlen, "no usable key (%zu skipped; the first: %s)", b->skipped,
                 b->first_skip);
        else
            fail(err, errlen, "no usable key");
        goto end;
    }
    s = malloc(sizeof(*s) + b->n * sizeof(s->keys[0]));
    if (!s) {
        fail(err, errlen, "out of memory");
        goto end;
    }
    atomic_init(&s->refs, 1);
    s->n = b->n;
    s->algs = 0;
    for (size_t i = 0; i < b->n; i++) {
        s->keys[i] = b->keys[i];
        s->algs |= jwa_key_algs(b->keys[i].key);
    }
    b->n = 0; /* the set owns the keys now */
end:
    jwt_keyset_builder_free(b);
    return s;
}

struct jwt_keyset *jwt_keyset_ref(struct jwt_keyset *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void jwt_keyset_unref(struct jwt_keyset *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < s->n; i++)
        entry_clear(&s->keys[i]);
    free(s);
}

size_t jwt_keyset_count(const struct jwt_keyset *s)
{
    return s->n;
}

unsigned jwt_keyset_algs(const struct jwt_keyset *s)
{
    return s->algs;
}

const struct jwa_key *jwt_keyset_key(const struct jwt_keyset *s, size_t i, const char **kid,
                                     size_t *kidlen)
{
    *kid = s->keys[i].kid;
    *kidlen = s->keys[i].kidlen;
    return s->keys[i].key;
}
