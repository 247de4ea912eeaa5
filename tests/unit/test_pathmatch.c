/* test_pathmatch.c - compiling configured paths, normalizing request paths, matching. */
#include "http/pathmatch.h"

#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* One views buffer is large (PATH_MAX_VIEWS * 8 KiB): keep it off the stack. */
static struct path_views views;

enum expect { PROTECTED, UNPROTECTED, MALFORMED, TOO_LONG, DOTS };

static const char *expect_name(enum expect e)
{
    switch (e) {
    case PROTECTED:
        return "protected";
    case UNPROTECTED:
        return "unprotected";
    case MALFORMED:
        return "malformed";
    case TOO_LONG:
        return "too long";
    case DOTS:
        return "refused for a dot segment";
    }
    return "?";
}

/* The application readings the tests ask for (NULL: none beyond the always-on ones). */
static const struct path_options *options;

/* What one pattern says about one raw path (NUL-terminated here for convenience). */
static enum expect classify_n(const char *pattern, const char *raw, size_t len)
{
    struct path_pattern p;
    const char *err = path_pattern_compile(pattern, &p);
    UNIT_CHECK(err == NULL, "pattern '%s' should compile: %s", pattern, err ? err : "");
    if (err)
        return MALFORMED;
    enum expect e;
    switch (path_normalize(raw, len, options, &views)) {
    case PATH_OK:
        e = path_pattern_match(&p, &views) ? PROTECTED : UNPROTECTED;
        break;
    case PATH_TOO_LONG:
        e = TOO_LONG;
        break;
    case PATH_DOT_SEGMENT:
        e = DOTS;
        break;
    default:
        e = MALFORMED;
        break;
    }
    path_pattern_free(&p);
    return e;
}

static enum expect classify(const char *pattern, const char *raw)
{
    return classify_n(pattern, raw, strlen(raw));
}

#define EXPECT(pattern, raw, want)                                                                 \
    do {                                                                                           \
        enum expect got_ = classify((pattern), (raw));                                             \
        UNIT_CHECK(got_ == (want), "'%s' against '%s': %s, expected %s", (raw), (pattern),         \
                   expect_name(got_), expect_name(want));                                          \
    } while (0)

/* ---- compiling ---- */

static const char *compile_error(const char *source)
{
    struct path_pattern p;
    const char *err = path_pattern_compile(source, &p);
    if (!err)
        path_pattern_free(&p);
    return err;
}

static void test_compile_valid(void)
{
    struct path_pattern p;
    CU_ASSERT_PTR_NULL_FATAL(path_pattern_compile("/API/V1/", &p));
    UNIT_STR_EQ(p.source, "/API/V1/");
    CU_ASSERT_EQUAL_FATAL(p.nsegs, 2);
    /* Segments are stored lowercased, for matching against lowercased views. */
    UNIT_STR_EQ(p.segs[0].text, "api");
    UNIT_INT_EQ(p.segs[0].len, 3);
    CU_ASSERT_FALSE(p.segs[0].glob);
    UNIT_STR_EQ(p.segs[1].text, "v1");
    path_pattern_free(&p);
    CU_ASSERT_PTR_NULL(p.source);
    CU_ASSERT_PTR_NULL(p.segs);
    CU_ASSERT_EQUAL(p.nsegs, 0);

    CU_ASSERT_PTR_NULL_FATAL(path_pattern_compile("/users/*/profile", &p));
    CU_ASSERT_EQUAL_FATAL(p.nsegs, 3);
    CU_ASSERT_TRUE(p.segs[1].glob);
    CU_ASSERT_FALSE(p.segs[2].glob);
    path_pattern_free(&p);

    CU_ASSERT_PTR_NULL_FATAL(path_pattern_compile("/files/*.pdf", &p));
    CU_ASSERT_EQUAL_FATAL(p.nsegs, 2);
    CU_ASSERT_TRUE(p.segs[1].glob);
    path_pattern_free(&p);

    /* A trailing lone star is the same as the prefix alone. */
    CU_ASSERT_PTR_NULL_FATAL(path_pattern_compile("/api/*", &p));
    CU_ASSERT_EQUAL(p.nsegs, 1);
    path_pattern_free(&p);

    const char *everything[] = {"/", "/*", "*", "//"};
    for (size_t i = 0; i < UNIT_N(everything); i++) {
        CU_ASSERT_PTR_NULL_FATAL(path_pattern_compile(everything[i], &p));
        UNIT_CHECK(p.nsegs == 0, "'%s' should have no segments", everything[i]);
        UNIT_STR_EQ(p.source, everything[i]);
        path_pattern_free(&p);
    }

    /* Characters that are fine in a configured path. */
    const char *fine[] = {"/a-b_c.d~e",   "/a/.../b", "/.well-known/x", "/a:b@c",
                          "/caf\xc3\xa9", "/a..b",    "/v1.2/x"};
    for (size_t i = 0; i < UNIT_N(fine); i++) {
        const char *err = compile_error(fine[i]);
        UNIT_CHECK(err == NULL, "'%s' should compile: %s", fine[i], err ? err : "");
    }
}

