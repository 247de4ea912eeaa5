/* test_decide.c - the decision: status mapping, exports, middleware order, early answers. */
#include "core/decide.h"
#include "core/decide_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/request.h"
#include "core/response.h"
#include "unit.h"

static const char config_text[] =
    "middlewares = (\n"
    "  { name = \"first\"; type = \"jwt\"; paths = ( \"/api\", \"/shared\" );\n"
    "    rule = { url = \"http://auth.example/first\";\n"
    "             requiredHeaders = ( \"Authorization\", \"X-Tenant\" );\n"
    "             headers = { userId = \"X-Auth-UserId\"; userCountryId = "
    "\"X-Auth-UserCountryId\"; };\n"
    "             params = { userCountryId = \"countryId\"; }; }; },\n"
    "  { name = \"second\"; type = \"jwt\"; paths = ( \"/shared/deep\", \"/second/*.pdf\" );\n"
    "    rule = { url = \"https://auth.example/second\"; }; }\n"
    ");\n";

/* wanted[] of the first rule: the fixed ones, then the sources in order. */
enum { W_USER_ID = WANTED_FIXED, W_COUNTRY = WANTED_FIXED + 1 };

static struct config *cfg;
static struct decide_ctx *ctx;

/* decide() is tested without an auth service: every middleware gets this authenticator, which
 * counts its calls and answers a failure, so a test can tell whether anything was asked. */
static int stub_calls;

static enum auth_status stub_ask(const struct authenticator *self, struct auth_worker *w,
                                 const struct request_view *req, struct auth_result *res,
                                 enum cache_state *cache)
{
    (void)self, (void)w, (void)req;
    stub_calls++;
    memset(res, 0, sizeof(*res));
    res->error = "stub";
    res->cause = CAUSE_CONNECT;
    *cache = CACHE_OFF;
    return AUTH_FAILED;
}

static const struct authenticator stub = {stub_ask};
static const struct authenticator *const stub_guards[] = {&stub, &stub, &stub, &stub};

static struct policy policy_of(struct config *c)
{
    CU_ASSERT_FATAL(c->nmiddlewares <= UNIT_N(stub_guards));
    return (struct policy){.cfg = c, .guards = stub_guards};
}

static void setup(void)
{
    char err[512];
    const char *msg = config_load_string(config_text, "decide.conf", &cfg, err, sizeof(err));
    UNIT_CHECK(msg == NULL, "config should load: %s", msg ? msg : "");
    ctx = calloc(1, sizeof(*ctx));
    CU_ASSERT_PTR_NOT_NULL(ctx);
    stub_calls = 0;
}

static void teardown(void)
{
    config_free(cfg);
    cfg = NULL;
    free(ctx);
    ctx = NULL;
}

static const struct rule *first_rule(void)
{
    return &cfg->middlewares[0].rule;
}

/* A request view over a NULL-terminated "NAME=value" list. */
static const char *view_of(struct request_view *v, char **envp)
{
    return request_view_init(v, envp);
}

static void clear_result(struct auth_result *res)
{
    memset(res, 0, sizeof(*res));
}

/* ---- decide_outcome: the auth service's answer ---- */

static void test_outcome_allow(void)
{
    setup();
    CU_ASSERT_FATAL(cfg && ctx);
    CU_ASSERT_EQUAL_FATAL(first_rule()->nwanted, W_COUNTRY + 1);
    UNIT_STR_EQ(first_rule()->wanted[W_USER_ID], "userId");
    UNIT_STR_EQ(first_rule()->wanted[W_COUNTRY], "userCountryId");

    char *envp[] = {"REQUEST_URI=/api/x?a=1&countryId=forged&b=2", NULL};
    struct request_view req;
    CU_ASSERT_PTR_NULL_FATAL(view_of(&req, envp));

    const int allowed[] = {200, 201, 202, 204, 250, 299};
    for (size_t i = 0; i < UNIT_N(allowed); i++) {
        struct auth_result res;
        clear_result(&res);
        res.status = allowed[i];
        res.values[W_USER_ID] = "42";
        res.values[W_COUNTRY] = "DE";
        res.values[WANTED_WWW_AUTHENTICATE] = "Bearer";
        res.values[WANTED_CONTENT_TYPE] = "text/html";
        res.body = "ignored";
        res.body_len = 7;
        struct decision d;
        memset(&d, 0, sizeof(d));
        decide_outcome(&d, first_rule(), AUTH_OK, &res, &req, ctx);
        UNIT_CHECK(d.status == 200, "auth status %d gave %d, expected 200", allowed[i], d.status);
        CU_ASSERT_EQUAL(d.auth_status, allowed[i]);
        CU_ASSERT_EQUAL_FATAL(d.nvars, 2);
        UNIT_STR_EQ(d.vars[0].name, "X-Auth-UserId");
        UNIT_STR_EQ(d.vars[0].value, "42");
        UNIT_STR_EQ(d.vars[1].name, "X-Auth-UserCountryId");
        UNIT_STR_EQ(d.vars[1].value, "DE");
        /* The forged parameter is gone and the auth service's value appended. */
        UNIT_STR_EQ(d.query, "a=1&b=2&countryId=DE");
        CU_ASSERT_PTR_EQUAL(d.query, ctx->query_buf);
        /* Nothing of a denial is carried on an allow. */
        CU_ASSERT_PTR_NULL(d.www_authenticate);
        CU_ASSERT_PTR_NULL(d.content_type);
        CU_ASSERT_PTR_NULL(d.body);
        UNIT_STR_EQ(d.reason, "allowed");
    }
    teardown();
}

