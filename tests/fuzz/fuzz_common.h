/*
 * fuzz_common.h - helpers shared by the fuzz targets: failing loudly, checking the invariants
 * of normalized path views, and an independent reading of a raw path to compare against.
 *
 * Header-only (static functions) so that every target stays one file plus the modules it
 * links; unused helpers are marked as such to keep -Wall quiet.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/pathmatch.h"

#define FUZZ_UNUSED __attribute__((unused))

/* An invariant does not hold: say which, then abort so that libFuzzer keeps the input. */
static FUZZ_UNUSED __attribute__((noreturn, format(printf, 1, 2))) void fuzz_fail(const char *fmt,
                                                                                  ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("FUZZ INVARIANT BROKEN: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(__VA_ARGS__);                                                                \
    } while (0)

/* Prints a byte string escaped, for failure messages. */
static FUZZ_UNUSED void fuzz_dump(const char *label, const char *s, size_t len)
{
    fprintf(stderr, "  %s (%zu bytes): \"", label, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    fputs("\"\n", stderr);
}

/* ---- invariants of path_normalize's views ---- */

/*
 * Every view: starts with '/', NUL-terminated at its length, no empty segment ("//"), no
 * trailing '/' but for the root, no "." or ".." segment, lowercase, no control character, and
 * never longer than the raw path plus one unless it is a folded reading (NFKC may expand). The first view is the "decoded" reading, which has
 * no '\' (a separator there) and no ';' (parameters are cut).
 */
static FUZZ_UNUSED void fuzz_check_views(const char *raw, size_t rawlen, const struct path_views *v)
{
    FUZZ_CHECK(v->n >= 1 && v->n <= PATH_MAX_VIEWS, "path_normalize gave %zu views", v->n);
    for (size_t k = 0; k < v->n; k++) {
        const char *s = v->view[k];
        size_t len = v->len[k];
        bool ascii = true;
        for (size_t i = 0; i < rawlen; i++)
            ascii = ascii && (unsigned char)raw[i] < 0x80 &&
                    !(raw[i] == '%' && i + 1 < rawlen && strchr("89abcdefABCDEF", raw[i + 1]));
        size_t bound = ascii ? rawlen + 1 : PATH_ARENA;
        if (!(len >= 1 && len <= bound && s[0] == '/' && strlen(s) == len)) {
            fuzz_dump("raw", raw, rawlen);
            fuzz_dump("view", s, strnlen(s, PATH_MAX_RAW + 2));
            fuzz_fail("view %zu: bad start, length %zu or NUL (raw length %zu)", k, len, rawlen);
        }
        if (len > 1 && s[len - 1] == '/') {
            fuzz_dump("raw", raw, rawlen);
            fuzz_fail("view %zu ends with '/'", k);
        }
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x20 || c == 0x7f || (c >= 'A' && c <= 'Z')) {
                fuzz_dump("raw", raw, rawlen);
                fuzz_dump("view", s, len);
                fuzz_fail("view %zu: control or uppercase byte 0x%02x at %zu", k, c, i);
            }
            if (k == 0 && (c == '\\' || c == ';')) {
                fuzz_dump("raw", raw, rawlen);
                fuzz_dump("view", s, len);
                fuzz_fail("decoded view holds '%c'", c);
            }
        }
        /* Segments between '/': none empty, none "." or "..". */
        for (size_t i = 0; i < len && len > 1;) {
            size_t start = ++i; /* s[i - 1] is '/' */
            while (i < len && s[i] != '/')
                i++;
            size_t slen = i - start;
            if (slen == 0 || (slen == 1 && s[start] == '.') ||
                (slen == 2 && s[start] == '.' && s[start + 1] == '.')) {
                fuzz_dump("raw", raw, rawlen);
                fuzz_dump("view", s, len);
                fuzz_fail("view %zu has an empty, '.' or '..' segment", k);
            }
        }
    }
}

/* ---- an independent reference reading of a raw path ---- */

/* How the reference reads a raw path; each flag is one choice a server or framework makes. */
enum {
    REF_DECODE_SLASH = 1, /* %2F and %5C decode (else they stay "%2f"/"%5c" in their segment) */
    REF_BACKSLASH = 2,    /* '\' separates segments */
    REF_CUT_PARAMS = 4,   /* ";..." is cut from every segment */
    REF_TWICE = 8,        /* decoded a second time, leniently (a bad escape stays as is) */
    REF_CUT_QUERY = 16,   /* the path ends at the first decoded '?' or '#' */
};

#define REF_MAX_SEGS (PATH_MAX_RAW + 1)

struct ref_reading {
    /* Resolved segments, lowercased, each pointing into text. */
    size_t nsegs;
    const char *seg[REF_MAX_SEGS];
    size_t seglen[REF_MAX_SEGS];
    char text[2 * PATH_MAX_RAW + 8];
};

static int ref_hex(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * One percent-decoding pass. Strict: a bad escape fails. Every decoded control byte fails (as
 * the contract says such paths are refused). Returns the new length or -1.
 */
static long ref_decode(const char *in, size_t len, char *out, bool keep_slashes, bool lenient)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] != '%') {
            out[o++] = in[i];
            continue;
        }
        int hi = i + 1 < len ? ref_hex((unsigned char)in[i + 1]) : -1;
        int lo = i + 2 < len ? ref_hex((unsigned char)in[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            if (!lenient)
                return -1;
            out[o++] = '%';
            continue;
        }
        unsigned char d = (unsigned char)(hi * 16 + lo);
        if (d < 0x20 || d == 0x7f)
            return -1;
        if (keep_slashes && (d == '/' || d == '\\')) {
            out[o++] = '%';
            out[o++] = d == '/' ? '2' : '5';
            out[o++] = d == '/' ? 'f' : 'c';
        } else {
            out[o++] = (char)d;
        }
        i += 2;
    }
    return (long)o;
}

