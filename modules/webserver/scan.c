/* scan.c - see scan.h. */
#include "webserver/scan.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Frees buf and says why: the one way out of scan_read_all that fails. */
static char *read_failed(char *buf, const char **err, const char *why)
{
    free(buf);
    *err = why;
    return NULL;
}

char *scan_read_all(FILE *in, size_t *len, const char **err)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return read_failed(NULL, err, "out of memory");
    for (;;) {
        if (n == cap) {
            if (cap >= SCAN_MAX_INPUT)
                return read_failed(buf, err, "input too large");
            cap *= 2;
            char *bigger = realloc(buf, cap + 1);
            if (!bigger)
                return read_failed(buf, err, "out of memory");
            buf = bigger;
        }
        size_t got = fread(buf + n, 1, cap - n, in);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(in))
        return read_failed(buf, err, "read error");
    buf[n] = '\0';
    *len = n;
    return buf;
}

bool span_is(struct span w, const char *lit)
{
    return w.len == strlen(lit) && memcmp(w.s, lit, w.len) == 0;
}

bool span_is_nocase(struct span w, const char *lit)
{
    return w.len == strlen(lit) && strncasecmp(w.s, lit, w.len) == 0;
}

char *span_dup(struct span w)
{
    char *s = malloc(w.len + 1);
    if (s) {
        memcpy(s, w.s, w.len);
        s[w.len] = '\0';
    }
    return s;
}

void report_problem(struct report *rep, const char *file, size_t line, const char *fmt, ...)
{
    va_list ap;
    fprintf(rep->out, "%s:%zu: ", file, line);
    va_start(ap, fmt);
    vfprintf(rep->out, fmt, ap);
    va_end(ap);
    fputc('\n', rep->out);
    rep->problems++;
}
