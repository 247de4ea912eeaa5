/*
 * test_htpasswd.c - htpasswd tables: what loads and what is refused (with file and line), the
 * password check for every format made by Apache's htpasswd (and that apr-util agrees), the
 * dummy check of unknown users, fingerprints and credential keys, change detection and reload,
 * the bound on concurrent checks, and checks from many threads at once.
 *
 * The fixtures are in tests/fixtures/htpasswd (made by make-fixtures there); they are read
 * from $TOP_SRCDIR, or from the current directory if it is not set.
 */
#include <apr_md5.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/basicheader.h"
#include "auth/hashgate.h"
#include "auth/htpasswd.h"
#include "auth/htpasswd_int.h"
#include "unit.h"

/* ---- fixtures ---- */

struct fixture {
    char format[32];
    char user[HTPASSWD_MAX_USER + 1];
    char password[HTPASSWD_MAX_PASSWORD + 1];
    char hash[256];
};

static struct fixture fixtures[64];
static size_t n_fixtures;
static char users_text[16384];

static const char *fixture_path(const char *name)
{
    static char path[1024];
    const char *top = getenv("TOP_SRCDIR");
    snprintf(path, sizeof(path), "%s/tests/fixtures/htpasswd/%s", top && *top ? top : ".", name);
    return path;
}

static const struct fixture *fixture_named(const char *user)
{
    for (size_t i = 0; i < n_fixtures; i++)
        if (strcmp(fixtures[i].user, user) == 0)
            return &fixtures[i];
    return NULL;
}

/* Reads `passwords` and the hashes make-fixtures wrote for them into users.htpasswd. */
static int read_fixtures(void)
{
    FILE *fp = fopen(fixture_path("users.htpasswd"), "r");
    if (!fp)
        return -1;
    size_t n = fread(users_text, 1, sizeof(users_text) - 1, fp);
    users_text[n] = '\0';
    fclose(fp);

    fp = fopen(fixture_path("passwords"), "r");
    if (!fp)
        return -1;
    char line[2048];
    while (fgets(line, sizeof(line), fp) && n_fixtures < UNIT_N(fixtures)) {
        line[strcspn(line, "\n")] = '\0';
        char *user = strchr(line, '\t');
        char *password = user ? strchr(user + 1, '\t') : NULL;
        if (line[0] == '#' || !password)
            continue;
        *user++ = '\0';
        *password++ = '\0';
        if (strcmp(line, "des") == 0 || strcmp(line, "plain") == 0)
            continue;
        struct fixture *f = &fixtures[n_fixtures++];
        snprintf(f->format, sizeof(f->format), "%.31s", line);
        snprintf(f->user, sizeof(f->user), "%s", user);
        snprintf(f->password, sizeof(f->password), "%s", password);
        char key[HTPASSWD_MAX_USER + 3];
        snprintf(key, sizeof(key), "\n%s:", user);
        const char *at = strstr(users_text, key);
        if (!at)
            return -1;
        at += strlen(key);
        snprintf(f->hash, sizeof(f->hash), "%.*s", (int)strcspn(at, "\n"), at);
    }
    fclose(fp);
    return n_fixtures > 0 ? 0 : -1;
}

/* A wrong password for a fixture: another first byte (bcrypt reads only the first 72). */
static const char *wrong(const char *password, char *buf, size_t len)
{
    snprintf(buf, len, "x%s", password);
    return buf;
}

/* ---- helpers ---- */

static char err[2048];

static struct htpasswd_table *load_file(const char *path)
{
    struct htpasswd_source src = {.path = path};
    struct htpasswd_table *t = NULL;
    const char *msg = htpasswd_load(&src, &t, err, sizeof(err));
    UNIT_CHECK(msg == NULL && t != NULL, "%s should load: %s", path, msg ? msg : "");
    return t;
}

static struct htpasswd_table *load_text(const char *text)
{
    struct htpasswd_source src = {.text = text, .text_len = strlen(text), .text_name = "t"};
    struct htpasswd_table *t = NULL;
    const char *msg = htpasswd_load(&src, &t, err, sizeof(err));
    UNIT_CHECK(msg == NULL && t != NULL, "text should load: %s", msg ? msg : "");
    return t;
}

static struct htpasswd_table *load_entries(const char *const *entries, size_t n)
{
    struct htpasswd_source src = {.entries = entries, .n_entries = n};
    struct htpasswd_table *t = NULL;
    const char *msg = htpasswd_load(&src, &t, err, sizeof(err));
    UNIT_CHECK(msg == NULL && t != NULL, "entries should load: %s", msg ? msg : "");
    return t;
}

/* Loading the text fails; returns the message (in err), or "" if it loaded. */
static const char *refuse_text(const char *text)
{
    struct htpasswd_source src = {.text = text, .text_len = strlen(text), .text_name = "t"};
    struct htpasswd_table *t = NULL;
    const char *msg = htpasswd_load(&src, &t, err, sizeof(err));
    UNIT_CHECK(msg != NULL && t == NULL, "should be refused: %.60s", text);
    htpasswd_table_free(t);
    return msg ? msg : "";
}

/* "user:hash" of a fixture, in a static buffer (one at a time). */
static const char *entry_of(const char *user, const char *as)
{
    static char line[512];
    const struct fixture *f = fixture_named(user);
    snprintf(line, sizeof(line), "%s:%s", as ? as : user, f ? f->hash : "");
    return line;
}

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char path[512];
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof(tmpdir), "%s/authz-htpasswd-XXXXXX", P_tmpdir);
        if (!mkdtemp(tmpdir)) {
            tmpdir[0] = '\0';
            CU_FAIL("cannot create a temporary directory");
        }
    }
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    return path;
}

static void write_file(const char *path, const char *mode, const char *text)
{
    FILE *fp = fopen(path, mode);
    UNIT_CHECK(fp != NULL, "cannot write %s", path);
    if (!fp)
        return;
    fputs(text, fp);
    fclose(fp);
}

/* ---- checking passwords ---- */

static void test_every_format_right_password(void)
{
    struct htpasswd_table *t = load_file(fixture_path("users.htpasswd"));
    if (!t)
        return;
    UNIT_INT_EQ(htpasswd_count(t), n_fixtures);
    for (size_t i = 0; i < n_fixtures; i++) {
        const struct fixture *f = &fixtures[i];
        enum htpasswd_status st = htpasswd_verify(t, f->user, f->password, NULL, 0);
        UNIT_CHECK(st == HTPASSWD_OK, "%s (%s): %s", f->user, f->format, htpasswd_status_name(st));
    }
    htpasswd_table_free(t);
}