static void test_outcome_allow_partial_values(void)
{
    setup();
    CU_ASSERT_FATAL(cfg && ctx);
    char *envp[] = {"REQUEST_URI=/api/x?countryId=forged&COUNTRYID=x&keep=1", NULL};
    struct request_view req;
    CU_ASSERT_PTR_NULL_FATAL(view_of(&req, envp));

    /* Only the mapped headers that have a value are exported. */
    struct auth_result res;
    clear_result(&res);
    res.status = 200;
    res.values[W_USER_ID] = "42";
    struct decision d;
    memset(&d, 0, sizeof(d));
    decide_outcome(&d, first_rule(), AUTH_OK, &res, &req, ctx);
    CU_ASSERT_EQUAL(d.status, 200);
    CU_ASSERT_EQUAL_FATAL(d.nvars, 1);
    UNIT_STR_EQ(d.vars[0].name, "X-Auth-UserId");
    UNIT_STR_EQ(d.vars[0].value, "42");
    /* No value for the parameter: the forged ones are removed all the same. */
    UNIT_STR_EQ(d.query, "keep=1");

    /* Nothing at all. */
    clear_result(&res);
    res.status = 204;
    res.values[WANTED_WWW_AUTHENTICATE] = "Bearer";
    memset(&d, 0, sizeof(d));
    decide_outcome(&d, first_rule(), AUTH_OK, &res, &req, ctx);
    CU_ASSERT_EQUAL(d.status, 200);
    CU_ASSERT_EQUAL(d.nvars, 0);
    UNIT_STR_EQ(d.query, "keep=1");

    /* An empty value is none, header and parameter alike: the forged ones still go. */
    clear_result(&res);
    res.status = 200;
    res.values[W_USER_ID] = "";
    res.values[W_COUNTRY] = "";
    memset(&d, 0, sizeof(d));
    decide_outcome(&d, first_rule(), AUTH_OK, &res, &req, ctx);
    CU_ASSERT_EQUAL(d.status, 200);
    CU_ASSERT_EQUAL(d.nvars, 0);
    UNIT_STR_EQ(d.query, "keep=1");

    /* The dropped-value note goes to the log detail, the decision stays an allow. */
    clear_result(&res);
    res.status = 200;
    res.dropped = "userId";
    memset(&d, 0, sizeof(d));
    decide_outcome(&d, first_rule(), AUTH_OK, &res, &req, ctx);
    CU_ASSERT_EQUAL(d.status, 200);
    CU_ASSERT_EQUAL(d.nvars, 0);
    CU_ASSERT_PTR_NOT_NULL(d.detail);
    teardown();
}

static void test_outcome_rule_without_mappings(void)
{
    setup();
    CU_ASSERT_FATAL(cfg && ctx);
    const struct rule *second = &cfg->middlewares[1].rule;
    char *envp[] = {"REQUEST_URI=/second/a.pdf?countryId=1&x", NULL};
    struct request_view req;
    CU_ASSERT_PTR_NULL_FATAL(view_of(&req, envp));
    struct auth_result res;
    clear_result(&res);
    res.status = 200;
    res.values[WANTED_WWW_AUTHENTICATE] = "Bearer";
    res.values[WANTED_CONTENT_TYPE] = "text/plain";
    struct decision d;
    memset(&d, 0, sizeof(d));
    decide_outcome(&d, second, AUTH_OK, &res, &req, ctx);
    CU_ASSERT_EQUAL(d.status, 200);
    CU_ASSERT_EQUAL(d.nvars, 0);
    /* This rule sets no parameters, but another one sets countryId: a client may forge it
     * on no request. The rest of the query goes on as it is. */
    UNIT_STR_EQ(d.query, "x");
    teardown();
}

static void test_outcome_deny(void)
{
    setup();
    CU_ASSERT_FATAL(cfg && ctx);
    char *envp[] = {"REQUEST_URI=/api/x?countryId=forged", NULL};
    struct request_view req;
    CU_ASSERT_PTR_NULL_FATAL(view_of(&req, envp));
    const int denied[] = {401, 403};
    for (size_t i = 0; i < UNIT_N(denied); i++) {
        struct auth_result res;
        clear_result(&res);
        res.status = denied[i];
        res.values[WANTED_WWW_AUTHENTICATE] = "Bearer error=\"invalid_token\"";
        res.values[WANTED_CONTENT_TYPE] = "application/json";
        res.values[W_USER_ID] = "42";
        res.body = "{\"e\":1}";
        res.body_len = 7;
        struct decision d;
        memset(&d, 0, sizeof(d));
        decide_outcome(&d, first_rule(), AUTH_OK, &res, &req, ctx);
        CU_ASSERT_EQUAL(d.status, denied[i]);
        CU_ASSERT_EQUAL(d.auth_status, denied[i]);
        UNIT_STR_EQ(d.www_authenticate, "Bearer error=\"invalid_token\"");
        UNIT_STR_EQ(d.content_type, "application/json");
        CU_ASSERT_PTR_EQUAL(d.body, res.body);
        CU_ASSERT_EQUAL(d.body_len, 7);
        /* No identity and no query on a denial. */
        CU_ASSERT_EQUAL(d.nvars, 0);
        CU_ASSERT_PTR_NULL(d.query);
        UNIT_STR_EQ(d.reason, "denied");
    }

    /* A denial without anything to relay. */
    struct auth_result res;
    clear_result(&res);
    res.status = 403;
    struct decision d;
    memset(&d, 0, sizeof(d));
    decide_outcome(&d, first_rule(), AUTH_OK, &res, &req, ctx);
    CU_ASSERT_EQUAL(d.status, 403);
    CU_ASSERT_PTR_NULL(d.www_authenticate);
    CU_ASSERT_PTR_NULL(d.content_type);
    CU_ASSERT_EQUAL(d.body_len, 0);
    teardown();
}

