/* test_response.c - decisions written as FastCGI responses, byte for byte. */
#include "core/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* Everything written for one decision. */
static char outmem[32768];
static struct buf out;

static void write_decision(const struct decision *d)
{
    buf_init(&out, outmem, sizeof(outmem));
    CU_ASSERT_TRUE(response_write(d, &out));
}

/* Printable rendering of bytes for failure messages. */
static const char *show(const char *s, size_t len)
{
    static char text[4096];
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < sizeof(text); i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r') {
            text[o++] = '\\';
            text[o++] = 'r';
        } else if (c == '\n') {
            text[o++] = '\\';
            text[o++] = 'n';
        } else if (c < 0x20 || c >= 0x7f) {
            o += (size_t)snprintf(text + o, sizeof(text) - o, "\\x%02x", c);
        } else {
            text[o++] = (char)c;
        }
    }
    text[o] = '\0';
    return text;
}

static void check_bytes(const char *want, size_t wlen, int line)
{
    int ok = out.len == wlen && memcmp(out.data, want, wlen) == 0;
    if (!ok) {
        char got[4096];
        snprintf(got, sizeof(got), "%s", show(out.data, out.len));
        unit_check(0, __FILE__, (unsigned)line, "wrote \"%s\", expected \"%s\"", got,
                   show(want, wlen));
    } else {
        unit_check(1, __FILE__, (unsigned)line, "ok");
    }
}

static bool out_contains(const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= out.len; i++)
        if (memcmp(out.data + i, needle, n) == 0)
            return true;
    return false;
}

#define EXPECT_BYTES(want) check_bytes(want, sizeof(want) - 1, __LINE__)

/* The headers of a non-allow response end in a blank line and announce the body's length. */
static void check_content_length(void)
{
    const char *end = NULL;
    for (size_t i = 0; i + 4 <= out.len; i++)
        if (memcmp(out.data + i, "\r\n\r\n", 4) == 0) {
            end = out.data + i + 4;
            break;
        }
    CU_ASSERT_PTR_NOT_NULL_FATAL(end);
    size_t body_len = out.len - (size_t)(end - out.data);
    const char *cl = NULL;
    for (const char *p = out.data; p < end - 16; p++)
        if ((p == out.data || p[-1] == '\n') && strncmp(p, "Content-Length: ", 16) == 0) {
            UNIT_CHECK(cl == NULL, "Content-Length written twice");
            cl = p + 16;
        }
    CU_ASSERT_PTR_NOT_NULL_FATAL(cl);
    UNIT_CHECK(strtoul(cl, NULL, 10) == body_len, "Content-Length %lu, body %zu bytes",
               strtoul(cl, NULL, 10), body_len);
}

static const struct middleware some_middleware;

static void test_allow_exact(void)
{
    struct decision d;
    memset(&d, 0, sizeof(d));
    d.outcome = OUTCOME_ALLOWED;
    d.status = 200;
    d.mw = &some_middleware;
    d.vars[0].name = "X-Auth-UserId";
    d.vars[0].value = "42";
    d.vars[1].name = "X-Auth-UserCountryId";
    d.vars[1].value = "DE";
    d.nvars = 2;
    d.query = "a=1&countryId=DE";
    write_decision(&d);
    EXPECT_BYTES("Status: 200 OK\r\n"
                 "Variable-X-Auth-UserId: 42\r\n"
                 "Variable-X-Auth-UserCountryId: DE\r\n"
                 "Variable-AUTHZ_QUERY_STRING: a=1&countryId=DE\r\n"
                 "Variable-AUTHZ_DECISION: allowed\r\n"
                 "\r\n");
}

static void test_allow_empty_query(void)
{
    struct decision d;
    memset(&d, 0, sizeof(d));
    d.outcome = OUTCOME_ALLOWED;
    d.status = 200;
    d.mw = &some_middleware;
    d.query = "";
    write_decision(&d);
    EXPECT_BYTES("Status: 200 OK\r\n"
                 "Variable-AUTHZ_QUERY_STRING: \r\n"
                 "Variable-AUTHZ_DECISION: allowed\r\n"
                 "\r\n");
    /* No query at all reads the same. */
    d.query = NULL;
    write_decision(&d);
    EXPECT_BYTES("Status: 200 OK\r\n"
                 "Variable-AUTHZ_QUERY_STRING: \r\n"
                 "Variable-AUTHZ_DECISION: allowed\r\n"
                 "\r\n");
}