static void test_wrong_password(void)
{
    struct htpasswd_table *t = load_file(fixture_path("users.htpasswd"));
    if (!t)
        return;
    for (size_t i = 0; i < n_fixtures; i++) {
        const struct fixture *f = &fixtures[i];
        char buf[HTPASSWD_MAX_PASSWORD + 2];
        enum htpasswd_status st =
            htpasswd_verify(t, f->user, wrong(f->password, buf, sizeof(buf)), NULL, 0);
        UNIT_CHECK(st == HTPASSWD_WRONG_PASSWORD, "%s (%s): %s", f->user, f->format,
                   htpasswd_status_name(st));
        if (f->password[0]) {
            st = htpasswd_verify(t, f->user, "", NULL, 0);
            UNIT_CHECK(st == HTPASSWD_WRONG_PASSWORD, "%s with no password: %s", f->user,
                       htpasswd_status_name(st));
        }
    }
    /* The user name is matched exactly: no case folding, no trimming. */
    UNIT_INT_EQ(htpasswd_verify(t, "Alice", "correct horse", NULL, 0), HTPASSWD_UNKNOWN_USER);
    UNIT_INT_EQ(htpasswd_verify(t, "alice ", "correct horse", NULL, 0), HTPASSWD_UNKNOWN_USER);
    htpasswd_table_free(t);
}

static void test_unknown_user(void)
{
    struct htpasswd_table *t = load_file(fixture_path("users.htpasswd"));
    if (!t)
        return;
    UNIT_INT_EQ(htpasswd_verify(t, "mallory", "correct horse", NULL, 0), HTPASSWD_UNKNOWN_USER);
    UNIT_INT_EQ(htpasswd_verify(t, "", "", NULL, 0), HTPASSWD_UNKNOWN_USER);
    UNIT_INT_EQ(htpasswd_verify(t, "plainuser", "Sup3rPl4in", NULL, 0), HTPASSWD_UNKNOWN_USER);
    htpasswd_table_free(t);
}

static void test_special_passwords(void)
{
    struct htpasswd_table *t = load_file(fixture_path("users.htpasswd"));
    if (!t)
        return;
    UNIT_INT_EQ(htpasswd_verify(t, "empty", "", NULL, 0), HTPASSWD_OK);
    UNIT_INT_EQ(htpasswd_verify(t, "empty", " ", NULL, 0), HTPASSWD_WRONG_PASSWORD);
    UNIT_INT_EQ(htpasswd_verify(t, "colon", "pa:ss:word", NULL, 0), HTPASSWD_OK);
    UNIT_INT_EQ(htpasswd_verify(t, "colon", "pa", NULL, 0), HTPASSWD_WRONG_PASSWORD);
    UNIT_INT_EQ(htpasswd_verify(t, "apr-colon", "a:b", NULL, 0), HTPASSWD_OK);
    UNIT_INT_EQ(htpasswd_verify(t, "j\xc3\xbcrgen", "p\xc3\xa4ssw\xc3\xb6rd\xe2\x82\xac", NULL, 0),
                HTPASSWD_OK);
    UNIT_INT_EQ(htpasswd_verify(t, "jurgen", "p\xc3\xa4ssw\xc3\xb6rd\xe2\x82\xac", NULL, 0),
                HTPASSWD_UNKNOWN_USER);
    UNIT_INT_EQ(htpasswd_verify(t, "j\xc3\xbcrgen", "passw\xc3\xb6rd\xe2\x82\xac", NULL, 0),
                HTPASSWD_WRONG_PASSWORD);
    UNIT_INT_EQ(htpasswd_verify(t, "zo\xc3\xab",
                                "\xc3\xbcn\xc3\xaf"
                                "c\xc3\xb6"
                                "d\xc3\xa9",
                                NULL, 0),
                HTPASSWD_OK);
    htpasswd_table_free(t);
}

static void test_same_answers_as_apr_password_validate(void)
{
    /* The library Apache uses: every fixture, right and wrong, gives the same answer. */
    for (size_t i = 0; i < n_fixtures; i++) {
        const struct fixture *f = &fixtures[i];
        char buf[HTPASSWD_MAX_PASSWORD + 2];
        UNIT_CHECK(apr_password_validate(f->password, f->hash) == APR_SUCCESS, "apr: %s (%s)",
                   f->user, f->format);
        UNIT_CHECK(apr_password_validate(wrong(f->password, buf, sizeof(buf)), f->hash) ==
                       APR_EMISMATCH,
                   "apr: wrong password for %s (%s)", f->user, f->format);
    }
}

static void test_bcrypt_reads_72_bytes(void)
{
    struct htpasswd_table *t = load_file(fixture_path("users.htpasswd"));
    const struct fixture *f = fixture_named("longpw");
    if (!t || !f)
        return;
    UNIT_CHECK(strlen(f->password) > 72, "the fixture's password is longer than bcrypt reads");
    char pw[HTPASSWD_MAX_PASSWORD + 1];

    /* Only the first 72 bytes count, as for Apache: another tail still matches. */
    snprintf(pw, sizeof(pw), "%.72sanother tail", f->password);
    UNIT_INT_EQ(htpasswd_verify(t, "longpw", pw, NULL, 0), HTPASSWD_OK);
    UNIT_INT_EQ(apr_password_validate(pw, f->hash), APR_SUCCESS);

    /* Longer than libxcrypt takes (512 bytes), within our bound: still bcrypt's answer. */
    memset(pw, 'z', HTPASSWD_MAX_PASSWORD);
    memcpy(pw, f->password, 72);
    pw[HTPASSWD_MAX_PASSWORD] = '\0';
    UNIT_INT_EQ(htpasswd_verify(t, "longpw", pw, NULL, 0), HTPASSWD_OK);
    UNIT_INT_EQ(apr_password_validate(pw, f->hash), APR_SUCCESS);

    snprintf(pw, sizeof(pw), "%.71s", f->password);
    UNIT_INT_EQ(htpasswd_verify(t, "longpw", pw, NULL, 0), HTPASSWD_WRONG_PASSWORD);
    htpasswd_table_free(t);
}

