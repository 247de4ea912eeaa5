/*
 * test_jwt.c - local JWT verification: strict base64url, key sets from JWKS, PEM and secrets,
 * every algorithm, the attacks a verifier must refuse, the registered claims, requiredClaims
 * and claim export, and verification from several threads on one set.
 *
 * Every key and token comes from tests/fixtures/jwt/make-fixtures (PyJWT, python3-cryptography,
 * openssl): none is made by the code under test. Tokens expire in 2100 and are verified at
 * FX_NOW, so the results do not depend on the clock.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../fixtures/jwt/fixtures.h"
#include "auth/b64url.h"
#include "auth/jwa.h"
#include "auth/jwk.h"
#include "auth/jwt.h"
#include "auth/jwtclaims.h"
#include "base/buf.h"
#include "base/httpsyntax.h"
#include "unit.h"

/* ---- helpers ---- */

/* What the note function was told while building a set. */
struct notes {
    int count;
    char last[256];
};

static void note(void *arg, const char *msg)
{
    struct notes *n = arg;
    n->count++;
    snprintf(n->last, sizeof(n->last), "%s", msg);
}

/* A set from one JWKS text, or NULL with the reason in err. */
static struct jwt_keyset *set_from_jwks(const char *jwks, unsigned algs, struct notes *n, char *err,
                                        size_t errlen)
{
    struct jwt_keyset_builder *b = jwt_keyset_builder_new(algs, n ? note : NULL, n);
    if (!b)
        return NULL;
    if (jwt_keyset_add_jwks(b, jwks, strlen(jwks), err, errlen) != NULL) {
        jwt_keyset_builder_free(b);
        return NULL;
    }
    return jwt_keyset_build(b, err, errlen);
}

/* The set of fixtures/jwt/keys/main.jwks.json for all algorithms, built once. */
static struct jwt_keyset *main_set_;

static const struct jwt_keyset *main_set(void)
{
    if (!main_set_) {
        char err[256] = "";
        main_set_ = set_from_jwks(fx_jwks_main, JWT_ALGS_ALL, NULL, err, sizeof(err));
        UNIT_CHECK(main_set_ != NULL, "main JWKS should load: %s", err);
    }
    return main_set_;
}

/* Every algorithm, exp required, nothing else checked. */
static struct jwt_policy any_policy(void)
{
    struct jwt_policy p = {.algs = JWT_ALGS_ALL};
    return p;
}

static enum jwt_status verify_at(const struct jwt_keyset *set, const struct jwt_policy *p,
                                 const char *token, int64_t now, struct jwt_result *res)
{
    if (!set) {
        memset(res, 0, sizeof(*res));
        res->status = JWT_INVALID;
        return JWT_INVALID;
    }
    return jwt_verify(set, p, token, strlen(token), now, res);
}

/* Verifies with the main set and the given policy at FX_NOW; checks status and reason. */
static void expect(const struct jwt_policy *p, const char *name, const char *token,
                   enum jwt_status want, const char *reason_part)
{
    struct jwt_result res;
    enum jwt_status got = verify_at(main_set(), p, token, FX_NOW, &res);
    UNIT_CHECK(got == want && res.status == got, "%s: status %s, expected %s (%s)", name,
               jwt_status_name(got), jwt_status_name(want), res.reason);
    if (reason_part)
        UNIT_CHECK(strstr(res.reason, reason_part) != NULL, "%s: reason \"%s\" lacks \"%s\"", name,
                   res.reason, reason_part);
    UNIT_CHECK((got == JWT_OK) == (res.claims != NULL), "%s: claims only when valid", name);
    UNIT_CHECK(http_value_is_safe(res.reason, strlen(res.reason)),
               "%s: reason must be safe to log: %s", name, res.reason);
    jwt_result_release(&res);
}

#define EXPECT_OK(tok) expect(&pol, #tok, fx_tok_##tok, JWT_OK, NULL)
#define EXPECT_BAD(tok, why) expect(&pol, #tok, fx_tok_##tok, JWT_INVALID, why)

/* A copy of s with its last n characters dropped (or, if more is given, appended). */
static char *edited(const char *s, size_t drop, const char *more)
{
    size_t len = strlen(s) - drop, mlen = more ? strlen(more) : 0;
    char *out = malloc(len + mlen + 1);
    if (!out)
        abort();
    memcpy(out, s, len);
    if (mlen)
        memcpy(out + len, more, mlen);
    out[len + mlen] = '\0';
    return out;
}

/* ---- b64url ---- */

static long dec(const char *in, unsigned char *out, size_t cap)
{
    return b64url_decode(in, strlen(in), out, cap);
}

static void test_b64url_strict(void)
{
    unsigned char out[64];
    UNIT_INT_EQ(dec("", out, sizeof(out)), 0);
    UNIT_INT_EQ(dec("QQ", out, sizeof(out)), 1);
    UNIT_INT_EQ(out[0], 'A');
    UNIT_INT_EQ(dec("QUI", out, sizeof(out)), 2);
    UNIT_INT_EQ(memcmp(out, "AB", 2), 0);
    UNIT_INT_EQ(dec("QUJD", out, sizeof(out)), 3);
    UNIT_INT_EQ(memcmp(out, "ABC", 3), 0);
    UNIT_INT_EQ(dec("-_8", out, sizeof(out)), 2);
    UNIT_INT_EQ(out[0], 0xfb);
    UNIT_INT_EQ(out[1], 0xff);
    /* Refused: a 4k+1 length, non-zero trailing bits, padding, the standard alphabet, space. */
    const char *bad[] = {"Q",    "QR", "QUJ",   "QQ==",  "QQ=",   "QUI=", "+/8",
                         "Q/",   "Q+", " QQ",   "QQ ",   "Q\nQ",  "QQ\t", "Q.Q",
                         "QQ\r", "Q%", "QUJD=", "QU JD", "QUJD\n"};
    for (size_t i = 0; i < UNIT_N(bad); i++)
        UNIT_CHECK(dec(bad[i], out, sizeof(out)) == -1, "\"%s\" should be refused", bad[i]);
    /* An embedded NUL byte counts (the length is explicit). */
    UNIT_INT_EQ(b64url_decode("QQ\0A", 4, out, sizeof(out)), -1);
    /* Too small an output buffer. */
    UNIT_INT_EQ(dec("QUJD", out, 2), -1);
}

static void test_b64url_long(void)
{
    /* Across the translation chunks: 3001 characters of 'A' decode to zeros. */
    size_t n = 3002;
    char *in = malloc(n + 1);
    unsigned char *out = malloc(B64URL_DECODE_ROOM(n));
    memset(in, 'A', n);
    in[n] = '\0';
    UNIT_INT_EQ(b64url_decode(in, n, out, B64URL_DECODE_ROOM(n)), 2251);
    int zero = 1;
    for (size_t i = 0; i < 2251; i++)
        zero &= out[i] == 0;
    UNIT_CHECK(zero, "decoded bytes should all be zero");
    in[1500] = '=';
    UNIT_INT_EQ(b64url_decode(in, n, out, B64URL_DECODE_ROOM(n)), -1);
    free(in);
    free(out);
}

/* ---- algorithms ---- */

static void test_alg_names(void)
{
    const char *names[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
                           "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"};
    for (size_t i = 0; i < UNIT_N(names); i++) {
        UNIT_INT_EQ(jwt_alg_parse(names[i], strlen(names[i])), i);
        UNIT_STR_EQ(jwt_alg_name((enum jwt_alg)i), names[i]);
    }
    const char *bad[] = {"none",   "None",  "NONE",   "",        "rs256", "RS256 ",
                         "RS2560", "EDDSA", "ES256K", "Ed25519", "HS1"};
    for (size_t i = 0; i < UNIT_N(bad); i++)
        UNIT_CHECK(jwt_alg_parse(bad[i], strlen(bad[i])) == -1, "\"%s\" is no algorithm", bad[i]);
    UNIT_INT_EQ(jwt_alg_parse("RS256", 4), -1);
    UNIT_STR_EQ(jwt_alg_name(JWT_ALG_COUNT), "?");
}