static void test_compile_invalid(void)
{
    struct {
        const char *source;
        const char *message_part;
    } bad[] = {
        {"", "start with '/'"},
        {"api", "start with '/'"},
        {"api/*", "start with '/'"},
        {"**", "start with '/'"},
        {"/a%2fb", "'%'"},
        {"/a?b=1", "'?'"},
        {"/a#frag", "'#'"},
        {"/a;jsessionid=1", "';'"},
        {"/a\\b", "'\\'"},
        {"/a b", "control"},
        {"/a\tb", "control"},
        {"/a\nb", "control"},
        {"/a\rb", "control"},
        {"/a\x7f", "control"},
        {"/a\x01", "control"},
        {"/a/./b", "'.' or '..'"},
        {"/a/../b", "'.' or '..'"},
        {"/..", "'.' or '..'"},
        {"/.", "'.' or '..'"},
        {"/a/.", "'.' or '..'"},
        {"/a/..", "'.' or '..'"},
        {"/a/../*", "'.' or '..'"},
        /* Fullwidth '/' and '.' fold (NFKC) to ASCII: a separator or a dot segment. */
        {"/a/\xef\xbc\x8fx", "folds to '/'"},
        {"/x\xef\xbc\x8f.x\xef\xbc\x8f.x", "folds to '/'"},
        {"/a/\xef\xbc\x8e\xef\xbc\x8e", "'.' or '..'"},
        {"/a/\xef\xbc\x8e", "'.' or '..'"},
    };
    for (size_t i = 0; i < UNIT_N(bad); i++) {
        const char *err = compile_error(bad[i].source);
        UNIT_CHECK(err != NULL, "'%s' must be refused", bad[i].source);
        if (err)
            UNIT_CHECK(strstr(err, bad[i].message_part) != NULL,
                       "message for '%s' is \"%s\", should mention %s", bad[i].source, err,
                       bad[i].message_part);
    }

    /* Too long. */
    char *big = malloc(PATH_MAX_RAW + 2);
    CU_ASSERT_FATAL(big != NULL);
    memset(big, 'a', PATH_MAX_RAW + 1);
    big[0] = '/';
    big[PATH_MAX_RAW + 1] = '\0';
    const char *err = compile_error(big);
    CU_ASSERT_PTR_NOT_NULL(err);
    big[PATH_MAX_RAW] = '\0';
    CU_ASSERT_PTR_NULL(compile_error(big));
    free(big);
}

/* ---- matching patterns ---- */

static void test_everything_patterns(void)
{
    const char *patterns[] = {"/", "/*", "*"};
    const char *paths[] = {"/", "/a", "/a/b/c", "/protected", "/x;y"};
    for (size_t i = 0; i < UNIT_N(patterns); i++)
        for (size_t k = 0; k < UNIT_N(paths); k++)
            EXPECT(patterns[i], paths[k], PROTECTED);
    /* Still, a malformed path is malformed whatever the pattern, and so is a dot segment. */
    EXPECT("/", "/a%zz", MALFORMED);
    EXPECT("/", "/%2e%2e", DOTS);
    EXPECT("*", "no-slash", MALFORMED);
}

static void test_prefix_forms_are_equal(void)
{
    const char *patterns[] = {"/api", "/api/", "/api/*", "/API", "//api//"};
    struct {
        const char *path;
        enum expect want;
    } cases[] = {
        {"/api", PROTECTED},   {"/api/", PROTECTED},     {"/api/v1/users", PROTECTED},
        {"/API/x", PROTECTED}, {"/apix", UNPROTECTED},   {"/ap", UNPROTECTED},
        {"/", UNPROTECTED},    {"/v1/api", UNPROTECTED}, {"/api.json", UNPROTECTED},
        {"/x/../api/y", DOTS},
    };
    for (size_t i = 0; i < UNIT_N(patterns); i++)
        for (size_t k = 0; k < UNIT_N(cases); k++)
            EXPECT(patterns[i], cases[k].path, cases[k].want);
}

static void test_nested_prefix(void)
{
    /* Dot segments in the readings that decode once (or twice) and split on '/' only. */
    EXPECT("/p", "/x%2F..%2Fp/;/..", DOTS);
    EXPECT("/p", "/x%252F..%252Fp/;/..", DOTS);
    /* An encoded '#' may end the path for whatever decodes before splitting; an encoded '?'
     * would also start a query nobody decided on: refused. */
    EXPECT("/protected", "/protected%23frag", PROTECTED);
    EXPECT("/protected", "/protected%3Fx", MALFORMED);
    EXPECT("/protected", "/protected%3fx=1/public", MALFORMED);
    EXPECT("/protected", "/public%3Fprotected", MALFORMED);
    EXPECT("/protected", "/public%253Fprotected", MALFORMED);
    EXPECT("/a/b", "/a/b", PROTECTED);
    EXPECT("/a/b", "/a/b/c", PROTECTED);
    EXPECT("/a/b", "/a", UNPROTECTED);
    EXPECT("/a/b", "/a/bc", UNPROTECTED);
    EXPECT("/a/b", "/b", UNPROTECTED);
    EXPECT("/a/b", "/a/x/../b", DOTS);
    EXPECT("/a/b", "/a%2Fb", PROTECTED);
}