static void test_over_bounds_not_hashed(void)
{
    struct htpasswd_table *t = load_file(fixture_path("users.htpasswd"));
    if (!t)
        return;
    char pw[HTPASSWD_MAX_PASSWORD + 2];
    memset(pw, 'p', sizeof(pw) - 1);
    pw[sizeof(pw) - 1] = '\0';
    char user[HTPASSWD_MAX_USER + 2];
    memset(user, 'u', sizeof(user) - 1);
    user[sizeof(user) - 1] = '\0';

    uint64_t before = htpasswd_hashes_computed();
    UNIT_INT_EQ(htpasswd_verify(t, "alice", pw, NULL, 0), HTPASSWD_TOO_LONG);
    UNIT_INT_EQ(htpasswd_verify(t, user, "correct horse", NULL, 0), HTPASSWD_TOO_LONG);
    UNIT_INT_EQ(htpasswd_hashes_computed(), before);

    /* At the bounds, checked as usual. */
    pw[HTPASSWD_MAX_PASSWORD] = '\0';
    user[HTPASSWD_MAX_USER] = '\0';
    UNIT_INT_EQ(htpasswd_verify(t, "alice", pw, NULL, 0), HTPASSWD_WRONG_PASSWORD);
    UNIT_INT_EQ(htpasswd_verify(t, user, "x", NULL, 0), HTPASSWD_UNKNOWN_USER);
    UNIT_INT_EQ(htpasswd_hashes_computed(), before + 2);
    htpasswd_table_free(t);
}

static void test_header_to_verdict(void)
{
    struct htpasswd_table *t = load_file(fixture_path("users.htpasswd"));
    if (!t)
        return;
    struct basic_credential c;
    /* "colon:pa:ss:word" */
    UNIT_INT_EQ(basic_header_parse("Basic Y29sb246cGE6c3M6d29yZA==", 30, &c, NULL), BASIC_OK);
    UNIT_INT_EQ(htpasswd_verify(t, c.user, c.password, NULL, 0), HTPASSWD_OK);
    basic_credential_wipe(&c);
    htpasswd_table_free(t);
}

static void test_status_names(void)
{
    UNIT_STR_EQ(htpasswd_status_name(HTPASSWD_OK), "ok");
    UNIT_STR_EQ(htpasswd_status_name(HTPASSWD_UNKNOWN_USER), "unknown_user");
    UNIT_STR_EQ(htpasswd_status_name(HTPASSWD_WRONG_PASSWORD), "wrong_password");
    UNIT_STR_EQ(htpasswd_status_name(HTPASSWD_BUSY), "busy");
    UNIT_STR_EQ(htpasswd_status_name(HTPASSWD_TOO_LONG), "too_long");
    UNIT_STR_EQ(htpasswd_status_name(HTPASSWD_ERROR), "error");
}

/* ---- what is refused at load ---- */

static void test_plaintext_refused_with_line(void)
{
    struct htpasswd_source src = {.path = fixture_path("plain.htpasswd")};
    struct htpasswd_table *t = NULL;
    const char *msg = htpasswd_load(&src, &t, err, sizeof(err));
    UNIT_CHECK(msg != NULL && t == NULL, "plaintext is refused");
    UNIT_STR_HAS(msg, "plain.htpasswd:3: ");
    UNIT_STR_HAS(msg, "user \"plainuser\"");
    UNIT_STR_HAS(msg, "plaintext passwords are refused");
    UNIT_CHECK(msg && !strstr(msg, "Sup3rPl4in"), "the message shows no password: %s", msg);
}

static void test_des_refused(void)
{
    struct htpasswd_source src = {.path = fixture_path("des.htpasswd")};
    struct htpasswd_table *t = NULL;
    const char *msg = htpasswd_load(&src, &t, err, sizeof(err));
    UNIT_CHECK(msg != NULL && t == NULL, "DES is refused");
    UNIT_STR_HAS(msg, "des.htpasswd:2: ");
    UNIT_STR_HAS(msg, "DES");
    UNIT_STR_HAS(msg, "first 8 bytes");
    /* The message quotes no part of the hash (13 characters after "olduser:"). */
    FILE *fp = fopen(fixture_path("des.htpasswd"), "r");
    char text[512] = "";
    if (fp) {
        size_t n = fread(text, 1, sizeof(text) - 1, fp);
        text[n] = '\0';
        fclose(fp);
    }
    const char *hash = strstr(text, "olduser:");
    UNIT_CHECK(hash != NULL, "the fixture has olduser");
    if (hash && msg)
        UNIT_CHECK(!strstr(msg, hash + 8), "the message shows no hash");
}

static void test_duplicate_user_refused(void)
{
    char text[1024];
    snprintf(text, sizeof(text), "%s\n# a comment\n", entry_of("alice", NULL));
    size_t n = strlen(text);
    snprintf(text + n, sizeof(text) - n, "%s\n", entry_of("bob", NULL));
    n = strlen(text);
    snprintf(text + n, sizeof(text) - n, "%s\n", entry_of("carol", "alice"));
    const char *msg = refuse_text(text);
    UNIT_STR_HAS(msg, "t:4: user \"alice\" again (first at t:1)");
}

static void test_duplicate_across_file_and_inline(void)
{
    char entry[512];
    snprintf(entry, sizeof(entry), "%s", entry_of("bob", "alice"));
    const char *entries[] = {entry_of("carol", "newuser"), entry};
    char first[512];
    snprintf(first, sizeof(first), "%s", entries[0]);
    entries[0] = first;
    struct htpasswd_source src = {.path = fixture_path("users.htpasswd"),
                                  .entries = entries,
                                  .n_entries = 2,
                                  .entries_name = "authorizer.conf:12"};
    struct htpasswd_table *t = NULL;
    const char *msg = htpasswd_load(&src, &t, err, sizeof(err));
    UNIT_CHECK(msg != NULL && t == NULL, "a user in the file and inline is refused");
    UNIT_STR_HAS(msg, "authorizer.conf:12: entry 2: user \"alice\" again (first at ");
    UNIT_STR_HAS(msg, "users.htpasswd:3)");
}

