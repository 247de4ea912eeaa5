/* test_config.c - loading and validating the configuration. */
#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/log.h"
#include "unit.h"

/* ---- helpers ---- */

/* Index in rule.wanted of the first configured source header, after the fixed ones. */
#define U WANTED_FIXED

/* The example from etc/authorizer.conf, comments left out. */
static const char example[] = "workers = 16;\n"
                              "log_level = \"warn\";\n"
                              "middlewares = (\n"
                              "  {\n"
                              "    name = \"google-auth\";\n"
                              "    type = \"jwt\";\n"
                              "    paths = ( \"/protected-access\", \"/example-of-jwt\" );\n"
                              "    rule = {\n"
                              "      url = \"https://www.example.com/auth/access\";\n"
                              "      timeout = 5;\n"
                              "      connectTimeout = 2;\n"
                              "      requiredHeaders = ( \"Authorization\" );\n"
                              "      forwardHeaders = ( \"X-Request-Id\" );\n"
                              "      headers = {\n"
                              "        userId = \"X-Auth-UserId\";\n"
                              "        userCountryId = \"X-Auth-UserCountryId\";\n"
                              "      };\n"
                              "      params = {\n"
                              "        userCountryId = \"countryId\";\n"
                              "      };\n"
                              "    };\n"
                              "  }\n"
                              ");\n";

/* A temporary directory for the tests that need real files; removed at the end. */
static char tmpdir[256];

static const char *tmp_path(char *out, size_t len, const char *name)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof(tmpdir), "%s/authz-unit-XXXXXX", P_tmpdir);
        if (!mkdtemp(tmpdir)) {
            tmpdir[0] = '\0';
            CU_FAIL("cannot create a temporary directory");
        }
    }
    snprintf(out, len, "%s/%s", tmpdir, name);
    return out;
}

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    tmp_path(path, sizeof(path), name);
    FILE *fp = fopen(path, "w");
    if (!fp) {
        CU_FAIL("cannot write a temporary file");
        return path;
    }
    fputs(text, fp);
    fclose(fp);
    return path;
}

static void remove_tmpdir(void)
{
    static const char *const files[] = {"ca.pem",    "client.pem", "client.key", "bad.conf",
                                        "good.conf", "main.conf",  "inc.conf"};
    if (!tmpdir[0])
        return;
    char path[512];
    for (size_t i = 0; i < UNIT_N(files); i++)
        unlink(tmp_path(path, sizeof(path), files[i]));
    rmdir(tmpdir);
}

/*
 * A configuration made of fixed lines, each of which a test may replace (NULL keeps the default,
 * "" leaves the line empty). Line numbers never move, so messages can be checked exactly.
 */
struct tmpl {
    const char *top;   /* line 1 */
    const char *name;  /* line 3 */
    const char *type;  /* line 4 */
    const char *paths; /* line 5 */
    const char *url;   /* line 7 */
    const char *rule;  /* line 8 */
    const char *mw;    /* line 10 */
    const char *after; /* line 12 */
};

enum {
    L_TOP = 1,
    L_MW = 2,
    L_NAME = 3,
    L_TYPE = 4,
    L_PATHS = 5,
    L_RULE = 6,
    L_URL = 7,
    L_RULEX = 8,
    L_MWX = 10,
    L_AFTER = 12
};

static const char *conf(const struct tmpl *t)
{
    static char text[8192];
    snprintf(text, sizeof(text),
             "%s\n"                /* 1 */
             "middlewares = ( {\n" /* 2 */
             "  %s\n"              /* 3 */
             "  %s\n"              /* 4 */
             "  %s\n"              /* 5 */
             "  rule = {\n"        /* 6 */
             "    %s\n"            /* 7 */
             "    %s\n"            /* 8 */
             "  };\n"              /* 9 */
             "  %s\n"              /* 10 */
             "} );\n"              /* 11 */
             "%s\n",               /* 12 */
             t->top ? t->top : "workers = 4;", t->name ? t->name : "name = \"m\";",
             t->type ? t->type : "type = \"jwt\";", t->paths ? t->paths : "paths = ( \"/api\" );",
             t->url ? t->url : "url = \"http://auth.example/check\";", t->rule ? t->rule : "",
             t->mw ? t->mw : "", t->after ? t->after : "");
    return text;
}

#define CONF(...) conf(&(struct tmpl){__VA_ARGS__})

static struct config *load_ok(const char *text, int line)
{
    struct config *cfg = NULL;
    char err[1024];
    const char *msg = config_load_string(text, "test.conf", &cfg, err, sizeof(err));
    unit_check(msg == NULL && cfg != NULL, __FILE__, (unsigned)line, "should load: %s",
               msg ? msg : "(no config)");
    return msg ? NULL : cfg;
}

#define LOAD_OK(text) load_ok(text, __LINE__)

/*
 * Loading fails with a message that starts "test.conf:LINE: SETTING: " and contains `part`, and
 * leaves no config behind. line < 0: any line.
 */
static void check_error(const char *text, int want_line, const char *setting, const char *part,
                        int line)
{
    struct config *cfg = (struct config *)1;
    char err[1024];
    memset(err, 0, sizeof(err));
    const char *msg = config_load_string(text, "test.conf", &cfg, err, sizeof(err));
    unit_check(cfg == NULL, __FILE__, (unsigned)line, "a failed load must leave *out NULL");
    if (!msg) {
        unit_check(0, __FILE__, (unsigned)line, "should fail (%s: %s)", setting, part);
        config_free(cfg);
        return;
    }
    unit_check(msg == err, __FILE__, (unsigned)line, "the message must be written into err");
    char prefix[256];
    if (want_line >= 0)
        snprintf(prefix, sizeof(prefix), "test.conf:%d: %s: ", want_line, setting);
    else
        snprintf(prefix, sizeof(prefix), "test.conf:");
    unit_check(strncmp(msg, prefix, strlen(prefix)) == 0, __FILE__, (unsigned)line,
               "message \"%s\" should start with \"%s\"", msg, prefix);
    if (want_line < 0) {
        char sub[256];
        snprintf(sub, sizeof(sub), ": %s: ", setting);
        unit_check(strstr(msg, sub) != NULL, __FILE__, (unsigned)line,
                   "message \"%s\" should name \"%s\"", msg, setting);
    }
    unit_check(strstr(msg, part) != NULL, __FILE__, (unsigned)line,
               "message \"%s\" should contain \"%s\"", msg, part);
}

#define EXPECT_ERROR(text, line, setting, part) check_error(text, line, setting, part, __LINE__)

/* ---- loading what is valid ---- */

