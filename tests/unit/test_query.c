/* test_query.c - the query string the upstream receives. */
#include "http/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "unit.h"

/* A config whose one rule has the given `params` group body; the tests use its mappings. */
static struct config *load_params(const char *params)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "middlewares = ( { name = \"m\"; type = \"jwt\"; paths = ( \"/\" );\n"
             "  rule = { url = \"http://auth.example/check\"; params = { %s }; }; } );\n",
             params);
    struct config *cfg = NULL;
    char err[512];
    const char *msg = config_load_string(text, "test.conf", &cfg, err, sizeof(err));
    UNIT_CHECK(msg == NULL, "config should load: %s", msg ? msg : "");
    return cfg;
}

static const struct rule *rule_of(const struct config *cfg)
{
    return &cfg->middlewares[0].rule;
}

/* Rewrites and compares with the expected output, and its length with the returned one. */
static void check_rewrite(const struct rule *r, const char *query, const char *const *values,
                          const char *want, int line)
{
    char out[4096];
    memset(out, 'Z', sizeof(out));
    long n = query_rewrite(query, r->param_targets, r->nparams, values, out, sizeof(out));
    if (n < 0) {
        unit_check(0, __FILE__, (unsigned)line, "rewrite of \"%s\" failed, expected \"%s\"", query,
                   want);
        return;
    }
    unit_check((size_t)n == strlen(want) && strcmp(out, want) == 0, __FILE__, (unsigned)line,
               "rewrite of \"%s\" is \"%s\" (%ld), expected \"%s\"", query, out, n, want);
}

#define EXPECT_REWRITE(rule, query, values, want) check_rewrite(rule, query, values, want, __LINE__)

static void test_no_params_unchanged(void)
{
    static const char *const queries[] = {
        "",
        "a=1",
        "a=1&b=2",
        "countryId=forged&userId=forged",
        "a=1;b=2&c=3",
        "q=%7e+%2B&x=%zz&y&=&z==&%00=%0a",
        "caf\xc3\xa9=th\xc3\xa9",
        "a[]=1&a[x]=2",
    };
    struct query_target none[1];
    memset(none, 0, sizeof(none));
    for (size_t i = 0; i < UNIT_N(queries); i++) {
        char out[256];
        long n = query_rewrite(queries[i], none, 0, NULL, out, sizeof(out));
        UNIT_CHECK(n == (long)strlen(queries[i]) && strcmp(out, queries[i]) == 0,
                   "\"%s\" became \"%s\"", queries[i], n >= 0 ? out : "(error)");
    }
}