static void test_globs(void)
{
    EXPECT("/files/*.pdf", "/files/report.pdf", PROTECTED);
    EXPECT("/files/*.pdf", "/files/.pdf", PROTECTED);
    EXPECT("/files/*.pdf", "/files/REPORT.PDF", PROTECTED);
    EXPECT("/files/*.pdf", "/files/a.pdf/inside", PROTECTED);
    EXPECT("/files/*.pdf", "/files/a.pdf.txt", UNPROTECTED);
    EXPECT("/files/*.pdf", "/files/report.txt", UNPROTECTED);
    EXPECT("/files/*.pdf", "/files", UNPROTECTED);
    /* A glob never crosses '/'. */
    EXPECT("/files/*.pdf", "/files/dir/a.pdf", UNPROTECTED);
    EXPECT("/files/*.pdf", "/files/dir%2Fa.pdf", PROTECTED);

    EXPECT("/users/*/profile", "/users/42/profile", PROTECTED);
    EXPECT("/users/*/profile", "/users/42/profile/edit", PROTECTED);
    EXPECT("/users/*/profile", "/Users/Bob/Profile", PROTECTED);
    EXPECT("/users/*/profile", "/users/profile", UNPROTECTED);
    EXPECT("/users/*/profile", "/users/a/b/profile", UNPROTECTED);
    EXPECT("/users/*/profile", "/users/42/settings", UNPROTECTED);
    EXPECT("/users/*/profile", "/users/42/x/../profile", DOTS);

    EXPECT("/a*b*c", "/abc", PROTECTED);
    EXPECT("/a*b*c", "/axxbyyc", PROTECTED);
    EXPECT("/a*b*c", "/abcbc", PROTECTED);
    EXPECT("/a*b*c", "/acb", UNPROTECTED);
    EXPECT("/a*b*c", "/abcd", UNPROTECTED);
    EXPECT("/*.php", "/index.php", PROTECTED);
    EXPECT("/*.php", "/index.PHP", PROTECTED);
    EXPECT("/*.php", "/index.php5", UNPROTECTED);
    EXPECT("/x/**", "/x/y", PROTECTED);
    /* A lone star followed only by slashes is still the trailing one. */
    EXPECT("/api/*/", "/api/v1", PROTECTED);
    EXPECT("/api/*/", "/api", PROTECTED);
    EXPECT("/api/*//", "/api", PROTECTED);
    /* A lone star in the middle needs a segment there. */
    EXPECT("/api/*/x", "/api/x", UNPROTECTED);
    EXPECT("/api/*/x", "/api/v1/x", PROTECTED);
}

/* "**": any number of segments, none included; "/x/" + "**" is "/x" and all below. */
static void test_double_star(void)
{
    const char *below[] = {"/admin", "/admin/", "/ADMIN", "/admin/x/y", "/Admin//x"};
    for (size_t i = 0; i < UNIT_N(below); i++)
        EXPECT("/admin/**", below[i], PROTECTED);
    EXPECT("/admin/**", "/adminx", UNPROTECTED);
    EXPECT("/admin/**", "/public/admin", UNPROTECTED);
    const char *secret[] = {"/secret",     "/a/secret", "/a/b/c/secret",
                            "/a/secret/x", "/A/SECRET", "/a/b;x/secret"};
    for (size_t i = 0; i < UNIT_N(secret); i++)
        EXPECT("/**/secret", secret[i], PROTECTED);
    EXPECT("/**/secret", "/secrets", UNPROTECTED);
    EXPECT("/**/secret", "/a/xsecret", UNPROTECTED);
    EXPECT("/**/secret", "/", UNPROTECTED);
    EXPECT("/a/**/b/**/c", "/a/b/c", PROTECTED);
    EXPECT("/a/**/b/**/c", "/a/x/b/y/z/c/w", PROTECTED);
    EXPECT("/a/**/b/**/c", "/a/c/b", UNPROTECTED);
    EXPECT("/a/**/b/**/c", "/a/b/b/b", UNPROTECTED);
    EXPECT("/api/**/*.json", "/api/v1/users/x.json", PROTECTED);
    EXPECT("/api/**/*.json", "/api/x.json", PROTECTED);
    EXPECT("/api/**/*.json", "/api/v1/users/x.xml", UNPROTECTED);
    EXPECT("/**", "/anything/at/all", PROTECTED);
    EXPECT("/a/**/**/b", "/a/b", PROTECTED);
    /* Encoded slashes as separators count for "**" as for any segment. */
    EXPECT("/**/secret", "/x%2Fsecret", PROTECTED);
}

static void test_double_star_compile(void)
{
    const char *bad[] = {"/a**", "/**b", "/a/x**y"};
    for (size_t i = 0; i < UNIT_N(bad); i++)
        UNIT_CHECK(compile_error(bad[i]) != NULL, "'%s' must be refused", bad[i]);
    struct path_pattern p;
    CU_ASSERT_PTR_NULL_FATAL(path_pattern_compile("/**/secret", &p));
    UNIT_INT_EQ(p.nsegs, 2);
    CU_ASSERT_TRUE(p.segs[0].dstar);
    path_pattern_free(&p);
}