static void check_example(const struct config *cfg)
{
    CU_ASSERT_PTR_NULL(cfg->listen);
    CU_ASSERT_EQUAL(cfg->listen_mode, -1);
    CU_ASSERT_EQUAL(cfg->workers, 16);
    CU_ASSERT_EQUAL(cfg->log_level, LOG_LEVEL_WARN);
    CU_ASSERT_EQUAL_FATAL(cfg->nmiddlewares, 1);
    const struct middleware *m = &cfg->middlewares[0];
    UNIT_STR_EQ(m->name, "google-auth");
    UNIT_STR_EQ(m->type, "jwt");
    CU_ASSERT_EQUAL_FATAL(m->npaths, 2);
    UNIT_STR_EQ(m->paths[0].source, "/protected-access");
    UNIT_STR_EQ(m->paths[1].source, "/example-of-jwt");
    CU_ASSERT_EQUAL(m->paths[0].nsegs, 1);

    const struct rule *r = &m->rule;
    UNIT_STR_EQ(r->url, "https://www.example.com/auth/access");
    UNIT_INT_EQ(r->timeout_ms, 5000);
    UNIT_INT_EQ(r->connect_timeout_ms, 2000);
    CU_ASSERT_TRUE(r->tls_verify);
    CU_ASSERT_PTR_NULL(r->tls_ca_file);
    CU_ASSERT_PTR_NULL(r->tls_client_cert);
    CU_ASSERT_PTR_NULL(r->tls_client_key);

    CU_ASSERT_EQUAL_FATAL(r->nrequired, 1);
    UNIT_STR_EQ(r->required[0].name, "Authorization");
    UNIT_STR_EQ(r->required[0].cgi, "HTTP_AUTHORIZATION");
    /* Authorization and Cookie always, the required one only once, then forwardHeaders. */
    CU_ASSERT_EQUAL_FATAL(r->nforward, 3);
    UNIT_STR_EQ(r->forward[0].name, "Authorization");
    UNIT_STR_EQ(r->forward[0].cgi, "HTTP_AUTHORIZATION");
    UNIT_STR_EQ(r->forward[1].name, "Cookie");
    UNIT_STR_EQ(r->forward[1].cgi, "HTTP_COOKIE");
    UNIT_STR_EQ(r->forward[2].name, "X-Request-Id");
    UNIT_STR_EQ(r->forward[2].cgi, "HTTP_X_REQUEST_ID");

    CU_ASSERT_EQUAL_FATAL(r->nwanted, U + 2);
    UNIT_STR_EQ(r->wanted[WANTED_WWW_AUTHENTICATE], "WWW-Authenticate");
    UNIT_STR_EQ(r->wanted[WANTED_CONTENT_TYPE], "Content-Type");
    UNIT_STR_EQ(r->wanted[U], "userId");
    UNIT_STR_EQ(r->wanted[U + 1], "userCountryId");

    CU_ASSERT_EQUAL_FATAL(r->nheaders, 2);
    UNIT_STR_EQ(r->headers[0].source, "userId");
    UNIT_STR_EQ(r->headers[0].target, "X-Auth-UserId");
    CU_ASSERT_EQUAL(r->headers[0].wanted, U);
    UNIT_STR_EQ(r->headers[1].source, "userCountryId");
    UNIT_STR_EQ(r->headers[1].target, "X-Auth-UserCountryId");
    CU_ASSERT_EQUAL(r->headers[1].wanted, U + 1);

    CU_ASSERT_EQUAL_FATAL(r->nparams, 1);
    UNIT_STR_EQ(r->params[0].source, "userCountryId");
    UNIT_STR_EQ(r->params[0].target, "countryId");
    UNIT_STR_EQ(r->param_targets[0].match_name, "countryid");
    /* The same source header is kept once, for both mappings. */
    CU_ASSERT_EQUAL(r->params[0].wanted, U + 1);
}

static void test_example(void)
{
    struct config *cfg = LOAD_OK(example);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    UNIT_STR_EQ(cfg->file, "test.conf");
    check_example(cfg);
    config_free(cfg);
}

static void test_shipped_example_file(void)
{
    /* The file installed as the example must load and say what the embedded copy says. */
    const char *top = getenv("TOP_SRCDIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/etc/authorizer.conf", top && *top ? top : ".");
    struct config *cfg = NULL;
    char err[1024];
    const char *msg = config_load(path, &cfg, err, sizeof(err));
    UNIT_CHECK(msg == NULL, "%s should load: %s", path, msg ? msg : "");
    if (!cfg)
        return;
    UNIT_STR_EQ(cfg->file, path);
    check_example(cfg);
    config_free(cfg);
}

static void test_defaults(void)
{
    struct config *cfg =
        LOAD_OK("middlewares = ( { name = \"m\"; type = \"jwt\"; paths = ( \"/\" );"
                " rule = { url = \"http://a\"; }; } );");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_NULL(cfg->listen);
    CU_ASSERT_EQUAL(cfg->listen_mode, -1);
    CU_ASSERT_EQUAL(cfg->workers, 16);
    CU_ASSERT_EQUAL(cfg->log_level, LOG_LEVEL_WARN);
    const struct rule *r = &cfg->middlewares[0].rule;
    UNIT_INT_EQ(r->timeout_ms, 5000);
    UNIT_INT_EQ(r->connect_timeout_ms, 2000);
    CU_ASSERT_TRUE(r->tls_verify);
    CU_ASSERT_EQUAL(r->nrequired, 0);
    CU_ASSERT_EQUAL(r->nforward, 2);
    CU_ASSERT_EQUAL(r->nheaders, 0);
    CU_ASSERT_EQUAL(r->nparams, 0);
    CU_ASSERT_EQUAL(r->nwanted, U);
    UNIT_STR_EQ(r->wanted[WANTED_WWW_AUTHENTICATE], "WWW-Authenticate");
    UNIT_STR_EQ(r->wanted[WANTED_CONTENT_TYPE], "Content-Type");
#ifdef WANTED_CACHE_CONTROL
    UNIT_STR_EQ(r->wanted[WANTED_CACHE_CONTROL], "Cache-Control");
#endif
    CU_ASSERT_EQUAL(cfg->middlewares[0].paths[0].nsegs, 0);
    config_free(cfg);
}

