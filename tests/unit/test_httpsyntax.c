/* test_httpsyntax.c - the HTTP grammar rules shared by all modules. */
#include "base/httpsyntax.h"

#include <stdlib.h>
#include <string.h>

#include "unit.h"

static bool token(const char *s)
{
    return http_is_token(s, strlen(s));
}

static bool safe(const char *s)
{
    return http_value_is_safe(s, strlen(s));
}

static bool clean(const char *s)
{
    return http_value_is_clean(s, strlen(s));
}

static void test_token_accepts_tchars(void)
{
    CU_ASSERT_TRUE(token("Authorization"));
    CU_ASSERT_TRUE(token("X-Auth-UserId"));
    CU_ASSERT_TRUE(token("x_y"));
    CU_ASSERT_TRUE(token("a"));
    CU_ASSERT_TRUE(token("0123456789"));
    /* Every tchar of RFC 9110 besides letters and digits. */
    CU_ASSERT_TRUE(token("!#$%&'*+-.^_`|~"));
}

static void test_token_rejects_separators(void)
{
    CU_ASSERT_FALSE(http_is_token("", 0));
    CU_ASSERT_FALSE(token("X Auth"));
    CU_ASSERT_FALSE(token("X-Auth:"));
    CU_ASSERT_FALSE(token("a\tb"));
    CU_ASSERT_FALSE(token("a\r\nb"));
    CU_ASSERT_FALSE(token("a\x7f"));
    CU_ASSERT_FALSE(token("caf\xc3\xa9"));
    /* Each delimiter of RFC 9110 on its own. */
    const char *delims = "\"(),/:;<=>?@[\\]{}";
    for (const char *d = delims; *d; d++) {
        char s[4] = {'a', *d, 'b', '\0'};
        UNIT_CHECK(!token(s), "'%s' must not be a token", s);
    }
}

static void test_token_uses_given_length(void)
{
    /* The length decides, not a NUL: a NUL inside the given length is not a tchar. */
    CU_ASSERT_FALSE(http_is_token("ab\0cd", 5));
    CU_ASSERT_TRUE(http_is_token("ab cd", 2));
    CU_ASSERT_FALSE(http_is_token("ab cd", 3));
}

static void test_value_rejects_controls(void)
{
    CU_ASSERT_TRUE(safe("Bearer abc.def"));
    CU_ASSERT_TRUE(safe(""));
    CU_ASSERT_TRUE(safe(" leading and trailing spaces "));
    CU_ASSERT_FALSE(safe("a\rb"));
    CU_ASSERT_FALSE(safe("a\nb"));
    CU_ASSERT_FALSE(safe("a\r\nSet-Cookie: x=1"));
    CU_ASSERT_FALSE(safe("a\tb"));
    CU_ASSERT_FALSE(safe("a\x7f"));
    CU_ASSERT_FALSE(safe("\x01"));
    CU_ASSERT_FALSE(safe("\x1f"));
    CU_ASSERT_FALSE(http_value_is_safe("ab\0cd", 5));
    /* Every C0 control and DEL, one at a time. */
    for (int c = 0; c < 0x20; c++) {
        char s[3] = {'x', (char)c, 'y'};
        UNIT_CHECK(!http_value_is_safe(s, 3), "byte 0x%02x must be refused", c);
        UNIT_CHECK(!http_value_is_clean(s, 3), "byte 0x%02x must be refused", c);
    }
    CU_ASSERT_FALSE(clean("a\x7f"));
}

static void test_value_keeps_high_bytes(void)
{
    CU_ASSERT_TRUE(safe("caf\xc3\xa9"));
    CU_ASSERT_TRUE(safe("\x80\xff\xa0"));
    CU_ASSERT_TRUE(clean("\x80\xff\xa0"));
    for (int c = 0x80; c <= 0xff; c++) {
        char s[2] = {(char)c, '\0'};
        UNIT_CHECK(http_value_is_safe(s, 1), "byte 0x%02x must be kept", c);
    }
}

static bool exportable(const char *s)
{
    return http_value_is_exportable(s, strlen(s));
}

