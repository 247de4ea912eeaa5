/*
 * jwt.c - one token: split, decode, check the header, find a key that verifies the
 * signature, then check the registered claims.
 */
#include "auth/jwt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/b64url.h"

static enum jwt_status refuse(struct jwt_result *res, enum jwt_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum jwt_status refuse(struct jwt_result *res, enum jwt_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
    va_end(ap);
    res->status = status;
    return status;
}

const char *jwt_status_name(enum jwt_status status)
{
    switch (status) {
    case JWT_OK:
        return "ok";
    case JWT_INVALID:
        return "invalid";
    case JWT_UNKNOWN_KID:
        return "unknown kid";
    }
    return "?";
}

void jwt_result_release(struct jwt_result *res)
{
    json_decref(res->claims);
    res->claims = NULL;
}

/* The parts of a token and where their decoded bytes are. */
struct parts {
    const char *text[3];
    size_t textlen[3];
    const unsigned char *bytes[3];
    size_t len[3];
};

static const char *const part_name[3] = {"header", "payload", "signature"};

/* Splits and decodes; NULL or the reason. */
static const char *split(const char *token, size_t len, unsigned char *buf, size_t room,
                         struct parts *p, char *why, size_t whylen)
{
    size_t dots = 0, at[2] = {0, 0};
    for (size_t i = 0; i < len; i++)
        if (token[i] == '.') {
            if (dots < 2)
                at[dots] = i;
            dots++;
        }
    if (dots == 4)
        return "5 parts: an encrypted token (JWE) is not supported";
    if (dots != 2) {
        snprintf(why, whylen, "%zu parts (a signed token has 3)", dots + 1);
        return why;
    }
    p->text[0] = token;
    p->textlen[0] = at[0];
    p->text[1] = token + at[0] + 1;
    p->textlen[1] = at[1] - at[0] - 1;
    p->text[2] = token + at[1] + 1;
    p->textlen[2] = len - at[1] - 1;
    size_t used = 0;
    for (int k = 0; k < 3; k++) {
        if (p->textlen[k] == 0) {
            snprintf(why, whylen, "empty %s", part_name[k]);
            return why;
        }
        long n = b64url_decode(p->text[k], p->textlen[k], buf + used, room - used);
        if (n < 0) {
            snprintf(why, whylen, "%s is not strict base64url", part_name[k]);
            return why;
        }
        p->bytes[k] = buf + used;
        p->len[k] = (size_t)n;
        used += (size_t)n;
    }
    return NULL;
}

/* Parses a header or payload: a JSON object without duplicate member names. */
static json_t *parse_object(const unsigned char *bytes, size_t len, const char *what,
                            struct jwt_result *res)
{
    json_error_t jerr;
    json_t *v = json_loadb((const char *)bytes, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        char why[96];
        jwt_json_error(jerr.text, why, sizeof(why));
        refuse(res, JWT_INVALID, "%s is not JSON: %s", what, why);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        refuse(res, JWT_INVALID, "%s is not a JSON object", what);
        return NULL;
    }
    return v;
}

/* The header's alg and kid (pointing into hdr); false with the result refused. */
static bool check_header(const json_t *hdr, const struct jwt_policy *policy, struct jwt_result *res,
                         const char **kid, size_t *kidlen)
{
    const json_t *algv = json_object_get(hdr, "alg");
    if (!json_is_string(algv)) {
        refuse(res, JWT_INVALID, algv ? "alg is not a string" : "no alg");
        return false;
    }
    const char *name = json_string_value(algv);
    size_t namelen = json_string_length(algv);
    int alg = jwt_alg_parse(name, namelen);
    if (alg < 0) {
        refuse(res, JWT_INVALID,
               strlen(name) == namelen && strcasecmp(name, "none") == 0
                   ? "alg none: an unsigned token is never accepted"
                   : "alg is not a known signature algorithm");
        return false;
    }
    res->alg = (enum jwt_alg)alg;
    if (!(policy->algs & JWT_ALG_BIT(alg))) {
        refuse(res, JWT_INVALID, "alg %s is not allowed", jwt_alg_name(res->alg));
        return false;
    }
    /* RFC 7515 section 4.1.11: no extension is understood, so none may be required. */
    if (json_object_get(hdr, "crit")) {
        refuse(res, JWT_INVALID, "crit header: extensions are not supported");
        return false;
    }
    const json_t *kidv = json_object_get(hdr, "kid");
    if (kidv && !json_is_string(kidv)) {
        refuse(res, JWT_INVALID, "kid is not a string");
        return false;
    }
    *kid = kidv ? json_string_value(kidv) : NULL;
    *kidlen = kidv ? json_string_length(kidv) : 0;
    return true;
}

/* Tries the keys the kid selects; false with the result refused. */
static bool check_signature(const struct jwt_keyset *set, struct jwt_result *res, const char *kid,
                            size_t kidlen, const struct parts *p)
{
    const char *input = p->text[0];
    size_t inputlen = (size_t)(p->text[2] - 1 - p->text[0]); /* header.payload */
    enum jwt_alg alg = res->alg;
    bool kid_known = false;
    size_t tried = 0;
    const char *why = NULL;
    for (size_t i = 0; i < jwt_keyset_count(set); i++) {
        const char *kkid;
        size_t kkidlen;
        const struct jwa_key *key = jwt_keyset_key(set, i, &kkid, &kkidlen);
        if (kid && kkid) {
            if (kkidlen != kidlen || memcmp(kkid, kid, kidlen) != 0)
                continue;
            kid_known = true;
        }
        if (!(jwa_key_algs(key) & JWT_ALG_BIT(alg)))
            continue;
        tried++;
        if (jwa_key_verify(key, alg, input, inputlen, p->bytes[2], p->len[2], &why))
            return true;
    }
    char shown[68] = "";
    if (kid)
        jwt_printable(kid, kidlen, shown, sizeof(shown));
    if (kid && !kid_known)
        refuse(res, JWT_UNKNOWN_KID, "no key with kid \"%s\"", shown);
    else if (!tried && kid)
        refuse(res, JWT_INVALID, "no key with kid \"%s\" verifies %s", shown, jwt_alg_name(alg));
    else if (!tried)
        refuse(res, JWT_INVALID, "no key verifies %s", jwt_alg_name(alg));
    else if (tried == 1)
        refuse(res, JWT_INVALID, "%s", why);
    else
        refuse(res, JWT_INVALID, "signature does not verify with any of %zu keys", tried);
    return false;
}

/* A NumericDate claim: absent (false, no refusal), a number (true), or refused. */
static bool numeric_date(const json_t *claims, const char *name, double *out, bool *bad,
                         struct jwt_result *res)
{
    const json_t *v = json_object_get(claims, name);
    *bad = false;
    if (!v)
        return false;
    if (!json_is_number(v)) {
        refuse(res, JWT_INVALID, "%s is not a number", name);
        *bad = true;
        return false;
    }
    *out = json_number_value(v);
    return true;
}

static bool is_audience(const struct jwt_policy *policy, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    for (size_t i = 0; s && i < policy->naudiences; i++)
        if (policy->audiences[i] && strlen(policy->audiences[i]) == len &&
            memcmp(policy->audiences[i], s, len) == 0)
            return true;
    return false;
}

/* exp, nbf, iat, iss, aud; false with the result refused. */
static bool check_claims(const json_t *claims, const struct jwt_policy *policy, int64_t now,
                         struct jwt_result *res)
{
    double t = (double)now, leeway = policy->leeway > 0 ? (double)policy->leeway : 0;
    double exp, nbf, iat;
    bool bad;
    if (numeric_date(claims, "exp", &exp, &bad, res)) {
        if (t >= exp + leeway) {
            refuse(res, JWT_INVALID, "expired %.0f s ago", t - exp);
            return false;
        }
        res->has_exp = true;
        res->exp = exp >= 9.2e18 ? INT64_MAX : exp <= -9.2e18 ? INT64_MIN : (int64_t)exp;
    } else if (bad) {
        return false;
    } else if (!policy->exp_optional) {
        refuse(res, JWT_INVALID, "no exp");
        return false;
    }
    if (numeric_date(claims, "nbf", &nbf, &bad, res) && t + leeway < nbf) {
        refuse(res, JWT_INVALID, "not valid before %.0f s from now", nbf - t);
        return false;
    }
    if (bad)
        return false;
    if (numeric_date(claims, "iat", &iat, &bad, res) && iat > t + leeway) {
        refuse(res, JWT_INVALID, "issued %.0f s in the future", iat - t);
        return false;
    }
    if (bad)
        return false;

    if (policy->issuer) {
        const json_t *iss = json_object_get(claims, "iss");
        if (!json_is_string(iss) || json_string_length(iss) != strlen(policy->issuer) ||
            memcmp(json_string_value(iss), policy->issuer, json_string_length(iss)) != 0) {
            refuse(res, JWT_INVALID, iss ? "iss is not the expected issuer" : "no iss");
            return false;
        }
    }
    if (policy->naudiences) {
        const json_t *aud = json_object_get(claims, "aud");
        bool match = false;
        if (json_is_array(aud)) {
            size_t i;
            const json_t *a;
            json_array_foreach(aud, i, a)
            {
                if (!json_is_string(a)) {
                    refuse(res, JWT_INVALID, "aud holds a value that is not a string");
                    return false;
                }
                match = match || is_audience(policy, a);
            }
        } else if (json_is_string(aud)) {
            match = is_audience(policy, aud);
        } else if (aud) {
            refuse(res, JWT_INVALID, "aud is neither a string nor an array");
            return false;
        }
        if (!match) {
            refuse(res, JWT_INVALID, aud ? "aud holds none of the expected audiences" : "no aud");
            return false;
        }
    }
    return true;
}

enum jwt_status jwt_verify(const struct jwt_keyset *set, const struct jwt_policy *policy,
                           const char *token, size_t len, int64_t now, struct jwt_result *res)
{
    memset(res, 0, sizeof(*res));
    res->status = JWT_INVALID;
    res->alg = JWT_ALG_COUNT;
    if (!set || !policy)
        return refuse(res, JWT_INVALID, "no key set or policy");
    size_t max = policy->max_len && policy->max_len < JWT_MAX_TOKEN_LEN ? policy->max_len
                                                                        : JWT_MAX_TOKEN_LEN;
    if (!token || len == 0)
        return refuse(res, JWT_INVALID, "empty token");
    if (len > max)
        return refuse(res, JWT_INVALID, "token is longer than %zu bytes", max);

    /* The three parts decoded: each part's room rounds up by less than 3 bytes. */
    unsigned char buf[B64URL_DECODE_ROOM(JWT_MAX_TOKEN_LEN) + 3 * 3];
    struct parts p;
    char why[64];
    const char *bad = split(token, len, buf, sizeof(buf), &p, why, sizeof(why));
    if (bad)
        return refuse(res, JWT_INVALID, "%s", bad);

    json_t *hdr = parse_object(p.bytes[0], p.len[0], "header", res);
    if (!hdr)
        return res->status;
    json_t *claims = NULL;
    const char *kid;
    size_t kidlen;
    if (!check_header(hdr, policy, res, &kid, &kidlen) ||
        !check_signature(set, res, kid, kidlen, &p))
        goto end;
    if (!(claims = parse_object(p.bytes[1], p.len[1], "payload", res)))
        goto end;
    if (!check_claims(claims, policy, now, res))
        goto end;
    res->claims = claims;
    claims = NULL;
    res->status = JWT_OK;
end:
    json_decref(hdr);
    json_decref(claims);
    if (res->status != JWT_OK)
        res->has_exp = false, res->exp = 0;
    return res->status;
}
