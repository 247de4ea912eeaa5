/*
 * test_webserver.c - the web-server table and what every row relies on: finding a server,
 * listing the names, collecting the identity headers, reading the input with its bound.
 * What each checker finds is tested on the real program (tests/servers/test_servercheck.py).
 */
#include "webserver/webserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webserver/identity.h"
#include "webserver/scan.h"
#include "unit.h"

static void test_rows_are_complete_and_distinct(void)
{
    UNIT_CHECK(nwebservers > 0, "the table is empty");
    for (size_t i = 0; i < nwebservers; i++) {
        const struct webserver *ws = &webservers[i];
        UNIT_CHECK(ws->name && ws->name[0], "row %zu has no name", i);
        UNIT_CHECK(ws->print_glue && ws->check, "row %s lacks a function", ws->name);
        for (size_t j = 0; j < i; j++)
            UNIT_CHECK(strcmp(ws->name, webservers[j].name) != 0, "%s is listed twice", ws->name);
    }
}

static void test_find_is_exact(void)
{
    for (size_t i = 0; i < nwebservers; i++)
        CU_ASSERT_PTR_EQUAL(webserver_find(webservers[i].name), &webservers[i]);
    CU_ASSERT_PTR_NULL(webserver_find("caddy"));
    CU_ASSERT_PTR_NULL(webserver_find(""));
    char upper[64];
    snprintf(upper, sizeof(upper), "%s", webservers[0].name);
    upper[0] = (char)(upper[0] - 'a' + 'A');
    CU_ASSERT_PTR_NULL(webserver_find(upper));
}

/* The buffer the command line gives webserver_names is large enough for the whole table. */
static void test_names_fit_their_buffer(void)
{
    char names[WEBSERVER_NAMES_MAX];
    CU_ASSERT_TRUE(webserver_names(" -- ", names, sizeof(names)));
    size_t want = 0;
    for (size_t i = 0; i < nwebservers; i++)
        want += strlen(webservers[i].name) + (i ? 4 : 0);
    UNIT_INT_EQ(strlen(names), want);
    UNIT_CHECK(strncmp(names, webservers[0].name, strlen(webservers[0].name)) == 0,
               "\"%s\" does not start with the first row", names);
}

static void test_names_that_do_not_fit_are_left_out_whole(void)
{
    char small[64];
    const char *first = webservers[0].name;
    CU_ASSERT_FALSE(webserver_names("|", small, strlen(first) + 2)); /* first, "|", no more */
    UNIT_STR_EQ(small, first);
    CU_ASSERT_FALSE(webserver_names("|", small, 1));
    UNIT_STR_EQ(small, "");
}

static struct config *load(const char *text)
{
    struct config *cfg = NULL;
    char err[512];
    const char *msg = config_load_string(text, "test.conf", &cfg, err, sizeof(err));
    UNIT_CHECK(msg == NULL, "config: %s", msg ? msg : "");
    return cfg;
}

static void test_identity_headers_once_each_in_order(void)
{
    struct config *cfg = load("middlewares = (\n"
                              "  { name = \"a\"; type = \"jwt\"; paths = ( \"/a\" ); rule = {\n"
                              "      url = \"http://127.0.0.1:1/\";\n"
                              "      headers = { u = \"X-User\"; r = \"X-Role\"; }; }; },\n"
                              "  { name = \"b\"; type = \"jwt\"; paths = ( \"/b\" ); rule = {\n"
                              "      url = \"http://127.0.0.1:1/\";\n"
                              "      headers = { r = \"x-role\"; m = \"X-Mail\"; }; }; }\n"
                              ");\n");
    if (!cfg)
        return;
    struct identity_headers ids;
    identity_collect(cfg, &ids);
    UNIT_INT_EQ(ids.n, 3);
    if (ids.n == 3) {
        UNIT_STR_EQ(ids.name[0], "X-User");
        UNIT_STR_EQ(ids.name[1], "X-Role"); /* the first spelling is kept */
        UNIT_STR_EQ(ids.name[2], "X-Mail");
    }
    config_free(cfg);
}

/* Runs the check of `server` on len bytes of text, as if read from a file. */
static int check_text(const char *server, const char *text, size_t len, const char **err)
{
    const struct webserver *ws = webserver_find(server);
    FILE *in = tmpfile();
    FILE *out = tmpfile();
    if (!ws || !in || !out) {
        CU_FAIL("cannot set the check up");
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        return -2;
    }
    fwrite(text, 1, len, in);
    rewind(in);
    int problems = webserver_check(ws, in, "t.conf", out, err);
    fclose(in);
    fclose(out);
    return problems;
}

static void test_check_counts_problems(void)
{
    const char *err = NULL;
    /* nginx without any auth_request: exactly one problem. */
    static const char text[] = "server { location / { proxy_pass http://app; } }\n";
    UNIT_INT_EQ(check_text("nginx", text, sizeof(text) - 1, &err), 1);
}

static void test_check_refuses_input_at_the_bound(void)
{
    char *big = malloc(SCAN_MAX_INPUT);
    if (!big) {
        CU_FAIL("out of memory");
        return;
    }
    memset(big, '#', SCAN_MAX_INPUT);
    const char *err = NULL;
    UNIT_INT_EQ(check_text("nginx", big, SCAN_MAX_INPUT, &err), -1);
    UNIT_STR_EQ(err, "input too large");
    err = NULL;
    UNIT_CHECK(check_text("nginx", big, SCAN_MAX_INPUT - 1, &err) >= 0, "refused: %s",
               err ? err : "");
    free(big);
}

int main(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_rows_are_complete_and_distinct),
        UNIT_CASE(test_find_is_exact),
        UNIT_CASE(test_names_fit_their_buffer),
        UNIT_CASE(test_names_that_do_not_fit_are_left_out_whole),
        UNIT_CASE(test_identity_headers_once_each_in_order),
        UNIT_CASE(test_check_counts_problems),
        UNIT_CASE(test_check_refuses_input_at_the_bound),
        UNIT_END,
    };
    static const struct unit_suite suites[] = {{"webserver", cases}, {NULL, NULL}};
    return unit_main(suites);
}
