/*
 * fuzz_path.c - path_normalize, path_pattern_compile and path_pattern_match.
 *
 * Input: the raw request path, optionally followed by a newline and a configured path to
 * compile. The raw path is normalized and its views checked (fuzz_common.h); it is matched
 * against a few fixed patterns and the compiled one, and compared with independent readings of
 * the same path: a pattern that a reading lies below must match (no under-protection). A few
 * algebraic properties are checked too: case does not matter, a pattern that matches a path
 * matches everything below it, and a compiled pattern matches its own source as a request path.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "http/pathmatch.h"

static const char *const fixed_sources[] = {
    "/p", "/p/q", "/api/v1/", "/admin/*", "/users/*/profile", "/files/*.pdf", "/adm*n", "*",
};
#define NFIXED (sizeof(fixed_sources) / sizeof(*fixed_sources))
static struct path_pattern fixed[NFIXED];

/* Large: kept off the stack. */
static struct path_views views, other;
static char scratch[PATH_MAX_RAW + 16];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    for (size_t i = 0; i < NFIXED; i++)
        if (path_pattern_compile(fixed_sources[i], &fixed[i]) != NULL)
            abort();
    return 0;
}

/* Invariants of a pattern path_pattern_compile accepted. */
static void check_compiled(const char *source, const struct path_pattern *p)
{
    FUZZ_CHECK(p->source && strcmp(p->source, source) == 0, "pattern source not kept");
    FUZZ_CHECK(p->nsegs <= strlen(source) / 2 + 1, "too many segments");
    for (size_t k = 0; k < p->nsegs; k++) {
        const struct path_segment *s = &p->segs[k];
        FUZZ_CHECK(s->text && s->len > 0 && strlen(s->text) == s->len, "segment %zu length", k);
        FUZZ_CHECK(!memchr(s->text, '/', s->len), "segment %zu holds '/'", k);
        FUZZ_CHECK(s->glob == (memchr(s->text, '*', s->len) != NULL), "segment %zu glob flag", k);
        FUZZ_CHECK(strcmp(s->text, ".") != 0 && strcmp(s->text, "..") != 0,
                   "segment %zu is a dot segment", k);
        for (size_t i = 0; i < s->len; i++)
            FUZZ_CHECK(!(s->text[i] >= 'A' && s->text[i] <= 'Z'), "segment %zu not lowercase", k);
    }
}

/* Whether a path's readings may be too many, or its folded readings too long, to keep: it
 * has an encoded slash (more readings), or bytes >= 0x80, raw or encoded (NFKC expands). */
static bool may_run_out_of_room(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] >= 0x80)
            return true;
        if (s[i] == '%' && i + 2 < len &&
            ((s[i + 1] == '2' && (s[i + 2] == 'f' || s[i + 2] == 'F')) ||
             strchr("89abcdefABCDEF", s[i + 1])))
            return true;
    }
    return false;
}

/* Which of the patterns match; bit i for fixed[i], bit NFIXED for the compiled one. */
static unsigned match_all(const struct path_views *v, const struct path_pattern *compiled)
{
    unsigned bits = 0;
    for (size_t i = 0; i < NFIXED; i++)
        if (path_pattern_match(&fixed[i], v))
            bits |= 1u << i;
    if (compiled && path_pattern_match(compiled, v))
        bits |= 1u << NFIXED;
    return bits;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    size_t linelen = nl ? (size_t)(nl - in) : size;
    /* The caller passes the request target up to '?': a raw '?' never reaches the path. */
    const char *qm = memchr(in, '?', linelen);
    size_t rawlen = qm ? (size_t)(qm - in) : linelen;

    /* The configured path: the line after the raw path, compiled and freed every time. */
    struct path_pattern compiled;
    bool have_compiled = false;
    if (nl) {
        size_t plen = size - linelen - 1;
        const char *end = memchr(nl + 1, '\n', plen);
        if (end)
            plen = (size_t)(end - (nl + 1));
        char *src = malloc(plen + 1);
        if (!src)
            return 0;
        memcpy(src, nl + 1, plen);
        src[plen] = '\0';
        const char *err = path_pattern_compile(src, &compiled);
        if (err) {
            FUZZ_CHECK(compiled.source == NULL && compiled.segs == NULL,
                       "a refused pattern left memory behind");
        } else {
            check_compiled(src, &compiled);
            have_compiled = true;
            /* A pattern matches its own source taken as a request path. */
            if (src[0] == '/' && path_normalize(src, strlen(src), NULL, &other) == PATH_OK)
                FUZZ_CHECK(path_pattern_match(&compiled, &other),
                           "pattern '%s' does not match itself", src);
        }
        free(src);
    }

    enum path_status st = path_normalize(in, rawlen, NULL, &views);
    if (st != PATH_OK) {
        FUZZ_CHECK(st == PATH_MALFORMED || st == PATH_TOO_LONG || st == PATH_DOT_SEGMENT,
                   "unknown status %d", (int)st);
        FUZZ_CHECK(st != PATH_TOO_LONG || rawlen > PATH_MAX_RAW, "short path called too long");
        goto out;
    }
    FUZZ_CHECK(rawlen <= PATH_MAX_RAW, "a too long path was accepted");
    fuzz_check_views(in, rawlen, &views);

    unsigned bits = match_all(&views, have_compiled ? &compiled : NULL);
    FUZZ_CHECK(bits & (1u << (NFIXED - 1)), "'*' does not match everything");

    /* Differential: no reading of the path lies below a pattern that does not match. */
    for (size_t i = 0; i < NFIXED; i++)
        fuzz_check_readings(in, rawlen, &views, &fixed[i]);
    if (have_compiled)
        fuzz_check_readings(in, rawlen, &views, &compiled);

    /* Case does not matter: the path uppercased is read the same. */
    memcpy(scratch, in, rawlen);
    for (size_t i = 0; i < rawlen; i++)
        if (scratch[i] >= 'a' && scratch[i] <= 'z')
            scratch[i] = (char)(scratch[i] - 'a' + 'A');
    FUZZ_CHECK(path_normalize(scratch, rawlen, NULL, &other) == PATH_OK, "uppercased path refused");
    FUZZ_CHECK(match_all(&other, have_compiled ? &compiled : NULL) == bits,
               "uppercasing the path changed what matches");

    /* Whatever protects a path protects everything below it. */
    if (rawlen + 2 <= PATH_MAX_RAW) {
        memcpy(scratch, in, rawlen);
        memcpy(scratch + rawlen, "/x", 2);
        enum path_status below_st = path_normalize(scratch, rawlen + 2, NULL, &other);
        /* Refusing is allowed only where pathmatch.c may run out of room for the readings:
         * the refusal protects, too. */
        FUZZ_CHECK(below_st == PATH_OK ||
                       (below_st == PATH_MALFORMED && may_run_out_of_room(in, rawlen)),
                   "path + \"/x\" refused");
        unsigned below =
            below_st == PATH_OK ? match_all(&other, have_compiled ? &compiled : NULL) : bits;
        if ((bits & below) != bits) {
            fuzz_dump("raw", in, rawlen);
            fuzz_fail("a pattern matching the path does not match the path + \"/x\"");
        }
    }

out:
    if (have_compiled)
        path_pattern_free(&compiled);
    return 0;
}