static void test_forged_target_removed(void)
{
    struct config *cfg = load_params("userCountryId = \"countryId\";");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct rule *r = rule_of(cfg);
    CU_ASSERT_EQUAL_FATAL(r->nparams, 1);
    const char *none[] = {NULL};
    const char *de[] = {"DE"};

    EXPECT_REWRITE(r, "a=1&countryId=XX&b=2", de, "a=1&b=2&countryId=DE");
    EXPECT_REWRITE(r, "a=1&countryId=XX&b=2", none, "a=1&b=2");
    EXPECT_REWRITE(r, "countryId=XX", de, "countryId=DE");
    EXPECT_REWRITE(r, "countryId=XX", none, "");
    EXPECT_REWRITE(r, "countryId=1&countryId=2&a=1&countryId=3", none, "a=1");

    /* Every spelling a lenient framework still reads as "countryId". */
    static const char *const spellings[] = {
        "countryId=X",
        "countryid=X",
        "COUNTRYID=X",
        "CountryID=X",
        "countryId",
        "countryId=",
        "countryId==X",
        "%63ountryId=X",
        "country%49d=X",
        "country%69d=X",
        "%43%4F%55%4E%54%52%59%49%44=X",
        "%63%6f%75%6e%74%72%79%69%64=X",
        "countryId[]=X",
        "countryId[x]=X",
        "countryId[][y]=X",
        "countryId[=X",
        "countryId%5B%5D=X",
        "countryId%5b0%5d=X",
        /* PHP skips leading spaces in names, and reads a name only up to a NUL. */
        "+countryId=X",
        "++countryId=X",
        "%20countryId=X",
        "countryId%00=X",
        "countryId%00junk=X",
        /* Rack 2 skips leading brackets and reads up to the next bracket. */
        "[countryId]=X",
        "countryId]=X",
        /* Java's trim() and .NET strip whitespace and controls around a name... */
        "countryId%20=X",
        "countryId+=X",
        "countryId++=X",
        "%09countryId=X",
        "countryId%0d=X",
        "countryId%0D%0A=X",
        "%00countryId=X",
        "%7FcountryId%7F=X",
        /* ...as .NET's Trim() and Python's strip() take Unicode's white space (NEL, no-break
         * space, the U+2000 spaces, the separators), and a Latin-1 server sees raw bytes... */
        "countryId%C2%A0=X",
        "%C2%A0countryId=X",
        "countryId%C2%85=X",
        "%C2%85%C2%A0countryId%C2%85=X",
        "countryId%A0=X",
        "countryId%85=X",
        "%E2%80%83countryId=X",
        "countryId%E3%80%80=X",
        "countryId%E2%80%A8=X",
        "countryId%E2%80%AF+%E1%9A%80=X",
        /* ...and JavaScript's trim() takes U+FEFF, old .NET's U+200B and U+FEFF... */
        "countryId%EF%BB%BF=X",
        "%EF%BB%BFcountryId=X",
        "countryId%E2%80%8B=X",
        "%E1%A0%8EcountryId=X",
        "?%C2%A0countryId=X",
        /* ...and ASP.NET decodes %uXXXX... */
        "%u0063ountryId=X",
        "country%u0049d=X",
        "%U0063%U006F%u0075ntryId=X",
        "countryId%u00a0=X",
        "countryId%u0020=X",
        "country%u0131d=X",
        /* ...and equalsIgnoreCase reads a dotless i as 'i' ("I" uppercased). */
        "country%C4%B1d=X",
        /* Node's URLSearchParams drops the '?' of "/x??countryId=X". */
        "?countryId=X",
        "??countryId=X",
        "%3FcountryId=X",
        "?+countryId=X",
        "+?countryId=X",
        "?[countryId]=X",
        "?country%C4%B1d=X",
    };
    for (size_t i = 0; i < UNIT_N(spellings); i++) {
        char query[128];
        snprintf(query, sizeof(query), "a=1&%s&b=2", spellings[i]);
        EXPECT_REWRITE(r, query, none, "a=1&b=2");
        EXPECT_REWRITE(r, query, de, "a=1&b=2&countryId=DE");
        EXPECT_REWRITE(r, spellings[i], de, "countryId=DE");
    }

    /* Names that are not the target stay, byte for byte. */
    static const char *const others[] = {
        "countryIdx=1",
        "xcountryId=1",
        "country=1",
        "countryI=1",
        "countryId2=1",
        "country_id=1",
        "country.id=1",
        "a=countryId",
        "x=countryId",
        "=countryId",
        "countryId%3D=1",
        "country%zzId=1",
        "countr%79",
        "%countryId=1",
        "countryId%2=1",
        "x[countryId]=1",
        "c+ountryId=1",
        "country+Id=1",
        "countryId%2500=1",
        "countryId%255B%255D=1",
        "%2BcountryId",
        "countryId_=1",
        "countryid%2E%2E=1",
        "countryId?=1",
        "c?ountryId=1",
        /* White space inside a name, and %u without four hex digits, are the name's own. */
        "country%C2%A0Id=1",
        "country%E2%80%83Id=1",
        "countryId%u12=1",
        "countryId%u=1",
        "countryId%u00zz=1",
        "country%u200BId=1",
    };
    for (size_t i = 0; i < UNIT_N(others); i++) {
        char query[128], want[160];
        snprintf(query, sizeof(query), "a=1&%s&b=2", others[i]);
        EXPECT_REWRITE(r, query, none, query);
        snprintf(want, sizeof(want), "%s&countryId=DE", query);
        EXPECT_REWRITE(r, query, de, want);
    }
    config_free(cfg);
}