static void test_comments_and_blank_lines(void)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "# a comment\n\n   \n\t\n  # an indented comment\n#alice:nothing\n%s\n\n# end",
             entry_of("alice", NULL));
    struct htpasswd_table *t = load_text(text);
    if (!t)
        return;
    UNIT_INT_EQ(htpasswd_count(t), 1);
    UNIT_INT_EQ(htpasswd_verify(t, "alice", "correct horse", NULL, 0), HTPASSWD_OK);
    htpasswd_table_free(t);

    t = load_text("");
    UNIT_INT_EQ(t ? htpasswd_count(t) : 99, 0);
    if (t)
        UNIT_INT_EQ(htpasswd_verify(t, "anyone", "x", NULL, 0), HTPASSWD_UNKNOWN_USER);
    htpasswd_table_free(t);
}

static void test_crlf_and_no_final_newline(void)
{
    char text[1024];
    snprintf(text, sizeof(text), "%s\r\n", entry_of("alice", NULL));
    size_t n = strlen(text);
    snprintf(text + n, sizeof(text) - n, "%s", entry_of("bob", NULL));
    struct htpasswd_table *t = load_text(text);
    if (!t)
        return;
    UNIT_INT_EQ(htpasswd_verify(t, "alice", "correct horse", NULL, 0), HTPASSWD_OK);
    UNIT_INT_EQ(htpasswd_verify(t, "bob", "hunter2", NULL, 0), HTPASSWD_OK);
    htpasswd_table_free(t);
}

static void test_malformed_lines(void)
{
    const char *bcrypt = fixture_named("alice")->hash;
    const char *apr1 = fixture_named("bob")->hash;
    char long_name[HTPASSWD_MAX_USER + 2];
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    struct {
        const char *fmt, *arg, *expect;
    } cases[] = {
        {"nocolon%s", "", "t:1: no ':'"},
        {":%s", apr1, "t:1: empty user name"},
        {" bob:%s", apr1, "t:1: whitespace before the user name"},
        {"\tbob:%s", apr1, "whitespace before the user name"},
        {"bob:%s", "", "user \"bob\": no hash after ':'"},
        {"b\001b:%s", apr1, "t:1: control character in the user name"},
        {"b\033[31mb:%s", apr1, "t:1: control character in the user name"},
        {"%s:$apr1$x$y", long_name, "t:1: user name longer than 255 bytes"},
        {"bob:%s:extra", apr1, "user \"bob\": more than one ':'"},
        {"bob:%s ", apr1, "whitespace after the hash"},
        {"bob:%s\t", apr1, "whitespace after the hash"},
        {"bob:$apr1$ %s", "x", "a malformed $apr1$ hash"},
        {"bob:%s", "two words", "plaintext passwords are refused"},
        {"bob:%s\001", apr1, "control character in the hash"},
        {"bob:$2y$05$short%s", "", "a malformed bcrypt hash"},
        {"bob:$2y$31$%s", bcrypt + 7, "a bcrypt cost above 17"},
        {"bob:$2y$03$%s", bcrypt + 7, "a bcrypt cost below 4"},
        {"bob:$2y$5x$%s", bcrypt + 7, "a malformed bcrypt hash"},
        {"bob:$2x$05$%s", bcrypt + 7, "an unsupported hash format"},
        {"bob:$1$saltsalt$%s", "Mthf3RbXb9H/vd2OBoQDs.", "an unsupported hash format"},
        {"bob:$y$j9T$%s", "abc$def", "an unsupported hash format"},
        {"bob:{SSHA}%s", "abcdef", "an unsupported hash format"},
        {"bob:{SHA}%s", "short=", "a malformed {SHA} hash"},
        {"bob:{SHA}%s", "t6h1/B6iKLkGEEG3zsS9PFKrPOM", "a malformed {SHA} hash"},
        {"bob:$apr1$toolongsalt$%s", "NSvRS9tLRkaJqk6/mBy/n/", "a malformed $apr1$ hash"},
        {"bob:$apr1$i7sWUlQH$%s", "short", "a malformed $apr1$ hash"},
        {"bob:$5$rounds=10000000$%s", "salt$x", "SHA-crypt rounds above 1000000"},
        {"bob:$5$rounds=999$%s", "salt$x", "SHA-crypt rounds below 1000"},
        {"bob:$5$rounds=0100$%s", "salt$x", "a malformed SHA-crypt hash (rounds=)"},
        {"bob:$5$%s", "saltsaltsaltsaltX$9zPc6hMlJ4UPe9/zcKqQ4Zafebz9iBbgs.tS89TDzXC",
         "a malformed SHA-crypt hash"},
        {"bob:$6$%s", "hd/2F7JxQh2TDrS4$9zPc6hMlJ4UPe9/zcKqQ4Zafebz9iBbgs.tS89TDzXC",
         "a malformed SHA-crypt hash"},
        {"bob:%s", "hunter2", "plaintext passwords are refused"},
        {"bob:%s", "Xy1abcdefghij", "DES"},
    };
    for (size_t i = 0; i < UNIT_N(cases); i++) {
        char text[1024];
        snprintf(text, sizeof(text), cases[i].fmt, cases[i].arg);
        const char *msg = refuse_text(text);
        UNIT_CHECK(strstr(msg, cases[i].expect) != NULL, "case %zu: \"%s\" should contain \"%s\"",
                   i, msg, cases[i].expect);
        UNIT_CHECK(!strchr(msg, '\001') && !strchr(msg, '\033'),
                   "case %zu: no control character in the message", i);
    }
}

static void test_nul_byte_refused(void)
{
    char text[512];
    int n = snprintf(text, sizeof(text), "al%cce:%s\n", 'X', fixture_named("bob")->hash);
    text[2] = '\0';
    struct htpasswd_source src = {.text = text, .text_len = (size_t)n, .text_name = "t"};
    struct htpasswd_table *t = NULL;
    const char *msg = htpasswd_load(&src, &t, err, sizeof(err));
    UNIT_CHECK(msg != NULL && t == NULL, "a NUL byte is refused");
    UNIT_STR_HAS(msg, "t:1: control character in the user name");
}

static void test_error_names_the_line(void)
{
    char text[2048];
    snprintf(text, sizeof(text), "# header\n%s\n\n", entry_of("alice", NULL));
    size_t n = strlen(text);
    snprintf(text + n, sizeof(text) - n, "%s\nbroken line\n%s\n", entry_of("bob", NULL),
             entry_of("carol", NULL));
    UNIT_STR_HAS(refuse_text(text), "t:5: no ':'");
}

/* ---- inline entries and sources ---- */