static void test_outcome_fail_closed(void)
{
    setup();
    CU_ASSERT_FATAL(cfg && ctx);
    char *envp[] = {"REQUEST_URI=/api/x?a=1", NULL};
    struct request_view req;
    CU_ASSERT_PTR_NULL_FATAL(view_of(&req, envp));
    /* Anything but 2xx, 401 and 403 is an error: redirects and 404 included. */
    const int others[] = {0,   100, 101, 199, 300, 301, 302, 304, 307, 400, 402, 404,
                          405, 407, 418, 429, 500, 502, 503, 504, 600, 999, -1};
    for (size_t i = 0; i < UNIT_N(others); i++) {
        struct auth_result res;
        clear_result(&res);
        res.status = others[i];
        res.values[W_USER_ID] = "42";
        res.values[W_COUNTRY] = "DE";
        res.values[WANTED_WWW_AUTHENTICATE] = "Bearer";
        res.values[WANTED_CONTENT_TYPE] = "text/html";
        res.body = "<h1>Moved</h1>";
        res.body_len = 14;
        struct decision d;
        memset(&d, 0, sizeof(d));
        decide_outcome(&d, first_rule(), AUTH_OK, &res, &req, ctx);
        UNIT_CHECK(d.status == 500, "auth status %d gave %d, expected 500", others[i], d.status);
        CU_ASSERT_EQUAL(d.nvars, 0);
        CU_ASSERT_PTR_NULL(d.query);
        CU_ASSERT_PTR_NULL(d.www_authenticate);
        CU_ASSERT_PTR_NULL(d.content_type);
        CU_ASSERT_PTR_NULL(d.body);
        CU_ASSERT_EQUAL(d.body_len, 0);
    }

    /* No usable response: 500, whatever the result happens to hold. */
    struct auth_result res;
    clear_result(&res);
    res.status = 200;
    res.values[W_USER_ID] = "42";
    res.error = "connection refused";
    struct decision d;
    memset(&d, 0, sizeof(d));
    decide_outcome(&d, first_rule(), AUTH_FAILED, &res, &req, ctx);
    CU_ASSERT_EQUAL(d.status, 500);
    CU_ASSERT_EQUAL(d.nvars, 0);
    CU_ASSERT_PTR_NULL(d.query);
    UNIT_STR_EQ(d.detail, "connection refused");

    /* A client header that cannot be forwarded: 400. */
    clear_result(&res);
    res.status = 200;
    res.values[W_USER_ID] = "42";
    res.error = "Authorization too long";
    memset(&d, 0, sizeof(d));
    decide_outcome(&d, first_rule(), AUTH_BAD_REQUEST, &res, &req, ctx);
    CU_ASSERT_EQUAL(d.status, 400);
    CU_ASSERT_EQUAL(d.nvars, 0);
    CU_ASSERT_PTR_NULL(d.query);
    UNIT_STR_EQ(d.detail, "Authorization too long");
    teardown();
}

static void test_outcome_query_too_long(void)
{
    setup();
    CU_ASSERT_FATAL(cfg && ctx);
    /* A rewritten query that does not fit is an error, never a truncated query. */
    size_t qlen = QUERY_MAX_OUT - 8;
    char *uri = malloc(qlen + 32);
    CU_ASSERT_FATAL(uri != NULL);
    strcpy(uri, "REQUEST_URI=/api/x?");
    size_t o = strlen(uri);
    memset(uri + o, 'q', qlen);
    uri[o + qlen] = '\0';
    char *envp[] = {uri, NULL};
    struct request_view req;
    memset(&req, 0, sizeof(req));
    /* Longer than a request may be: build the view by hand. */
    req.envp = envp;
    req.path = uri + 12;
    req.path_len = 6;
    req.query = uri + o;
    struct auth_result res;
    clear_result(&res);
    res.status = 200;
    res.values[W_USER_ID] = "42";
    res.values[W_COUNTRY] = "DE";
    struct decision d;
    memset(&d, 0, sizeof(d));
    decide_outcome(&d, first_rule(), AUTH_OK, &res, &req, ctx);
    CU_ASSERT_EQUAL(d.status, 500);
    CU_ASSERT_EQUAL(d.nvars, 0);
    CU_ASSERT_PTR_NULL(d.query);

    /* Without the appended value it fits. */
    res.values[W_COUNTRY] = NULL;
    memset(&d, 0, sizeof(d));
    decide_outcome(&d, first_rule(), AUTH_OK, &res, &req, ctx);
    CU_ASSERT_EQUAL(d.status, 200);
    CU_ASSERT_EQUAL(d.nvars, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d.query);
    CU_ASSERT_EQUAL(strlen(d.query), qlen);
    free(uri);
    teardown();
}

/* ---- decide_find_middleware: configuration order ---- */

static const char *find(const char *path)
{
    if (path_normalize(path, strlen(path), NULL, &ctx->views) != PATH_OK)
        return "(malformed)";
    long i = decide_find_middleware(cfg, &ctx->views);
    return i >= 0 ? cfg->middlewares[i].name : "(none)";
}

static void test_find_middleware(void)
{
    setup();
    CU_ASSERT_FATAL(cfg && ctx);
    UNIT_STR_EQ(find("/api"), "first");
    UNIT_STR_EQ(find("/api/v1/users"), "first");
    UNIT_STR_EQ(find("/shared"), "first");
    /* "/shared/deep" is the second's, but the first protects it already: first wins. */
    UNIT_STR_EQ(find("/shared/deep"), "first");
    UNIT_STR_EQ(find("/shared/deep/x"), "first");
    UNIT_STR_EQ(find("/second/a.pdf"), "second");
    UNIT_STR_EQ(find("/SECOND/A.PDF"), "second");
    UNIT_STR_EQ(find("/second/a.pdf/page/2"), "second");
    UNIT_STR_EQ(find("/x/../second/%61.pdf"), "(malformed)");
    UNIT_STR_EQ(find("/second/%61.pdf"), "second");
    UNIT_STR_EQ(find("/second/a.txt"), "(none)");
    UNIT_STR_EQ(find("/second"), "(none)");
    UNIT_STR_EQ(find("/"), "(none)");
    UNIT_STR_EQ(find("/apix"), "(none)");
    UNIT_STR_EQ(find("/public/..%2Fapi"), "(malformed)");
    UNIT_STR_EQ(find("/public%2F%61pi"), "(none)");
    teardown();

    /* The order of the configuration decides, not which pattern is more specific. */
    char err[512];
    const char *msg = config_load_string("middlewares = (\n"
                                         " { name = \"narrow\"; type = \"jwt\"; paths = ( \"/a/b\" "
                                         "); rule = { url = \"http://n\"; }; },\n"
                                         " { name = \"broad\"; type = \"jwt\"; paths = ( \"/\" ); "
                                         "rule = { url = \"http://b\"; }; }\n"
                                         ");\n",
                                         "order.conf", &cfg, err, sizeof(err));
    UNIT_CHECK(msg == NULL, "%s", msg ? msg : "");
    ctx = calloc(1, sizeof(*ctx));
    CU_ASSERT_FATAL(cfg && ctx);
    UNIT_STR_EQ(find("/a/b/c"), "narrow");
    UNIT_STR_EQ(find("/a"), "broad");
    UNIT_STR_EQ(find("/"), "broad");
    UNIT_STR_EQ(find("/anything"), "broad");
    teardown();
}