/* Letters that an ASCII letter's case mapping reaches from outside ASCII. */
static void test_unicode_case_spellings(void)
{
    struct config *cfg = load_params("k = \"userKey\";");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct rule *r = rule_of(cfg);
    const char *none[] = {NULL};
    static const char *const spellings[] = {
        "u%C5%BFerKey=X",    /* long s: uppercases to 'S' */
        "user%E2%84%AAey=X", /* Kelvin sign: lowercases to 'k' */
        "u%C5%BFer%E2%84%AAey=X",
        "%EF%BD%95serKey=X", /* fullwidth u: no ASCII case mapping, kept */
    };
    for (size_t i = 0; i < UNIT_N(spellings); i++) {
        char query[128];
        snprintf(query, sizeof(query), "a=1&%s", spellings[i]);
        EXPECT_REWRITE(r, query, none, i < 3 ? "a=1" : query);
    }
    config_free(cfg);
}

static void test_underscore_spellings(void)
{
    /* "user_id" is what PHP makes of "user.id", "user id", "user+id" and "user[id". */
    struct config *cfg = load_params("userId = \"user_id\";");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct rule *r = rule_of(cfg);
    const char *none[] = {NULL};
    static const char *const spellings[] = {
        "user_id=X",   "USER_ID=X",    "user.id=X",   "user+id=X",      "user%20id=X",
        "user%2Eid=X", "user%2eid=X",  "user%5Fid=X", "user_id[]=X",    "user[id=X",
        "user%5Bid=X", "user.id[a]=X", " user_id=X",  "user_id%00.x=X",
    };
    for (size_t i = 0; i < UNIT_N(spellings); i++) {
        char query[128];
        snprintf(query, sizeof(query), "keep=1;%s;keep=2", spellings[i]);
        EXPECT_REWRITE(r, query, none, "keep=1;keep=2");
    }
    EXPECT_REWRITE(r, "userid=1&user-id=2&user__id=3", none, "userid=1&user-id=2&user__id=3");
    config_free(cfg);

    /* A target with a '.' is read by PHP as '_': both spellings are the target. */
    cfg = load_params("userName = \"user.name\";");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    r = rule_of(cfg);
    UNIT_STR_EQ(r->param_targets[0].match_name, "user_name");
    const char *bob[] = {"bob"};
    EXPECT_REWRITE(r, "user_name=x&user.name=y&USER+NAME=z&user%2ename=w&q=1", bob,
                   "q=1&user.name=bob");
    config_free(cfg);

    /* '-' is not '_' anywhere. */
    cfg = load_params("tenant = \"x-tenant\";");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    r = rule_of(cfg);
    EXPECT_REWRITE(r, "X-Tenant=1&x_tenant=2&xtenant=3&x%2Dtenant=4", none, "x_tenant=2&xtenant=3");
    config_free(cfg);
}

static void test_separators_and_order(void)
{
    struct config *cfg = load_params("userCountryId = \"countryId\";");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct rule *r = rule_of(cfg);
    const char *none[] = {NULL};
    const char *de[] = {"DE"};

    /* ';' separates as '&' does, and each kept piece keeps the separator before it. */
    EXPECT_REWRITE(r, "a=1;countryId=X;b=2", none, "a=1;b=2");
    EXPECT_REWRITE(r, "a=1&countryId=X;b=2", none, "a=1;b=2");
    EXPECT_REWRITE(r, "a=1;countryId=X&b=2", none, "a=1&b=2");
    EXPECT_REWRITE(r, "a=1;b=2&c=3", none, "a=1;b=2&c=3");
    EXPECT_REWRITE(r, "a=1;b=2&c=3", de, "a=1;b=2&c=3&countryId=DE");
    EXPECT_REWRITE(r, "countryId=X;a=1", none, "a=1");
    /* Pieces keep their bytes: escapes, '+', odd '=' and bytes >= 0x80 untouched. */
    EXPECT_REWRITE(r, "z=%7e+%2B&x=%zz&y&=&w==&countryId=1&caf\xc3\xa9=%C3%A9", de,
                   "z=%7e+%2B&x=%zz&y&=&w==&caf\xc3\xa9=%C3%A9&countryId=DE");
    EXPECT_REWRITE(r, "c=3&b=2&a=1", none, "c=3&b=2&a=1");
    config_free(cfg);
}