static void test_allow_unprotected(void)
{
    struct decision d;
    memset(&d, 0, sizeof(d));
    d.outcome = OUTCOME_UNPROTECTED;
    d.status = 200;
    d.query = "countryId=forged&b=%20";
    write_decision(&d);
    EXPECT_BYTES("Status: 200 OK\r\n"
                 "Variable-AUTHZ_QUERY_STRING: countryId=forged&b=%20\r\n"
                 "Variable-AUTHZ_DECISION: unprotected\r\n"
                 "\r\n");
}

static void test_allow_has_no_body(void)
{
    /* Whatever a decision carries besides, an allow is headers and a blank line only. */
    struct decision d;
    memset(&d, 0, sizeof(d));
    d.outcome = OUTCOME_ALLOWED;
    d.status = 200;
    d.mw = &some_middleware;
    d.query = "q";
    d.www_authenticate = "Bearer";
    d.content_type = "application/json";
    d.body = "{\"secret\":1}";
    d.body_len = 12;
    write_decision(&d);
    EXPECT_BYTES("Status: 200 OK\r\n"
                 "Variable-AUTHZ_QUERY_STRING: q\r\n"
                 "Variable-AUTHZ_DECISION: allowed\r\n"
                 "\r\n");
}

static void test_allow_many_vars_in_order(void)
{
    struct decision d;
    memset(&d, 0, sizeof(d));
    d.outcome = OUTCOME_ALLOWED;
    d.status = 200;
    d.mw = &some_middleware;
    static char names[CONFIG_MAX_MAPPINGS][16], values[CONFIG_MAX_MAPPINGS][16];
    for (size_t i = 0; i < CONFIG_MAX_MAPPINGS; i++) {
        snprintf(names[i], sizeof(names[i]), "X-V%zu", i);
        snprintf(values[i], sizeof(values[i]), "v%zu", i);
        d.vars[i].name = names[i];
        d.vars[i].value = values[i];
    }
    d.nvars = CONFIG_MAX_MAPPINGS;
    d.query = "";
    write_decision(&d);

    char want[4096];
    size_t o = (size_t)snprintf(want, sizeof(want), "Status: 200 OK\r\n");
    for (size_t i = 0; i < CONFIG_MAX_MAPPINGS; i++)
        o += (size_t)snprintf(want + o, sizeof(want) - o, "Variable-X-V%zu: v%zu\r\n", i, i);
    o += (size_t)snprintf(want + o, sizeof(want) - o,
                          "Variable-AUTHZ_QUERY_STRING: \r\n"
                          "Variable-AUTHZ_DECISION: allowed\r\n\r\n");
    check_bytes(want, o, __LINE__);
}

static void test_deny_401_relayed(void)
{
    struct decision d;
    memset(&d, 0, sizeof(d));
    d.outcome = OUTCOME_DENIED;
    d.status = 401;
    d.mw = &some_middleware;
    d.www_authenticate = "Bearer realm=\"api\", error=\"invalid_token\"";
    d.content_type = "application/json";
    d.body = "{\"error\":\"expired\"}";
    d.body_len = strlen(d.body);
    d.query = "must-not-appear";
    d.vars[0].name = "X-Auth-UserId";
    d.vars[0].value = "must-not-appear";
    d.nvars = 1;
    write_decision(&d);
    EXPECT_BYTES("Status: 401 Unauthorized\r\n"
                 "WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: 19\r\n"
                 "\r\n"
                 "{\"error\":\"expired\"}");
    check_content_length();
}

static void test_deny_body_without_type(void)
{
    struct decision d;
    memset(&d, 0, sizeof(d));
    d.outcome = OUTCOME_DENIED;
    d.status = 401;
    d.body = "expired";
    d.body_len = 7;
    write_decision(&d);
    EXPECT_BYTES("Status: 401 Unauthorized\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Length: 7\r\n"
                 "\r\n"
                 "expired");
    check_content_length();
}