/* ---- decide(): answers that never reach the auth service ---- */

static void run_decide(char **envp, struct decision *d)
{
    struct request_view req;
    const char *bad = request_view_init(&req, envp);
    UNIT_CHECK(bad == NULL, "request should be readable: %s", bad ? bad : "");
    if (bad) {
        decide_bad_request(d, bad);
        return;
    }
    struct policy p = policy_of(cfg);
    int before = stub_calls;
    decide(&p, &req, ctx, d);
    UNIT_CHECK(stub_calls == before, "%s: the authenticator was asked", envp[0]);
}

/* Two authenticators that decide without a service: one allows with an identity, one
 * denies; each counts its calls. */
static int allow_calls, deny_calls;

static enum auth_status allow_ask(const struct authenticator *self, struct auth_worker *w,
                                  const struct request_view *req, struct auth_result *res,
                                  enum cache_state *cache)
{
    (void)self, (void)w, (void)req;
    allow_calls++;
    memset(res, 0, sizeof(*res));
    res->status = 200;
    res->values[WANTED_FIXED] = "public-user";
    *cache = CACHE_OFF;
    return AUTH_OK;
}

static enum auth_status deny_ask(const struct authenticator *self, struct auth_worker *w,
                                 const struct request_view *req, struct auth_result *res,
                                 enum cache_state *cache)
{
    (void)self, (void)w, (void)req;
    deny_calls++;
    memset(res, 0, sizeof(*res));
    res->status = 401;
    res->values[WANTED_WWW_AUTHENTICATE] = "Bearer realm=\"strict\"";
    *cache = CACHE_OFF;
    return AUTH_OK;
}

/*
 * A lenient middleware on /api/public listed before a strict one on /api. Each reading of a
 * path is decided on its own; readings that lead to both get both, so the strict one's
 * denial stands: "/api/public;x/admin" is /api/public/admin to Tomcat and Spring, and below
 * /api but not /api/public to a server that keeps ";x". Dot segments are refused (400, no
 * middleware asked) rather than read both ways.
 */
static void test_readings_that_disagree_get_the_strictest(void)
{
    static const char text[] =
        "middlewares = (\n"
        "  { name = \"public\"; type = \"jwt\"; paths = ( \"/api/public\" );\n"
        "    rule = { url = \"http://a/p\"; headers = { user = \"X-User\"; }; }; },\n"
        "  { name = \"strict\"; type = \"jwt\"; paths = ( \"/api\" );\n"
        "    rule = { url = \"http://a/s\"; }; }\n"
        ");\n";
    char err[512];
    struct config *c = NULL;
    const char *msg = config_load_string(text, "two.conf", &c, err, sizeof(err));
    UNIT_CHECK(msg == NULL, "%s", msg ? msg : "");
    CU_ASSERT_FATAL(c != NULL);
    struct decide_ctx *x = calloc(1, sizeof(*x));
    static const struct authenticator allow = {allow_ask}, deny = {deny_ask};
    const struct authenticator *guards[] = {&allow, &deny};
    struct policy p = {.cfg = c, .guards = guards};
    struct {
        const char *uri;
        int status, allows, denies;
    } cases[] = {
        {"REQUEST_URI=/api/public/x", 200, 1, 0},
        {"REQUEST_URI=/api/admin", 401, 0, 1},
        {"REQUEST_URI=/api/public;x/admin", 401, 0, 1},
        {"REQUEST_URI=/api/public/..;/admin", 400, 0, 0},
        {"REQUEST_URI=/api/public/%2e%2e;/admin", 400, 0, 0},
        {"REQUEST_URI=/api/public%2F..%2Fadmin", 400, 0, 0},
        {"REQUEST_URI=/api/public%252F..%252Fadmin", 400, 0, 0},
        {"REQUEST_URI=/api/public\\..\\admin", 400, 0, 0},
        {"REQUEST_URI=/api/public%5C..%5Cadmin", 400, 0, 0},
        {"REQUEST_URI=//evil/api/admin", 401, 0, 1},
        {"REQUEST_URI=/api/public/..%20/admin", 400, 0, 0},
        /* A router that keeps dot segments reads these below /api, a server below
         * /api/public: refused, not decided by the lenient one alone. */
        {"REQUEST_URI=/api/..", 400, 0, 0},
        {"REQUEST_URI=/api/public/../../x", 400, 0, 0},
        {"REQUEST_URI=/api/x/../public/y", 400, 0, 0},
        /* An encoded slash or backslash kept in its segment ("public/admin" is one segment
         * below /api, not /api/public) and the same split: two readings, both decided. */
        {"REQUEST_URI=/api/public%2Fadmin", 401, 0, 1},
        {"REQUEST_URI=/api/public%5Cadmin", 401, 0, 1},
        {"REQUEST_URI=/api/public%252Fadmin", 401, 0, 1},
        {"REQUEST_URI=/api/public%255cadmin", 401, 0, 1},
        {"REQUEST_URI=/api/public%2f", 401, 0, 1},
        {"REQUEST_URI=/api/public\\admin", 401, 0, 1},
        {"REQUEST_URI=/index.php/api/admin", 401, 0, 1},
        {"REQUEST_URI=/api/public.json", 401, 0, 1},
    };
    for (size_t i = 0; i < UNIT_N(cases); i++) {
        char *envp[] = {(char *)cases[i].uri, NULL};
        struct request_view req;
        CU_ASSERT_PTR_NULL_FATAL(request_view_init(&req, envp));
        allow_calls = deny_calls = 0;
        struct decision d;
        decide(&p, &req, x, &d);
        UNIT_CHECK(d.status == cases[i].status, "%s: %d, expected %d", cases[i].uri, d.status,
                   cases[i].status);
        UNIT_CHECK(deny_calls == cases[i].denies, "%s: the strict one asked %d times", cases[i].uri,
                   deny_calls);
        UNIT_CHECK(allow_calls == cases[i].allows, "%s: the lenient one asked %d times",
                   cases[i].uri, allow_calls);
        if (d.status == 400) {
            CU_ASSERT_PTR_NULL(d.mw);
        } else if (d.status == 200) {
            CU_ASSERT_EQUAL(d.nvars, 1);
            UNIT_STR_EQ(d.mw->name, "public");
        } else {
            UNIT_STR_EQ(d.mw->name, "strict");
            CU_ASSERT_EQUAL(d.nvars, 0);
        }
    }
    /* When both allow, the first in configuration order exports the identity. */
    guards[1] = &allow;
    char *both[] = {"REQUEST_URI=/api/public;x/admin", NULL};
    struct request_view req;
    CU_ASSERT_PTR_NULL_FATAL(request_view_init(&req, both));
    allow_calls = 0;
    struct decision d;
    decide(&p, &req, x, &d);
    UNIT_INT_EQ(d.status, 200);
    UNIT_INT_EQ(allow_calls, 2);
    UNIT_STR_EQ(d.mw->name, "public");
    CU_ASSERT_EQUAL(d.nvars, 1);
    free(x);
    config_free(c);
}