/* URL parsers of Node and Python read "//evil/p" as host "evil", path "/p". */
static void test_scheme_relative_targets(void)
{
    const char *targets[] = {"//evil/protected",        "/\\evil/protected", "//evil:80/protected",
                             "//user@evil/protected/x", "///protected",      "//evil\\protected"};
    for (size_t i = 0; i < UNIT_N(targets); i++)
        EXPECT("/protected", targets[i], PROTECTED);
    EXPECT("/protected", "//evil/public", UNPROTECTED);
    EXPECT("/", "//evil", PROTECTED);
    EXPECT("/protected", "//evil/Protected%2F..%2Fprotected", DOTS);
    /* Still the first reading too: "//protected/x" is /protected/x to servers. */
    EXPECT("/protected", "//protected/x", PROTECTED);
}

/* Node's URL parser skips every slash and backslash before the host, not just two: any run
 * of two or more separators starts an authority, also once decoded (an application that
 * decodes before it parses). */
static void test_scheme_relative_runs_of_separators(void)
{
    const char *targets[] = {"///evil/api/x",
                             "//\\evil/api/x",
                             "/\\/evil/api/x",
                             "////evil/api/x",
                             "/\\\\\\evil/api/x",
                             "/%2F/evil/api/x",
                             "/%2f%2fevil/api/x",
                             "/%5C%5Cevil/api/x",
                             "/%5c/%5cevil/api/x",
                             "//%5Cevil/api/x",
                             "/%252F%252Fevil/api/x",
                             "/%2F/evil/API%2Fx",
                             "/%2F%2F"};
    for (size_t i = 0; i < UNIT_N(targets); i++)
        EXPECT("/api", targets[i], strcmp(targets[i], "/%2F%2F") == 0 ? UNPROTECTED : PROTECTED);
    EXPECT("/", "/%2F%2F", PROTECTED);
    /* Separators that do not start the path are no authority. */
    EXPECT("/api", "/%2F/evil/..%2Fapi/x", DOTS);
    EXPECT("/api", "/x%2F%2Fevil/api/x", UNPROTECTED);
    EXPECT("/api", "/x//evil/api/x", UNPROTECTED);
    EXPECT("/api", "///evil/public/x", UNPROTECTED);
    /* Many readings at once still fit. */
    EXPECT("/api", "/%5C%2F%252F\\evil;x/api;z/%252eb/a%2Fc/q.json", PROTECTED);
}

/* What application frameworks make of a path, with the options a configuration gives. */
static void test_application_readings(void)
{
    struct path_segment php;
    CU_ASSERT_PTR_NULL_FATAL(path_segment_compile("*.php", &php));
    struct path_options opt = {
        .format_suffixes = true, .front_controllers = &php, .nfront_controllers = 1};
    options = &opt;
    const char *protected[] = {"/protected.json",
                               "/protected.XML",
                               "/index.php/protected",
                               "/app.php/protected/x",
                               "/blog/index.php/protected",
                               "/index.php/protected.json",
                               "/protected.",
                               "/protected..",
                               "/protected%20",
                               "/%20protected",
                               "/protected%20%20/x",
                               "/protected::$DATA",
                               "/protected::$DATA/x",
                               "/protected.::$data",
                               "/protected%09x"};
    for (size_t i = 0; i < UNIT_N(protected); i++) {
        enum expect want = strstr(protected[i], "%09") ? MALFORMED : PROTECTED;
        EXPECT("/protected", protected[i], want);
    }
    EXPECT("/files/*.pdf", "/files/a.pdf.", PROTECTED);
    /* ".. " and "..." are ".." to Windows: a dot segment. */
    EXPECT("/protected", "/public/..%20/protected", DOTS);
    EXPECT("/protected", "/public/...%20%20/protected", DOTS);
    EXPECT("/protected", "/public/%20..%20/protected/x", DOTS);
    EXPECT("/protected", "/public/.../protected", DOTS);
    /* Cutting a format suffix may leave one: "..json" is "." to Rails. */
    EXPECT("/protected", "/protected/..json", DOTS);
    EXPECT("/files/*.pdf", "/files/a.pdf::$DATA", PROTECTED);
    const char *unprotected[] = {"/protectedx.json", "/public.json", "/index.php",
                                 "/protected.json.bak/public", "/protectedjson"};
    for (size_t i = 0; i < UNIT_N(unprotected); i++)
        EXPECT("/protected", unprotected[i], UNPROTECTED);
    /* A suffix that is not a format (too long, not letters and digits) stays. */
    EXPECT("/protected", "/protected.a-b", UNPROTECTED);

    /* Without the options: only the always-on ones (trimming). */
    options = NULL;
    EXPECT("/protected", "/protected.json", UNPROTECTED);
    EXPECT("/protected", "/index.php/protected", UNPROTECTED);
    EXPECT("/protected", "/protected%20", PROTECTED);
    EXPECT("/protected", "/protected::$DATA", PROTECTED);
    free(php.text);
}

