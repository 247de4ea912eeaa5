/* test_signin.c - who is sent to sign in, and the way back it is given. */
#include "core/signin.h"

#include <string.h>

#include "unit.h"

static void env_accept(const char *accept, const char *xrw, char **envp, char *mem, size_t len)
{
    size_t n = 0, at = 0;
    if (accept) {
        envp[n++] = mem + at;
        at += (size_t)snprintf(mem + at, len - at, "HTTP_ACCEPT=%s", accept) + 1;
    }
    if (xrw) {
        envp[n++] = mem + at;
        at += (size_t)snprintf(mem + at, len - at, "HTTP_X_REQUESTED_WITH=%s", xrw) + 1;
    }
    envp[n] = NULL;
}

static bool wants_page(const char *accept, const char *xrw)
{
    char mem[1024], *envp[4];
    env_accept(accept, xrw, envp, mem, sizeof(mem));
    return signin_wants_page(envp);
}

static void test_accept_variants(void)
{
    CU_ASSERT_TRUE(wants_page("text/html", NULL));
    CU_ASSERT_TRUE(wants_page("text/html,application/xhtml+xml,*/*;q=0.8", NULL));
    CU_ASSERT_TRUE(wants_page("application/json;q=0.5, TEXT/HTML", NULL));
    CU_ASSERT_TRUE(wants_page("text/html;level=1;q=0.9, image/png;q=0.9", NULL));
    CU_ASSERT_TRUE(wants_page("text/html ; q=1.0", NULL));
    CU_ASSERT_FALSE(wants_page(NULL, NULL));
    CU_ASSERT_FALSE(wants_page("", NULL));
    CU_ASSERT_FALSE(wants_page("*/*", NULL));
    CU_ASSERT_FALSE(wants_page("application/json", NULL));
    CU_ASSERT_FALSE(wants_page("application/json, text/html;q=0.9", NULL));
    CU_ASSERT_FALSE(wants_page("text/html;q=0", NULL));
    CU_ASSERT_FALSE(wants_page("text/html;q=0.000", NULL));
    CU_ASSERT_FALSE(wants_page("text/htmlx", NULL));
    CU_ASSERT_FALSE(wants_page("text/html;q=junk", NULL));
    CU_ASSERT_FALSE(wants_page("text/html", "XMLHttpRequest"));
    CU_ASSERT_TRUE(wants_page("text/html", "something-else"));
}

static const char *location(const struct rule *r, char **envp, char *out, size_t len)
{
    struct request_view v;
    const char *why = request_view_init(&v, envp);
    UNIT_CHECK(why == NULL, "request: %s", why ? why : "");
    return signin_location(r, &v, out, len);
}

static void test_rd_is_encoded_from_server_data(void)
{
    struct rule r = {.sign_in = "https://auth/start?rd="};
    char *envp[] = {"REQUEST_METHOD=GET",
                    "REQUEST_URI=/a b%2F?x=1&y=\xc3\xbc#f",
                    "REQUEST_SCHEME=https",
                    "HTTPS=on",
                    "HTTP_HOST=evil.example",
                    "HTTP_X_FORWARDED_HOST=evil2.example",
                    "SERVER_NAME=app.example",
                    "SERVER_PORT=443",
                    NULL};
    char out[SIGNIN_MAX_LOCATION];
    /* A space is refused by the request reading; the rest is encoded byte by byte. */
    envp[1] = "REQUEST_URI=/a%2F?x=1&y=\xc3\xbc#f";
    CU_ASSERT_PTR_NULL(location(&r, envp, out, sizeof(out)));
    UNIT_STR_EQ(out, "https://auth/start?rd=https%3A%2F%2Fapp.example%2Fa%252F%3Fx%3D1%26y%3D"
                     "%C3%BC%23f");
    envp[7] = "SERVER_PORT=8443";
    CU_ASSERT_PTR_NULL(location(&r, envp, out, sizeof(out)));
    UNIT_STR_HAS(out, "app.example%3A8443%2Fa");
    CU_ASSERT_PTR_NOT_NULL(location(&r, envp, out, 40)); /* too long for out */
}

static void test_allowed_hosts(void)
{
    char *hosts[] = {"app.example", "other.example:8443"};
    struct rule r = {.sign_in = "https://auth/?rd=", .allowed_hosts = hosts, .nallowed_hosts = 2};
    char *envp[] = {"REQUEST_METHOD=GET",       "REQUEST_URI=/p", "REQUEST_SCHEME=http",
                    "HTTP_HOST=APP.example:81", "SERVER_NAME=x",  NULL};
    char out[SIGNIN_MAX_LOCATION];
    CU_ASSERT_PTR_NULL(location(&r, envp, out, sizeof(out)));
    UNIT_STR_EQ(out, "https://auth/?rd=http%3A%2F%2FAPP.example%3A81%2Fp");
    const char *refused[] = {"HTTP_HOST=other.example", "HTTP_HOST=other.example:1",
                             "HTTP_HOST=app.example.evil", "HTTP_HOST=evil"};
    for (size_t i = 0; i < UNIT_N(refused); i++) {
        envp[3] = (char *)refused[i];
        UNIT_CHECK(location(&r, envp, out, sizeof(out)) != NULL, "%s was allowed", refused[i]);
    }
    envp[3] = "HTTP_HOST=other.example:8443";
    CU_ASSERT_PTR_NULL(location(&r, envp, out, sizeof(out)));
}

static void test_service_locations(void)
{
    CU_ASSERT_TRUE(signin_location_ok("https://auth/start"));
    CU_ASSERT_TRUE(signin_location_ok("http://auth/start"));
    CU_ASSERT_TRUE(signin_location_ok("/oauth2/start"));
    CU_ASSERT_FALSE(signin_location_ok(NULL));
    CU_ASSERT_FALSE(signin_location_ok(""));
    CU_ASSERT_FALSE(signin_location_ok("//evil/x"));
    CU_ASSERT_FALSE(signin_location_ok("/\\evil"));
    CU_ASSERT_FALSE(signin_location_ok("javascript:alert(1)"));
    CU_ASSERT_FALSE(signin_location_ok("evil.example/x"));
}

static const struct unit_case cases[] = {
    UNIT_CASE(test_accept_variants),
    UNIT_CASE(test_rd_is_encoded_from_server_data),
    UNIT_CASE(test_allowed_hosts),
    UNIT_CASE(test_service_locations),
    UNIT_END,
};

int main(void)
{
    static const struct unit_suite suites[] = {
        {"signin", cases},
        {NULL, NULL},
    };
    return unit_main(suites);
}
