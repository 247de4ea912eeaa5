/*
 * fuzz_jwt.c - local JWT verification (jwt.h), key sets from JWKS documents (jwk.h) and the
 * claim functions (jwtclaims.h) on arbitrary input.
 *
 * The first byte says what the rest is; the second (modes T and S) picks the policy (bit 0:
 * exp optional, bit 1: issuer, bit 2: audience, bit 3: 60 s leeway):
 *   'T' + token                   verified against the fixtures' main JWKS at FX_NOW;
 *   'S' + header '\n' payload     both base64url-encoded and signed with HS256 by this harness
 *                                 (with the fixtures' secret, which main holds), so the
 *                                 fuzzer reaches the payload and claim checks behind a valid
 *                                 signature;
 *   'K' + JWKS document           built into a key set, which then verifies a fixed token.
 * Checked: a valid token is at most JWT_MAX_TOKEN_LEN bytes of three base64url parts, its alg
 * is allowed, its claims an object holding what the policy demands (exp in the future unless
 * optional, the issuer, one of the audiences); every refusal has a reason that is safe to log;
 * verifying twice gives the same answer; exported claim values are safe header values; a
 * built key set is not empty, not above JWT_KEYSET_MAX_KEYS, and verifies only allowed
 * algorithms. LeakSanitizer reports what any path leaves behind.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../fixtures/jwt/fixtures.h"
#include "auth/jwk.h"
#include "auth/jwt.h"
#include "auth/jwtclaims.h"
#include "base/buf.h"
#include "base/httpsyntax.h"
#include "fuzz_common.h"

static struct jwt_keyset *set;
static const char *const audiences[] = {"api", "other"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char err[256];
    struct jwt_keyset_builder *b = jwt_keyset_builder_new(JWT_ALGS_ALL, NULL, NULL);
    if (!b || jwt_keyset_add_jwks(b, fx_jwks_main, strlen(fx_jwks_main), err, sizeof(err)) ||
        !(set = jwt_keyset_build(b, err, sizeof(err)))) {
        fprintf(stderr, "fuzz_jwt: %s\n", err);
        abort();
    }
    return 0;
}

static struct jwt_policy policy_of(uint8_t flags)
{
    struct jwt_policy p = {.algs = JWT_ALGS_ALL};
    p.exp_optional = flags & 1;
    if (flags & 2)
        p.issuer = FX_ISSUER;
    if (flags & 4) {
        p.audiences = audiences;
        p.naudiences = 2;
    }
    if (flags & 8)
        p.leeway = 60;
    return p;
}

static bool is_b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* The claim paths exported and required on every valid token. */
static const char *const paths[][2] = {
    {"sub", NULL}, {"scope", NULL}, {"roles", NULL},        {"aud", NULL},
    {"exp", NULL}, {"a", NULL},     {"address", "country"}, {"https://example.com/roles", NULL},
};

static void check_claims(const json_t *claims)
{
    static char mem[HTTP_MAX_VALUE + 1];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    const char *accepted[] = {"api", "read", "1", "true", "DE"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        size_t n = paths[i][1] ? 2 : 1;
        buf_reset(&b);
        enum jwt_export e = jwt_claim_export(claims, paths[i], n, &b);
        if (e == JWT_EXPORT_OK) {
            FUZZ_CHECK(buf_ok(&b) && b.len <= HTTP_MAX_VALUE && strlen(b.data) == b.len,
                       "exported %s: bad length", paths[i][0]);
            FUZZ_CHECK(http_value_is_safe(b.data, b.len), "exported %s: unsafe value", paths[i][0]);
        } else {
            FUZZ_CHECK(b.len == 0, "refused export of %s left bytes", paths[i][0]);
        }
        enum jwt_claim_match m = jwt_claim_require(claims, paths[i], n, accepted, 5);
        FUZZ_CHECK((m == JWT_CLAIM_MISSING) == (jwt_claim_find(claims, paths[i], n) == NULL),
                   "require and find disagree on %s", paths[i][0]);
        FUZZ_CHECK((e == JWT_EXPORT_MISSING) == (m == JWT_CLAIM_MISSING),
                   "export and require disagree on %s", paths[i][0]);
    }
}