/* Unicode: NFKC and case folding on both sides; invalid and overlong UTF-8 refused. */
static void test_unicode_readings(void)
{
    /* Fullwidth letters, the long s, the Kelvin sign, a ligature. */
    EXPECT("/protected", "/%EF%BD%90rotected", PROTECTED); /* U+FF50 */
    EXPECT("/protected", "/%EF%BC%B0ROTECTED", PROTECTED); /* U+FF30 */
    EXPECT("/secret", "/%C5%BFecret", PROTECTED);          /* U+017F */
    EXPECT("/kiosk", "/%E2%84%AAiosk", PROTECTED);         /* U+212A */
    EXPECT("/office", "/o%EF%AC%83ce", PROTECTED);         /* U+FB03 "ffi" */
    /* A fullwidth solidus and full stops: "/public/../protected" after NFKC. */
    EXPECT("/protected", "/public%EF%BC%8F%EF%BC%8E%EF%BC%8E%EF%BC%8Fprotected", DOTS);
    EXPECT("/protected", "/%EF%BC%8Fprotected", PROTECTED);
    /* Non-ASCII patterns compare after folding too: composed, decomposed, any case. */
    EXPECT("/caf\xc3\xa9", "/CAF%C3%89", PROTECTED);
    EXPECT("/caf\xc3\xa9", "/cafe%CC%81", PROTECTED);
    EXPECT("/CAF\xc3\x89/x", "/caf%C3%A9/x", PROTECTED);
    EXPECT("/caf\xc3\xa9", "/cafe", UNPROTECTED);
    /* Letters whose case mapping is ASCII, as Java's equalsIgnoreCase reads them (Unicode
     * folding keeps "ı" and "İ" apart from 'i'): also in patterns. */
    EXPECT("/api", "/AP%C4%B0/x", PROTECTED); /* U+0130 */
    EXPECT("/api", "/ap%C4%B1/x", PROTECTED); /* U+0131 */
    EXPECT("/api", "/%C4%B0%C4%B1%C4%B0", UNPROTECTED);
    EXPECT("/kiosk", "/%E2%84%AAIOSK", PROTECTED);    /* U+212A */
    EXPECT("/sso", "/%C5%BF%C5%BFo", PROTECTED);      /* U+017F */
    EXPECT("/\xc3\xa5/x", "/%E2%84%AB/x", PROTECTED); /* U+212B, the angstrom sign */
    EXPECT("/\xc3\xa5/x", "/%C3%85/X", PROTECTED);
    EXPECT("/AP\xc4\xb0", "/api", PROTECTED);
    EXPECT("/ap\xc4\xb1", "/API/x", PROTECTED);
    EXPECT("/ap\xc4\xb1", "/ap%C4%B0", PROTECTED);
    /* Lookalike slashes (U+2215, U+2044) and invisible characters (ZWSP, BOM, the soft
     * hyphen) are ordinary characters: no separators, not dropped. NBSP is a space after
     * NFKC, and surrounding blanks are trimmed. */
    EXPECT("/api", "/public%E2%88%95..%E2%88%95api/x", UNPROTECTED);
    EXPECT("/api", "/public%E2%81%84..%E2%81%84api/x", UNPROTECTED);
    EXPECT("/api", "/api%E2%80%8B/x", UNPROTECTED);
    EXPECT("/api", "/api%EF%BB%BF/x", UNPROTECTED);
    EXPECT("/api", "/a%C2%ADpi/x", UNPROTECTED);
    EXPECT("/api", "/api%C2%A0/x", PROTECTED);
    const char *refused[] = {"/%C0%AE%C0%AE/protected",
                             "/%C0%AF",
                             "/%E0%80%AE",
                             "/%FF",
                             "/%C3",
                             "/%C3%28",
                             "/%ED%A0%80",
                             "/%F4%90%80%80",
                             "/\xc0\xae",
                             "/a%25C0%25AE"};
    for (size_t i = 0; i < UNIT_N(refused); i++)
        EXPECT("/protected", refused[i], MALFORMED);
    UNIT_CHECK(compile_error("/caf\xe9") != NULL, "a Latin-1 pattern must be refused");
}

/* Covering, for -t's warning about middlewares that can never decide. */
static void test_covers(void)
{
    const struct {
        const char *p, *q;
        bool covers;
    } cases[] = {
        {"/", "/api", true},        {"*", "/x/y", true},          {"/api", "/api/x", true},
        {"/api", "/api", true},     {"/api/*", "/api/v1", true},  {"/a/*/c", "/a/b/c/d", true},
        {"/*.pdf", "/x.pdf", true}, {"/api/x", "/api", false},    {"/api", "/apix", false},
        {"/*.pdf", "/*", false},    {"/a/**/b", "/a/x/b", false}, {"/x", "/**/x", false},
    };
    for (size_t i = 0; i < UNIT_N(cases); i++) {
        struct path_pattern p, q;
        CU_ASSERT_PTR_NULL_FATAL(path_pattern_compile(cases[i].p, &p));
        CU_ASSERT_PTR_NULL_FATAL(path_pattern_compile(cases[i].q, &q));
        UNIT_CHECK(path_pattern_covers(&p, &q) == cases[i].covers, "'%s' covers '%s': %d",
                   cases[i].p, cases[i].q, !cases[i].covers);
        path_pattern_free(&p);
        path_pattern_free(&q);
    }
}

/* ---- the table of tricky request paths, all against "/protected" ---- */

