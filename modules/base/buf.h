/*
 * buf.h - the one bounded buffer every appender in the program writes through.
 *
 * A buf appends into memory its owner provides (a fixed array, usually per worker) and never
 * allocates. Whatever does not fit is not written at all, and the buffer stays "full" from
 * then on: every later append fails too, so a caller may append a whole message and check
 * once at the end (buf_ok) instead of after each piece. The contents are always
 * NUL-terminated, so the capacity for data is cap - 1. Binary data may be appended as well.
 */
#ifndef AUTHZ_BUF_H
#define AUTHZ_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data;
    size_t cap; /* bytes at data, the terminating NUL included */
    size_t len;
    bool full; /* an append did not fit: the contents are incomplete */
};

/* Starts an empty buffer over mem[0..cap); cap must be at least 1. */
void buf_init(struct buf *b, char *mem, size_t cap);

/* Empties the buffer and clears `full`. */
void buf_reset(struct buf *b);

/* Appends n bytes; false (and nothing written) if they do not fit or the buffer is full. */
bool buf_add(struct buf *b, const void *p, size_t n);
bool buf_adds(struct buf *b, const char *s);
bool buf_addc(struct buf *b, char c);
bool buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends s percent-encoded: every byte but A-Z a-z 0-9 - _ . ~ as %XX (uppercase hex). */
bool buf_add_urlencoded(struct buf *b, const char *s, size_t n);

/* Cuts the contents back to len bytes (a mark taken earlier with b->len); clears `full`. */
void buf_truncate(struct buf *b, size_t len);

/* True if every append so far fitted. */
static inline bool buf_ok(const struct buf *b)
{
    return !b->full;
}

#endif