/* A protected request with its required headers is asked about, and what the authenticator
 * answers is the decision: here a failure, which fails closed with its cause. */
static void test_decide_asks_the_authenticator(void)
{
    setup();
    CU_ASSERT_FATAL(cfg && ctx);
    char *envp[] = {"REQUEST_URI=/api/x?countryId=forged", "HTTP_AUTHORIZATION=Bearer x",
                    "HTTP_X_TENANT=t", NULL};
    struct request_view req;
    CU_ASSERT_PTR_NULL_FATAL(request_view_init(&req, envp));
    struct policy p = policy_of(cfg);
    struct decision d;
    decide(&p, &req, ctx, &d);
    UNIT_INT_EQ(stub_calls, 1);
    CU_ASSERT_PTR_EQUAL(d.mw, &cfg->middlewares[0]);
    UNIT_INT_EQ(d.outcome, OUTCOME_ERROR);
    UNIT_INT_EQ(d.status, 500);
    UNIT_INT_EQ(d.cause, CAUSE_CONNECT);
    UNIT_INT_EQ(d.cache, CACHE_OFF);
    CU_ASSERT_EQUAL(d.nvars, 0);
    CU_ASSERT_PTR_NULL(d.query);
    UNIT_STR_EQ(d.detail, "stub");
    teardown();
}

static void test_decide_unprotected(void)
{
    setup();
    CU_ASSERT_FATAL(cfg && ctx);
    char *envp[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/public/page?countryId=forged&a=%20",
                    "HTTP_AUTHORIZATION=Bearer x", NULL};
    struct request_view req;
    CU_ASSERT_PTR_NULL_FATAL(request_view_init(&req, envp));
    struct decision d;
    memset(&d, 0xff, sizeof(d));
    struct policy p = policy_of(cfg);
    decide(&p, &req, ctx, &d);
    CU_ASSERT_EQUAL(d.status, 200);
    CU_ASSERT_PTR_NULL(d.mw);
    CU_ASSERT_EQUAL(d.auth_status, 0);
    CU_ASSERT_EQUAL(d.nvars, 0);
    /* The client's query without what a middleware would set: countryId is forged
     * nowhere, the rest is kept byte for byte. */
    UNIT_STR_EQ(d.query, "a=%20");
    CU_ASSERT_PTR_NULL(d.www_authenticate);
    CU_ASSERT_PTR_NULL(d.body);
    UNIT_STR_EQ(d.reason, "unprotected");

    char *root[] = {"REQUEST_URI=/", NULL};
    memset(&d, 0, sizeof(d));
    run_decide(root, &d);
    CU_ASSERT_EQUAL(d.status, 200);
    CU_ASSERT_PTR_NULL(d.mw);
    UNIT_STR_EQ(d.query, "");
    teardown();
}

static void test_decide_missing_required_header(void)
{
    setup();
    CU_ASSERT_FATAL(cfg && ctx);
    struct {
        char *envp[5];
        const char *missing;
    } cases[] = {
        {{"REQUEST_URI=/api/x", NULL}, "Authorization"},
        {{"REQUEST_URI=/api/x", "HTTP_AUTHORIZATION=", "HTTP_X_TENANT=t", NULL}, "Authorization"},
        {{"REQUEST_URI=/api/x", "HTTP_AUTHORIZATION=Bearer x", NULL}, "X-Tenant"},
        {{"REQUEST_URI=/api/x", "HTTP_AUTHORIZATION=Bearer x", "HTTP_X_TENANT=", NULL}, "X-Tenant"},
        /* Lookalike parameters are not the header. */
        {{"REQUEST_URI=/Shared/%78?q", "HTTP_AUTHORIZATIONX=a", "AUTHORIZATION=a",
          "HTTP_X_TENANT=t", NULL},
         "Authorization"},
    };
    for (size_t i = 0; i < UNIT_N(cases); i++) {
        struct decision d;
        memset(&d, 0, sizeof(d));
        run_decide(cases[i].envp, &d);
        UNIT_CHECK(d.status == 403, "case %zu: status %d, expected 403", i, d.status);
        CU_ASSERT_PTR_EQUAL(d.mw, &cfg->middlewares[0]);
        CU_ASSERT_EQUAL(d.auth_status, 0);
        CU_ASSERT_EQUAL(d.nvars, 0);
        CU_ASSERT_PTR_NULL(d.query);
        UNIT_STR_EQ(d.detail, cases[i].missing);
    }
    teardown();
}