static void test_tricky_paths(void)
{
    static const struct {
        const char *path;
        enum expect want;
    } table[] = {
        {"/protected", PROTECTED},
        {"/protected/", PROTECTED},
        {"/protected/x/y", PROTECTED},
        {"/Protected", PROTECTED},
        {"/PROTECTED/X", PROTECTED},
        {"//protected", PROTECTED},
        {"///protected//x", PROTECTED},
        {"/./protected", DOTS},
        {"/protected/.", DOTS},
        {"/x/../protected", DOTS},
        {"/x/y/../../protected", DOTS},
        {"/../protected", DOTS},
        {"/../../../protected", DOTS},
        {"/x/%2e%2e/protected", DOTS},
        {"/x/%2E%2E/protected", DOTS},
        {"/x/.%2e/protected", DOTS},
        {"/%2E%2E/protected", DOTS},
        {"/%2e/protected", DOTS},
        {"/%70rotected", PROTECTED},
        {"/%50ROTECTED", PROTECTED},
        {"/%70%72%6f%74%65%63%74%65%64", PROTECTED},
        {"/%2570rotected", PROTECTED}, /* double encoding */
        {"/%252e%252e/protected", DOTS},
        {"/protected;jsessionid=1", PROTECTED},
        {"/protected;jsessionid=1/x", PROTECTED},
        {"/protected%3Bx=1", PROTECTED},
        {"/;x/protected", PROTECTED},
        {"/public/..;/protected", DOTS},
        {"/public/..%3B/protected", DOTS},
        {"/public%2F..%2Fprotected", DOTS},
        {"/public%2f..%2fprotected", DOTS},
        {"/public/..%2Fprotected", DOTS},
        {"/public%252F..%252Fprotected", DOTS},
        /* Dot segments however written: refused, as a router that does not resolve them
         * sees these below /protected and a server that does sees the first ones there. */
        {"/protected%2F..%2F..%2Fpublic", DOTS},
        {"/protected%2f..%2f..%2fpublic", DOTS},
        {"/protected/..%2F..%2Fpublic", DOTS},
        {"/protected%5C..%5C..%5Cpublic", DOTS},
        {"/protected%252F..%252F..%252Fpublic", DOTS},
        {"/protected\\..\\..\\public", DOTS},
        {"/protected%2F", PROTECTED},
        {"/%2Fprotected", PROTECTED},
        {"/x\\..\\protected", DOTS},
        {"/x%5C..%5Cprotected", DOTS},
        {"/x%5c..%5cprotected", DOTS},
        {"\\protected", MALFORMED},
        {"/\\protected", PROTECTED},
        {"/protectedx", UNPROTECTED},
        {"/protected.html", UNPROTECTED},
        {"/xprotected", UNPROTECTED},
        {"/public", UNPROTECTED},
        {"/public/protected", UNPROTECTED},
        {"/", UNPROTECTED},
        {"/protected/../public", DOTS},
        {"/protected%2F..", DOTS},
        {"/%7Eprotected", UNPROTECTED},
        {"/caf\xc3\xa9", UNPROTECTED},
        /* Malformed: the caller answers 400. */
        {"/protected%zz", MALFORMED},
        {"/%zzprotected", MALFORMED},
        {"/protected%4", MALFORMED},
        {"/protected%", MALFORMED},
        {"/protected%G0", MALFORMED},
        {"/protected%00", MALFORMED},
        {"/protected%00.html", MALFORMED},
        {"/protected%0a", MALFORMED},
        {"/protected%0D%0A", MALFORMED},
        {"/protected%09", MALFORMED},
        {"/protected%7f", MALFORMED},
        {"/protected%250a", MALFORMED}, /* decodes twice to LF */
        {"/protected%2500", MALFORMED},
        {"/protected x", MALFORMED},
        {"/protected\tx", MALFORMED},
        {"/protected\x7f", MALFORMED},
        {"/protected#frag", MALFORMED},
        {"", MALFORMED},
        {"protected", MALFORMED},
        {"*", MALFORMED},
        {"http://host/protected", MALFORMED},
    };
    for (size_t i = 0; i < UNIT_N(table); i++)
        EXPECT("/protected", table[i].path, table[i].want);
}

/*
 * A dot segment in any reading refuses the path: servers resolve "/api/.." to "/", but a
 * router that keeps dot segments (Werkzeug: "/api/<path:p>" with p "..") serves it below
 * /api. Trailing ones, ones in the middle, encoded, mixed, after a backslash or an encoded
 * slash, decoded twice, with parameters, and what Windows or NFKC make of a segment.
 */
