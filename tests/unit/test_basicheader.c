/*
 * test_basicheader.c - reading `Authorization: Basic` values: the scheme, strict base64, the
 * split at the first ':', and everything refused before or after decoding.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "auth/basicheader.h"
#include "unit.h"

/* "Basic " and the base64 of credential[0..len), in a static buffer. */
static const char *basic_of(const char *credential, size_t len)
{
    static char value[2 * BASIC_MAX_VALUE];
    memcpy(value, "Basic ", 6);
    EVP_EncodeBlock((unsigned char *)value + 6, (const unsigned char *)credential, (int)len);
    return value;
}

static enum basic_status parse(const char *value, struct basic_credential *cred, const char **why)
{
    return basic_header_parse(value, value ? strlen(value) : 0, cred, why);
}

/* The value is refused as malformed, for a reason that contains `reason`. */
#define REFUSED(value, reason)                                                                     \
    do {                                                                                           \
        struct basic_credential c_;                                                                \
        const char *why_ = NULL;                                                                   \
        UNIT_INT_EQ(parse((value), &c_, &why_), BASIC_MALFORMED);                                  \
        UNIT_STR_HAS(why_, (reason));                                                              \
    } while (0)

static void test_user_and_password(void)
{
    struct basic_credential c;
    const char *why = "unset";
    const char *v = basic_of("alice:correct horse", 19);
    UNIT_INT_EQ(parse(v, &c, &why), BASIC_OK);
    UNIT_STR_EQ(c.user, "alice");
    UNIT_STR_EQ(c.password, "correct horse");
    UNIT_INT_EQ(c.user_len, 5);
    UNIT_INT_EQ(c.password_len, 13);
    UNIT_CHECK(why == NULL, "no reason on success");
    basic_credential_wipe(&c);
    UNIT_INT_EQ(c.password[0], 0);
    UNIT_INT_EQ(c.password_len, 0);
}

static void test_known_value(void)
{
    /* RFC 7617's example. */
    struct basic_credential c;
    UNIT_INT_EQ(parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &c, NULL), BASIC_OK);
    UNIT_STR_EQ(c.user, "Aladdin");
    UNIT_STR_EQ(c.password, "open sesame");
}