/* ---- key sets ---- */

static void test_jwks_main(void)
{
    struct notes n = {0};
    char err[256] = "";
    struct jwt_keyset *s = set_from_jwks(fx_jwks_main, JWT_ALGS_ALL, &n, err, sizeof(err));
    UNIT_CHECK(s != NULL, "main JWKS should load: %s", err);
    if (!s)
        return;
    /* 11 keys: rsa-enc ("use": "enc") and rsa-small (1024 bits) are skipped, with notes. */
    UNIT_INT_EQ(jwt_keyset_count(s), 9);
    UNIT_INT_EQ(n.count, 2);
    UNIT_STR_HAS(n.last, "rsa-small");
    UNIT_STR_HAS(n.last, "1024 bits");
    UNIT_INT_EQ(jwt_keyset_algs(s), JWT_ALGS_ALL);
    /* Each key's algorithms: its type's, narrowed by its JWK alg. */
    for (size_t i = 0; i < jwt_keyset_count(s); i++) {
        const char *kid;
        size_t kidlen;
        const struct jwa_key *k = jwt_keyset_key(s, i, &kid, &kidlen);
        UNIT_CHECK(kid != NULL, "every key of main has a kid");
        if (!kid)
            continue;
        unsigned want = strcmp(kid, "rsa-alg") == 0   ? JWT_ALG_BIT(JWT_RS256)
                        : strncmp(kid, "rsa", 3) == 0 ? JWT_ALGS_RSA
                        : strcmp(kid, "ec-256") == 0  ? JWT_ALG_BIT(JWT_ES256)
                        : strcmp(kid, "ec-384") == 0  ? JWT_ALG_BIT(JWT_ES384)
                        : strcmp(kid, "ec-521") == 0  ? JWT_ALG_BIT(JWT_ES512)
                        : strcmp(kid, "ed") == 0      ? JWT_ALG_BIT(JWT_EDDSA)
                                                      : JWT_ALGS_HMAC;
        UNIT_CHECK(jwa_key_algs(k) == want, "kid %s: algs %#x, expected %#x", kid, jwa_key_algs(k),
                   want);
    }
    jwt_keyset_unref(s);
}

static void test_jwks_empty_sets(void)
{
    char err[256] = "";
    struct notes n = {0};
    UNIT_CHECK(set_from_jwks(fx_jwks_small, JWT_ALGS_ALL, &n, err, sizeof(err)) == NULL,
               "a JWKS with only a 1024-bit RSA key is empty");
    UNIT_STR_HAS(err, "no usable key (1 skipped");
    UNIT_STR_HAS(err, "RSA key of 1024 bits (at least 2048 required)");
    UNIT_CHECK(set_from_jwks(fx_jwks_enc, JWT_ALGS_ALL, NULL, err, sizeof(err)) == NULL,
               "a JWKS with only an encryption key is empty");
    UNIT_STR_HAS(err, "\"use\" is not \"sig\"");
    UNIT_CHECK(set_from_jwks("{\"keys\":[]}", JWT_ALGS_ALL, NULL, err, sizeof(err)) == NULL,
               "no keys");
    UNIT_STR_EQ(err, "no usable key");
    /* Only ES256 allowed: of main, only ec-256 is left. */
    struct jwt_keyset *s =
        set_from_jwks(fx_jwks_main, JWT_ALG_BIT(JWT_ES256), NULL, err, sizeof(err));
    UNIT_CHECK(s != NULL, "ec-256 is usable for ES256: %s", err);
    if (s)
        UNIT_INT_EQ(jwt_keyset_count(s), 1);
    jwt_keyset_unref(s);
    /* Only RS512 allowed: rsa-alg ("alg": "RS256") is skipped, with a note saying so. */
    memset(&n, 0, sizeof(n));
    s = set_from_jwks(fx_jwks_main, JWT_ALG_BIT(JWT_RS512), &n, err, sizeof(err));
    UNIT_CHECK(s != NULL, "RSA keys are usable for RS512: %s", err);
    if (s)
        UNIT_INT_EQ(jwt_keyset_count(s), 3);
    UNIT_INT_EQ(n.count, 8);
    jwt_keyset_unref(s);
}

/* A JWKS document refused as a whole. */
static void jwks_refused(const char *doc, const char *why)
{
    char err[256] = "";
    struct jwt_keyset_builder *b = jwt_keyset_builder_new(JWT_ALGS_ALL, NULL, NULL);
    const char *msg = jwt_keyset_add_jwks(b, doc, strlen(doc), err, sizeof(err));
    UNIT_CHECK(msg != NULL, "JWKS %s should be refused", doc);
    if (msg)
        UNIT_STR_HAS(msg, why);
    jwt_keyset_builder_free(b);
}

static void test_jwks_refused(void)
{
    jwks_refused("", "not JSON");
    jwks_refused("{\"keys\": [", "not JSON");
    jwks_refused("{\"keys\": []} x", "not JSON");
    jwks_refused("{\"keys\": [], \"keys\": []}", "duplicate");
    jwks_refused("[]", "\"keys\" array");
    jwks_refused("{\"keys\": {}}", "\"keys\" array");
    jwks_refused("{\"key\": []}", "\"keys\" array");
    /* More keys than a set holds. */
    json_t *doc = json_pack("{s:[]}", "keys");
    for (int i = 0; i <= JWT_KEYSET_MAX_KEYS; i++)
        json_array_append_new(json_object_get(doc, "keys"), json_pack("{s:s}", "kty", "oct"));
    char *text = json_dumps(doc, 0);
    jwks_refused(text, "more than 64");
    free(text);
    json_decref(doc);
}

/* One JWK of main.jwks.json (by kid), as a new object. */
static json_t *main_jwk(const char *kid)
{
    json_t *doc = json_loads(fx_jwks_main, 0, NULL), *found = NULL;
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(doc, "keys"), i, k)
    {
        if (strcmp(json_string_value(json_object_get(k, "kid")), kid) == 0)
            found = json_deep_copy(k);
    }
    json_decref(doc);
    return found;
}

/* A JWKS holding exactly this JWK (taken) must build no set; the skip note names why. */
static void jwk_skipped(json_t *jwk, const char *why)
{
    json_t *doc = json_pack("{s:[o]}", "keys", jwk);
    char *text = json_dumps(doc, 0);
    char err[512] = "";
    struct notes n = {0};
    struct jwt_keyset *s = set_from_jwks(text, JWT_ALGS_ALL, &n, err, sizeof(err));
    UNIT_CHECK(s == NULL && n.count == 1, "JWK %s should be skipped", text);
    UNIT_CHECK(strstr(n.last, why) != NULL, "note \"%s\" lacks \"%s\"", n.last, why);
    UNIT_STR_HAS(err, why);
    jwt_keyset_unref(s);
    free(text);
    json_decref(doc);
}