static void test_inline_entries_merged_with_file(void)
{
    char e1[512], e2[512];
    snprintf(e1, sizeof(e1), "%s", entry_of("alice", "newuser"));
    snprintf(e2, sizeof(e2), "%s", entry_of("erin", "zed"));
    const char *entries[] = {e1, e2};
    struct htpasswd_source src = {
        .path = fixture_path("users.htpasswd"), .entries = entries, .n_entries = 2};
    struct htpasswd_table *t = NULL;
    const char *msg = htpasswd_load(&src, &t, err, sizeof(err));
    UNIT_CHECK(msg == NULL && t != NULL, "file and entries load: %s", msg ? msg : "");
    if (!t)
        return;
    UNIT_INT_EQ(htpasswd_count(t), n_fixtures + 2);
    UNIT_INT_EQ(htpasswd_verify(t, "newuser", "correct horse", NULL, 0), HTPASSWD_OK);
    UNIT_INT_EQ(htpasswd_verify(t, "zed", "open sesame", NULL, 0), HTPASSWD_OK);
    UNIT_INT_EQ(htpasswd_verify(t, "bob", "hunter2", NULL, 0), HTPASSWD_OK);
    htpasswd_table_free(t);

    /* Entries alone. */
    t = load_entries(entries, 2);
    UNIT_INT_EQ(t ? htpasswd_count(t) : 0, 2);
    htpasswd_table_free(t);
}

static void test_inline_entry_errors(void)
{
    struct {
        const char *entry, *name, *expect;
    } cases[] = {
        {"", "authorizer.conf:12", "authorizer.conf:12: entry 2: an inline entry cannot be blank"},
        {"# note", NULL, "inline entry 2: an inline entry cannot be blank or a comment"},
        {"bob:hunter2", "c:3", "c:3: entry 2: user \"bob\": not a password hash"},
        {"bob:x\ny", "c:3", "control character in the hash"},
    };
    for (size_t i = 0; i < UNIT_N(cases); i++) {
        const char *entries[] = {entry_of("alice", NULL), cases[i].entry};
        struct htpasswd_source src = {
            .entries = entries, .n_entries = 2, .entries_name = cases[i].name};
        struct htpasswd_table *t = NULL;
        const char *msg = htpasswd_load(&src, &t, err, sizeof(err));
        UNIT_CHECK(msg != NULL && t == NULL, "case %zu is refused", i);
        UNIT_CHECK(msg && strstr(msg, cases[i].expect), "case %zu: \"%s\" should contain \"%s\"", i,
                   msg ? msg : "", cases[i].expect);
    }
}

static void test_source_errors(void)
{
    struct htpasswd_table *t = NULL;
    struct htpasswd_source missing = {.path = tmp_path("does-not-exist")};
    UNIT_STR_HAS(htpasswd_load(&missing, &t, err, sizeof(err)), "does-not-exist: cannot open");
    UNIT_CHECK(t == NULL, "nothing loaded");

    struct htpasswd_source dir = {.path = tmpdir};
    UNIT_STR_HAS(htpasswd_load(&dir, &t, err, sizeof(err)), "not a regular file");

    struct htpasswd_source both = {.path = "x", .text = "", .text_name = "t"};
    UNIT_STR_HAS(htpasswd_load(&both, &t, err, sizeof(err)), "both a path and a text");

    /* Too big: refused before a line is read. */
    size_t big = HTPASSWD_MAX_FILE + 1;
    char *text = malloc(big);
    memset(text, '\n', big);
    struct htpasswd_source huge = {.text = text, .text_len = big, .text_name = "huge"};
    UNIT_STR_HAS(htpasswd_load(&huge, &t, err, sizeof(err)), "huge: larger than");
    free(text);
    UNIT_CHECK(t == NULL, "nothing loaded");
}

static void test_too_many_users(void)
{
    const char *hash = fixture_named("carol")->hash;
    size_t line = 8 + 1 + strlen(hash) + 1;
    size_t n = HTPASSWD_MAX_USERS + 1;
    char *text = malloc(n * line + 1);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, "u%07zu:%s\n", i, hash);
    struct htpasswd_source src = {.text = text, .text_len = len, .text_name = "many"};
    struct htpasswd_table *t = NULL;
    const char *msg = htpasswd_load(&src, &t, err, sizeof(err));
    UNIT_CHECK(msg != NULL && t == NULL, "too many users are refused");
    UNIT_STR_HAS(msg, "many:100001: user \"u0100000\": more than 100000 users");
    free(text);
}

/* ---- the dummy check of unknown users ---- */

/* A table of the fixtures' entries for these users. */
static struct htpasswd_table *table_of(const char *const *users, size_t n)
{
    static char lines[8][512];
    const char *entries[8];
    for (size_t i = 0; i < n && i < 8; i++) {
        snprintf(lines[i], sizeof(lines[i]), "%s", entry_of(users[i], NULL));
        entries[i] = lines[i];
    }
    return load_entries(entries, n);
}

/* The dummy starts with prefix, and an unknown user is checked against it (one hash). */
static void check_dummy(struct htpasswd_table *t, const char *prefix, size_t len)
{
    if (!t)
        return;
    const char *dummy = htpasswd_dummy_hash(t);
    UNIT_CHECK(strncmp(dummy, prefix, strlen(prefix)) == 0, "dummy %s should start with %s", dummy,
               prefix);
    UNIT_INT_EQ(strlen(dummy), len);
    uint64_t before = htpasswd_hashes_computed();
    UNIT_INT_EQ(htpasswd_verify(t, "nobody", "whatever", NULL, 0), HTPASSWD_UNKNOWN_USER);
    UNIT_INT_EQ(htpasswd_hashes_computed(), before + 1);
    htpasswd_table_free(t);
}

static void test_dummy_is_the_strongest_kind(void)
{
    /* users.htpasswd: bcrypt, the highest cost 6 (frank). */
    check_dummy(load_file(fixture_path("users.htpasswd")), "$2y$06$", 60);

    const char *b2b[] = {"carol", "bea", "erin"};
    check_dummy(table_of(b2b, 3), "$2b$05$", 60);
    const char *sha512[] = {"bob", "erin", "dave"};
    check_dummy(table_of(sha512, 3), "$6$", 3 + 16 + 1 + 86);
    const char *rounds[] = {"dave", "dan", "bob"};
    check_dummy(table_of(rounds, 3), "$5$rounds=6000$", 15 + 16 + 1 + 43);
    const char *sha256[] = {"dave", "carol"};
    check_dummy(table_of(sha256, 2), "$5$", 3 + 16 + 1 + 43);
    const char *apr1[] = {"bob", "carol"};
    check_dummy(table_of(apr1, 2), "$apr1$", 6 + 8 + 1 + 22);
    const char *sha1[] = {"carol"};
    check_dummy(table_of(sha1, 1), "{SHA}", 5 + 28);
    check_dummy(load_text("# nobody yet\n"), "$2y$05$", 60);
}