static void test_dot_segments_refused(void)
{
    const char *patterns[] = {"/api", "/api/*", "/admin", "/"};
    const char *paths[] = {
        "/api/..",
        "/api/.",
        "/api/../",
        "/api/%2e%2e",
        "/api/%2E%2E/",
        "/api/.%2e",
        "/api/%2e.",
        "/api/%2e",
        "/admin/..",
        "/admin/.",
        "/api/x/../..",
        "/api/x/../../public",
        "/api/./x",
        "/public/../api",
        "/api\\..",
        "/api\\.",
        "/api%5C..",
        "/api%5c%2e%2e",
        "/api%2F..",
        "/api%2f%2e",
        "/api/%252e%252e",
        "/api/%252E.",
        "/api%252F..",
        "/api/..;",
        "/api/..;x/y",
        "/api/.;x",
        "/api/..%3B",
        "/api/...",
        "/api/..%20",
        "/api/%20.",
        "/api/%EF%BC%8E%EF%BC%8E",
        "//evil/api/..",
        "/%2F/evil/api/%2e%2e",
        "/..",
        "/.",
        "/%2e%2e/api",
        "/admin/x%252F..%252F..",
    };
    for (size_t i = 0; i < UNIT_N(patterns); i++)
        for (size_t k = 0; k < UNIT_N(paths); k++)
            EXPECT(patterns[i], paths[k], DOTS);
    /* Dots inside a segment are no dot segment. */
    EXPECT("/api", "/api/..x", PROTECTED);
    EXPECT("/api", "/api/x..", PROTECTED);
    EXPECT("/api", "/api/.well-known", PROTECTED);
    EXPECT("/api", "/.well-known/api", UNPROTECTED);
    EXPECT("/api", "/a..pi", UNPROTECTED);
    /* A format suffix cut down to one: "/api/..json" is "/api/." to Rails. */
    struct path_options opt = {.format_suffixes = true};
    options = &opt;
    EXPECT("/api", "/api/..json", DOTS);
    EXPECT("/api", "/api/.json", PROTECTED);
    options = NULL;
    EXPECT("/api", "/api/..json", PROTECTED);
    CU_ASSERT_EQUAL(path_normalize("/api/..", 7, NULL, &views), PATH_DOT_SEGMENT);
}

static void test_nul_inside_length(void)
{
    /* A raw NUL within the given length is malformed, not the end of the path. */
    CU_ASSERT_EQUAL(classify_n("/protected", "/public\0/../protected", 21), MALFORMED);
    CU_ASSERT_EQUAL(path_normalize("/a\0b", 4, NULL, &views), PATH_MALFORMED);
    /* Only the given length counts: the rest of the buffer is not part of the path. */
    CU_ASSERT_EQUAL(classify_n("/protected", "/protected", 5), UNPROTECTED);
    CU_ASSERT_EQUAL(classify_n("/prot", "/prot%zz", 5), PROTECTED);
}

static void test_too_long(void)
{
    char *big = malloc(PATH_MAX_RAW + 2);
    CU_ASSERT_FATAL(big != NULL);
    memcpy(big, "/protected/", 11);
    memset(big + 11, 'a', PATH_MAX_RAW + 1 - 11);
    big[PATH_MAX_RAW + 1] = '\0';
    CU_ASSERT_EQUAL(classify_n("/protected", big, PATH_MAX_RAW + 1), TOO_LONG);
    CU_ASSERT_EQUAL(path_normalize(big, PATH_MAX_RAW + 1, NULL, &views), PATH_TOO_LONG);
    CU_ASSERT_EQUAL(views.n, 0);
    /* Exactly at the limit it is still read, with every view built. */
    CU_ASSERT_EQUAL(classify_n("/protected", big, PATH_MAX_RAW), PROTECTED);

    /* At the limit with escapes and specials in it: the buffers hold every view (decoded,
     * literal, and the two readings of the second decoding). */
    memcpy(big, "/protected/", 11);
    for (size_t i = 11; i + 6 <= PATH_MAX_RAW; i += 6)
        memcpy(big + i, "%2541;", 6);
    size_t len = 11 + ((PATH_MAX_RAW - 11) / 6) * 6;
    CU_ASSERT_EQUAL(path_normalize(big, len, NULL, &views), PATH_OK);
    CU_ASSERT_EQUAL(views.n, 4);
    CU_ASSERT_EQUAL(classify_n("/protected", big, len), PROTECTED);
    free(big);
}

/* ---- the views ---- */

static bool has_view(const char *want)
{
    for (size_t i = 0; i < views.n; i++)
        if (views.len[i] == strlen(want) && strcmp(views.view[i], want) == 0)
            return true;
    return false;
}

static void expect_views(const char *raw, size_t n, const char *v0, const char *v1, const char *v2)
{
    enum path_status st = path_normalize(raw, strlen(raw), NULL, &views);
    UNIT_CHECK(st == PATH_OK, "'%s' should normalize", raw);
    if (st != PATH_OK)
        return;
    UNIT_CHECK(views.n == n, "'%s' has %zu views, expected %zu", raw, views.n, n);
    const char *want[] = {v0, v1, v2};
    for (size_t i = 0; i < n && i < 3; i++)
        UNIT_CHECK(want[i] && has_view(want[i]), "'%s' should have the view '%s'", raw,
                   want[i] ? want[i] : "(null)");
    for (size_t i = 0; i < views.n; i++) {
        UNIT_CHECK(strlen(views.view[i]) == views.len[i], "view %zu of '%s' has a wrong length", i,
                   raw);
        UNIT_CHECK(views.view[i][0] == '/', "view %zu of '%s' does not start with '/'", i, raw);
    }
}