/* Exported values: UTF-8 without anything that some application reads as a line break. */
static void test_exportable_values(void)
{
    CU_ASSERT_TRUE(exportable("alice"));
    CU_ASSERT_TRUE(exportable("caf\xc3\xa9"));    /* é */
    CU_ASSERT_TRUE(exportable("\xc4\x85"));       /* ą: a continuation byte 0x85 is fine */
    CU_ASSERT_TRUE(exportable("a\xc2\xa0z"));     /* U+00A0, the first after C1 */
    CU_ASSERT_TRUE(exportable("a\xe2\x80\xafz")); /* U+202F */
    CU_ASSERT_TRUE(exportable("Ada Lovelace"));
    CU_ASSERT_TRUE(exportable("a\xef\xbb\xbfz"));   /* U+FEFF inside */
    CU_ASSERT_TRUE(exportable("\xf0\x9f\x98\x80")); /* an emoji */
    CU_ASSERT_TRUE(exportable(""));
    CU_ASSERT_FALSE(exportable("ad\xc2\x85min")); /* U+0085 NEL */
    CU_ASSERT_FALSE(exportable("\xc2\x80"));      /* U+0080 */
    CU_ASSERT_FALSE(exportable("\xc2\x9f"));      /* U+009F */
    CU_ASSERT_FALSE(exportable("a\xe2\x80\xa8"
                               "b")); /* U+2028 LINE SEPARATOR */
    CU_ASSERT_FALSE(exportable("a\xe2\x80\xa9"
                               "b"));         /* U+2029 PARAGRAPH SEPARATOR */
    CU_ASSERT_FALSE(exportable("ad\x85min")); /* raw 0x85: NEL read as Latin-1 */
    CU_ASSERT_FALSE(exportable("\x9b"));
    CU_ASSERT_FALSE(exportable("caf\xe9"));          /* Latin-1, not UTF-8 */
    CU_ASSERT_FALSE(exportable("\xc0\x8a"));         /* an overlong LF */
    CU_ASSERT_FALSE(exportable("\xe0\x80\x8a"));     /* overlong */
    CU_ASSERT_FALSE(exportable("\xed\xa0\x80"));     /* a surrogate */
    CU_ASSERT_FALSE(exportable("\xf4\x90\x80\x80")); /* above U+10FFFF */
    CU_ASSERT_FALSE(exportable("\xc3"));             /* cut short */
    CU_ASSERT_FALSE(exportable("a\rb"));             /* and everything "safe" refuses */
    CU_ASSERT_FALSE(http_value_is_exportable("ab\0cd", 5));
    /* White space at an end, which a trim would take: " admin" is not "admin". */
    static const char *const padded[] = {
        " admin",
        "admin ",
        " ",
        "\xc2\xa0"
        "admin",
        "admin\xc2\xa0",
        "\xe3\x80\x80"
        "admin",
        "admin\xe3\x80\x80",
        "\xef\xbb\xbf"
        "admin",
        "admin\xef\xbb\xbf",
        "\xe2\x80\x8b"
        "admin",
        "admin\xe2\x80\x83",
        "\xe1\xa0\x8e"
        "a",
        "a\xe1\x9a\x80",
        "\xe2\x80\xaf"
        "a",
        "a\xe2\x81\x9f",
        "\xc2\xa0",
    };
    for (size_t i = 0; i < sizeof(padded) / sizeof(*padded); i++)
        UNIT_CHECK(!exportable(padded[i]), "padded value %zu exported", i);
    CU_ASSERT_TRUE(http_is_trimmed_space(0xfeff));
    CU_ASSERT_TRUE(http_is_trimmed_space(' '));
    CU_ASSERT_FALSE(http_is_trimmed_space('a'));
    CU_ASSERT_FALSE(http_is_trimmed_space(0x200c)); /* ZWNJ: no trim takes it */
}

static void test_value_length_bound(void)
{
    size_t n = HTTP_MAX_VALUE + 1;
    char *s = malloc(n);
    CU_ASSERT_FATAL(s != NULL);
    memset(s, 'a', n);
    CU_ASSERT_EQUAL(HTTP_MAX_VALUE, 4096);
    CU_ASSERT_TRUE(http_value_is_safe(s, HTTP_MAX_VALUE));
    CU_ASSERT_FALSE(http_value_is_safe(s, HTTP_MAX_VALUE + 1));
    /* The "clean" check has no length limit. */
    CU_ASSERT_TRUE(http_value_is_clean(s, HTTP_MAX_VALUE + 1));
    free(s);
}

static void test_name_eq(void)
{
    CU_ASSERT_TRUE(http_name_eq("Content-Type", 12, "content-type", 12));
    CU_ASSERT_TRUE(http_name_eq("WWW-AUTHENTICATE", 16, "www-authenticate", 16));
    CU_ASSERT_TRUE(http_name_eq("", 0, "", 0));
    CU_ASSERT_FALSE(http_name_eq("Content-Type", 12, "Content-Typ", 11));
    CU_ASSERT_FALSE(http_name_eq("Content-Typ", 11, "Content-Type", 12));
    CU_ASSERT_FALSE(http_name_eq("X-A", 3, "X_A", 3));
    CU_ASSERT_FALSE(http_name_eq("abc", 3, "abd", 3));
    /* Only the given lengths are compared. */
    CU_ASSERT_TRUE(http_name_eq("Hostile", 4, "HOST", 4));
    /* ASCII folding only: '@' (0x40) and '`' (0x60) differ by the case bit but are not letters. */
    CU_ASSERT_FALSE(http_name_eq("@", 1, "`", 1));
    CU_ASSERT_FALSE(http_name_eq("[", 1, "{", 1));
}