static void test_jwk_skipped(void)
{
    json_t *k;
    k = main_jwk("rsa-a");
    json_object_set_new(k, "n", json_string("a+b"));
    jwk_skipped(k, "\"n\" is not base64url");
    k = main_jwk("rsa-a");
    json_object_del(k, "e");
    jwk_skipped(k, "no \"e\"");
    k = main_jwk("rsa-a");
    json_object_set_new(k, "e", json_string("AAE")); /* e = 1 */
    jwk_skipped(k, "trivial");
    k = main_jwk("rsa-a");
    json_object_set_new(k, "alg", json_string("ES256"));
    jwk_skipped(k, "\"alg\" ES256 does not fit \"kty\" RSA");
    k = main_jwk("rsa-a");
    json_object_set_new(k, "alg", json_string("RSA-OAEP"));
    jwk_skipped(k, "not a JWS signature algorithm");
    k = main_jwk("rsa-a");
    json_object_set_new(k, "alg", json_string("none"));
    jwk_skipped(k, "not a JWS signature algorithm");
    k = main_jwk("rsa-a");
    json_object_set_new(k, "key_ops", json_pack("[s]", "encrypt"));
    jwk_skipped(k, "\"key_ops\" does not hold \"verify\"");
    k = main_jwk("rsa-a");
    json_object_set_new(k, "use", json_integer(1));
    jwk_skipped(k, "\"use\" is not \"sig\"");
    k = main_jwk("rsa-a");
    json_object_set_new(k, "kid", json_integer(1));
    jwk_skipped(k, "\"kid\" is not a string");
    k = main_jwk("rsa-a");
    json_object_set_new(k, "kty", json_string("rsa"));
    jwk_skipped(k, "\"kty\" is not RSA, EC, OKP or oct");
    /* EC: a point that is not on the curve, a short coordinate, another curve. */
    k = main_jwk("ec-384");
    json_object_set(k, "y", json_object_get(k, "x"));
    jwk_skipped(k, "not a point of P-384");
    k = main_jwk("ec-256");
    json_object_set_new(k, "x", json_string("AAAA"));
    jwk_skipped(k, "not 32 bytes");
    k = main_jwk("ec-256");
    json_object_set_new(k, "crv", json_string("secp256k1"));
    jwk_skipped(k, "P-256, P-384 or P-521");
    k = main_jwk("ec-521");
    json_object_set_new(k, "crv", json_string("P-256"));
    jwk_skipped(k, "not 32 bytes");
    /* OKP: only Ed25519 signs. */
    k = main_jwk("ed");
    json_object_set_new(k, "crv", json_string("X25519"));
    jwk_skipped(k, "Ed25519 required");
    k = main_jwk("ed");
    json_object_set_new(k, "x", json_string("AAAA"));
    jwk_skipped(k, "32 required");
    /* oct: too short a secret. */
    k = main_jwk("hs");
    json_object_set_new(k, "k", json_string("c2hvcnQ"));
    jwk_skipped(k, "too short for HS256 (at least 32 bytes)");
    k = main_jwk("hs");
    json_object_set_new(k, "k", json_string(""));
    jwk_skipped(k, "\"k\" is empty");
    jwk_skipped(json_string("not an object"), "not an object");
}

/* A set from one PEM text: NULL with the reason in err. */
static struct jwt_keyset *set_from_pem(const char *pem, const char *kid, unsigned algs, char *err,
                                       size_t errlen)
{
    struct jwt_keyset_builder *b = jwt_keyset_builder_new(JWT_ALGS_ALL, NULL, NULL);
    if (jwt_keyset_add_pem(b, pem, strlen(pem), kid, algs, err, errlen) != NULL) {
        jwt_keyset_builder_free(b);
        return NULL;
    }
    return jwt_keyset_build(b, err, errlen);
}

static void test_pem_keys(void)
{
    static const struct {
        const char *pem;
        const char *token;
        unsigned algs;
    } good[] = {
        {fx_pem_rsa_a, fx_tok_rs256, JWT_ALGS_RSA},
        {fx_pem_rsa_a_pkcs1, fx_tok_ps512, JWT_ALGS_RSA},
        {fx_pem_ec_256, fx_tok_es256, JWT_ALG_BIT(JWT_ES256)},
        {fx_pem_ec_384, fx_tok_es384, JWT_ALG_BIT(JWT_ES384)},
        {fx_pem_ec_521, fx_tok_es512, JWT_ALG_BIT(JWT_ES512)},
        {fx_pem_ed, fx_tok_eddsa, JWT_ALG_BIT(JWT_EDDSA)},
    };
    struct jwt_policy pol = any_policy();
    for (size_t i = 0; i < UNIT_N(good); i++) {
        char err[256] = "";
        struct jwt_keyset *s = set_from_pem(good[i].pem, NULL, 0, err, sizeof(err));
        UNIT_CHECK(s != NULL, "PEM %zu should load: %s", i, err);
        if (!s)
            continue;
        UNIT_INT_EQ(jwt_keyset_algs(s), good[i].algs);
        /* The token has a kid; a key without one is tried for any kid. */
        struct jwt_result res;
        UNIT_CHECK(verify_at(s, &pol, good[i].token, FX_NOW, &res) == JWT_OK, "PEM %zu: %s", i,
                   res.reason);
        jwt_result_release(&res);
        jwt_keyset_unref(s);
    }
    static const struct {
        const char *pem, *why;
    } bad[] = {
        {fx_pem_rsa_small, "RSA key of 1024 bits (at least 2048 required)"},
        {fx_pem_rsa_a_private, "not a PEM public key"},
        {fx_pem_ec_k1, "EC key on curve secp256k1"},
        {fx_pem_ec_explicit, "explicit curve parameters"},
        {fx_pem_x25519, "X25519 key"},
        {fx_pem_certificate, "a certificate"},
        {"", "not PEM"},
        {"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a PEM public key"},
        {fx_jwks_main, "not PEM"},
    };
    for (size_t i = 0; i < UNIT_N(bad); i++) {
        char err[256] = "";
        struct jwt_keyset *s = set_from_pem(bad[i].pem, NULL, 0, err, sizeof(err));
        UNIT_CHECK(s == NULL, "bad PEM %zu should be refused", i);
        UNIT_CHECK(strstr(err, bad[i].why) != NULL, "bad PEM %zu: \"%s\" lacks \"%s\"", i, err,
                   bad[i].why);
        jwt_keyset_unref(s);
    }
    /* Two keys in one text; a key narrowed to algorithms it cannot verify. */
    char two[8192], err[256] = "";
    snprintf(two, sizeof(two), "%s%s", fx_pem_ec_256, fx_pem_ed);
    UNIT_CHECK(set_from_pem(two, NULL, 0, err, sizeof(err)) == NULL, "two PEM keys");
    UNIT_STR_HAS(err, "more than one PEM block");
    UNIT_CHECK(set_from_pem(fx_pem_ec_256, NULL, JWT_ALG_BIT(JWT_ES384), err, sizeof(err)) == NULL,
               "P-256 key for ES384 only");
    UNIT_STR_HAS(err, "EC P-256 key fits none of the allowed algorithms (it could verify ES256)");
    UNIT_CHECK(set_from_pem(fx_pem_rsa_a, NULL, JWT_ALGS_HMAC, err, sizeof(err)) == NULL,
               "an RSA key is never an HMAC secret");
    UNIT_STR_HAS(err, "fits none of the allowed");
    char longkid[JWT_KID_MAX + 2];
    memset(longkid, 'k', sizeof(longkid) - 1);
    longkid[sizeof(longkid) - 1] = '\0';
    UNIT_CHECK(set_from_pem(fx_pem_ed, longkid, 0, err, sizeof(err)) == NULL, "long kid");
    UNIT_STR_HAS(err, "kid is longer than 256 bytes");
}