static void test_dummy_differs_per_load(void)
{
    struct htpasswd_table *a = load_file(fixture_path("users.htpasswd"));
    struct htpasswd_table *b = load_file(fixture_path("users.htpasswd"));
    if (a && b)
        UNIT_CHECK(strcmp(htpasswd_dummy_hash(a), htpasswd_dummy_hash(b)) != 0,
                   "a random salt each time");
    htpasswd_table_free(a);
    htpasswd_table_free(b);
}

static void test_wrong_password_and_unknown_user_both_hash(void)
{
    struct htpasswd_table *t = load_file(fixture_path("users.htpasswd"));
    if (!t)
        return;
    uint64_t before = htpasswd_hashes_computed();
    UNIT_INT_EQ(htpasswd_verify(t, "alice", "nope", NULL, 0), HTPASSWD_WRONG_PASSWORD);
    UNIT_INT_EQ(htpasswd_hashes_computed(), before + 1);
    UNIT_INT_EQ(htpasswd_verify(t, "nobody", "nope", NULL, 0), HTPASSWD_UNKNOWN_USER);
    UNIT_INT_EQ(htpasswd_hashes_computed(), before + 2);
    htpasswd_table_free(t);
}

/* ---- fingerprints and credential keys ---- */

static void test_credential_key(void)
{
    struct htpasswd_key a, a2, b, c, d, e;
    UNIT_CHECK(htpasswd_credential_key("alice", "correct horse", &a), "key a");
    UNIT_CHECK(htpasswd_credential_key("alice", "correct horse", &a2), "key a again");
    UNIT_CHECK(htpasswd_credential_key("alice", "correct horsf", &b), "key b");
    UNIT_CHECK(htpasswd_credential_key("alicf", "correct horse", &c), "key c");
    UNIT_CHECK(htpasswd_credential_key("ab", "c", &d), "key d");
    UNIT_CHECK(htpasswd_credential_key("a", "bc", &e), "key e");
    UNIT_CHECK(memcmp(&a, &a2, sizeof(a)) == 0, "the same credential, the same key");
    UNIT_CHECK(memcmp(&a, &b, sizeof(a)) != 0, "another password, another key");
    UNIT_CHECK(memcmp(&a, &c, sizeof(a)) != 0, "another user, another key");
    UNIT_CHECK(memcmp(&d, &e, sizeof(d)) != 0, "the split between user and password counts");

    /* Neither the password nor a plain SHA-256 of the credential. */
    UNIT_CHECK(memmem(a.bytes, sizeof(a.bytes), "correct", 7) == NULL, "no password inside");
    unsigned char plain[32];
    unsigned int n = 0;
    EVP_Digest("alice:correct horse", 19, plain, &n, EVP_sha256(), NULL);
    UNIT_CHECK(memcmp(plain, a.bytes, 32) != 0, "not a plain hash");

    char pw[HTPASSWD_MAX_PASSWORD + 2];
    memset(pw, 'p', sizeof(pw) - 1);
    pw[sizeof(pw) - 1] = '\0';
    UNIT_CHECK(!htpasswd_credential_key("alice", pw, &b), "too long a password has no key");
}

static void test_fingerprints(void)
{
    const char *users[] = {"alice", "bob"};
    struct htpasswd_table *t1 = table_of(users, 2);
    struct htpasswd_table *t2 = table_of(users, 2);
    char e1[512], e2[512];
    snprintf(e1, sizeof(e1), "%s", entry_of("ann", "alice")); /* alice's line changes */
    snprintf(e2, sizeof(e2), "%s", entry_of("bob", NULL));
    const char *changed[] = {e1, e2};
    struct htpasswd_table *t3 = load_entries(changed, 2);
    if (!t1 || !t2 || !t3)
        goto end;

    struct htpasswd_fingerprint a1, a2, a3, b1, b3, none;
    UNIT_CHECK(htpasswd_fingerprint(t1, "alice", &a1), "alice has one");
    UNIT_CHECK(htpasswd_fingerprint(t2, "alice", &a2), "alice has one");
    UNIT_CHECK(htpasswd_fingerprint(t3, "alice", &a3), "alice has one");
    UNIT_CHECK(htpasswd_fingerprint(t1, "bob", &b1), "bob has one");
    UNIT_CHECK(htpasswd_fingerprint(t3, "bob", &b3), "bob has one");
    UNIT_CHECK(memcmp(&a1, &a2, sizeof(a1)) == 0, "the same line, the same fingerprint");
    UNIT_CHECK(memcmp(&a1, &a3, sizeof(a1)) != 0, "a changed line, another fingerprint");
    UNIT_CHECK(memcmp(&b1, &b3, sizeof(b1)) == 0, "the unchanged line keeps its fingerprint");
    UNIT_CHECK(memcmp(&a1, &b1, sizeof(a1)) != 0, "users differ");
    memset(&none, 0xff, sizeof(none));
    UNIT_CHECK(!htpasswd_fingerprint(t1, "carol", &none), "no such user");
    static const struct htpasswd_fingerprint zero;
    UNIT_CHECK(memcmp(&none, &zero, sizeof(none)) == 0, "zeroed for no user");
end:
    htpasswd_table_free(t1);
    htpasswd_table_free(t2);
    htpasswd_table_free(t3);
}

/* ---- change detection and reload ---- */