/* The promises of a valid token (res is JWT_OK). */
static void check_valid(const char *token, size_t len, const struct jwt_policy *p,
                        const struct jwt_result *res)
{
    FUZZ_CHECK(len <= JWT_MAX_TOKEN_LEN, "valid token of %zu bytes", len);
    size_t dots = 0;
    for (size_t i = 0; i < len; i++) {
        if (token[i] == '.')
            dots++;
        else
            FUZZ_CHECK(is_b64url_char(token[i]), "valid token holds byte 0x%02x",
                       (unsigned char)token[i]);
    }
    FUZZ_CHECK(dots == 2, "valid token with %zu dots", dots);
    FUZZ_CHECK((unsigned)res->alg < JWT_ALG_COUNT && (p->algs & JWT_ALG_BIT(res->alg)),
               "valid token with an alg not allowed");
    FUZZ_CHECK(json_is_object(res->claims), "valid token without claims");
    const json_t *exp = json_object_get(res->claims, "exp");
    FUZZ_CHECK(exp || p->exp_optional, "valid token without exp");
    FUZZ_CHECK(!exp || (json_is_number(exp) && res->has_exp &&
                        (double)FX_NOW < json_number_value(exp) + (double)p->leeway),
               "valid token with a bad or past exp");
    if (p->issuer)
        FUZZ_CHECK(json_is_string(json_object_get(res->claims, "iss")) &&
                       strcmp(json_string_value(json_object_get(res->claims, "iss")), p->issuer) ==
                           0,
                   "valid token from another issuer");
    if (p->naudiences)
        FUZZ_CHECK(json_object_get(res->claims, "aud"), "valid token without aud");
    check_claims(res->claims);
}

static void verify(const char *token, size_t len, uint8_t flags)
{
    struct jwt_policy p = policy_of(flags);
    struct jwt_result res, again;
    enum jwt_status st = jwt_verify(set, &p, token, len, FX_NOW, &res);
    FUZZ_CHECK(st == res.status, "returned status differs from the result's");
    if (st == JWT_OK) {
        FUZZ_CHECK(res.reason[0] == '\0', "reason on success");
        check_valid(token, len, &p, &res);
    } else {
        FUZZ_CHECK(res.claims == NULL, "claims on a refusal");
        size_t rlen = strnlen(res.reason, sizeof(res.reason));
        FUZZ_CHECK(rlen > 0 && rlen < sizeof(res.reason), "refusal without a reason");
        FUZZ_CHECK(http_value_is_safe(res.reason, rlen), "reason unsafe to log");
    }
    FUZZ_CHECK(jwt_verify(set, &p, token, len, FX_NOW, &again) == st, "second answer differs");
    FUZZ_CHECK(strcmp(res.reason, again.reason) == 0, "second reason differs");
    jwt_result_release(&again);
    jwt_result_release(&res);
}

/* base64url of data into out (room for 4/3 of n + 4), without padding; returns its length. */
static size_t b64url_encode(const uint8_t *data, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, data, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    for (int i = 0; i < len; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    return (size_t)len;
}

static void sign_and_verify(const uint8_t *data, size_t size, uint8_t flags)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl || size > JWT_MAX_TOKEN_LEN)
        return;
    size_t hlen = (size_t)(nl - data), plen = size - hlen - 1;
    char *token = malloc(2 * size + 128);
    if (!token)
        return;
    size_t n = b64url_encode(data, hlen, token);
    token[n++] = '.';
    n += b64url_encode(nl + 1, plen, token + n);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (HMAC(EVP_sha256(), fx_secret_hs, sizeof(fx_secret_hs), (unsigned char *)token, n, mac,
             &maclen)) {
        token[n++] = '.';
        n += b64url_encode(mac, maclen, token + n);
        verify(token, n, flags);
    }
    free(token);
}

static void build_jwks(const uint8_t *data, size_t size)
{
    unsigned algs = JWT_ALGS_ALL & ~JWT_ALG_BIT(JWT_PS512);
    char err[256];
    struct jwt_keyset_builder *b = jwt_keyset_builder_new(algs, NULL, NULL);
    if (!b)
        return;
    if (jwt_keyset_add_jwks(b, (const char *)data, size, err, sizeof(err)) != NULL) {
        jwt_keyset_builder_free(b);
        return;
    }
    struct jwt_keyset *s = jwt_keyset_build(b, err, sizeof(err));
    if (!s)
        return;
    FUZZ_CHECK(jwt_keyset_count(s) > 0 && jwt_keyset_count(s) <= JWT_KEYSET_MAX_KEYS,
               "set of %zu keys", jwt_keyset_count(s));
    FUZZ_CHECK((jwt_keyset_algs(s) & ~algs) == 0, "set verifies an algorithm not allowed");
    struct jwt_policy p = {.algs = JWT_ALGS_ALL};
    struct jwt_result res;
    jwt_verify(s, &p, fx_tok_rs256, strlen(fx_tok_rs256), FX_NOW, &res);
    jwt_result_release(&res);
    jwt_verify(s, &p, fx_tok_es256_nokid, strlen(fx_tok_es256_nokid), FX_NOW, &res);
    jwt_result_release(&res);
    jwt_keyset_unref(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    switch (data[0]) {
    case 'T': {
        /* A copy of exactly the token's bytes, so that ASan sees a read past its end. */
        char *token = malloc(size - 2 ? size - 2 : 1);
        if (!token)
            return 0;
        memcpy(token, data + 2, size - 2);
        verify(token, size - 2, data[1]);
        free(token);
        break;
    }
    case 'S':
        sign_and_verify(data + 2, size - 2, data[1]);
        break;
    case 'K':
        build_jwks(data + 1, size - 1);
        break;
    }
    return 0;
}