static void test_secrets_and_merging(void)
{
    char err[256] = "";
    struct jwt_keyset_builder *b = jwt_keyset_builder_new(JWT_ALGS_ALL, NULL, NULL);
    /* 20 bytes are too short for any HS algorithm; 48 bytes for HS384 but not HS512. */
    UNIT_CHECK(jwt_keyset_add_secret(b, fx_secret_short, sizeof(fx_secret_short), "s", 0, err,
                                     sizeof(err)) != NULL,
               "a 20-byte secret is refused");
    UNIT_STR_HAS(err, "secret of 20 bytes is too short for HS256 (at least 32 bytes)");
    UNIT_CHECK(jwt_keyset_add_secret(b, fx_secret_hs, 48, "s48", JWT_ALG_BIT(JWT_HS512), err,
                                     sizeof(err)) != NULL,
               "48 bytes for HS512 only is refused");
    UNIT_STR_HAS(err, "too short for HS512 (at least 64 bytes)");
    /* Several sources in one set: a JWKS, a PEM key with a kid, the raw secret. */
    UNIT_CHECK(jwt_keyset_add_jwks(b, fx_jwks_rotation, strlen(fx_jwks_rotation), err,
                                   sizeof(err)) == NULL,
               "rotation JWKS: %s", err);
    UNIT_CHECK(jwt_keyset_add_pem(b, fx_pem_ed, strlen(fx_pem_ed), "pem-ed", 0, err, sizeof(err)) ==
                   NULL,
               "PEM: %s", err);
    UNIT_CHECK(jwt_keyset_add_secret(b, fx_secret_hs, sizeof(fx_secret_hs), "hs", 0, err,
                                     sizeof(err)) == NULL,
               "secret: %s", err);
    struct jwt_keyset *s = jwt_keyset_build(b, err, sizeof(err));
    UNIT_CHECK(s != NULL, "merged set: %s", err);
    if (!s)
        return;
    UNIT_INT_EQ(jwt_keyset_count(s), 5);
    struct jwt_policy pol = any_policy();
    struct jwt_result res;
    const char *ok[] = {fx_tok_rs256, fx_tok_rs256_b,     fx_tok_es256,      fx_tok_hs256,
                        fx_tok_hs512, fx_tok_rs256_nokid, fx_tok_hs256_nokid};
    for (size_t i = 0; i < UNIT_N(ok); i++) {
        UNIT_CHECK(verify_at(s, &pol, ok[i], FX_NOW, &res) == JWT_OK, "merged %zu: %s", i,
                   res.reason);
        jwt_result_release(&res);
    }
    /* The PEM key has kid "pem-ed": a token naming "ed" does not select it. */
    UNIT_INT_EQ(verify_at(s, &pol, fx_tok_eddsa, FX_NOW, &res), JWT_UNKNOWN_KID);
    jwt_result_release(&res);
    /* References: the set lives until the last one is dropped. */
    struct jwt_keyset *again = jwt_keyset_ref(s);
    UNIT_CHECK(again == s, "ref returns the set");
    jwt_keyset_unref(s);
    UNIT_INT_EQ(verify_at(again, &pol, fx_tok_hs384, FX_NOW, &res), JWT_OK);
    jwt_result_release(&res);
    jwt_keyset_unref(again);
    jwt_keyset_unref(NULL);
    jwt_keyset_builder_free(NULL);
}

/* ---- verification: every algorithm ---- */

static void test_every_algorithm(void)
{
    struct jwt_policy pol = any_policy();
    static const struct {
        const char *name, *token;
        enum jwt_alg alg;
    } cases[] = {
        {"rs256", fx_tok_rs256, JWT_RS256}, {"rs384", fx_tok_rs384, JWT_RS384},
        {"rs512", fx_tok_rs512, JWT_RS512}, {"ps256", fx_tok_ps256, JWT_PS256},
        {"ps384", fx_tok_ps384, JWT_PS384}, {"ps512", fx_tok_ps512, JWT_PS512},
        {"es256", fx_tok_es256, JWT_ES256}, {"es384", fx_tok_es384, JWT_ES384},
        {"es512", fx_tok_es512, JWT_ES512}, {"eddsa", fx_tok_eddsa, JWT_EDDSA},
        {"hs256", fx_tok_hs256, JWT_HS256}, {"hs384", fx_tok_hs384, JWT_HS384},
        {"hs512", fx_tok_hs512, JWT_HS512},
    };
    for (size_t i = 0; i < UNIT_N(cases); i++) {
        struct jwt_result res;
        enum jwt_status st = verify_at(main_set(), &pol, cases[i].token, FX_NOW, &res);
        UNIT_CHECK(st == JWT_OK, "%s: %s", cases[i].name, res.reason);
        UNIT_INT_EQ(res.alg, cases[i].alg);
        UNIT_CHECK(res.has_exp && res.exp == FX_FAR, "%s: exp %lld", cases[i].name,
                   (long long)res.exp);
        UNIT_STR_EQ(json_string_value(json_object_get(res.claims, "sub")), "user-42");
        UNIT_STR_EQ(res.reason, "");
        jwt_result_release(&res);
        UNIT_CHECK(res.claims == NULL, "released");
        /* Only that algorithm allowed: still fine; everything but it: refused. */
        struct jwt_policy only = {.algs = JWT_ALG_BIT(cases[i].alg)};
        expect(&only, cases[i].name, cases[i].token, JWT_OK, NULL);
        struct jwt_policy others = {.algs = JWT_ALGS_ALL & ~JWT_ALG_BIT(cases[i].alg)};
        expect(&others, cases[i].name, cases[i].token, JWT_INVALID, "is not allowed");
    }
}

static void test_kid_lookup(void)
{
    struct jwt_policy pol = any_policy();
    /* Among several keys by kid; without kid every key fit for the alg is tried. */
    EXPECT_OK(rs256_b);
    EXPECT_OK(rs256_3072);
    EXPECT_OK(rs256_nokid);
    EXPECT_OK(es256_nokid);
    EXPECT_OK(hs256_nokid);
    EXPECT_OK(rs256_on_rs256_key);
    EXPECT_OK(url_dash_ok);
    /* Key locations in the header are ignored; our own key's signature still counts. */
    EXPECT_OK(rs256_with_key_urls);
    /* ECDSA is malleable: (r, n - s) verifies too, and says the same. */
    EXPECT_OK(es256_high_s);
    /* A rotation set: rsa-b first, then rsa-a and ec-256. */
    char err[256] = "";
    struct jwt_keyset *s = set_from_jwks(fx_jwks_rotation, JWT_ALGS_ALL, NULL, err, sizeof(err));
    UNIT_CHECK(s != NULL, "rotation JWKS: %s", err);
    struct jwt_result res;
    UNIT_INT_EQ(verify_at(s, &pol, fx_tok_rs256, FX_NOW, &res), JWT_OK);
    jwt_result_release(&res);
    UNIT_INT_EQ(verify_at(s, &pol, fx_tok_rs256_nokid, FX_NOW, &res), JWT_OK);
    jwt_result_release(&res);
    UNIT_INT_EQ(verify_at(s, &pol, fx_tok_rs384, FX_NOW, &res), JWT_OK);
    jwt_result_release(&res);
    /* A kid the set lacks: the caller may refetch. */
    UNIT_INT_EQ(verify_at(s, &pol, fx_tok_es384, FX_NOW, &res), JWT_UNKNOWN_KID);
    UNIT_STR_HAS(res.reason, "no key with kid \"ec-384\"");
    jwt_result_release(&res);
    /* No kid and no key for the alg: invalid, nothing to refetch for. */
    UNIT_INT_EQ(verify_at(s, &pol, fx_tok_hs256_nokid, FX_NOW, &res), JWT_INVALID);
    UNIT_STR_HAS(res.reason, "no key verifies HS256");
    jwt_result_release(&res);
    jwt_keyset_unref(s);
}

/* ---- attacks ---- */