static void test_top_level_settings(void)
{
    struct config *cfg = LOAD_OK(CONF(.top = "listen = \"127.0.0.1:9000\"; listen_mode = \"0660\";"
                                             " workers = 256; log_level = \"debug\";"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    UNIT_STR_EQ(cfg->listen, "127.0.0.1:9000");
    CU_ASSERT_EQUAL(cfg->listen_mode, 0660);
    CU_ASSERT_EQUAL(cfg->workers, 256);
    CU_ASSERT_EQUAL(cfg->log_level, LOG_LEVEL_DEBUG);
    config_free(cfg);

    cfg = LOAD_OK(CONF(.top = "listen = \"/run/authz.sock\"; listen_mode = \"600\"; workers = 1;"
                              " log_level = \"error\";"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    UNIT_STR_EQ(cfg->listen, "/run/authz.sock");
    CU_ASSERT_EQUAL(cfg->listen_mode, 0600);
    CU_ASSERT_EQUAL(cfg->workers, 1);
    CU_ASSERT_EQUAL(cfg->log_level, LOG_LEVEL_ERROR);
    config_free(cfg);

    cfg = LOAD_OK(CONF(.top = "log_level = \"info\";"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->log_level, LOG_LEVEL_INFO);
    config_free(cfg);
}

static void test_timeouts(void)
{
    struct {
        const char *rule;
        long timeout, connect;
    } cases[] = {
        {"timeout = 0.5;", 500, 500}, /* connectTimeout defaults to at most timeout */
        {"timeout = 1;", 1000, 1000},
        {"timeout = 3;", 3000, 2000},
        {"timeout = 2.5; connectTimeout = 0.25;", 2500, 250},
        {"timeout = 300; connectTimeout = 300;", 300000, 300000},
        {"timeout = 0.001;", 1, 1},
        {"connectTimeout = 5;", 5000, 5000},
        {"timeout = 10L;", 10000, 2000},
    };
    for (size_t i = 0; i < UNIT_N(cases); i++) {
        struct config *cfg = LOAD_OK(CONF(.rule = cases[i].rule));
        if (!cfg)
            continue;
        const struct rule *r = &cfg->middlewares[0].rule;
        UNIT_CHECK(r->timeout_ms == cases[i].timeout, "%s: timeout %ld ms, expected %ld",
                   cases[i].rule, r->timeout_ms, cases[i].timeout);
        UNIT_CHECK(r->connect_timeout_ms == cases[i].connect,
                   "%s: connectTimeout %ld ms, expected %ld", cases[i].rule, r->connect_timeout_ms,
                   cases[i].connect);
        config_free(cfg);
    }
}

static void test_forward_list(void)
{
    struct config *cfg = LOAD_OK(
        CONF(.rule =
                 "requiredHeaders = ( \"authorization\", \"X-Tenant\", \"x-tenant\" );"
                 " forwardHeaders = ( \"X-TENANT\", \"X-Request-Id\", \"COOKIE\", \"x-request-id\","
                 " \"Accept-Language\" );"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct rule *r = &cfg->middlewares[0].rule;
    CU_ASSERT_EQUAL_FATAL(r->nrequired, 2);
    UNIT_STR_EQ(r->required[0].name, "authorization");
    UNIT_STR_EQ(r->required[0].cgi, "HTTP_AUTHORIZATION");
    UNIT_STR_EQ(r->required[1].name, "X-Tenant");
    UNIT_STR_EQ(r->required[1].cgi, "HTTP_X_TENANT");

    static const char *const names[] = {"Authorization", "Cookie", "X-Tenant", "X-Request-Id",
                                        "Accept-Language"};
    static const char *const cgis[] = {"HTTP_AUTHORIZATION", "HTTP_COOKIE", "HTTP_X_TENANT",
                                       "HTTP_X_REQUEST_ID", "HTTP_ACCEPT_LANGUAGE"};
    UNIT_INT_EQ(r->nforward, UNIT_N(names));
    for (size_t i = 0; i < r->nforward && i < UNIT_N(names); i++) {
        UNIT_STR_EQ(r->forward[i].name, names[i]);
        UNIT_STR_EQ(r->forward[i].cgi, cgis[i]);
    }
    config_free(cfg);
}

static void test_lists_and_arrays(void)
{
    struct config *cfg =
        LOAD_OK(CONF(.paths = "paths = [ \"/a\", \"/b/*.pdf\" ];",
                     .rule = "requiredHeaders = [ \"X-A\" ]; forwardHeaders = [ \"X-B\" ];"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct middleware *m = &cfg->middlewares[0];
    CU_ASSERT_EQUAL(m->npaths, 2);
    CU_ASSERT_EQUAL(m->rule.nrequired, 1);
    CU_ASSERT_EQUAL(m->rule.nforward, 4);
    config_free(cfg);

    cfg = LOAD_OK(CONF(.paths = "paths = ( \"/a\", \"/b/*.pdf\" );",
                       .rule = "requiredHeaders = ( \"X-A\" ); forwardHeaders = ( \"X-B\" );"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    m = &cfg->middlewares[0];
    CU_ASSERT_EQUAL(m->npaths, 2);
    CU_ASSERT_EQUAL(m->rule.nrequired, 1);
    CU_ASSERT_EQUAL(m->rule.nforward, 4);
    config_free(cfg);
}

static void test_mappings(void)
{
    struct config *cfg = LOAD_OK(
        CONF(.rule =
                 "headers = { userId = \"X-User\"; WWW-Authenticate = \"X-Challenge\";"
                 " role = \"X-Role\"; };"
                 " params = { userid = \"uid\"; role = \"user.role\"; tenant = \"Tenant_Id\"; };"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct rule *r = &cfg->middlewares[0].rule;
    /* wanted: the fixed ones (WANTED_FIXED), then each distinct source (case-insensitively) once.
     */
    CU_ASSERT_EQUAL_FATAL(r->nwanted, U + 3);
    UNIT_STR_EQ(r->wanted[U], "userId");
    UNIT_STR_EQ(r->wanted[U + 1], "role");
    UNIT_STR_EQ(r->wanted[U + 2], "tenant");
    CU_ASSERT_EQUAL_FATAL(r->nheaders, 3);
    CU_ASSERT_EQUAL(r->headers[0].wanted, U);
    CU_ASSERT_EQUAL(r->headers[1].wanted, WANTED_WWW_AUTHENTICATE);
    CU_ASSERT_EQUAL(r->headers[2].wanted, U + 1);
    CU_ASSERT_EQUAL_FATAL(r->nparams, 3);
    UNIT_STR_EQ(r->params[0].target, "uid");
    CU_ASSERT_EQUAL(r->params[0].wanted, U);
    UNIT_STR_EQ(r->params[1].target, "user.role");
    UNIT_STR_EQ(r->param_targets[1].match_name, "user_role");
    CU_ASSERT_EQUAL(r->params[1].wanted, U + 1);
    UNIT_STR_EQ(r->params[2].target, "Tenant_Id");
    UNIT_STR_EQ(r->param_targets[2].match_name, "tenant_id");
    CU_ASSERT_EQUAL(r->params[2].wanted, U + 2);
    /* Every mapping's index points at its own source. */
    for (size_t i = 0; i < r->nheaders; i++)
        UNIT_CHECK(strcasecmp(r->wanted[r->headers[i].wanted], r->headers[i].source) == 0,
                   "headers[%zu] points at '%s'", i, r->wanted[r->headers[i].wanted]);
    for (size_t i = 0; i < r->nparams; i++)
        UNIT_CHECK(strcasecmp(r->wanted[r->params[i].wanted], r->params[i].source) == 0,
                   "params[%zu] points at '%s'", i, r->wanted[r->params[i].wanted]);
    config_free(cfg);
}

static void test_several_middlewares(void)
{
    struct config *cfg = LOAD_OK(
        "middlewares = (\n"
        " { name = \"a\"; type = \"jwt\"; paths = ( \"/a\" ); rule = { url = \"http://a\"; }; },\n"
        " { name = \"b\"; type = \"jwt\"; paths = ( \"/b\", \"/c\" );\n"
        "   rule = { url = \"https://b:8443/x?y=1\"; timeout = 1; tlsVerify = false; }; }\n"
        ");\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL_FATAL(cfg->nmiddlewares, 2);
    UNIT_STR_EQ(cfg->middlewares[0].name, "a");
    UNIT_STR_EQ(cfg->middlewares[1].name, "b");
    CU_ASSERT_EQUAL(cfg->middlewares[1].npaths, 2);
    UNIT_STR_EQ(cfg->middlewares[1].rule.url, "https://b:8443/x?y=1");
    CU_ASSERT_TRUE(cfg->middlewares[0].rule.tls_verify);
    CU_ASSERT_FALSE(cfg->middlewares[1].rule.tls_verify);
    UNIT_INT_EQ(cfg->middlewares[1].rule.timeout_ms, 1000);
    UNIT_INT_EQ(cfg->middlewares[1].rule.connect_timeout_ms, 1000);
    config_free(cfg);
}

static void test_tls_files(void)
{
    char ca[512], cert[512], key[512], rule[2048];
    snprintf(ca, sizeof(ca), "%s", write_file("ca.pem", "ca\n"));
    snprintf(cert, sizeof(cert), "%s", write_file("client.pem", "cert\n"));
    snprintf(key, sizeof(key), "%s", write_file("client.key", "key\n"));
    snprintf(rule, sizeof(rule),
             "tlsCaFile = \"%s\"; tlsClientCert = \"%s\"; tlsClientKey = \"%s\";", ca, cert, key);
    struct config *cfg = LOAD_OK(CONF(.rule = rule));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct rule *r = &cfg->middlewares[0].rule;
    UNIT_STR_EQ(r->tls_ca_file, ca);
    UNIT_STR_EQ(r->tls_client_cert, cert);
    UNIT_STR_EQ(r->tls_client_key, key);
    CU_ASSERT_TRUE(r->tls_verify);
    config_free(cfg);

    /* One without the other. */
    snprintf(rule, sizeof(rule), "tlsClientCert = \"%s\";", cert);
    EXPECT_ERROR(CONF(.rule = rule), L_RULE, "middlewares[0].rule",
                 "tlsClientCert and tlsClientKey must be given together");
    snprintf(rule, sizeof(rule), "tlsClientKey = \"%s\";", key);
    EXPECT_ERROR(CONF(.rule = rule), L_RULE, "middlewares[0].rule",
                 "tlsClientCert and tlsClientKey must be given together");

    /* Files that cannot be read are refused at load time, not at the first request. */
    char missing[512];
    tmp_path(missing, sizeof(missing), "missing.pem");
    snprintf(rule, sizeof(rule), "tlsCaFile = \"%s\";", missing);
    char part[600];
    snprintf(part, sizeof(part), "cannot read '%s'", missing);
    EXPECT_ERROR(CONF(.rule = rule), L_RULEX, "middlewares[0].rule.tlsCaFile", part);
    snprintf(rule, sizeof(rule), "tlsClientCert = \"%s\"; tlsClientKey = \"%s\";", missing, key);
    EXPECT_ERROR(CONF(.rule = rule), L_RULEX, "middlewares[0].rule.tlsClientCert", "cannot read");
    snprintf(rule, sizeof(rule), "tlsClientCert = \"%s\"; tlsClientKey = \"%s\";", cert, missing);
    EXPECT_ERROR(CONF(.rule = rule), L_RULEX, "middlewares[0].rule.tlsClientKey", "cannot read");
}

/* ---- errors: every one names the file, the line and the setting ---- */

static void test_unknown_settings(void)
{
    EXPECT_ERROR(CONF(.top = "lissten = \":9000\";"), L_TOP, "lissten", "unknown setting");
    EXPECT_ERROR(CONF(.after = "Workers = 4;"), L_AFTER, "Workers", "unknown setting");
    EXPECT_ERROR(CONF(.mw = "pathz = ( \"/x\" );"), L_MWX, "middlewares[0].pathz",
                 "unknown setting");
    EXPECT_ERROR(CONF(.rule = "timeut = 3;"), L_RULEX, "middlewares[0].rule.timeut",
                 "unknown setting");
    EXPECT_ERROR(CONF(.rule = "requiredHeader = ( \"X-A\" );"), L_RULEX,
                 "middlewares[0].rule.requiredHeader", "unknown setting");
}

static void test_missing_settings(void)
{
    EXPECT_ERROR(CONF(.url = ""), L_RULE, "middlewares[0].rule.url", "is required");
    EXPECT_ERROR(CONF(.name = ""), L_MW, "middlewares[0].name", "is required");
    EXPECT_ERROR(CONF(.type = ""), L_MW, "middlewares[0].type", "is required");
    EXPECT_ERROR(CONF(.paths = ""), L_MW, "middlewares[0].paths", "is required");
    EXPECT_ERROR("workers = 4;\n", -1, "middlewares", "is required");
    EXPECT_ERROR("middlewares = ();\n", 1, "middlewares", "is empty");
    EXPECT_ERROR("middlewares = [];\n", 1, "middlewares", "is empty");
    {
        /* The root has no line: the file is named without a made-up line 0. */
        struct config *cfg = NULL;
        char err[512];
        config_load_string("workers = 4;\n", "test.conf", &cfg, err, sizeof(err));
        UNIT_STR_EQ(err, "test.conf: middlewares: is required");
    }
    EXPECT_ERROR("middlewares = ( { name = \"m\"; type = \"jwt\"; paths = ( \"/\" ); } );\n", 1,
                 "middlewares[0].rule", "is required");
}

static void test_wrong_types(void)
{
    EXPECT_ERROR(CONF(.name = "name = 5;"), L_NAME, "middlewares[0].name", "must be a string");
    EXPECT_ERROR(CONF(.name = "name = \"\";"), L_NAME, "middlewares[0].name", "must not be empty");
    EXPECT_ERROR(CONF(.url = "url = ( \"http://a\" );"), L_URL, "middlewares[0].rule.url",
                 "must be a string");
    EXPECT_ERROR(CONF(.rule = "tlsVerify = \"yes\";"), L_RULEX, "middlewares[0].rule.tlsVerify",
                 "must be true or false");
    EXPECT_ERROR(CONF(.rule = "headers = ( \"X-A\" );"), L_RULEX, "middlewares[0].rule.headers[0]",
                 "must be a list of two strings");
    EXPECT_ERROR(CONF(.rule = "headers = 5;"), L_RULEX, "middlewares[0].rule.headers",
                 "must be a group");
    EXPECT_ERROR(CONF(.rule = "headers = { a = 5; };"), L_RULEX, "middlewares[0].rule.headers.a",
                 "must be a string");
    EXPECT_ERROR(CONF(.rule = "requiredHeaders = \"Authorization\";"), L_RULEX,
                 "middlewares[0].rule.requiredHeaders", "must be a list");
    EXPECT_ERROR(CONF(.rule = "forwardHeaders = ( \"X-A\", 5 );"), L_RULEX,
                 "middlewares[0].rule.forwardHeaders[1]", "must be a string");
    EXPECT_ERROR(CONF(.paths = "paths = \"/api\";"), L_PATHS, "middlewares[0].paths",
                 "must be a non-empty list");
    EXPECT_ERROR(CONF(.paths = "paths = ( \"/a\", 5 );"), L_PATHS, "middlewares[0].paths[1]",
                 "must be a string");
    EXPECT_ERROR("middlewares = \"x\";\n", 1, "middlewares", "must be a list");
    EXPECT_ERROR("middlewares = ( \"x\" );\n", 1, "middlewares[0]", "must be a group");
    EXPECT_ERROR(
        "middlewares = ( { name = \"m\"; type = \"jwt\"; paths = ( \"/\" ); rule = 5; } );", 1,
        "middlewares[0].rule", "must be a group");
}

static void test_url_errors(void)
{
    static const struct {
        const char *url;
        const char *part;
    } cases[] = {
        {"url = \"ftp://auth.example/\";", "must start with http:// or https://"},
        {"url = \"auth.example/check\";", "must start with http:// or https://"},
        {"url = \"file:///etc/passwd\";", "must start with http:// or https://"},
        {"url = \"http:/auth.example\";", "must start with http:// or https://"},
        {"url = \"http://\";", "has no host"},
        {"url = \"https://\";", "has no host"},
        {"url = \"http:///check\";", "has no host"},
        {"url = \"http://?x=1\";", "has no host"},
        {"url = \"http://#x\";", "has no host"},
        {"url = \"http://auth example/\";", "must not contain spaces or control characters"},
        {"url = \"http://auth.example/\\x01\";", "control characters"},
        {"url = \"\";", "must not be empty"},
    };
    for (size_t i = 0; i < UNIT_N(cases); i++)
        EXPECT_ERROR(CONF(.url = cases[i].url), L_URL, "middlewares[0].rule.url", cases[i].part);
}

static void test_timeout_errors(void)
{
    static const char *const bad[] = {"timeout = 0;",   "timeout = 0.0;",   "timeout = -1;",
                                      "timeout = 301;", "timeout = 300.5;", "timeout = 0.0001;",
                                      "timeout = 1e9;"};
    for (size_t i = 0; i < UNIT_N(bad); i++)
        EXPECT_ERROR(CONF(.rule = bad[i]), L_RULEX, "middlewares[0].rule.timeout",
                     "must be between 0.001 and 300 seconds");
    EXPECT_ERROR(CONF(.rule = "timeout = \"5\";"), L_RULEX, "middlewares[0].rule.timeout",
                 "must be a number of seconds");
    EXPECT_ERROR(CONF(.rule = "timeout = true;"), L_RULEX, "middlewares[0].rule.timeout",
                 "must be a number of seconds");
    EXPECT_ERROR(CONF(.rule = "connectTimeout = 0;"), L_RULEX, "middlewares[0].rule.connectTimeout",
                 "must be between");
    EXPECT_ERROR(CONF(.rule = "connectTimeout = 400;"), L_RULEX,
                 "middlewares[0].rule.connectTimeout", "must be between");
    EXPECT_ERROR(CONF(.rule = "timeout = 1; connectTimeout = 2;"), L_RULEX,
                 "middlewares[0].rule.connectTimeout", "must not exceed timeout");
    EXPECT_ERROR(CONF(.rule = "connectTimeout = 6;"), L_RULEX, "middlewares[0].rule.connectTimeout",
                 "must not exceed timeout");
}

static void test_target_errors(void)
{
    EXPECT_ERROR(CONF(.rule = "headers = { userId = \"X Auth\"; };"), L_RULEX,
                 "middlewares[0].rule.headers.userId", "'X Auth' is not a valid header name");
    EXPECT_ERROR(CONF(.rule = "headers = { userId = \"X-Auth:\"; };"), L_RULEX,
                 "middlewares[0].rule.headers.userId", "is not a valid header name");
    EXPECT_ERROR(CONF(.rule = "headers = { userId = \"\"; };"), L_RULEX,
                 "middlewares[0].rule.headers.userId", "is not a valid header name");

    static const char *const forbidden[] = {
        "Host",
        "host",
        "AUTHZ_DECISION",
        "authz_x",
        "Content-Length",
        "Transfer-Encoding",
        "Connection",
        "Status",
        "Location",
        "Content-Type",
        "AUTHZ_QUERY_STRING",
        "authz_query_string",
        "Upgrade",
        "Proxy-Connection",
        "TE",
        "Trailer",
        "Keep-Alive",
    };
    for (size_t i = 0; i < UNIT_N(forbidden); i++) {
        char rule[256], part[256];
        snprintf(rule, sizeof(rule), "headers = { userId = \"%s\"; };", forbidden[i]);
        bool reserved = strncasecmp(forbidden[i], "AUTHZ_", 6) == 0;
        snprintf(part, sizeof(part),
                 reserved ? "'%s': names starting with AUTHZ_ are reserved"
                          : "'%s' is the web server's own header",
                 forbidden[i]);
        EXPECT_ERROR(CONF(.rule = rule), L_RULEX, "middlewares[0].rule.headers.userId", part);
    }

    /* The client's credentials, proxy headers, Variable- and AUTHZ names in either spelling:
     * the upstream or the glue would read a client's copy or the authorizer's own. */
    static const struct {
        const char *target, *part;
    } reserved[] = {
        {"Authorization", "carries the client's credentials"},
        {"cookie", "carries the client's credentials"},
        {"Proxy-Authorization", "names starting with Proxy- are reserved"},
        {"proxy-x", "names starting with Proxy- are reserved"},
        {"Variable-X-Auth-UserId", "names starting with Variable- are reserved"},
        {"variable-AUTHZ_DECISION", "names starting with Variable- are reserved"},
        {"AUTHZ-Decision", "names starting with AUTHZ- are reserved"},
        {"authz-query-string", "names starting with AUTHZ- are reserved"},
    };
    for (size_t i = 0; i < UNIT_N(reserved); i++) {
        char rule[256];
        snprintf(rule, sizeof(rule), "headers = { userId = \"%s\"; };", reserved[i].target);
        EXPECT_ERROR(CONF(.rule = rule), L_RULEX, "middlewares[0].rule.headers.userId",
                     reserved[i].part);
        snprintf(rule, sizeof(rule), "headers = ( ( \"sub\", \"%s\" ) );", reserved[i].target);
        EXPECT_ERROR(CONF(.rule = rule), L_RULEX, "middlewares[0].rule.headers[0]",
                     reserved[i].part);
    }
    /* So is a basicAuth rule's forwardUsername. */
    EXPECT_ERROR(CONF(.type = "type = \"basicAuth\";", .url = "users = ( \"a:{SHA}x\" );",
                      .rule = "forwardUsername = \"Authorization\";"),
                 L_RULEX, "middlewares[0].rule.forwardUsername", "client's credentials");
    /* Names that only start alike stay allowed. */
    struct config *ok = LOAD_OK(
        CONF(.rule = "headers = { a = \"X-Authorization\"; b = \"Proxyish\"; c = \"Authz\"; };"));
    config_free(ok);

    /* A required header that is also a target: the client could send the identity itself and
     * be let in for it. Any spelling that reaches the authorizer as the same parameter. */
    static const char *const required[] = {"X-Auth-UserId", "x-auth-userid", "X_Auth_UserId"};
    for (size_t i = 0; i < UNIT_N(required); i++) {
        char rule[256], part[256];
        snprintf(rule, sizeof(rule),
                 "headers = { userId = \"X-Auth-UserId\"; }; requiredHeaders = ( "
                 "\"Authorization\", \"%s\" );",
                 required[i]);
        snprintf(part, sizeof(part), "'%s' is also a header target", required[i]);
        EXPECT_ERROR(CONF(.rule = rule), L_RULEX, "middlewares[0].rule.requiredHeaders[1]", part);
    }
    EXPECT_ERROR(CONF(.type = "type = \"basicAuth\";", .url = "users = ( \"a:{SHA}x\" );",
                      .rule = "forwardUsername = \"X-User\"; requiredHeaders = ( \"X-User\" );"),
                 L_RULEX, "middlewares[0].rule.requiredHeaders[0]", "is also a header target");
    /* A target of another middleware is not this one's business. */
    ok = LOAD_OK(CONF(.rule = "requiredHeaders = ( \"X-Tenant\" ); headers = { a = \"X-Id\"; };"));
    config_free(ok);

    EXPECT_ERROR(CONF(.rule = "headers = { a = \"X-A\"; b = \"x-a\"; };"), L_RULEX,
                 "middlewares[0].rule.headers.b", "target 'x-a' is set twice");
    EXPECT_ERROR(CONF(.rule = "params = { a = \"p\"; b = \"P\"; };"), L_RULEX,
                 "middlewares[0].rule.params.b", "target 'P' is set twice");
    /* The same name as a header and as a parameter is fine: they do not meet. */
    struct config *cfg =
        LOAD_OK(CONF(.rule = "headers = { a = \"x\"; }; params = { a = \"x\"; };"));
    config_free(cfg);
}

/* What loading text writes to stderr at warn level (into out), and whether it loaded. */
static bool load_warnings(const char *text, char *out, size_t outlen)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(f), STDERR_FILENO);
    log_set_level(LOG_LEVEL_WARN);
    struct config *cfg = NULL;
    char err[1024];
    const char *msg = config_load_string(text, "test.conf", &cfg, err, sizeof(err));
    log_set_level(LOG_LEVEL_ERROR);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(f);
    size_t n = fread(out, 1, outlen - 1, f);
    out[n] = '\0';
    fclose(f);
    config_free(cfg);
    return msg == NULL;
}

/* A cache key without a credential is warned about (with the place), not refused. */
static void test_cache_key_without_credential(void)
{
    static const struct {
        const char *key;
        bool warned;
    } cases[] = {
        {"key = ( \"X-Tenant\" );", true},
        {"key = ( \"X-Tenant\", \"X-Request-Id\" );", true},
        {"key = ( \"X-Tenant\", \"AUTHORIZATION\" );", false},
        {"key = ( \"Cookie\" );", false},
        {"key = ( \"X-Api-Key\" );", false}, /* a requiredHeaders entry */
        {"", false},                         /* the default: all the auth service saw */
    };
    for (size_t i = 0; i < UNIT_N(cases); i++) {
        char rule[512], out[2048];
        snprintf(rule, sizeof(rule),
                 "requiredHeaders = ( \"X-Api-Key\" ); forwardHeaders = ( \"X-Tenant\", "
                 "\"X-Request-Id\" ); cache = { ttl = 5; %s };",
                 cases[i].key);
        bool loaded = load_warnings(CONF(.rule = rule), out, sizeof(out));
        UNIT_CHECK(loaded, "case %zu must load", i);
        bool warned = strstr(out, "test.conf:8: middlewares[0].rule.cache.key: names no "
                                  "credential") != NULL;
        UNIT_CHECK(warned == cases[i].warned, "case %zu: warned %d, stderr \"%s\"", i, warned, out);
    }
}

static void test_param_errors(void)
{
    static const char *const bad[] = {"a b",  "a&b", "a=b", "a[]", "a;b",
                                      "a%20", "a+b", "a/b", "a#",  "\xc3\xa9"};
    for (size_t i = 0; i < UNIT_N(bad); i++) {
        char rule[256], part[256];
        snprintf(rule, sizeof(rule), "params = { userId = \"%s\"; };", bad[i]);
        snprintf(part, sizeof(part), "parameter name '%s' may contain only", bad[i]);
        EXPECT_ERROR(CONF(.rule = rule), L_RULEX, "middlewares[0].rule.params.userId", part);
    }
    EXPECT_ERROR(CONF(.rule = "params = { userId = \"\"; };"), L_RULEX,
                 "middlewares[0].rule.params.userId", "1 to 128 characters");
    char rule[512];
    char name[130];
    memset(name, 'p', 129);
    name[129] = '\0';
    snprintf(rule, sizeof(rule), "params = { userId = \"%s\"; };", name);
    EXPECT_ERROR(CONF(.rule = rule), L_RULEX, "middlewares[0].rule.params.userId",
                 "1 to 128 characters");
    name[128] = '\0';
    snprintf(rule, sizeof(rule), "params = { userId = \"%s\"; };", name);
    struct config *cfg = LOAD_OK(CONF(.rule = rule));
    config_free(cfg);
    cfg = LOAD_OK(CONF(.rule = "params = { userId = \"Az09-._~\"; };"));
    config_free(cfg);
}

static void test_client_header_errors(void)
{
    static const char *const reserved[] = {"X-Forwarded-For", "x-forwarded-for",  "Host",
                                           "Content-Length",  "X-Original-URI",   "X-Forwarded-Uri",
                                           "Connection",      "Transfer-Encoding"};
    for (size_t i = 0; i < UNIT_N(reserved); i++) {
        char rule[256], part[256];
        snprintf(part, sizeof(part), "'%s' is set by the authorizer itself", reserved[i]);
        snprintf(rule, sizeof(rule), "forwardHeaders = ( \"X-Ok\", \"%s\" );", reserved[i]);
        EXPECT_ERROR(CONF(.rule = rule), L_RULEX, "middlewares[0].rule.forwardHeaders[1]", part);
        snprintf(rule, sizeof(rule), "requiredHeaders = ( \"%s\" );", reserved[i]);
        EXPECT_ERROR(CONF(.rule = rule), L_RULEX, "middlewares[0].rule.requiredHeaders[0]", part);
    }
    EXPECT_ERROR(CONF(.rule = "requiredHeaders = ( \"X Tenant\" );"), L_RULEX,
                 "middlewares[0].rule.requiredHeaders[0]", "'X Tenant' is not a valid header name");
    EXPECT_ERROR(CONF(.rule = "forwardHeaders = ( \"\" );"), L_RULEX,
                 "middlewares[0].rule.forwardHeaders[0]", "is not a valid header name");

    /* At most CONFIG_MAX_CLIENT_HEADERS in all (Authorization and Cookie count). */
    char rule[4096];
    size_t o = (size_t)snprintf(rule, sizeof(rule), "forwardHeaders = (");
    for (int i = 0; i < CONFIG_MAX_CLIENT_HEADERS - 2; i++)
        o += (size_t)snprintf(rule + o, sizeof(rule) - o, "%s\"X-H%d\"", i ? ", " : " ", i);
    snprintf(rule + o, sizeof(rule) - o, " );");
    struct config *cfg = LOAD_OK(CONF(.rule = rule));
    if (cfg)
        CU_ASSERT_EQUAL(cfg->middlewares[0].rule.nforward, CONFIG_MAX_CLIENT_HEADERS);
    config_free(cfg);
    snprintf(rule + o, sizeof(rule) - o, ", \"X-One-Too-Many\" );");
    EXPECT_ERROR(CONF(.rule = rule), L_RULEX, "middlewares[0].rule.forwardHeaders[30]",
                 "at most 32 client headers");
}

static void test_mapping_bounds(void)
{
    char rule[8192];
    size_t o = (size_t)snprintf(rule, sizeof(rule), "headers = {");
    for (int i = 0; i < CONFIG_MAX_MAPPINGS; i++)
        o += (size_t)snprintf(rule + o, sizeof(rule) - o, " h%d = \"X-H%d\";", i, i);
    snprintf(rule + o, sizeof(rule) - o, " };");
    struct config *cfg = LOAD_OK(CONF(.rule = rule));
    if (cfg)
        CU_ASSERT_EQUAL(cfg->middlewares[0].rule.nheaders, CONFIG_MAX_MAPPINGS);
    config_free(cfg);
    snprintf(rule + o, sizeof(rule) - o, " hx = \"X-HX\"; };");
    EXPECT_ERROR(CONF(.rule = rule), L_RULEX, "middlewares[0].rule.headers", "at most 32 entries");

    /* More distinct sources than can be kept: refused, never silently dropped. */
    o = (size_t)snprintf(rule, sizeof(rule), "headers = {");
    for (int i = 0; i < 30; i++)
        o += (size_t)snprintf(rule + o, sizeof(rule) - o, " h%d = \"X-H%d\";", i, i);
    o += (size_t)snprintf(rule + o, sizeof(rule) - o, " }; params = {");
    for (int i = 0; i < 30; i++)
        o += (size_t)snprintf(rule + o, sizeof(rule) - o, " p%d = \"p%d\";", i, i);
    snprintf(rule + o, sizeof(rule) - o, " };");
    char setting[64];
    snprintf(setting, sizeof(setting), "middlewares[0].rule.params.p%d",
             CONFIG_MAX_WANTED - U - 30);
    EXPECT_ERROR(CONF(.rule = rule), L_RULEX, setting, "too many distinct source headers");
}

static void test_top_level_errors(void)
{
    EXPECT_ERROR(CONF(.top = "workers = 0;"), L_TOP, "workers", "must be between 1 and 256");
    EXPECT_ERROR(CONF(.top = "workers = 257;"), L_TOP, "workers", "must be between 1 and 256");
    EXPECT_ERROR(CONF(.top = "workers = -1;"), L_TOP, "workers", "must be between 1 and 256");
    EXPECT_ERROR(CONF(.top = "workers = \"16\";"), L_TOP, "workers", "must be an integer");
    EXPECT_ERROR(CONF(.top = "workers = 16.0;"), L_TOP, "workers", "must be an integer");
    EXPECT_ERROR(CONF(.top = "log_level = \"verbose\";"), L_TOP, "log_level",
                 "must be \"error\", \"warn\", \"info\" or \"debug\"");
    EXPECT_ERROR(CONF(.top = "log_level = \"WARN\";"), L_TOP, "log_level", "must be");
    EXPECT_ERROR(CONF(.top = "log_level = 2;"), L_TOP, "log_level", "must be a string");
    static const char *const modes[] = {"0999", "rw-rw----", "-1", "01000", "0660x", "8"};
    for (size_t i = 0; i < UNIT_N(modes); i++) {
        char top[128];
        snprintf(top, sizeof(top), "listen_mode = \"%s\";", modes[i]);
        EXPECT_ERROR(CONF(.top = top), L_TOP, "listen_mode", "must be an octal mode");
    }
    EXPECT_ERROR(CONF(.top = "listen_mode = 0660;"), L_TOP, "listen_mode", "must be a string");
    EXPECT_ERROR(CONF(.top = "listen = \"\";"), L_TOP, "listen", "must not be empty");
}

static void test_middleware_errors(void)
{
    EXPECT_ERROR(CONF(.type = "type = \"oauth\";"), L_TYPE, "middlewares[0]",
                 "type 'oauth' is not supported");
    EXPECT_ERROR(CONF(.type = "type = \"JWT\";"), L_TYPE, "middlewares[0]",
                 "type 'JWT' is not supported");
    EXPECT_ERROR(CONF(.paths = "paths = ( );"), L_PATHS, "middlewares[0].paths",
                 "must be a non-empty list");
    EXPECT_ERROR(CONF(.paths = "paths = [ ];"), L_PATHS, "middlewares[0].paths",
                 "must be a non-empty list");
    EXPECT_ERROR(CONF(.paths = "paths = ( \"/ok\", \"api\" );"), L_PATHS, "middlewares[0].paths[1]",
                 "'api' must start with '/'");
    EXPECT_ERROR(CONF(.paths = "paths = ( \"/a/../b\" );"), L_PATHS, "middlewares[0].paths[0]",
                 "'.' or '..'");
    EXPECT_ERROR(CONF(.paths = "paths = ( \"/a%2fb\" );"), L_PATHS, "middlewares[0].paths[0]",
                 "must not contain");
    EXPECT_ERROR(CONF(.paths = "paths = ( \"/a b\" );"), L_PATHS, "middlewares[0].paths[0]",
                 "spaces or control characters");

    static const char two[] =
        "middlewares = (\n"
        "  { name = \"same\"; type = \"jwt\"; paths = ( \"/a\" ); rule = { url = \"http://a\"; }; "
        "},\n"
        "  { name = \"other\"; type = \"jwt\"; paths = ( \"/b\" ); rule = { url = \"http://b\"; }; "
        "},\n"
        "  {\n"
        "    name = \"same\"; type = \"jwt\"; paths = ( \"/c\" ); rule = { url = \"http://c\"; };\n"
        "  }\n"
        ");\n";
    EXPECT_ERROR(two, 5, "middlewares[2]", "name 'same' is used twice");

    /* An error in a later middleware, after earlier ones loaded fully. */
    static const char later[] =
        "middlewares = (\n"
        "  { name = \"a\"; type = \"jwt\"; paths = ( \"/a\" ); rule = { url = \"http://a\";\n"
        "    headers = { u = \"X-U\"; }; params = { u = \"u\"; }; requiredHeaders = ( \"X\" ); };\n"
        "  },\n"
        "  { name = \"b\"; type = \"jwt\"; paths = ( \"/b\", \"/c\" );\n"
        "    rule = { url = \"http://b\"; headers = { u = \"X-U\"; v = \"Host\"; }; };\n"
        "  }\n"
        ");\n";
    EXPECT_ERROR(later, 6, "middlewares[1].rule.headers.v", "cannot be set");
}

static void test_syntax_error(void)
{
    struct config *cfg = (struct config *)1;
    char err[512];
    const char *msg = config_load_string("workers = 4;\n"
                                         "middlewares = ( {\n"
                                         "  name = \"m\";\n"
                                         "  type = = \"jwt\";\n"
                                         "} );\n",
                                         "test.conf", &cfg, err, sizeof(err));
    CU_ASSERT_PTR_NULL(cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    UNIT_STR_HAS(msg, "test.conf:4: ");
    UNIT_STR_HAS(msg, "syntax error");

    msg = config_load_string("workers = 4;\nmiddlewares = ( {\n  name = \"m\";\n\n", "other.conf",
                             &cfg, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    CU_ASSERT_EQUAL(strncmp(msg, "other.conf:", 11), 0);
    msg = config_load_string("workers = 4;\nworkers = 5;\n", "test.conf", &cfg, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    UNIT_STR_HAS(msg, "test.conf:2: ");
}

static void test_small_error_buffer(void)
{
    /* A message that does not fit is cut, never written past errlen. */
    char err[24];
    memset(err, 'Z', sizeof(err));
    struct config *cfg = NULL;
    const char *msg =
        config_load_string(CONF(.rule = "timeut = 3;"), "a-rather-long-name.conf", &cfg, err, 16);
    CU_ASSERT_PTR_NULL(cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    CU_ASSERT(memchr(err, '\0', 16) != NULL);
    for (size_t i = 16; i < sizeof(err); i++)
        UNIT_CHECK(err[i] == 'Z', "byte %zu past errlen written", i);
}

static void test_file_errors(void)
{
    /* The file name in messages is the file's own. */
    const char *path = write_file("bad.conf", CONF(.rule = "timeut = 3;"));
    char want[600];
    snprintf(want, sizeof(want), "%s:%d: middlewares[0].rule.timeut: unknown setting", path,
             L_RULEX);
    struct config *cfg = (struct config *)1;
    char err[1024];
    const char *msg = config_load(path, &cfg, err, sizeof(err));
    CU_ASSERT_PTR_NULL(cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    UNIT_STR_EQ(msg, want);

    /* A syntax error in a file, with its line. */
    path = write_file("bad.conf", "workers = 4;\n\nmiddlewares = ( {\n  name = ;\n} );\n");
    msg = config_load(path, &cfg, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    snprintf(want, sizeof(want), "%s:4: ", path);
    UNIT_CHECK(strncmp(msg, want, strlen(want)) == 0, "message \"%s\" should start \"%s\"", msg,
               want);

    /* A file that does not exist. */
    char missing[512];
    tmp_path(missing, sizeof(missing), "missing.conf");
    msg = config_load(missing, &cfg, err, sizeof(err));
    CU_ASSERT_PTR_NULL(cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    snprintf(want, sizeof(want), "%s: cannot open", missing);
    UNIT_STR_HAS(msg, want);

    /* A good file loads, and remembers its name. */
    path = write_file("good.conf", example);
    msg = config_load(path, &cfg, err, sizeof(err));
    UNIT_CHECK(msg == NULL, "%s", msg ? msg : "");
    if (cfg) {
        UNIT_STR_EQ(cfg->file, path);
        check_example(cfg);
        config_free(cfg);
    }

    /* An error in an included file (found next to the including one) names that file. */
    write_file("inc.conf", "\nmiddlewares = ( { name = \"m\"; type = \"x\"; paths = [ \"/a\" ];"
                           " rule = { url = \"http://a\"; }; } );\n");
    path = write_file("main.conf", "workers = 4;\n@include \"inc.conf\"\n");
    msg = config_load(path, &cfg, err, sizeof(err));
    CU_ASSERT_PTR_NULL(cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    UNIT_STR_HAS(msg, "inc.conf:2: middlewares[0]: type 'x' is not supported");
}

static const struct unit_case valid_cases[] = {
    UNIT_CASE(test_example),
    UNIT_CASE(test_shipped_example_file),
    UNIT_CASE(test_defaults),
    UNIT_CASE(test_top_level_settings),
    UNIT_CASE(test_timeouts),
    UNIT_CASE(test_forward_list),
    UNIT_CASE(test_lists_and_arrays),
    UNIT_CASE(test_mappings),
    UNIT_CASE(test_several_middlewares),
    UNIT_CASE(test_tls_files),
    UNIT_END,
};

static const struct unit_case error_cases[] = {
    UNIT_CASE(test_unknown_settings),
    UNIT_CASE(test_missing_settings),
    UNIT_CASE(test_wrong_types),
    UNIT_CASE(test_url_errors),
    UNIT_CASE(test_timeout_errors),
    UNIT_CASE(test_target_errors),
    UNIT_CASE(test_param_errors),
    UNIT_CASE(test_client_header_errors),
    UNIT_CASE(test_cache_key_without_credential),
    UNIT_CASE(test_mapping_bounds),
    UNIT_CASE(test_top_level_errors),
    UNIT_CASE(test_middleware_errors),
    UNIT_CASE(test_syntax_error),
    UNIT_CASE(test_small_error_buffer),
    UNIT_CASE(test_file_errors),
    UNIT_END,
};

int main(void)
{
    /* tlsVerify = false is warned about on stderr; keep the test output to the results. */
    log_set_level(LOG_LEVEL_ERROR);
    static const struct unit_suite suites[] = {
        {"valid", valid_cases},
        {"errors", error_cases},
        {NULL, NULL},
    };
    int rc = unit_main(suites);
    remove_tmpdir();
    return rc;
}