static void test_decide_malformed_path(void)
{
    setup();
    CU_ASSERT_FATAL(cfg && ctx);
    const char *paths[] = {"/api%zz", "/api/%00", "/public%0a", "/x%250a", "/api%4", "/a#b"};
    for (size_t i = 0; i < UNIT_N(paths); i++) {
        char uri[128];
        snprintf(uri, sizeof(uri), "REQUEST_URI=%s", paths[i]);
        char *envp[] = {uri, "HTTP_AUTHORIZATION=Bearer x", "HTTP_X_TENANT=t", NULL};
        struct decision d;
        memset(&d, 0, sizeof(d));
        run_decide(envp, &d);
        UNIT_CHECK(d.status == 400, "%s: status %d, expected 400", paths[i], d.status);
        CU_ASSERT_PTR_NULL(d.mw);
        CU_ASSERT_EQUAL(d.nvars, 0);
        CU_ASSERT_PTR_NULL(d.query);
    }

    /* A path longer than PATH_MAX_RAW (but a REQUEST_URI short enough): 400 too. */
    size_t plen = PATH_MAX_RAW + 1;
    char *uri = malloc(plen + 16);
    CU_ASSERT_FATAL(uri != NULL);
    strcpy(uri, "REQUEST_URI=/");
    memset(uri + 13, 'p', plen - 1);
    uri[12 + plen] = '\0';
    char *envp[] = {uri, NULL};
    struct decision d;
    memset(&d, 0, sizeof(d));
    run_decide(envp, &d);
    CU_ASSERT_EQUAL(d.status, 400);
    CU_ASSERT_PTR_NULL(d.query);
    free(uri);
    teardown();
}

/*
 * A dot segment, however written, in a protected or an unprotected path: 400 before any
 * middleware is asked. Servers resolve "/api/.." to "/", routers that keep dot segments
 * (Werkzeug) route it below /api; no reading of it is safe to call unprotected.
 */
static void test_decide_dot_segments(void)
{
    setup();
    CU_ASSERT_FATAL(cfg && ctx);
    const char *paths[] = {"/api/..",          "/api/.",          "/api/%2e%2e",
                           "/api/.%2E",        "/api/%2e.",       "/api/x/../..",
                           "/api/x/../../pub", "/api\\..",        "/api%5C..",
                           "/api/%252e%252e",  "/api/..;",        "/api/...",
                           "/api/..%20",       "/public/./x",     "/shared/%EF%BC%8E%EF%BC%8E",
                           "//evil/api/..",    "/api%2F..%2Fpub", "/..;/api/x"};
    for (size_t i = 0; i < UNIT_N(paths); i++) {
        char uri[128];
        snprintf(uri, sizeof(uri), "REQUEST_URI=%s", paths[i]);
        char *envp[] = {uri, "HTTP_AUTHORIZATION=Bearer x", "HTTP_X_TENANT=t", NULL};
        struct decision d;
        memset(&d, 0, sizeof(d));
        stub_calls = 0;
        run_decide(envp, &d);
        UNIT_CHECK(d.status == 400, "%s: status %d, expected 400", paths[i], d.status);
        UNIT_INT_EQ(stub_calls, 0);
        CU_ASSERT_PTR_NULL(d.mw);
        CU_ASSERT_PTR_NULL(d.query);
        UNIT_CHECK(d.detail && strcmp(d.detail, "dot segment in path") == 0, "%s: detail %s",
                   paths[i], d.detail ? d.detail : "(none)");
    }
    teardown();
}

static void test_decide_bad_request(void)
{
    struct decision d;
    memset(&d, 0xff, sizeof(d));
    decide_bad_request(&d, "no REQUEST_URI");
    CU_ASSERT_EQUAL(d.status, 400);
    UNIT_STR_EQ(d.detail, "no REQUEST_URI");
    CU_ASSERT_PTR_NULL(d.mw);
    CU_ASSERT_EQUAL(d.nvars, 0);
    CU_ASSERT_PTR_NULL(d.query);
    CU_ASSERT_PTR_NULL(d.www_authenticate);
    CU_ASSERT_PTR_NULL(d.body);
    CU_ASSERT_EQUAL(d.auth_status, 0);
}

/* An unprotected request written out: the original query goes through. */
static char written[4096];

static void write_out(const struct decision *d)
{
    struct buf out;
    buf_init(&out, written, sizeof(written));
    CU_ASSERT_TRUE(response_write(d, &out));
}

static void test_decide_and_write(void)
{
    setup();
    CU_ASSERT_FATAL(cfg && ctx);
    char *envp[] = {"REQUEST_URI=/index.html?x=1&countryId=2", NULL};
    struct decision d;
    run_decide(envp, &d);
    write_out(&d);
    UNIT_STR_EQ(written, "Status: 200 OK\r\n"
                         "Variable-AUTHZ_QUERY_STRING: x=1\r\n"
                         "Variable-AUTHZ_DECISION: unprotected\r\n"
                         "\r\n");

    char *denied[] = {"REQUEST_URI=/api/secret?x=1", NULL};
    run_decide(denied, &d);
    write_out(&d);
    UNIT_STR_EQ(written, "Status: 403 Forbidden\r\n"
                         "Content-Type: text/plain; charset=utf-8\r\n"
                         "Content-Length: 14\r\n"
                         "\r\n"
                         "403 Forbidden\n");
    teardown();
}

/* ---- request_view_init ---- */

static void test_request_view_basic(void)
{
    char *envp[] = {"REQUEST_METHOD=POST",
                    "REQUEST_URI=/a/b?x=1&y=2",
                    "QUERY_STRING=rewritten=1",
                    "HTTP_HOST=www.example.com",
                    "SERVER_NAME=internal",
                    "REMOTE_ADDR=192.0.2.1",
                    NULL};
    struct request_view v;
    CU_ASSERT_PTR_NULL_FATAL(request_view_init(&v, envp));
    CU_ASSERT_PTR_EQUAL(v.envp, envp);
    UNIT_STR_EQ(v.method, "POST");
    /* The first of a repeated parameter counts. */
    UNIT_STR_EQ(v.request_uri, "/a/b?x=1&y=2");
    CU_ASSERT_EQUAL(v.path_len, 4);
    CU_ASSERT_EQUAL(strncmp(v.path, "/a/b", 4), 0);
    /* The client's own query, from REQUEST_URI, not a rewritten QUERY_STRING. */
    UNIT_STR_EQ(v.query, "x=1&y=2");
    UNIT_STR_EQ(v.host, "www.example.com");
    UNIT_STR_EQ(v.remote_addr, "192.0.2.1");
    UNIT_STR_EQ(v.scheme, "http");
}