static void test_empty_pieces(void)
{
    struct config *cfg = load_params("userCountryId = \"countryId\";");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct rule *r = rule_of(cfg);
    const char *none[] = {NULL};
    const char *de[] = {"DE"};
    EXPECT_REWRITE(r, "", none, "");
    EXPECT_REWRITE(r, "", de, "countryId=DE");
    EXPECT_REWRITE(r, "&", none, "");
    EXPECT_REWRITE(r, ";;&&", de, "countryId=DE");
    EXPECT_REWRITE(r, "&&a=1&&&b=2&", none, "a=1&b=2");
    EXPECT_REWRITE(r, "a=1&", de, "a=1&countryId=DE");
    EXPECT_REWRITE(r, "&countryId=1&", de, "countryId=DE");
    config_free(cfg);
}

static void test_value_encoding(void)
{
    struct config *cfg = load_params("v = \"out\";");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct rule *r = rule_of(cfg);
    struct {
        const char *value;
        const char *want;
    } cases[] = {
        {"abcXYZ019-._~", "out=abcXYZ019-._~"},
        {"", "out="},
        {"a b", "out=a%20b"},
        {"a+b", "out=a%2Bb"},
        {"a&b=c;d", "out=a%26b%3Dc%3Bd"},
        {"/?#[]@!$'()*,%", "out=%2F%3F%23%5B%5D%40%21%24%27%28%29%2A%2C%25"},
        {"\"<>\\^`{|}", "out=%22%3C%3E%5C%5E%60%7B%7C%7D"},
        {"caf\xc3\xa9", "out=caf%C3%A9"},
        {"\xe2\x82\xac", "out=%E2%82%AC"},
        {"\x7f\xff\x80", "out=%7F%FF%80"},
        {"\t\r\n", "out=%09%0D%0A"},
        {"%zz", "out=%25zz"},
    };
    for (size_t i = 0; i < UNIT_N(cases); i++) {
        const char *values[] = {cases[i].value};
        EXPECT_REWRITE(r, "", values, cases[i].want);
    }
    config_free(cfg);
}

static void test_several_params(void)
{
    struct config *cfg =
        load_params("userId = \"uid\"; userCountryId = \"countryId\"; role = \"role\";");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct rule *r = rule_of(cfg);
    CU_ASSERT_EQUAL_FATAL(r->nparams, 3);
    UNIT_STR_EQ(r->params[0].target, "uid");
    UNIT_STR_EQ(r->params[1].target, "countryId");
    UNIT_STR_EQ(r->params[2].target, "role");

    /* Appended in configuration order; a target without a value is removed and not added. */
    const char *all[] = {"42", "DE", "admin user"};
    EXPECT_REWRITE(r, "role=root&q=x&UID=1", all, "q=x&uid=42&countryId=DE&role=admin%20user");
    const char *some[] = {NULL, "DE", NULL};
    EXPECT_REWRITE(r, "role=root&q=x&UID=1", some, "q=x&countryId=DE");
    const char *nothing[] = {NULL, NULL, NULL};
    EXPECT_REWRITE(r, "role=root&q=x&UID=1", nothing, "q=x");
    config_free(cfg);
}