static void test_views(void)
{
    expect_views("/", 1, "/", NULL, NULL);
    expect_views("//", 1, "/", NULL, NULL);
    expect_views("/A//b/c/D/", 1, "/a/b/c/d", NULL, NULL);
    /* Decoded view: the first one, everything decoded and cut. */
    expect_views("/a%2Fb", 2, "/a/b", "/a%2fb", NULL);
    CU_ASSERT_STRING_EQUAL(views.view[0], "/a/b");
    /* Decoded once but split on '/' only: the backslash stays inside its segment. */
    expect_views("/a%5Cb", 3, "/a/b", "/a%5cb", "/a\\b");
    expect_views("/a\\b", 2, "/a/b", "/a\\b", NULL);
    expect_views("/a;x=1/b", 2, "/a/b", "/a;x=1/b", NULL);
    expect_views("/a/.x;/b", 2, "/a/.x/b", "/a/.x;/b", NULL);
    /* A second decoding differs from the first: a third view. */
    expect_views("/%2541", 2, "/%41", "/a", NULL);
    /* ... read as "decoded" and as "plain" (";p" kept): "/x/y" and "/x/y;p". */
    expect_views("/x%252Fy;p", 4, "/x%2fy", "/x%2fy;p", "/x/y");
    CU_ASSERT_TRUE(has_view("/x/y;p"));
    /* Identical readings are kept once. */
    expect_views("/a%62", 1, "/ab", NULL, NULL);
    expect_views("/%41/%2e.b", 1, "/a/..b", NULL, NULL);
    /* A lone '%' after the first decoding is left as it is by the second. */
    expect_views("/100%25", 1, "/100%", NULL, NULL);
    expect_views("/%25zz", 1, "/%zz", NULL, NULL);
    /* Bytes >= 0x80 are kept as they are. */
    expect_views("/caf%C3%A9", 1, "/caf\xc3\xa9", NULL, NULL);
}

static void test_views_reused(void)
{
    /* The same views struct serves request after request without leftovers. */
    CU_ASSERT_EQUAL(path_normalize("/x%252Fy;p", 10, NULL, &views), PATH_OK);
    CU_ASSERT_EQUAL(views.n, 4);
    CU_ASSERT_EQUAL(path_normalize("/b", 2, NULL, &views), PATH_OK);
    CU_ASSERT_EQUAL(views.n, 1);
    UNIT_STR_EQ(views.view[0], "/b");
    CU_ASSERT_EQUAL(path_normalize("/a%zz", 5, NULL, &views), PATH_MALFORMED);
    CU_ASSERT_EQUAL(views.n, 0);
}

static void test_match_on_given_views(void)
{
    struct path_pattern p;
    CU_ASSERT_PTR_NULL_FATAL(path_pattern_compile("/admin", &p));
    struct path_views *v = calloc(1, sizeof(*v));
    CU_ASSERT_FATAL(v != NULL);
    /* No views: nothing matches (and nothing is read). */
    CU_ASSERT_FALSE(path_pattern_match(&p, v));
    /* Any one of the views is enough. */
    strcpy(v->arena, "/public");
    strcpy(v->arena + 8, "/admin/x");
    v->view[0] = v->arena;
    v->len[0] = 7;
    v->view[1] = v->arena + 8;
    v->len[1] = 8;
    v->n = 1;
    CU_ASSERT_FALSE(path_pattern_match(&p, v));
    v->n = 2;
    CU_ASSERT_TRUE(path_pattern_match(&p, v));
    /* The root view has no segments. */
    strcpy(v->arena, "/");
    v->len[0] = 1;
    v->n = 1;
    CU_ASSERT_FALSE(path_pattern_match(&p, v));
    path_pattern_free(&p);

    CU_ASSERT_PTR_NULL_FATAL(path_pattern_compile("/", &p));
    CU_ASSERT_TRUE(path_pattern_match(&p, v));
    path_pattern_free(&p);
    free(v);
}

static const struct unit_case compile_cases[] = {
    UNIT_CASE(test_compile_valid),
    UNIT_CASE(test_compile_invalid),
    UNIT_END,
};

static const struct unit_case match_cases[] = {
    UNIT_CASE(test_everything_patterns),
    UNIT_CASE(test_prefix_forms_are_equal),
    UNIT_CASE(test_nested_prefix),
    UNIT_CASE(test_globs),
    UNIT_CASE(test_tricky_paths),
    UNIT_CASE(test_dot_segments_refused),
    UNIT_CASE(test_nul_inside_length),
    UNIT_CASE(test_too_long),
    UNIT_CASE(test_match_on_given_views),
    UNIT_CASE(test_double_star),
    UNIT_CASE(test_double_star_compile),
    UNIT_CASE(test_scheme_relative_targets),
    UNIT_CASE(test_scheme_relative_runs_of_separators),
    UNIT_CASE(test_application_readings),
    UNIT_CASE(test_unicode_readings),
    UNIT_CASE(test_covers),
    UNIT_END,
};

static const struct unit_case view_cases[] = {
    UNIT_CASE(test_views),
    UNIT_CASE(test_views_reused),
    UNIT_END,
};

int main(void)
{
    static const struct unit_suite suites[] = {
        {"compile", compile_cases},
        {"match", match_cases},
        {"views", view_cases},
        {NULL, NULL},
    };
    return unit_main(suites);
}