static void test_request_view_defaults(void)
{
    char *envp[] = {"REQUEST_URI=/p", "SERVER_NAME=internal", NULL};
    struct request_view v;
    CU_ASSERT_PTR_NULL_FATAL(request_view_init(&v, envp));
    UNIT_STR_EQ(v.method, "GET");
    UNIT_STR_EQ(v.query, "");
    CU_ASSERT_EQUAL(v.path_len, 2);
    UNIT_STR_EQ(v.host, "internal");
    UNIT_STR_EQ(v.remote_addr, "");
    UNIT_STR_EQ(v.scheme, "http");

    char *bare[] = {"REQUEST_URI=/p?", NULL};
    CU_ASSERT_PTR_NULL_FATAL(request_view_init(&v, bare));
    UNIT_STR_EQ(v.query, "");
    UNIT_STR_EQ(v.host, "");
    CU_ASSERT_EQUAL(v.path_len, 2);

    /* Everything after the first '?' is the query, further '?' included. */
    char *two[] = {"REQUEST_URI=/p?a=?b", NULL};
    CU_ASSERT_PTR_NULL_FATAL(request_view_init(&v, two));
    UNIT_STR_EQ(v.query, "a=?b");
    CU_ASSERT_EQUAL(v.path_len, 2);
}

static void test_request_view_scheme(void)
{
    struct {
        char *envp[4];
        const char *scheme;
    } cases[] = {
        {{"REQUEST_URI=/", "HTTPS=on", NULL}, "https"},
        {{"REQUEST_URI=/", "HTTPS=ON", NULL}, "https"},
        {{"REQUEST_URI=/", "HTTPS=off", NULL}, "http"},
        {{"REQUEST_URI=/", "HTTPS=", NULL}, "http"},
        {{"REQUEST_URI=/", "REQUEST_SCHEME=https", NULL}, "https"},
        {{"REQUEST_URI=/", "REQUEST_SCHEME=gopher", "HTTPS=on", NULL}, "https"},
        {{"REQUEST_URI=/", "REQUEST_SCHEME=gopher", NULL}, "http"},
    };
    for (size_t i = 0; i < UNIT_N(cases); i++) {
        struct request_view v;
        CU_ASSERT_PTR_NULL_FATAL(request_view_init(&v, cases[i].envp));
        UNIT_CHECK(strcmp(v.scheme, cases[i].scheme) == 0, "case %zu: scheme %s, expected %s", i,
                   v.scheme, cases[i].scheme);
    }
}

static void test_request_view_absolute_form(void)
{
    struct {
        const char *uri;
        const char *scheme, *host_header;
        const char *path, *query, *host;
    } cases[] = {
        {"REQUEST_URI=http://host.example/a/b?x=1", "http", "HTTP_HOST=host.example", "/a/b", "x=1",
         "host.example"},
        {"REQUEST_URI=https://host.example:8443/a", "https", "HTTP_HOST=host.example:8443", "/a",
         "", "host.example:8443"},
        /* The host is the Host header's, as the upstream gets it. */
        {"REQUEST_URI=HTTP://HOST/Protected?q", "http", "HTTP_HOST=host", "/Protected", "q",
         "host"},
        /* A port on one side only does not make it another host. */
        {"REQUEST_URI=http://host.example/a", "http", "HTTP_HOST=HOST.example:80", "/a", "",
         "HOST.example:80"},
        {"REQUEST_URI=http://[::1]:8080/a", "http", "HTTP_HOST=[::1]", "/a", "", "[::1]"},
        {"REQUEST_URI=//host/p", "http", "HTTP_HOST=app", "//host/p", "", "app"},
    };
    for (size_t i = 0; i < UNIT_N(cases); i++) {
        char scheme[64];
        snprintf(scheme, sizeof(scheme), "REQUEST_SCHEME=%s", cases[i].scheme);
        char *envp[] = {(char *)cases[i].uri, scheme, (char *)cases[i].host_header, NULL};
        struct request_view v;
        const char *bad = request_view_init(&v, envp);
        UNIT_CHECK(bad == NULL, "%s: %s", cases[i].uri, bad ? bad : "");
        if (bad)
            continue;
        UNIT_CHECK(
            v.path_len == strlen(cases[i].path) && strncmp(v.path, cases[i].path, v.path_len) == 0,
            "%s: path '%.*s', expected '%s'", cases[i].uri, (int)v.path_len, v.path, cases[i].path);
        UNIT_STR_EQ(v.query, cases[i].query);
        UNIT_STR_EQ(v.host, cases[i].host);
    }

    static const char *const bad[] = {
        "REQUEST_URI=http://host.example",
        "REQUEST_URI=http://host.example?x=/a",
        "REQUEST_URI=https://",
        "REQUEST_URI=http:///p",
        "REQUEST_URI=http://user@host/p",
        "REQUEST_URI=http://a@host.example/p",
    };
    for (size_t i = 0; i < UNIT_N(bad); i++) {
        char *envp[] = {(char *)bad[i], NULL};
        struct request_view v;
        UNIT_CHECK(request_view_init(&v, envp) != NULL, "%s must be refused", bad[i]);
    }
}

/* The host and scheme the auth service is told are the ones the upstream gets: an absolute
 * target that names another host than Host, comes without Host, or names another scheme
 * than the connection's, is refused rather than decided for one host and proxied to the other. */