static void test_cgi_name(void)
{
    char out[64];
    CU_ASSERT_TRUE(http_cgi_name("X-Api-Key", out, sizeof(out)));
    UNIT_STR_EQ(out, "HTTP_X_API_KEY");
    /* As Apache and lighttpd name them: anything but letters and digits becomes '_'. */
    CU_ASSERT_TRUE(http_cgi_name("X.Tenant~id", out, sizeof(out)));
    UNIT_STR_EQ(out, "HTTP_X_TENANT_ID");
    CU_ASSERT_TRUE(http_cgi_name("Authorization", out, sizeof(out)));
    UNIT_STR_EQ(out, "HTTP_AUTHORIZATION");
    CU_ASSERT_TRUE(http_cgi_name("cookie", out, sizeof(out)));
    UNIT_STR_EQ(out, "HTTP_COOKIE");
    CU_ASSERT_TRUE(http_cgi_name("x-request-id", out, sizeof(out)));
    UNIT_STR_EQ(out, "HTTP_X_REQUEST_ID");
}

static void test_cgi_name_bounds(void)
{
    /* "HTTP_" + 3 + NUL = 9 bytes. */
    char out[9];
    memset(out, '#', sizeof(out));
    CU_ASSERT_TRUE(http_cgi_name("a-b", out, 9));
    UNIT_STR_EQ(out, "HTTP_A_B");
    memset(out, '#', sizeof(out));
    CU_ASSERT_FALSE(http_cgi_name("a-bc", out, 9));
    CU_ASSERT_FALSE(http_cgi_name("a-b", out, 8));
    CU_ASSERT_FALSE(http_cgi_name("", out, 5));
    CU_ASSERT_TRUE(http_cgi_name("", out, 6));
    UNIT_STR_EQ(out, "HTTP_");
}

static void test_reason(void)
{
    UNIT_STR_EQ(http_reason(200), "OK");
    UNIT_STR_EQ(http_reason(400), "Bad Request");
    UNIT_STR_EQ(http_reason(401), "Unauthorized");
    UNIT_STR_EQ(http_reason(403), "Forbidden");
    UNIT_STR_EQ(http_reason(500), "Internal Server Error");
    UNIT_STR_EQ(http_reason(503), "Service Unavailable");
    /* Never NULL, never empty: the Status line always has a phrase. */
    const int others[] = {0, 100, 204, 302, 404, 418, 999, -1};
    for (size_t i = 0; i < UNIT_N(others); i++) {
        const char *r = http_reason(others[i]);
        UNIT_CHECK(r != NULL && *r != '\0', "http_reason(%d) must be a phrase", others[i]);
        if (r)
            UNIT_CHECK(safe(r), "http_reason(%d) must be a safe value", others[i]);
    }
}

static void test_authority(void)
{
    static const char *const good[] = {
        "example.com", "app.example.com:8443", "a:1",     "a:",  "127.0.0.1:80", "[::1]",
        "[::1]:443",   "[::ffff:1.2.3.4]",     "x_y-z.~", "%41b"};
    static const char *const bad[] = {"",
                                      "app.example.com:@evil.com",
                                      "app.example.com:80@evil.com",
                                      "user@evil.com",
                                      "a/b",
                                      "a\\b",
                                      "a?b",
                                      "a#b",
                                      "a b",
                                      "a:123456",
                                      "a:8x",
                                      "a:1:2",
                                      "[::1",
                                      "[]",
                                      "[::1]x",
                                      "[::g]",
                                      ":80",
                                      "\xc4\xb0.example"};
    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
        CU_ASSERT_TRUE(http_authority_is_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        CU_ASSERT_FALSE(http_authority_is_valid(bad[i], strlen(bad[i])));
    CU_ASSERT_FALSE(http_authority_is_valid("a\0b", 3)); /* the length decides, NUL refused */
}

static const struct unit_case token_cases[] = {
    UNIT_CASE(test_token_accepts_tchars),
    UNIT_CASE(test_token_rejects_separators),
    UNIT_CASE(test_token_uses_given_length),
    UNIT_END,
};

static const struct unit_case value_cases[] = {
    UNIT_CASE(test_value_rejects_controls),
    UNIT_CASE(test_value_keeps_high_bytes),
    UNIT_CASE(test_value_length_bound),
    UNIT_CASE(test_exportable_values),
    UNIT_END,
};

static const struct unit_case name_cases[] = {
    UNIT_CASE(test_name_eq), UNIT_CASE(test_cgi_name),  UNIT_CASE(test_cgi_name_bounds),
    UNIT_CASE(test_reason),  UNIT_CASE(test_authority), UNIT_END,
};

int main(void)
{
    static const struct unit_suite suites[] = {
        {"token", token_cases},
        {"value", value_cases},
        {"names", name_cases},
        {NULL, NULL},
    };
    return unit_main(suites);
}