static void test_change_detection(void)
{
    const char *path = tmp_path("users.htpasswd");
    write_file(path, "w", users_text);
    struct htpasswd_table *t = load_file(path);
    if (!t)
        return;
    UNIT_CHECK(!htpasswd_file_changed(t), "just loaded: unchanged");
    UNIT_CHECK(!htpasswd_file_changed(t), "still unchanged");

    /* Rewritten in place with the same size (possibly within the same clock tick). */
    char text[sizeof(users_text)];
    snprintf(text, sizeof(text), "%s", users_text);
    char *alice = strstr(text, "alice:$2y$05$");
    UNIT_CHECK(alice != NULL, "alice in the fixture");
    if (alice)
        alice[20] = alice[20] == 'A' ? 'B' : 'A';
    write_file(path, "r+", text);
    UNIT_CHECK(htpasswd_file_changed(t), "rewritten in place: changed");
    htpasswd_table_free(t);

    /* Replaced by a rename. */
    t = load_file(path);
    if (!t)
        return;
    UNIT_CHECK(!htpasswd_file_changed(t), "loaded again: unchanged");
    const char *next = tmp_path("users.htpasswd.new");
    char next_path[512];
    snprintf(next_path, sizeof(next_path), "%s", next);
    write_file(next_path, "w", text);
    rename(next_path, tmp_path("users.htpasswd"));
    UNIT_CHECK(htpasswd_file_changed(t), "replaced: changed");
    htpasswd_table_free(t);

    /* Removed. */
    t = load_file(tmp_path("users.htpasswd"));
    if (!t)
        return;
    unlink(tmp_path("users.htpasswd"));
    UNIT_CHECK(htpasswd_file_changed(t), "removed: changed");
    htpasswd_table_free(t);

    /* A table without a file never changes. */
    t = load_text(users_text);
    UNIT_CHECK(t && !htpasswd_file_changed(t), "no file, no change");
    htpasswd_table_free(t);
}

static void test_reload(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s", tmp_path("reload.htpasswd"));
    char text[1024];
    snprintf(text, sizeof(text), "%s\n", entry_of("alice", NULL));
    write_file(path, "w", text);
    const char *entries[] = {entry_of("bob", NULL)};
    struct htpasswd_source src = {.path = path, .entries = entries, .n_entries = 1};
    struct htpasswd_table *old = NULL, *t = NULL;
    const char *msg = htpasswd_load(&src, &old, err, sizeof(err));
    UNIT_CHECK(msg == NULL && old, "loads: %s", msg ? msg : "");
    if (!old)
        return;

    /* A broken file: the reload fails, with file and line, and the old table goes on. */
    snprintf(text, sizeof(text), "%s\n# new users\n", entry_of("alice", NULL));
    size_t n = strlen(text);
    snprintf(text + n, sizeof(text) - n, "erin:open sesame\n");
    write_file(path, "w", text);
    UNIT_CHECK(htpasswd_file_changed(old), "the file changed");
    msg = htpasswd_reload(old, &t, err, sizeof(err));
    UNIT_CHECK(msg != NULL && t == NULL, "the reload fails");
    UNIT_STR_HAS(msg, "reload.htpasswd:3: user \"erin\": not a password hash");
    UNIT_INT_EQ(htpasswd_verify(old, "alice", "correct horse", NULL, 0), HTPASSWD_OK);
    UNIT_INT_EQ(htpasswd_verify(old, "bob", "hunter2", NULL, 0), HTPASSWD_OK);
    UNIT_INT_EQ(htpasswd_verify(old, "erin", "open sesame", NULL, 0), HTPASSWD_UNKNOWN_USER);

    /* Fixed: the new table has the new user, and the inline entries again. */
    snprintf(text + n, sizeof(text) - n, "%s\n", entry_of("erin", NULL));
    write_file(path, "w", text);
    msg = htpasswd_reload(old, &t, err, sizeof(err));
    UNIT_CHECK(msg == NULL && t != NULL, "the reload works: %s", msg ? msg : "");
    if (t) {
        UNIT_INT_EQ(htpasswd_count(t), 3);
        UNIT_INT_EQ(htpasswd_verify(t, "erin", "open sesame", NULL, 0), HTPASSWD_OK);
        UNIT_INT_EQ(htpasswd_verify(t, "bob", "hunter2", NULL, 0), HTPASSWD_OK);
        UNIT_CHECK(!htpasswd_file_changed(t), "the new table matches the file");
    }
    htpasswd_table_free(t);
    htpasswd_table_free(old);
    unlink(path);

    /* A table from text has nothing to read again. */
    old = load_text(users_text);
    t = NULL;
    if (old)
        UNIT_STR_HAS(htpasswd_reload(old, &t, err, sizeof(err)), "no file to read again");
    UNIT_CHECK(t == NULL, "nothing reloaded");
    htpasswd_table_free(old);
}

/* ---- the gate and threads ---- */

static void test_gate_busy(void)
{
    struct htpasswd_table *t = load_file(fixture_path("users.htpasswd"));
    struct hashgate *g = hashgate_new(1);
    if (!t || !g)
        goto end;
    UNIT_INT_EQ(htpasswd_verify(t, "alice", "correct horse", g, 0), HTPASSWD_OK);
    UNIT_INT_EQ(hashgate_free_slots(g), 1);

    UNIT_CHECK(hashgate_enter(g, 0), "take the only slot");
    uint64_t before = htpasswd_hashes_computed();
    UNIT_INT_EQ(htpasswd_verify(t, "alice", "correct horse", g, 10), HTPASSWD_BUSY);
    UNIT_INT_EQ(htpasswd_verify(t, "dave", "s3cret!", g, 0), HTPASSWD_BUSY);
    UNIT_INT_EQ(htpasswd_verify(t, "nobody", "x", g, 0), HTPASSWD_BUSY);
    UNIT_INT_EQ(htpasswd_hashes_computed(), before);
    /* The cheap formats pass without a slot. */
    UNIT_INT_EQ(htpasswd_verify(t, "carol", "letmein", g, 0), HTPASSWD_OK);
    UNIT_INT_EQ(htpasswd_verify(t, "bob", "hunter2", g, 0), HTPASSWD_OK);
    hashgate_leave(g);
    UNIT_INT_EQ(htpasswd_verify(t, "alice", "correct horse", g, 0), HTPASSWD_OK);
    UNIT_INT_EQ(hashgate_free_slots(g), 1);
end:
    hashgate_free(g);
    htpasswd_table_free(t);
}

#define THREADS 8
#define ROUNDS 2

struct worker {
    const struct htpasswd_table *table;
    struct hashgate *gate;
    int id;
    atomic_int *wrong_answers;
    atomic_int *checks;
};