static void test_output_bounds(void)
{
    struct config *cfg = load_params("userCountryId = \"countryId\";");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct rule *r = rule_of(cfg);
    const char *value[] = {"a b"};
    const char *query = "keep=1&countryId=x&more=2";
    const char *want = "keep=1&more=2&countryId=a%20b";
    size_t wlen = strlen(want);
    char out[128];

    /* Exactly enough room (with the NUL) works. */
    memset(out, 'Z', sizeof(out));
    CU_ASSERT_EQUAL(query_rewrite(query, r->param_targets, r->nparams, value, out, wlen + 1),
                    (long)wlen);
    UNIT_STR_EQ(out, want);
    CU_ASSERT_EQUAL(out[wlen + 1], 'Z');

    /* Any less is an error, whatever piece no longer fits, and nothing is written past outlen. */
    for (size_t outlen = 0; outlen <= wlen; outlen++) {
        memset(out, 'Z', sizeof(out));
        long n = query_rewrite(query, r->param_targets, r->nparams, value, out, outlen);
        UNIT_CHECK(n == -1, "outlen %zu: returned %ld, expected -1", outlen, n);
        for (size_t k = outlen; k < sizeof(out); k++)
            if (out[k] != 'Z') {
                UNIT_CHECK(0, "outlen %zu: byte %zu written", outlen, k);
                break;
            }
    }

    /* The same for a client query with nothing appended. */
    const char *none[] = {NULL};
    CU_ASSERT_EQUAL(query_rewrite("abc=1", r->param_targets, r->nparams, none, out, 6), 5);
    UNIT_STR_EQ(out, "abc=1");
    CU_ASSERT_EQUAL(query_rewrite("abc=1", r->param_targets, r->nparams, none, out, 5), -1);
    CU_ASSERT_EQUAL(query_rewrite("", r->param_targets, r->nparams, none, out, 1), 0);
    UNIT_STR_EQ(out, "");
    CU_ASSERT_EQUAL(query_rewrite("", r->param_targets, r->nparams, none, out, 0), -1);
    config_free(cfg);
}

static void test_long_input(void)
{
    struct config *cfg = load_params("userCountryId = \"countryId\";");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct rule *r = rule_of(cfg);
    const char *none[] = {NULL};

    /* A name far longer than any target is kept; leading spaces before a target are not. */
    char query[1200];
    memset(query, 'n', 1000);
    strcpy(query + 1000, "=1&");
    char want[1200];
    memcpy(want, query, 1003);
    want[1002] = '\0';
    size_t off = 1003;
    for (int i = 0; i < 60; i++, off += 3)
        memcpy(query + off, "%20", 3);
    strcpy(query + off, "countryId=X");
    EXPECT_REWRITE(r, query, none, want);

    /* The largest rewritten query fits QUERY_MAX_OUT. */
    char *big = malloc(QUERY_MAX_OUT + 1);
    char *out = malloc(QUERY_MAX_OUT);
    CU_ASSERT_FATAL(big != NULL && out != NULL);
    memset(big, 'a', QUERY_MAX_OUT - 1);
    big[QUERY_MAX_OUT - 1] = '\0';
    CU_ASSERT_EQUAL(query_rewrite(big, r->param_targets, r->nparams, none, out, QUERY_MAX_OUT),
                    QUERY_MAX_OUT - 1);
    const char *de[] = {"DE"};
    CU_ASSERT_EQUAL(query_rewrite(big, r->param_targets, r->nparams, de, out, QUERY_MAX_OUT), -1);
    free(big);
    free(out);
    config_free(cfg);
}

static const struct unit_case removal_cases[] = {
    UNIT_CASE(test_no_params_unchanged),
    UNIT_CASE(test_forged_target_removed),
    UNIT_CASE(test_underscore_spellings),
    UNIT_CASE(test_unicode_case_spellings),
    UNIT_CASE(test_separators_and_order),
    UNIT_CASE(test_empty_pieces),
    UNIT_END,
};

static const struct unit_case append_cases[] = {
    UNIT_CASE(test_value_encoding),
    UNIT_CASE(test_several_params),
    UNIT_CASE(test_output_bounds),
    UNIT_CASE(test_long_input),
    UNIT_END,
};

int main(void)
{
    static const struct unit_suite suites[] = {
        {"removal", removal_cases},
        {"append", append_cases},
        {NULL, NULL},
    };
    return unit_main(suites);
}