static void test_attacks_alg(void)
{
    struct jwt_policy pol = any_policy();
    EXPECT_BAD(none_none, "empty signature");
    EXPECT_BAD(none_None, "empty signature");
    EXPECT_BAD(none_NONE, "empty signature");
    EXPECT_BAD(none_nOnE, "empty signature");
    EXPECT_BAD(none_none_sig, "alg none");
    EXPECT_BAD(none_None_sig, "alg none");
    EXPECT_BAD(none_NONE_sig, "alg none");
    EXPECT_BAD(none_nOnE_sig, "alg none");
    EXPECT_BAD(alg_lowercase, "not a known signature algorithm");
    EXPECT_BAD(alg_unknown, "not a known signature algorithm");
    EXPECT_BAD(alg_missing, "no alg");
    EXPECT_BAD(alg_number, "alg is not a string");
    /* HS256 with the RSA public key's PEM as the secret: an RSA key never verifies HS256. */
    EXPECT_BAD(hs256_rsa_pem, "no key with kid \"rsa-a\" verifies HS256");
    EXPECT_BAD(hs256_rsa_pem_nokid, "signature does not verify");
    char err[256] = "";
    struct jwt_keyset *rsa_only = set_from_pem(fx_pem_rsa_a, NULL, 0, err, sizeof(err));
    struct jwt_result res;
    /* A set of one PEM key without kid: a kid names none of its keys (it may be stale). */
    UNIT_INT_EQ(verify_at(rsa_only, &pol, fx_tok_hs256_rsa_pem, FX_NOW, &res), JWT_UNKNOWN_KID);
    jwt_result_release(&res);
    UNIT_INT_EQ(verify_at(rsa_only, &pol, fx_tok_hs256_rsa_pem_nokid, FX_NOW, &res), JWT_INVALID);
    UNIT_STR_HAS(res.reason, "no key verifies HS256");
    jwt_result_release(&res);
    jwt_keyset_unref(rsa_only);
    /* A JWK "alg" binds the key: rsa-alg is RS256 only. */
    EXPECT_BAD(rs512_on_rs256_key, "no key with kid \"rsa-alg\" verifies RS512");
    /* An EC key verifies the ES of its own curve only. */
    EXPECT_BAD(es256_on_p384, "no key with kid \"ec-384\" verifies ES256");
    EXPECT_BAD(es384_by_p256, "r||s");
}

static void test_attacks_signature(void)
{
    struct jwt_policy pol = any_policy();
    EXPECT_BAD(payload_changed, "signature does not verify");
    EXPECT_BAD(signature_other_token, "signature does not verify");
    EXPECT_BAD(rs256_sig_short, "size of the modulus");
    EXPECT_BAD(es256_zero, "not in [1, n-1]");
    EXPECT_BAD(es256_r_zero, "not in [1, n-1]");
    EXPECT_BAD(es256_r_n, "not in [1, n-1]");
    EXPECT_BAD(es256_s_n, "not in [1, n-1]");
    EXPECT_BAD(es384_zero, "not in [1, n-1]");
    EXPECT_BAD(es384_r_zero, "not in [1, n-1]");
    EXPECT_BAD(es384_r_n, "not in [1, n-1]");
    EXPECT_BAD(es384_s_n, "not in [1, n-1]");
    EXPECT_BAD(es512_zero, "not in [1, n-1]");
    EXPECT_BAD(es512_r_zero, "not in [1, n-1]");
    EXPECT_BAD(es512_r_n, "not in [1, n-1]");
    EXPECT_BAD(es512_s_n, "not in [1, n-1]");
    EXPECT_BAD(es256_short, "r||s");
    EXPECT_BAD(es256_long, "r||s");
    EXPECT_BAD(es256_der, "r||s");
    /* Stripped or empty signature. */
    char *t = edited(fx_tok_rs256, strlen(strrchr(fx_tok_rs256, '.')), NULL);
    expect(&pol, "stripped", t, JWT_INVALID, "2 parts");
    free(t);
    t = edited(fx_tok_rs256, strlen(strrchr(fx_tok_rs256, '.')) - 1, NULL);
    expect(&pol, "empty signature", t, JWT_INVALID, "empty signature");
    free(t);
    t = edited(fx_tok_eddsa, 0, "AAAA");
    expect(&pol, "eddsa longer", t, JWT_INVALID, "64 bytes");
    free(t);
    t = edited(fx_tok_hs256, 3, NULL);
    expect(&pol, "hmac shorter", t, JWT_INVALID, "size of the hash");
    free(t);
    /* One changed bit in each algorithm's signature. */
    const char *all[] = {fx_tok_rs256, fx_tok_ps384, fx_tok_es256,
                         fx_tok_es512, fx_tok_eddsa, fx_tok_hs512};
    for (size_t i = 0; i < UNIT_N(all); i++) {
        t = edited(all[i], 0, NULL);
        char *sig = strrchr(t, '.') + 1;
        sig[2] = sig[2] == 'A' ? 'B' : 'A';
        expect(&pol, "flipped", t, JWT_INVALID, NULL);
        free(t);
    }
}

static void test_attacks_kid_and_header_keys(void)
{
    struct jwt_policy pol = any_policy();
    expect(&pol, "kid_unknown", fx_tok_kid_unknown, JWT_UNKNOWN_KID, "no key with kid \"nope\"");
    expect(&pol, "kid_path", fx_tok_kid_path, JWT_UNKNOWN_KID, "\"../../etc/passwd\"");
    expect(&pol, "kid_control", fx_tok_kid_control, JWT_UNKNOWN_KID, "\"a??b?c\"");
    expect(&pol, "use_enc", fx_tok_use_enc, JWT_UNKNOWN_KID, "rsa-enc");
    expect(&pol, "rsa_small", fx_tok_rsa_small, JWT_UNKNOWN_KID, "rsa-small");
    EXPECT_BAD(kid_number, "kid is not a string");
    /* Keys and URLs in the header, signed by another key: nothing is taken from the token. */
    EXPECT_BAD(jku_attacker, "signature does not verify");
    EXPECT_BAD(jku_attacker_kid, "signature does not verify");
    EXPECT_BAD(x5u_attacker, "signature does not verify");
    EXPECT_BAD(jwk_attacker, "signature does not verify");
    EXPECT_BAD(jwk_attacker_kid, "signature does not verify");
    EXPECT_BAD(x5c_attacker, "signature does not verify");
    EXPECT_BAD(jwk_attacker_ec, "signature does not verify");
    EXPECT_BAD(crit, "crit");
    EXPECT_BAD(crit_b64, "crit");
}

static void test_attacks_json(void)
{
    struct jwt_policy pol = any_policy();
    EXPECT_BAD(dup_header, "header is not JSON: duplicate object key");
    EXPECT_BAD(dup_header_alg, "header is not JSON: duplicate object key");
    EXPECT_BAD(dup_payload, "payload is not JSON: duplicate object key");
    EXPECT_BAD(dup_payload_nested, "payload is not JSON: duplicate object key");
    EXPECT_BAD(header_array, "header is not a JSON object");
    EXPECT_BAD(header_string, "header is not JSON");
    EXPECT_BAD(header_notjson, "header is not JSON");
    EXPECT_BAD(header_trailing, "header is not JSON");
    /* jansson's message quotes the text; what reaches the reason is cut and printable. */
    EXPECT_BAD(header_control, "header is not JSON: string or '}' expected");
    EXPECT_BAD(payload_bad_utf8, "payload is not JSON: unable to decode byte 0xff");
    EXPECT_BAD(payload_array, "payload is not a JSON object");
    EXPECT_BAD(payload_notjson, "payload is not JSON");
    EXPECT_BAD(payload_bigint, "payload is not JSON");
    EXPECT_BAD(payload_nul, "payload is not JSON");
}