static void test_deny_body_is_binary(void)
{
    /* The body is relayed by length: a NUL inside it is data, not its end. */
    struct decision d;
    memset(&d, 0, sizeof(d));
    d.outcome = OUTCOME_DENIED;
    d.status = 403;
    d.content_type = "application/octet-stream";
    d.body = "a\0b\r\n";
    d.body_len = 5;
    write_decision(&d);
    EXPECT_BYTES("Status: 403 Forbidden\r\n"
                 "Content-Type: application/octet-stream\r\n"
                 "Content-Length: 5\r\n"
                 "\r\n"
                 "a\0b\r\n");
    check_content_length();
}

static void test_deny_403_fallback(void)
{
    struct decision d;
    memset(&d, 0, sizeof(d));
    d.outcome = OUTCOME_DENIED;
    d.status = 403;
    d.mw = &some_middleware;
    d.reason = "missing header";
    d.detail = "Authorization";
    write_decision(&d);
    EXPECT_BYTES("Status: 403 Forbidden\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Length: 14\r\n"
                 "\r\n"
                 "403 Forbidden\n");
    check_content_length();

    /* The auth service's Content-Type describes its body: not the fallback text. */
    d.content_type = "application/json";
    d.www_authenticate = "Basic realm=\"x\"";
    write_decision(&d);
    EXPECT_BYTES("Status: 403 Forbidden\r\n"
                 "WWW-Authenticate: Basic realm=\"x\"\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Length: 14\r\n"
                 "\r\n"
                 "403 Forbidden\n");
    check_content_length();
}

static void test_errors_reveal_nothing(void)
{
    struct decision d;
    memset(&d, 0, sizeof(d));
    d.outcome = OUTCOME_BAD_REQUEST;
    d.status = 400;
    d.reason = "bad request";
    d.detail = "SECRET malformed path";
    d.body = "SECRET body";
    d.body_len = 11;
    d.content_type = "text/html";
    write_decision(&d);
    EXPECT_BYTES("Status: 400 Bad Request\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Length: 16\r\n"
                 "\r\n"
                 "400 Bad Request\n");
    check_content_length();

    d.outcome = OUTCOME_ERROR;
    d.status = 500;
    d.reason = "error";
    d.detail = "SECRET connect to 10.0.0.1 failed";
    d.auth_status = 503;
    write_decision(&d);
    EXPECT_BYTES("Status: 500 Internal Server Error\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Length: 26\r\n"
                 "\r\n"
                 "500 Internal Server Error\n");
    check_content_length();
    CU_ASSERT_FALSE(out_contains("SECRET"));
    CU_ASSERT_FALSE(out_contains("503"));
}

static void test_status_line_first(void)
{
    const int statuses[] = {200, 400, 401, 403, 500};
    const enum outcome outcomes[] = {OUTCOME_ALLOWED, OUTCOME_BAD_REQUEST, OUTCOME_DENIED,
                                     OUTCOME_DENIED, OUTCOME_ERROR};
    const char *lines[] = {"Status: 200 OK\r\n", "Status: 400 Bad Request\r\n",
                           "Status: 401 Unauthorized\r\n", "Status: 403 Forbidden\r\n",
                           "Status: 500 Internal Server Error\r\n"};
    for (size_t i = 0; i < UNIT_N(statuses); i++) {
        struct decision d;
        memset(&d, 0, sizeof(d));
        d.outcome = outcomes[i];
        d.status = statuses[i];
        write_decision(&d);
        size_t n = strlen(lines[i]);
        UNIT_CHECK(out.len >= n && memcmp(out.data, lines[i], n) == 0,
                   "status %d: response starts \"%s\"", statuses[i], show(out.data, out.len));
        /* Every header line ends in CRLF: no bare LF anywhere before the blank line. */
        for (size_t k = 0; k < out.len; k++) {
            if (out.data[k] == '\n' && (k == 0 || out.data[k - 1] != '\r')) {
                UNIT_CHECK(0, "status %d: bare LF at %zu", statuses[i], k);
                break;
            }
            if (k >= 3 && memcmp(out.data + k - 3, "\r\n\r\n", 4) == 0)
                break;
        }
    }
}

