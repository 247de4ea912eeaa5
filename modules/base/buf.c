/* buf.c - see buf.h. */
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void buf_init(struct buf *b, char *mem, size_t cap)
{
    b->data = mem;
    b->cap = cap;
    buf_reset(b);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->full = false;
    b->data[0] = '\0';
}

bool buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->full || n >= b->cap - b->len) {
        b->full = true;
        return false;
    }
    if (n) /* p may be NULL for nothing (an empty body): memcpy must not see it */
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool buf_adds(struct buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

bool buf_addc(struct buf *b, char c)
{
    return buf_add(b, &c, 1);
}

bool buf_printf(struct buf *b, const char *fmt, ...)
{
    if (b->full)
        return false;
    size_t room = b->cap - b->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->data + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        b->data[b->len] = '\0'; /* what vsnprintf wrote does not count */
        b->full = true;
        return false;
    }
    b->len += (size_t)n;
    return true;
}

bool buf_add_urlencoded(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.' || c == '~';
        if (plain ? !buf_addc(b, (char)c)
                  : !buf_add(b, (const char[]){'%', hex[c >> 4], hex[c & 15]}, 3))
            return false;
    }
    return true;
}

void buf_truncate(struct buf *b, size_t len)
{
    if (len < b->len)
        b->len = len;
    b->full = false;
    b->data[b->len] = '\0';
}