static void test_scheme_any_case_and_spaces(void)
{
    struct basic_credential c;
    UNIT_INT_EQ(parse("basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &c, NULL), BASIC_OK);
    UNIT_INT_EQ(parse("BASIC QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &c, NULL), BASIC_OK);
    UNIT_INT_EQ(parse("bAsIc QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &c, NULL), BASIC_OK);
    UNIT_INT_EQ(parse("Basic    QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &c, NULL), BASIC_OK);
    UNIT_INT_EQ(parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== \t ", &c, NULL), BASIC_OK);
    UNIT_STR_EQ(c.password, "open sesame");
}

static void test_first_colon_splits(void)
{
    struct basic_credential c;
    UNIT_INT_EQ(parse(basic_of("bob:pa:ss:word", 14), &c, NULL), BASIC_OK);
    UNIT_STR_EQ(c.user, "bob");
    UNIT_STR_EQ(c.password, "pa:ss:word");
    UNIT_INT_EQ(parse(basic_of("bob::", 5), &c, NULL), BASIC_OK);
    UNIT_STR_EQ(c.password, ":");
}

static void test_empty_password(void)
{
    struct basic_credential c;
    UNIT_INT_EQ(parse(basic_of("bob:", 4), &c, NULL), BASIC_OK);
    UNIT_STR_EQ(c.user, "bob");
    UNIT_STR_EQ(c.password, "");
    UNIT_INT_EQ(c.password_len, 0);
}

static void test_utf8_kept(void)
{
    struct basic_credential c;
    const char cred[] = "j\xc3\xbcrgen:p\xc3\xa4sswort\xe2\x82\xac";
    UNIT_INT_EQ(parse(basic_of(cred, sizeof(cred) - 1), &c, NULL), BASIC_OK);
    UNIT_STR_EQ(c.user, "j\xc3\xbcrgen");
    UNIT_STR_EQ(c.password, "p\xc3\xa4sswort\xe2\x82\xac");
}

static void test_not_basic(void)
{
    struct basic_credential c;
    const char *why = "unset";
    UNIT_INT_EQ(parse(NULL, &c, &why), BASIC_NONE);
    UNIT_CHECK(why == NULL, "no reason for an absent header");
    UNIT_INT_EQ(parse("", &c, NULL), BASIC_NONE);
    UNIT_INT_EQ(parse("Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", &c, NULL), BASIC_NONE);
    UNIT_INT_EQ(parse("Digest username=\"a\"", &c, NULL), BASIC_NONE);
    UNIT_INT_EQ(parse("Basically QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &c, NULL), BASIC_NONE);
    UNIT_INT_EQ(parse("Basi", &c, NULL), BASIC_NONE);
    UNIT_INT_EQ(parse(" Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &c, NULL), BASIC_NONE);
}

static void test_basic_without_value(void)
{
    REFUSED("Basic", "no credential");
    REFUSED("Basic ", "no credential");
    REFUSED("basic     ", "no credential");
    REFUSED("Basic\tQWxhZGRpbjpvcGVuIHNlc2FtZQ==", "no space");
}

static void test_garbage_base64(void)
{
    REFUSED("Basic !!!!", "base64");
    REFUSED("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ", "base64");    /* padding missing */
    REFUSED("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=", "base64");   /* half the padding */
    REFUSED("Basic QWxhZGRp bjpvcGVuIHNlc2FtZQ==", "base64"); /* a space inside */
    REFUSED("Basic QWxhZGRp\r\nbjpvcGVuIHNlc2FtZQ==", "base64");
    REFUSED("Basic QQ==QWxh", "base64");         /* padding in the middle */
    REFUSED("Basic ====", "base64");             /* only padding */
    REFUSED("Basic YWxpY2U6cD-_", "base64");     /* base64url's alphabet */
    REFUSED("Basic YWxpY2U6cHc=\x01", "base64"); /* a control character after it */
    REFUSED("Basic YR==", "base64");             /* padding bits set: not canonical */
    REFUSED("Basic YWxpY2U6cHd=", "base64");     /* the same with one '=' */
}

static void test_no_colon(void)
{
    REFUSED(basic_of("alice", 5), "no ':'");
    REFUSED("Basic YWxpY2U=", "no ':'");
}

static void test_control_characters(void)
{
    REFUSED(basic_of("al\x01ice:pw", 9), "control character");
    REFUSED(basic_of("alice:p\nw", 9), "control character");
    REFUSED(basic_of("alice:pw\x7f", 9), "control character");
    REFUSED(basic_of("alice:p\0w", 9), "control character");
    REFUSED(basic_of("alice\t:pw", 9), "control character");
}

static void test_empty_user(void)
{
    REFUSED(basic_of(":secret", 7), "empty user name");
}

static void test_bounds(void)
{
    char cred[BASIC_MAX_USER + 1 + BASIC_MAX_PASSWORD + 2];
    struct basic_credential c;

    /* The longest user name and password fit exactly. */
    memset(cred, 'u', BASIC_MAX_USER);
    cred[BASIC_MAX_USER] = ':';
    memset(cred + BASIC_MAX_USER + 1, 'p', BASIC_MAX_PASSWORD);
    size_t n = BASIC_MAX_USER + 1 + BASIC_MAX_PASSWORD;
    const char *v = basic_of(cred, n);
    UNIT_CHECK(strlen(v) <= BASIC_MAX_VALUE, "the longest credential is within the bound");
    UNIT_INT_EQ(parse(v, &c, NULL), BASIC_OK);
    UNIT_INT_EQ(c.user_len, BASIC_MAX_USER);
    UNIT_INT_EQ(c.password_len, BASIC_MAX_PASSWORD);

    /* One byte more in either is refused. */
    memset(cred, 'u', BASIC_MAX_USER + 1);
    cred[BASIC_MAX_USER + 1] = ':';
    memset(cred + BASIC_MAX_USER + 2, 'p', 10);
    REFUSED(basic_of(cred, BASIC_MAX_USER + 12), "user name too long");
    cred[0] = 'u';
    cred[1] = ':';
    memset(cred + 2, 'p', BASIC_MAX_PASSWORD + 1);
    REFUSED(basic_of(cred, BASIC_MAX_PASSWORD + 3), "password too long");
}

static void test_huge_header_refused_before_decoding(void)
{
    size_t n = 10 * 1024;
    char *v = malloc(n + 1);
    memcpy(v, "Basic ", 6);
    memset(v + 6, 'A', n - 6);
    v[n] = '\0';
    REFUSED(v, "too long");
    /* Spaces count too: the bound is on the whole value. */
    memset(v + 6, ' ', n - 10);
    memcpy(v + n - 4, "YTo=", 4);
    REFUSED(v, "too long");
    free(v);
}

static void test_reasons_never_quote_the_input(void)
{
    const char *values[] = {
        "Basic c2VjcmV0cGFzc3dvcmQ=",     /* "secretpassword": no ':' */
        "Basic c2VjcmV0cGFzc3dvcmQ",      /* not base64 */
        "Basic OnNlY3JldHBhc3N3b3Jk",     /* ":secretpassword" */
        "Basic dTpzZWNyZXRwYXNzd29yZAo=", /* "u:secretpassword\n" */
    };
    for (size_t i = 0; i < UNIT_N(values); i++) {
        struct basic_credential c;
        const char *why = NULL;
        UNIT_INT_EQ(parse(values[i], &c, &why), BASIC_MALFORMED);
        UNIT_CHECK(why && !strstr(why, "secret") && !strstr(why, "c2Vj"),
                   "reason %zu quotes nothing: %s", i, why ? why : "(null)");
    }
}

static void test_not_nul_terminated_input(void)
{
    /* The length bounds the value: what follows it is not read. */
    const char v[] = "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==GARBAGE";
    struct basic_credential c;
    UNIT_INT_EQ(basic_header_parse(v, sizeof(v) - 1 - 7, &c, NULL), BASIC_OK);
    UNIT_STR_EQ(c.password, "open sesame");
}

int main(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_user_and_password),
        UNIT_CASE(test_known_value),
        UNIT_CASE(test_scheme_any_case_and_spaces),
        UNIT_CASE(test_first_colon_splits),
        UNIT_CASE(test_empty_password),
        UNIT_CASE(test_utf8_kept),
        UNIT_CASE(test_not_basic),
        UNIT_CASE(test_basic_without_value),
        UNIT_CASE(test_garbage_base64),
        UNIT_CASE(test_no_colon),
        UNIT_CASE(test_control_characters),
        UNIT_CASE(test_empty_user),
        UNIT_CASE(test_bounds),
        UNIT_CASE(test_huge_header_refused_before_decoding),
        UNIT_CASE(test_reasons_never_quote_the_input),
        UNIT_CASE(test_not_nul_terminated_input),
        UNIT_END,
    };
    static const struct unit_suite suites[] = {{"basicheader", cases}, {NULL, NULL}};
    return unit_main(suites);
}