static void test_attacks_encoding(void)
{
    struct jwt_policy pol = any_policy();
    EXPECT_BAD(pad_header, "header is not strict base64url");
    EXPECT_BAD(pad_header_one, "header is not strict base64url");
    EXPECT_BAD(pad_signature, "signature is not strict base64url");
    EXPECT_BAD(std_plus, "payload is not strict base64url");
    EXPECT_BAD(std_slash, "payload is not strict base64url");
    EXPECT_BAD(space_in_payload, "payload is not strict base64url");
    EXPECT_BAD(newline_in_header, "header is not strict base64url");
    EXPECT_BAD(tab_in_header, "header is not strict base64url");
    EXPECT_BAD(noncanonical_header, "header is not strict base64url");
    EXPECT_BAD(noncanonical_header3, "header is not strict base64url");
    EXPECT_BAD(length_4k1, "header is not strict base64url");
    EXPECT_BAD(jwe, "5 parts");
    /* Part counts, empty parts, whitespace around the token. */
    char *t = edited(fx_tok_hs256, 0, ".AAAA");
    expect(&pol, "four parts", t, JWT_INVALID, "4 parts");
    free(t);
    t = edited(fx_tok_hs256, 0, "\n");
    expect(&pol, "trailing newline", t, JWT_INVALID, "signature is not strict base64url");
    free(t);
    t = edited(fx_tok_hs256, 0, " ");
    expect(&pol, "trailing space", t, JWT_INVALID, "signature is not strict base64url");
    free(t);
    expect(&pol, "one part", "eyJhbGciOiJIUzI1NiJ9", JWT_INVALID, "1 parts");
    expect(&pol, "dots", "..", JWT_INVALID, "empty header");
    expect(&pol, "empty payload", "eyJhbGciOiJIUzI1NiJ9..AAAA", JWT_INVALID, "empty payload");
    expect(&pol, "empty", "", JWT_INVALID, "empty token");
    /* A NUL byte inside the given length. */
    struct jwt_result res;
    size_t len = strlen(fx_tok_hs256);
    char *nul = edited(fx_tok_hs256, 0, "A");
    nul[len - 1] = '\0';
    UNIT_INT_EQ(jwt_verify(main_set(), &pol, nul, len + 1, FX_NOW, &res), JWT_INVALID);
    UNIT_STR_HAS(res.reason, "signature is not strict base64url");
    jwt_result_release(&res);
    free(nul);
    /* 1 MB; the limit itself; a policy's smaller limit. */
    size_t big = 1 << 20;
    char *huge = malloc(big + 1);
    memset(huge, 'A', big);
    huge[big] = '\0';
    expect(&pol, "1 MB", huge, JWT_INVALID, "longer than 16384 bytes");
    struct jwt_policy wide = {.algs = JWT_ALGS_ALL, .max_len = 2 << 20};
    expect(&wide, "1 MB with a larger max_len", huge, JWT_INVALID, "longer than 16384 bytes");
    huge[JWT_MAX_TOKEN_LEN + 1] = '\0';
    expect(&pol, "16385 bytes", huge, JWT_INVALID, "longer than 16384 bytes");
    huge[JWT_MAX_TOKEN_LEN] = '\0';
    expect(&pol, "16384 bytes", huge, JWT_INVALID, "1 parts");
    free(huge);
    struct jwt_policy small = {.algs = JWT_ALGS_ALL, .max_len = strlen(fx_tok_claims) - 1};
    expect(&small, "claims above max_len", fx_tok_claims, JWT_INVALID, "longer than");
    small.max_len++;
    expect(&small, "claims at max_len", fx_tok_claims, JWT_OK, NULL);
}

/* ---- registered claims ---- */

static void expect_at(const struct jwt_policy *p, const char *name, const char *token, int64_t now,
                      enum jwt_status want, const char *why)
{
    struct jwt_result res;
    enum jwt_status got = verify_at(main_set(), p, token, now, &res);
    UNIT_CHECK(got == want, "%s at %lld: %s, expected %s (%s)", name, (long long)now,
               jwt_status_name(got), jwt_status_name(want), res.reason);
    if (why)
        UNIT_CHECK(strstr(res.reason, why) != NULL, "%s: \"%s\" lacks \"%s\"", name, res.reason,
                   why);
    jwt_result_release(&res);
}

static void test_time_claims(void)
{
    struct jwt_policy pol = any_policy();
    EXPECT_BAD(expired, "expired 100000000 s ago");
    EXPECT_BAD(nbf_future, "not valid before");
    EXPECT_OK(nbf_past);
    EXPECT_BAD(iat_future, "issued 100000000 s in the future");
    EXPECT_BAD(exp_string, "exp is not a number");
    EXPECT_BAD(nbf_string, "nbf is not a number");
    EXPECT_BAD(iat_string, "iat is not a number");
    EXPECT_BAD(exp_bool, "exp is not a number");
    EXPECT_BAD(exp_null, "exp is not a number");
    EXPECT_BAD(no_exp, "no exp");
    /* exp is the first second the token is invalid; leeway extends each bound. */
    expect_at(&pol, "expired", fx_tok_expired, FX_PAST - 1, JWT_OK, NULL);
    expect_at(&pol, "expired", fx_tok_expired, FX_PAST, JWT_INVALID, "expired 0 s ago");
    struct jwt_policy lee = {.algs = JWT_ALGS_ALL, .leeway = 60};
    expect_at(&lee, "expired+leeway", fx_tok_expired, FX_PAST + 59, JWT_OK, NULL);
    expect_at(&lee, "expired+leeway", fx_tok_expired, FX_PAST + 60, JWT_INVALID, "expired");
    expect_at(&pol, "nbf", fx_tok_nbf_future, FX_FUTURE - 1, JWT_INVALID, "not valid before 1 s");
    expect_at(&pol, "nbf", fx_tok_nbf_future, FX_FUTURE, JWT_OK, NULL);
    expect_at(&lee, "nbf+leeway", fx_tok_nbf_future, FX_FUTURE - 60, JWT_OK, NULL);
    expect_at(&lee, "nbf+leeway", fx_tok_nbf_future, FX_FUTURE - 61, JWT_INVALID,
              "not valid before");
    expect_at(&pol, "iat", fx_tok_iat_future, FX_FUTURE, JWT_OK, NULL);
    expect_at(&lee, "iat+leeway", fx_tok_iat_future, FX_FUTURE - 60, JWT_OK, NULL);
    expect_at(&lee, "iat+leeway", fx_tok_iat_future, FX_FUTURE - 61, JWT_INVALID, "future");
    struct jwt_policy neg = {.algs = JWT_ALGS_ALL, .leeway = -100};
    expect_at(&neg, "negative leeway", fx_tok_expired, FX_PAST - 1, JWT_OK, NULL);
    /* exp may be a real; the result has it in whole seconds. */
    struct jwt_result res;
    UNIT_INT_EQ(verify_at(main_set(), &pol, fx_tok_exp_real, FX_NOW, &res), JWT_OK);
    UNIT_CHECK(res.has_exp && res.exp == FX_FAR, "exp %lld", (long long)res.exp);
    jwt_result_release(&res);
    /* Without exp, if the policy allows it. */
    struct jwt_policy noexp = {.algs = JWT_ALGS_ALL, .exp_optional = true};
    UNIT_INT_EQ(verify_at(main_set(), &noexp, fx_tok_no_exp, FX_NOW, &res), JWT_OK);
    UNIT_CHECK(!res.has_exp && res.exp == 0, "no exp in the result");
    jwt_result_release(&res);
    expect(&noexp, "exp_optional, expired", fx_tok_expired, JWT_INVALID, "expired");
    expect(&noexp, "exp_optional, exp string", fx_tok_exp_string, JWT_INVALID, "not a number");
    /* Refusals carry no expiry. */
    UNIT_INT_EQ(verify_at(main_set(), &pol, fx_tok_expired, FX_NOW, &res), JWT_INVALID);
    UNIT_CHECK(!res.has_exp && res.exp == 0 && res.claims == NULL, "nothing from a refusal");
    jwt_result_release(&res);
}

static void test_issuer_audience(void)
{
    struct jwt_policy pol = {.algs = JWT_ALGS_ALL, .issuer = FX_ISSUER};
    EXPECT_OK(rs256);
    EXPECT_BAD(iss_other, "iss is not the expected issuer");
    EXPECT_BAD(iss_number, "iss is not the expected issuer");
    EXPECT_BAD(no_aud_iss, "no iss");
    pol.issuer = FX_ISSUER "/";
    EXPECT_BAD(rs256, "iss is not the expected issuer");
    pol.issuer = "https://issuer.exampl";
    EXPECT_BAD(rs256, "iss is not the expected issuer");

    const char *api[] = {"api"}, *two[] = {"nope", "other"}, *none_match[] = {"Api", "ap"};
    pol = (struct jwt_policy){.algs = JWT_ALGS_ALL, .audiences = api, .naudiences = 1};
    EXPECT_OK(rs256);
    EXPECT_OK(aud_array);
    EXPECT_BAD(aud_other, "aud holds none of the expected audiences");
    EXPECT_BAD(aud_array_other, "aud holds none of the expected audiences");
    EXPECT_BAD(aud_array_mixed, "not a string");
    EXPECT_BAD(aud_object, "neither a string nor an array");
    EXPECT_BAD(no_aud_iss, "no aud");
    pol.audiences = two;
    pol.naudiences = 2;
    EXPECT_OK(aud_array);
    EXPECT_BAD(rs256, "aud holds none");
    pol.audiences = none_match;
    EXPECT_BAD(aud_array, "aud holds none");
    /* Not configured: not checked. */
    pol = any_policy();
    EXPECT_OK(aud_other);
    EXPECT_OK(iss_other);
    EXPECT_OK(no_aud_iss);
}