static void test_deny_every_value_on_its_own_line(void)
{
    struct decision d;
    memset(&d, 0, sizeof(d));
    d.outcome = OUTCOME_DENIED;
    d.status = 401;
    d.mw = &some_middleware;
    d.www_authenticate = "Bearer realm=\"a\"\nBasic realm=\"b, c\"";
    d.location = "https://auth/login";
    d.set_cookie = "a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT\nb=2";
    write_decision(&d);
    EXPECT_BYTES("Status: 401 Unauthorized\r\n"
                 "WWW-Authenticate: Bearer realm=\"a\"\r\n"
                 "WWW-Authenticate: Basic realm=\"b, c\"\r\n"
                 "Location: https://auth/login\r\n"
                 "Set-Cookie: a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT\r\n"
                 "Set-Cookie: b=2\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Length: 17\r\n"
                 "\r\n"
                 "401 Unauthorized\n");
    check_content_length();
}

static void test_sign_in_redirect(void)
{
    struct decision d;
    memset(&d, 0, sizeof(d));
    d.outcome = OUTCOME_DENIED;
    d.status = 302;
    d.mw = &some_middleware;
    d.location = "https://auth/start?rd=https%3A%2F%2Fapp%2F";
    d.set_cookie = "csrf=1";
    write_decision(&d);
    EXPECT_BYTES("Status: 302 Found\r\n"
                 "Location: https://auth/start?rd=https%3A%2F%2Fapp%2F\r\n"
                 "Set-Cookie: csrf=1\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Length: 10\r\n"
                 "\r\n"
                 "302 Found\n");
    /* nginx's subrequest: the status alone, a redirect as 401 for error_page to catch. */
    d.status_only = true;
    write_decision(&d);
    EXPECT_BYTES("Status: 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
    d.status = 403;
    write_decision(&d);
    EXPECT_BYTES("Status: 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
}

static void test_allow_cookies_as_numbered_variables(void)
{
    struct decision d;
    memset(&d, 0, sizeof(d));
    d.outcome = OUTCOME_ALLOWED;
    d.status = 200;
    d.mw = &some_middleware;
    d.query = "";
    char many[1024] = "";
    for (int i = 0; i < CONFIG_MAX_AUTH_COOKIES + 2; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sc%d=1", i ? "\n" : "", i);
    d.set_cookie = many;
    write_decision(&d);
    CU_ASSERT_TRUE(out_contains("Variable-AUTHZ_SET_COOKIE_1: c0=1\r\n"
                                "Variable-AUTHZ_SET_COOKIE_2: c1=1\r\n"));
    CU_ASSERT_TRUE(out_contains("Variable-AUTHZ_SET_COOKIE_8: c7=1\r\nVariable-AUTHZ_QUERY"));
    CU_ASSERT_FALSE(out_contains("c8=1"));
    CU_ASSERT_FALSE(out_contains("Set-Cookie:"));
}

static const struct unit_case allow_cases[] = {
    UNIT_CASE(test_allow_exact),
    UNIT_CASE(test_allow_empty_query),
    UNIT_CASE(test_allow_unprotected),
    UNIT_CASE(test_allow_has_no_body),
    UNIT_CASE(test_allow_many_vars_in_order),
    UNIT_CASE(test_allow_cookies_as_numbered_variables),
    UNIT_END,
};

static const struct unit_case deny_cases[] = {
    UNIT_CASE(test_deny_401_relayed),
    UNIT_CASE(test_deny_body_without_type),
    UNIT_CASE(test_deny_body_is_binary),
    UNIT_CASE(test_deny_403_fallback),
    UNIT_CASE(test_errors_reveal_nothing),
    UNIT_CASE(test_status_line_first),
    UNIT_CASE(test_deny_every_value_on_its_own_line),
    UNIT_CASE(test_sign_in_redirect),
    UNIT_END,
};

int main(void)
{
    static const struct unit_suite suites[] = {
        {"allow", allow_cases},
        {"deny", deny_cases},
        {NULL, NULL},
    };
    return unit_main(suites);
}