/*
 * Reads raw the way `flags` says: decode, split, cut, then resolve "." and ".." the plain
 * way (a ".." above the root stays at the root), lowercase. Returns false if the reference
 * finds the path malformed.
 */
static FUZZ_UNUSED bool ref_read(const char *raw, size_t len, int flags, struct ref_reading *r)
{
    static char tmp[PATH_MAX_RAW + 8];
    char *t = r->text;
    r->nsegs = 0;
    if (len > PATH_MAX_RAW)
        return false;
    long n;
    if (flags & REF_TWICE) {
        n = ref_decode(raw, len, tmp, false, false);
        if (n < 0)
            return false;
        n = ref_decode(tmp, (size_t)n, t, false, true);
    } else {
        n = ref_decode(raw, len, t, !(flags & REF_DECODE_SLASH), false);
    }
    if (n < 0)
        return false;
    size_t tlen = (size_t)n;
    if (flags & REF_CUT_QUERY)
        for (size_t i = 0; i < tlen; i++)
            if (t[i] == '?' || t[i] == '#') {
                tlen = i;
                break;
            }
    for (size_t i = 0; i < tlen; i++)
        if (t[i] >= 'A' && t[i] <= 'Z')
            t[i] = (char)(t[i] - 'A' + 'a');

    size_t i = 0;
    while (i < tlen) {
        size_t start = i;
        while (i < tlen && t[i] != '/' && !((flags & REF_BACKSLASH) && t[i] == '\\'))
            i++;
        size_t slen = i - start;
        i++; /* past the separator */
        if (flags & REF_CUT_PARAMS) {
            const char *semi = memchr(t + start, ';', slen);
            if (semi)
                slen = (size_t)(semi - (t + start));
        }
        if (slen == 0 || (slen == 1 && t[start] == '.'))
            continue;
        if (slen == 2 && t[start] == '.' && t[start + 1] == '.') {
            if (r->nsegs > 0)
                r->nsegs--;
            continue;
        }
        r->seg[r->nsegs] = t + start;
        r->seglen[r->nsegs] = slen;
        r->nsegs++;
    }
    return true;
}

/* Whether the reading's first segments are exactly the pattern's (non-glob) segments. */
static FUZZ_UNUSED bool ref_has_prefix(const struct ref_reading *r, const struct path_pattern *p)
{
    if (p->nsegs > r->nsegs)
        return false;
    for (size_t k = 0; k < p->nsegs; k++)
        if (p->segs[k].glob || p->segs[k].len != r->seglen[k] ||
            memcmp(p->segs[k].text, r->seg[k], r->seglen[k]) != 0)
            return false;
    return true;
}

/* The readings the differential check compares with; see fuzz_check_readings. */
static const struct {
    const char *name;
    int flags;
} ref_readings[] = {
    /* The simplest reading: decode everything once, split on '/', resolve. */
    {"plain", REF_DECODE_SLASH},
    /* The readings pathmatch.h promises to cover. */
    {"decoded", REF_DECODE_SLASH | REF_BACKSLASH | REF_CUT_PARAMS},
    {"literal", 0},
    {"twice", REF_TWICE | REF_BACKSLASH | REF_CUT_PARAMS},
    {"cut", REF_DECODE_SLASH | REF_BACKSLASH | REF_CUT_PARAMS | REF_CUT_QUERY},
};

/*
 * The differential check: raw was accepted and normalized into v. If any reference reading
 * of raw lies at or below the (glob-free) pattern p, p must match: otherwise a server reading
 * the path that way serves protected content the authorizer let through.
 */
static FUZZ_UNUSED void fuzz_check_readings(const char *raw, size_t len, const struct path_views *v,
                                            const struct path_pattern *p)
{
    for (size_t k = 0; k < p->nsegs; k++)
        if (p->segs[k].glob)
            return;
    bool matched = path_pattern_match(p, v);
    static struct ref_reading r;
    for (size_t i = 0; i < sizeof(ref_readings) / sizeof(*ref_readings); i++) {
        if (!ref_read(raw, len, ref_readings[i].flags, &r)) {
            fuzz_dump("raw", raw, len);
            fuzz_fail("path_normalize accepted a path the %s reading finds malformed",
                      ref_readings[i].name);
        }
        if (!matched && ref_has_prefix(&r, p)) {
            fuzz_dump("raw", raw, len);
            for (size_t k = 0; k < v->n; k++)
                fuzz_dump("view", v->view[k], v->len[k]);
            fuzz_fail("pattern '%s' does not match, but the %s reading is below it", p->source,
                      ref_readings[i].name);
        }
    }
}

#endif
