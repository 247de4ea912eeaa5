/*
 * test_filesnapshot.c - reading a file whole with its snapshot, and noticing every kind of
 * change: rewritten in place (even with the same size, at once), replaced, removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/filesnapshot.h"
#include "unit.h"

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char path[512];
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof(tmpdir), "%s/authz-snapshot-XXXXXX", P_tmpdir);
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
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}

static void test_reads_whole_file(void)
{
    char path[512], err[512], *text = NULL;
    size_t len = 0;
    struct filesnapshot snap;
    snprintf(path, sizeof(path), "%s", tmp_path("a"));
    write_file(path, "w", "one\ntwo\n");
    const char *msg = filesnapshot_read(path, 100, &text, &len, &snap, err, sizeof(err));
    UNIT_CHECK(msg == NULL, "reads: %s", msg ? msg : "");
    UNIT_STR_EQ(text, "one\ntwo\n");
    UNIT_INT_EQ(len, 8);
    UNIT_INT_EQ(snap.size, 8);
    filesnapshot_free_text(text, len);
    filesnapshot_free_text(NULL, 0);

    /* Empty is fine; over the bound is not. */
    write_file(path, "w", "");
    UNIT_CHECK(filesnapshot_read(path, 100, &text, &len, &snap, err, sizeof(err)) == NULL, "empty");
    UNIT_INT_EQ(len, 0);
    filesnapshot_free_text(text, len);
    write_file(path, "w", "0123456789");
    msg = filesnapshot_read(path, 9, &text, &len, &snap, err, sizeof(err));
    UNIT_STR_HAS(msg, "larger than 9 bytes");
    UNIT_CHECK(text == NULL, "nothing returned");
    UNIT_CHECK(filesnapshot_read(path, 10, &text, &len, &snap, err, sizeof(err)) == NULL,
               "at the bound");
    filesnapshot_free_text(text, len);
    unlink(path);
}

static void test_refuses_what_is_not_a_file(void)
{
    char err[512], *text = NULL;
    size_t len = 0;
    struct filesnapshot snap;
    UNIT_STR_HAS(filesnapshot_read(tmp_path("missing"), 100, &text, &len, &snap, err, sizeof(err)),
                 "missing: cannot open: No such file");
    UNIT_STR_HAS(filesnapshot_read(tmpdir, 100, &text, &len, &snap, err, sizeof(err)),
                 "not a regular file");
    /* A FIFO without a writer: refused at once rather than waited on. */
    char fifo[512];
    snprintf(fifo, sizeof(fifo), "%s", tmp_path("fifo"));
    UNIT_CHECK(mkfifo(fifo, 0600) == 0, "mkfifo");
    UNIT_STR_HAS(filesnapshot_read(fifo, 100, &text, &len, &snap, err, sizeof(err)),
                 "not a regular file");
    UNIT_CHECK(text == NULL, "nothing returned");
    unlink(fifo);
}

static void test_notices_changes(void)
{
    char path[512], next[512], err[512], *text = NULL;
    size_t len = 0;
    struct filesnapshot snap;
    snprintf(path, sizeof(path), "%s", tmp_path("b"));
    snprintf(next, sizeof(next), "%s", tmp_path("b.new"));

    write_file(path, "w", "alpha\n");
    UNIT_CHECK(filesnapshot_read(path, 100, &text, &len, &snap, err, sizeof(err)) == NULL, "read");
    filesnapshot_free_text(text, len);
    UNIT_CHECK(snap.racy, "just written: its times cannot tell yet");
    UNIT_CHECK(!filesnapshot_changed(path, 100, &snap), "unchanged");
    UNIT_CHECK(!filesnapshot_changed(path, 100, &snap), "still unchanged");

    /* The same size, in place, at once: probably in the same clock tick. */
    write_file(path, "r+", "alphA\n");
    UNIT_CHECK(filesnapshot_changed(path, 100, &snap), "rewritten in place");

    UNIT_CHECK(filesnapshot_read(path, 100, &text, &len, &snap, err, sizeof(err)) == NULL, "read");
    filesnapshot_free_text(text, len);
    write_file(next, "w", "alphA\n");
    rename(next, path);
    UNIT_CHECK(filesnapshot_changed(path, 100, &snap), "replaced by a rename, same contents");

    UNIT_CHECK(filesnapshot_read(path, 100, &text, &len, &snap, err, sizeof(err)) == NULL, "read");
    filesnapshot_free_text(text, len);
    write_file(path, "a", "beta\n");
    UNIT_CHECK(filesnapshot_changed(path, 100, &snap), "grown");

    UNIT_CHECK(filesnapshot_read(path, 100, &text, &len, &snap, err, sizeof(err)) == NULL, "read");
    filesnapshot_free_text(text, len);
    unlink(path);
    UNIT_CHECK(filesnapshot_changed(path, 100, &snap), "removed");
}

int main(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_reads_whole_file),
        UNIT_CASE(test_refuses_what_is_not_a_file),
        UNIT_CASE(test_notices_changes),
        UNIT_END,
    };
    static const struct unit_suite suites[] = {{"filesnapshot", cases}, {NULL, NULL}};
    int failures = unit_main(suites);
    if (tmpdir[0])
        rmdir(tmpdir);
    return failures;
}