static void test_request_view_host_confusion(void)
{
    struct {
        char *envp[5];
    } cases[] = {
        {{"REQUEST_URI=http://admin.example/x", "HTTP_HOST=public.example", NULL}},
        {{"REQUEST_URI=http://admin.example/x", "HTTP_HOST=admin.example.evil", NULL}},
        {{"REQUEST_URI=http://admin.example:81/x", "HTTP_HOST=admin.example:80", NULL}},
        {{"REQUEST_URI=https://admin.example/x", "HTTP_HOST=admin.example", NULL}},
        {{"REQUEST_URI=http://admin.example/x", "HTTPS=on", "HTTP_HOST=admin.example", NULL}},
        {{"REQUEST_URI=http://admin.example/x", "REQUEST_SCHEME=https", NULL}},
        /* Without a Host header a server may send the upstream a Host of its own. */
        {{"REQUEST_URI=http://admin.example/x", "SERVER_NAME=localhost", NULL}},
        {{"REQUEST_URI=http://admin.example/x", "HTTP_HOST=", NULL}},
        /* Fields the authorizer reads, given twice: which copy counts is not to be guessed. */
        {{"REQUEST_URI=/x", "HTTP_HOST=a", "HTTP_HOST=b", NULL}},
        {{"REQUEST_URI=/x", "REQUEST_URI=/y", NULL}},
        {{"REQUEST_URI=/x", "REMOTE_ADDR=1.1.1.1", "REMOTE_ADDR=2.2.2.2", NULL}},
        {{"REQUEST_URI=/x", "REQUEST_METHOD=GET", "REQUEST_METHOD=POST", NULL}},
        {{"REQUEST_URI=/x", "HTTPS=on", "HTTPS=off", NULL}},
    };
    for (size_t i = 0; i < UNIT_N(cases); i++) {
        struct request_view v;
        UNIT_CHECK(request_view_init(&v, cases[i].envp) != NULL, "case %zu (%s, %s) accepted", i,
                   cases[i].envp[0], cases[i].envp[1]);
    }
    char *ok[] = {"REQUEST_URI=http://admin.example/x", "HTTP_HOST=Admin.Example", NULL};
    struct request_view v;
    CU_ASSERT_PTR_NULL_FATAL(request_view_init(&v, ok));
    UNIT_STR_EQ(v.host, "Admin.Example");
}

static void test_request_view_refused(void)
{
    static const char *const uris[] = {
        "REQUEST_URI=",        "REQUEST_URI=*",         "REQUEST_URI=p/a",
        "REQUEST_URI=/a b",    "REQUEST_URI=/a\tb",     "REQUEST_URI=/a\r\nX: y",
        "REQUEST_URI=/a?x=\n", "REQUEST_URI=/a?x=\x7f", "REQUEST_URI=/a\x01",
        "REQUEST_URI=?x=1",    "REQUEST_URI=ftp://h/p",
    };
    for (size_t i = 0; i < UNIT_N(uris); i++) {
        char *envp[] = {(char *)uris[i], NULL};
        struct request_view v;
        UNIT_CHECK(request_view_init(&v, envp) != NULL, "'%s' must be refused", uris[i]);
    }
    /* No REQUEST_URI at all (and none to be found under a similar name). */
    char *none[] = {"REQUEST_URIX=/a", "SCRIPT_NAME=/a", NULL};
    struct request_view v;
    CU_ASSERT_PTR_NOT_NULL(request_view_init(&v, none));
    char *empty[] = {NULL};
    CU_ASSERT_PTR_NOT_NULL(request_view_init(&v, empty));

    /* Control characters in fields that are forwarded. */
    char *host[] = {"REQUEST_URI=/", "HTTP_HOST=a\r\nX-Injected: 1", NULL};
    CU_ASSERT_PTR_NOT_NULL(request_view_init(&v, host));
    char *method[] = {"REQUEST_URI=/", "REQUEST_METHOD=GET\n", NULL};
    CU_ASSERT_PTR_NOT_NULL(request_view_init(&v, method));
    char *addr[] = {"REQUEST_URI=/", "REMOTE_ADDR=1.2.3.4\x7f", NULL};
    CU_ASSERT_PTR_NOT_NULL(request_view_init(&v, addr));
    char *server[] = {"REQUEST_URI=/", "SERVER_NAME=a\tb", NULL};
    CU_ASSERT_PTR_NOT_NULL(request_view_init(&v, server));

    /* Longest accepted REQUEST_URI, and one byte more. */
    char *uri = malloc(REQUEST_MAX_URI + 32);
    CU_ASSERT_FATAL(uri != NULL);
    strcpy(uri, "REQUEST_URI=/");
    memset(uri + 13, 'a', REQUEST_MAX_URI - 1);
    uri[12 + REQUEST_MAX_URI] = '\0';
    char *big[] = {uri, NULL};
    CU_ASSERT_PTR_NULL(request_view_init(&v, big));
    strcat(uri, "a");
    CU_ASSERT_PTR_NOT_NULL(request_view_init(&v, big));
    free(uri);
}

static void test_request_param(void)
{
    char *envp[] = {"A=1", "AB=2", "B=", "C=x=y", "A=3", NULL};
    UNIT_STR_EQ(request_param(envp, "A"), "1");
    UNIT_STR_EQ(request_param(envp, "AB"), "2");
    UNIT_STR_EQ(request_param(envp, "B"), "");
    UNIT_STR_EQ(request_param(envp, "C"), "x=y");
    CU_ASSERT_PTR_NULL(request_param(envp, "D"));
    CU_ASSERT_PTR_NULL(request_param(envp, "a"));
    CU_ASSERT_PTR_NULL(request_param(NULL, "A"));
}

static const struct unit_case outcome_cases[] = {
    UNIT_CASE(test_outcome_allow),
    UNIT_CASE(test_outcome_allow_partial_values),
    UNIT_CASE(test_outcome_rule_without_mappings),
    UNIT_CASE(test_outcome_deny),
    UNIT_CASE(test_outcome_fail_closed),
    UNIT_CASE(test_outcome_query_too_long),
    UNIT_END,
};

static const struct unit_case decide_cases[] = {
    UNIT_CASE(test_find_middleware),
    UNIT_CASE(test_decide_unprotected),
    UNIT_CASE(test_decide_missing_required_header),
    UNIT_CASE(test_decide_malformed_path),
    UNIT_CASE(test_decide_dot_segments),
    UNIT_CASE(test_decide_bad_request),
    UNIT_CASE(test_decide_and_write),
    UNIT_CASE(test_decide_asks_the_authenticator),
    UNIT_CASE(test_readings_that_disagree_get_the_strictest),
    UNIT_END,
};

static const struct unit_case request_cases[] = {
    UNIT_CASE(test_request_view_basic),
    UNIT_CASE(test_request_view_defaults),
    UNIT_CASE(test_request_view_scheme),
    UNIT_CASE(test_request_view_absolute_form),
    UNIT_CASE(test_request_view_host_confusion),
    UNIT_CASE(test_request_view_refused),
    UNIT_CASE(test_request_param),
    UNIT_END,
};

int main(void)
{
    static const struct unit_suite suites[] = {
        {"outcome", outcome_cases},
        {"decide", decide_cases},
        {"request", request_cases},
        {NULL, NULL},
    };
    return unit_main(suites);
}