/* Every fixture, right and wrong passwords mixed differently in each thread, and a stranger. */
static void *verify_worker(void *arg)
{
    struct worker *w = arg;
    char buf[HTPASSWD_MAX_PASSWORD + 2];
    for (int round = 0; round < ROUNDS; round++) {
        for (size_t i = 0; i < n_fixtures; i++) {
            const struct fixture *f = &fixtures[i];
            bool right = (i + (size_t)round + (size_t)w->id) % 2 == 0;
            const char *pw = right ? f->password : wrong(f->password, buf, sizeof(buf));
            enum htpasswd_status st = htpasswd_verify(w->table, f->user, pw, w->gate, 60000);
            if (st != (right ? HTPASSWD_OK : HTPASSWD_WRONG_PASSWORD))
                atomic_fetch_add(w->wrong_answers, 1);
            atomic_fetch_add(w->checks, 1);
        }
        if (htpasswd_verify(w->table, "nobody", "x", w->gate, 60000) != HTPASSWD_UNKNOWN_USER)
            atomic_fetch_add(w->wrong_answers, 1);
        atomic_fetch_add(w->checks, 1);
    }
    return NULL;
}

static void test_concurrent_verification(void)
{
    struct htpasswd_table *t = load_file(fixture_path("users.htpasswd"));
    struct hashgate *g = hashgate_new(4);
    atomic_int wrong_answers = 0, checks = 0;
    struct worker w[THREADS];
    pthread_t th[THREADS];
    if (!t || !g)
        goto end;
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){
            .table = t, .gate = g, .id = i, .wrong_answers = &wrong_answers, .checks = &checks};
        pthread_create(&th[i], NULL, verify_worker, &w[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    UNIT_INT_EQ(atomic_load(&wrong_answers), 0);
    UNIT_INT_EQ(atomic_load(&checks), THREADS * ROUNDS * ((int)n_fixtures + 1));
    UNIT_INT_EQ(hashgate_free_slots(g), 4);
end:
    hashgate_free(g);
    htpasswd_table_free(t);
}

/* The same from apr_password_validate: whether it is safe from threads in this build. */
static void *apr_worker(void *arg)
{
    struct worker *w = arg;
    char buf[HTPASSWD_MAX_PASSWORD + 2];
    for (int round = 0; round < ROUNDS; round++) {
        for (size_t i = 0; i < n_fixtures; i++) {
            const struct fixture *f = &fixtures[i];
            bool right = (i + (size_t)round + (size_t)w->id) % 2 == 0;
            const char *pw = right ? f->password : wrong(f->password, buf, sizeof(buf));
            apr_status_t rv = apr_password_validate(pw, f->hash);
            if (rv != (right ? APR_SUCCESS : APR_EMISMATCH))
                atomic_fetch_add(w->wrong_answers, 1);
            atomic_fetch_add(w->checks, 1);
        }
    }
    return NULL;
}

static void test_concurrent_apr_password_validate(void)
{
    atomic_int wrong_answers = 0, checks = 0;
    struct worker w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.id = i, .wrong_answers = &wrong_answers, .checks = &checks};
        pthread_create(&th[i], NULL, apr_worker, &w[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    UNIT_INT_EQ(atomic_load(&wrong_answers), 0);
    UNIT_INT_EQ(atomic_load(&checks), THREADS * ROUNDS * (int)n_fixtures);
}

static void remove_tmpdir(void)
{
    if (!tmpdir[0])
        return;
    const char *names[] = {"users.htpasswd", "users.htpasswd.new", "reload.htpasswd"};
    for (size_t i = 0; i < UNIT_N(names); i++)
        unlink(tmp_path(names[i]));
    rmdir(tmpdir);
}

int main(void)
{
    const char *msg = htpasswd_global_init();
    if (msg) {
        fprintf(stderr, "%s\n", msg);
        return 99;
    }
    if (read_fixtures() != 0) {
        fprintf(stderr, "cannot read the fixtures in %s (set TOP_SRCDIR)\n", fixture_path(""));
        htpasswd_global_cleanup();
        return 99;
    }
    static const struct unit_case check_cases[] = {
        UNIT_CASE(test_every_format_right_password),
        UNIT_CASE(test_wrong_password),
        UNIT_CASE(test_unknown_user),
        UNIT_CASE(test_special_passwords),
        UNIT_CASE(test_same_answers_as_apr_password_validate),
        UNIT_CASE(test_bcrypt_reads_72_bytes),
        UNIT_CASE(test_over_bounds_not_hashed),
        UNIT_CASE(test_header_to_verdict),
        UNIT_CASE(test_status_names),
        UNIT_END,
    };
    static const struct unit_case load_cases[] = {
        UNIT_CASE(test_plaintext_refused_with_line),
        UNIT_CASE(test_des_refused),
        UNIT_CASE(test_duplicate_user_refused),
        UNIT_CASE(test_duplicate_across_file_and_inline),
        UNIT_CASE(test_comments_and_blank_lines),
        UNIT_CASE(test_crlf_and_no_final_newline),
        UNIT_CASE(test_malformed_lines),
        UNIT_CASE(test_nul_byte_refused),
        UNIT_CASE(test_error_names_the_line),
        UNIT_CASE(test_inline_entries_merged_with_file),
        UNIT_CASE(test_inline_entry_errors),
        UNIT_CASE(test_source_errors),
        UNIT_CASE(test_too_many_users),
        UNIT_END,
    };
    static const struct unit_case dummy_cases[] = {
        UNIT_CASE(test_dummy_is_the_strongest_kind),
        UNIT_CASE(test_dummy_differs_per_load),
        UNIT_CASE(test_wrong_password_and_unknown_user_both_hash),
        UNIT_END,
    };
    static const struct unit_case key_cases[] = {
        UNIT_CASE(test_credential_key),
        UNIT_CASE(test_fingerprints),
        UNIT_END,
    };
    static const struct unit_case reload_cases[] = {
        UNIT_CASE(test_change_detection),
        UNIT_CASE(test_reload),
        UNIT_END,
    };
    static const struct unit_case thread_cases[] = {
        UNIT_CASE(test_gate_busy),
        UNIT_CASE(test_concurrent_verification),
        UNIT_CASE(test_concurrent_apr_password_validate),
        UNIT_END,
    };
    static const struct unit_suite suites[] = {
        {"verify", check_cases},
        {"load", load_cases},
        {"dummy", dummy_cases},
        {"keys", key_cases},
        {"reload", reload_cases},
        {"threads", thread_cases},
        {NULL, NULL},
    };
    int failures = unit_main(suites);
    remove_tmpdir();
    htpasswd_global_cleanup();
    return failures;
}