/* ---- claims: requiredClaims and export ---- */

static json_t *claims_of(const char *token, struct jwt_result *res)
{
    struct jwt_policy pol = any_policy();
    UNIT_CHECK(verify_at(main_set(), &pol, token, FX_NOW, res) == JWT_OK, "claims token: %s",
               res->reason);
    return res->claims;
}

#define PATH(...) ((const char *const[]){__VA_ARGS__})
#define NPATH(...) (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))
#define REQUIRE(want, accepted, ...)                                                               \
    do {                                                                                           \
        enum jwt_claim_match got_ = jwt_claim_require(c, PATH(__VA_ARGS__), NPATH(__VA_ARGS__),    \
                                                      accepted, UNIT_N(accepted));                 \
        UNIT_CHECK(got_ == (want), "require %s of %s: %d, expected %d", accepted[0],               \
                   PATH(__VA_ARGS__)[0], (int)got_, (int)(want));                                  \
    } while (0)

static void test_required_claims(void)
{
    struct jwt_result res;
    const json_t *c = claims_of(fx_tok_claims, &res);
    if (!c)
        return;
    const char *user[] = {"user-42"}, *user_prefix[] = {"user-4"}, *viewer[] = {"viewer"},
               *admin[] = {"admin"}, *write[] = {"write"}, *two_words[] = {"read write"},
               *any_role[] = {"admin", "editor"}, *de[] = {"DE"}, *b[] = {"b"}, *yes[] = {"true"},
               *n42[] = {"42"}, *n7[] = {"7"}, *real[] = {"2.5"}, *x[] = {"x"},
               *acme[] = {"acme", "other"}, *empty[] = {""};
    REQUIRE(JWT_CLAIM_MATCH, user, "sub");
    REQUIRE(JWT_CLAIM_MISMATCH, user_prefix, "sub");
    REQUIRE(JWT_CLAIM_MATCH, viewer, "roles");
    REQUIRE(JWT_CLAIM_MISMATCH, admin, "roles");
    REQUIRE(JWT_CLAIM_MATCH, any_role, "roles");
    /* scope: space-separated words; "admin:all" is one word. */
    REQUIRE(JWT_CLAIM_MATCH, write, "scope");
    REQUIRE(JWT_CLAIM_MISMATCH, admin, "scope");
    REQUIRE(JWT_CLAIM_MISMATCH, two_words, "scope");
    REQUIRE(JWT_CLAIM_MISMATCH, empty, "scope");
    /* Another string is not split. */
    REQUIRE(JWT_CLAIM_MATCH, acme, "tenant");
    REQUIRE(JWT_CLAIM_MATCH, de, "address", "country");
    REQUIRE(JWT_CLAIM_MISSING, de, "address", "zip");
    REQUIRE(JWT_CLAIM_MATCH, b, "https://example.com/roles");
    REQUIRE(JWT_CLAIM_MATCH, yes, "email_verified");
    REQUIRE(JWT_CLAIM_MATCH, n42, "age");
    REQUIRE(JWT_CLAIM_MATCH, n7, "groups");
    REQUIRE(JWT_CLAIM_MATCH, yes, "groups");
    REQUIRE(JWT_CLAIM_MATCH, real, "groups");
    REQUIRE(JWT_CLAIM_MISMATCH, x, "obj");
    REQUIRE(JWT_CLAIM_MISMATCH, x, "objs");
    REQUIRE(JWT_CLAIM_MISSING, x, "missing");
    REQUIRE(JWT_CLAIM_MISSING, x, "nul");
    REQUIRE(JWT_CLAIM_MISSING, x, "sub", "x");
    REQUIRE(JWT_CLAIM_MISMATCH, x, "empty");
    UNIT_INT_EQ(jwt_claim_require(c, PATH("sub"), 1, NULL, 0), JWT_CLAIM_MISMATCH);
    UNIT_CHECK(jwt_claim_find(c, PATH("sub"), 0) == NULL, "an empty path names nothing");
    jwt_result_release(&res);
}

static void export_is(const json_t *c, const char *const *path, size_t npath, enum jwt_export want,
                      const char *text)
{
    char mem[HTTP_MAX_VALUE + 16];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    buf_adds(&b, "pre:");
    enum jwt_export got = jwt_claim_export(c, path, npath, &b);
    UNIT_CHECK(got == want, "export %s: %s, expected %s", path[0], jwt_export_name(got),
               jwt_export_name(want));
    if (want == JWT_EXPORT_OK) {
        UNIT_CHECK(strncmp(b.data, "pre:", 4) == 0 && strcmp(b.data + 4, text) == 0,
                   "export %s: \"%s\", expected \"pre:%s\"", path[0], b.data, text);
    } else {
        UNIT_STR_EQ(b.data, "pre:");
        UNIT_CHECK(buf_ok(&b), "a refusal leaves the buffer usable");
    }
}

#define EXPORT(want, text, ...) export_is(c, PATH(__VA_ARGS__), NPATH(__VA_ARGS__), want, text)
#define EXPORT_FROM(o, want, text, ...)                                                            \
    export_is(o, PATH(__VA_ARGS__), NPATH(__VA_ARGS__), want, text)

