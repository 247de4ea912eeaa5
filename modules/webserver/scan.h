/*
 * scan.h - what the configuration checkers of this layer share: the input read whole (with a
 * bound), pieces of it (spans), one line or statement as words, and the problem reporter.
 *
 * The checkers scan text; they do not parse it. Every piece points into the input, which
 * lives until the check ends.
 */
#ifndef AUTHZ_SCAN_H
#define AUTHZ_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Larger inputs are refused rather than half-checked. */
#define SCAN_MAX_INPUT (16u * 1024 * 1024)
/* Nesting deeper than this is not followed (lighttpd lists, Apache sections, nginx blocks). */
#define SCAN_MAX_DEPTH 32
/* Words kept per nginx statement or Apache directive; the rest are not needed. */
#define SCAN_MAX_WORDS 8

/*
 * Reads all of `in` into a new NUL-terminated buffer (the caller frees it) and stores its
 * length in *len. Returns NULL with *err set ("out of memory", "input too large" or "read
 * error") if it cannot, or if the input reaches SCAN_MAX_INPUT bytes.
 */
char *scan_read_all(FILE *in, size_t *len, const char **err);

/* A piece of the input: not NUL-terminated. */
struct span {
    const char *s;
    size_t len;
};

bool span_is(struct span w, const char *lit);
bool span_is_nocase(struct span w, const char *lit);

/* A NUL-terminated copy (the caller frees it), or NULL if out of memory. */
char *span_dup(struct span w);

/* One Apache line or nginx statement: its first words, and where it is. */
struct directive {
    struct span word[SCAN_MAX_WORDS];
    size_t nwords;
    const char *file;
    size_t line;
};

/* Where problems go, and how many there were. */
struct report {
    FILE *out;
    int problems;
};

/* Writes "FILE:LINE: message" and a newline, and counts one problem. */
void report_problem(struct report *rep, const char *file, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