static void test_export(void)
{
    struct jwt_result res;
    const json_t *c = claims_of(fx_tok_claims, &res);
    if (!c)
        return;
    EXPORT(JWT_EXPORT_OK, "user-42", "sub");
    EXPORT(JWT_EXPORT_OK, "42", "age");
    EXPORT(JWT_EXPORT_OK, "-17", "count");
    EXPORT(JWT_EXPORT_OK, "1.5", "ratio");
    EXPORT(JWT_EXPORT_OK, "3.0", "whole");
    EXPORT(JWT_EXPORT_OK, "0.1", "tenth");
    EXPORT(JWT_EXPORT_OK, "true", "verified");
    EXPORT(JWT_EXPORT_OK, "false", "flag");
    EXPORT(JWT_EXPORT_OK, "editor,viewer", "roles");
    EXPORT(JWT_EXPORT_OK, "g1,7,true,2.5", "groups");
    EXPORT(JWT_EXPORT_OK, "api,other", "aud");
    EXPORT(JWT_EXPORT_OK, "DE", "address", "country");
    EXPORT(JWT_EXPORT_OK, "a,b", "https://example.com/roles");
    EXPORT(JWT_EXPORT_OK, "Z\xc3\xbcrich", "utf8");
    EXPORT(JWT_EXPORT_OK, "", "empty");
    EXPORT(JWT_EXPORT_OK, "4102444800", "exp");
    EXPORT(JWT_EXPORT_UNSAFE, NULL, "crlf");
    EXPORT(JWT_EXPORT_UNSAFE, NULL, "tab");
    EXPORT(JWT_EXPORT_UNSUPPORTED, NULL, "obj");
    EXPORT(JWT_EXPORT_UNSUPPORTED, NULL, "address");
    EXPORT(JWT_EXPORT_UNSUPPORTED, NULL, "objs");
    EXPORT(JWT_EXPORT_UNSUPPORTED, NULL, "nested");
    EXPORT(JWT_EXPORT_UNSUPPORTED, NULL, "withnull");
    EXPORT(JWT_EXPORT_MISSING, NULL, "nul");
    EXPORT(JWT_EXPORT_MISSING, NULL, "missing");
    EXPORT(JWT_EXPORT_MISSING, NULL, "address", "zip");
    EXPORT(JWT_EXPORT_TOO_LONG, NULL, "long");
    /* What an application may read as a line break: C1 NEL, CSI, the line and paragraph
     * separators (JSON strings are UTF-8: no raw bytes to test here). */
    json_t *odd = json_loads("{\"nel\": \"a\\u0085b\", \"csi\": \"\\u009b\", \"ls\": "
                             "\"a\\u2028b\", \"ps\": \"\\u2029\", \"nbsp\": \"a\\u00a0b\"}",
                             0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(odd);
    EXPORT_FROM(odd, JWT_EXPORT_UNSAFE, NULL, "nel");
    EXPORT_FROM(odd, JWT_EXPORT_UNSAFE, NULL, "csi");
    EXPORT_FROM(odd, JWT_EXPORT_UNSAFE, NULL, "ls");
    EXPORT_FROM(odd, JWT_EXPORT_UNSAFE, NULL, "ps");
    EXPORT_FROM(odd, JWT_EXPORT_OK,
                "a\xc2\xa0"
                "b",
                "nbsp");
    json_decref(odd);
    /* A space at an end, which a web server would trim from the header but not from the
     * parameter, and an empty element, which the joined text cannot show. */
    json_t *spaced = json_loads("{\"lead\": \" admin\", \"trail\": \"DE  \", \"blank\": \" \", "
                                "\"inner\": \"Ada Lovelace\", \"items\": [\"a\", \" b\"], "
                                "\"holes\": [\"\", \"\"], \"hole\": [\"a\", \"\"], \"none\": [], "
                                "\"nbsp\": \"\\u00a0admin\", \"ideo\": \"admin\\u3000\", "
                                "\"bom\": \"admin\\ufeff\", \"inlist\": [\"a\", \"b\\u00a0\"]}",
                                0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(spaced);
    EXPORT_FROM(spaced, JWT_EXPORT_UNSAFE, NULL, "lead");
    EXPORT_FROM(spaced, JWT_EXPORT_UNSAFE, NULL, "trail");
    EXPORT_FROM(spaced, JWT_EXPORT_UNSAFE, NULL, "blank");
    EXPORT_FROM(spaced, JWT_EXPORT_UNSAFE, NULL, "items");
    EXPORT_FROM(spaced, JWT_EXPORT_UNSAFE, NULL, "holes");
    EXPORT_FROM(spaced, JWT_EXPORT_UNSAFE, NULL, "hole");
    EXPORT_FROM(spaced, JWT_EXPORT_OK, "Ada Lovelace", "inner");
    EXPORT_FROM(spaced, JWT_EXPORT_UNSAFE, NULL, "nbsp");
    EXPORT_FROM(spaced, JWT_EXPORT_UNSAFE, NULL, "ideo");
    EXPORT_FROM(spaced, JWT_EXPORT_UNSAFE, NULL, "bom");
    EXPORT_FROM(spaced, JWT_EXPORT_UNSAFE, NULL, "inlist");
    EXPORT_FROM(spaced, JWT_EXPORT_OK, "", "none");
    json_decref(spaced);
    /* Exactly HTTP_MAX_VALUE bytes is fine. */
    char fits[HTTP_MAX_VALUE + 1];
    memset(fits, 'y', HTTP_MAX_VALUE);
    fits[HTTP_MAX_VALUE] = '\0';
    EXPORT(JWT_EXPORT_OK, fits, "fits");
    /* A buffer too small for the value. */
    char mem[8];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    UNIT_INT_EQ(jwt_claim_export(c, PATH("sub"), 1, &b), JWT_EXPORT_OK);
    UNIT_STR_EQ(mem, "user-42");
    buf_reset(&b);
    UNIT_INT_EQ(jwt_claim_export(c, PATH("roles"), 1, &b), JWT_EXPORT_TOO_LONG);
    UNIT_STR_EQ(mem, "");
    UNIT_CHECK(buf_ok(&b), "buffer usable after a refusal");
    UNIT_STR_EQ(jwt_export_name(JWT_EXPORT_UNSAFE),
                "holds a control character, a line separator or a space at an end");
    jwt_result_release(&res);
}

/* ---- threads ---- */

struct worker {
    const struct jwt_keyset *set;
    int failures;
};

static void *verify_many(void *arg)
{
    struct worker *w = arg;
    const char *tokens[] = {fx_tok_rs256, fx_tok_ps256, fx_tok_es256,      fx_tok_es384,
                            fx_tok_eddsa, fx_tok_hs256, fx_tok_rs256_nokid};
    struct jwt_policy pol = any_policy();
    for (int round = 0; round < 30; round++)
        for (size_t i = 0; i < UNIT_N(tokens); i++) {
            struct jwt_result res;
            if (jwt_verify(w->set, &pol, tokens[i], strlen(tokens[i]), FX_NOW, &res) != JWT_OK)
                w->failures++;
            jwt_result_release(&res);
            if (jwt_verify(w->set, &pol, fx_tok_payload_changed, strlen(fx_tok_payload_changed),
                           FX_NOW, &res) != JWT_INVALID)
                w->failures++;
            jwt_result_release(&res);
            jwt_keyset_unref(jwt_keyset_ref((struct jwt_keyset *)w->set));
        }
    return NULL;
}

static void test_threads(void)
{
    char err[256] = "";
    struct jwt_keyset *s = set_from_jwks(fx_jwks_main, JWT_ALGS_ALL, NULL, err, sizeof(err));
    UNIT_CHECK(s != NULL, "main: %s", err);
    if (!s)
        return;
    enum { N = 4 };
    pthread_t t[N];
    struct worker w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (struct worker){.set = s};
        UNIT_INT_EQ(pthread_create(&t[i], NULL, verify_many, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        UNIT_INT_EQ(w[i].failures, 0);
    }
    jwt_keyset_unref(s);
}

int main(void)
{
    static const struct unit_case b64url_cases[] = {
        UNIT_CASE(test_b64url_strict),
        UNIT_CASE(test_b64url_long),
        UNIT_CASE(test_alg_names),
        UNIT_END,
    };
    static const struct unit_case keyset_cases[] = {
        UNIT_CASE(test_jwks_main),
        UNIT_CASE(test_jwks_empty_sets),
        UNIT_CASE(test_jwks_refused),
        UNIT_CASE(test_jwk_skipped),
        UNIT_CASE(test_pem_keys),
        UNIT_CASE(test_secrets_and_merging),
        UNIT_END,
    };
    static const struct unit_case verify_cases[] = {
        UNIT_CASE(test_every_algorithm),
        UNIT_CASE(test_kid_lookup),
        UNIT_CASE(test_threads),
        UNIT_END,
    };
    static const struct unit_case attack_cases[] = {
        UNIT_CASE(test_attacks_alg),
        UNIT_CASE(test_attacks_signature),
        UNIT_CASE(test_attacks_kid_and_header_keys),
        UNIT_CASE(test_attacks_json),
        UNIT_CASE(test_attacks_encoding),
        UNIT_END,
    };
    static const struct unit_case claim_cases[] = {
        UNIT_CASE(test_time_claims),
        UNIT_CASE(test_issuer_audience),
        UNIT_CASE(test_required_claims),
        UNIT_CASE(test_export),
        UNIT_END,
    };
    static const struct unit_suite suites[] = {
        {"b64url and algorithms", b64url_cases},
        {"key sets", keyset_cases},
        {"verification", verify_cases},
        {"attacks", attack_cases},
        {"claims", claim_cases},
        {NULL, NULL},
    };
    int failures = unit_main(suites);
    jwt_keyset_unref(main_set_);
    return failures;
}
