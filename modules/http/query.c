/* query.c - see query.h. */
#include "http/query.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "base/httpsyntax.h"

/* One byte of a name as a query parser decodes it (%XX, '+' as space); advances *i past it. */
static unsigned char name_byte(const char *s, size_t len, size_t *i)
{
    unsigned char c = (unsigned char)s[*i];
    if (c == '%' && *i + 2 < len && http_hex_value((unsigned char)s[*i + 1]) >= 0 &&
        http_hex_value((unsigned char)s[*i + 2]) >= 0) {
        c = (unsigned char)(http_hex_value((unsigned char)s[*i + 1]) * 16 +
                            http_hex_value((unsigned char)s[*i + 2]));
        *i += 2;
    } else if (c == '+') {
        c = ' ';
    }
    return c;
}

/* Whether a ']' follows in the (decoded) name from s[i] on, before a NUL. */
static bool closes_later(const char *s, size_t len, size_t i)
{
    for (; i < len && s[i] != '='; i++) {
        unsigned char c = name_byte(s, len, &i);
        if (c == ']')
            return true;
        if (c == '\0')
            return false;
    }
    return false;
}

/*
 * The name of one "name=value" piece as a lenient framework reads it: %-decoded, '+' as space,
 * lowercased, ' ' and '.' as '_', read only up to a NUL and with leading spaces skipped (PHP
 * reads names as C strings and skips leading spaces). Then, as arrays go:
 *   !php: cut at the first '[' or ']', leading brackets skipped (PHP, qs, Rack 2 read
 *         "[name]" and "name]" as name);
 *   php:  cut at a '[' that a ']' follows, a '[' without one read as '_' (PHP reads "user[id"
 *         as user_id).
 * Returns false if it is longer than outlen.
 */
static bool match_name(const char *s, size_t len, bool php, char *out, size_t outlen, size_t *outn)
{
    size_t o = 0;
    bool leading = true, unclosed = false;
    for (size_t i = 0; i < len && s[i] != '='; i++) {
        unsigned char c = name_byte(s, len, &i);
        if (c == '\0')
            break;
        if (leading && (c == ' ' || (!php && (c == '[' || c == ']'))))
            continue;
        leading = false;
        if (!php && (c == '[' || c == ']'))
            break;
        if (php && c == '[') {
            /* Once no ']' follows one '[', none follows a later one either. */
            if (!unclosed && closes_later(s, len, i + 1))
                break;
            unclosed = true;
            c = '_';
        }
        if (c == ' ' || c == '.')
            c = '_';
        if (o >= outlen)
            return false;
        out[o++] = (char)tolower(c);
    }
    *outn = o;
    return true;
}

static bool is_target(const char *piece, size_t len, const struct mapping *params, size_t nparams)
{
    /* A piece is a target if any reading of its name is one; names too long are none. */
    for (int php = 0; php <= 1; php++) {
        char name[160];
        size_t n;
        if (!match_name(piece, len, php, name, sizeof(name), &n))
            continue; /* longer than any target name */
        for (size_t i = 0; i < nparams; i++)
            if (strlen(params[i].match_name) == n && memcmp(params[i].match_name, name, n) == 0)
                return true;
    }
    return false;
}

static bool put(char *out, size_t outlen, size_t *o, const char *s, size_t len)
{
    if (*o + len >= outlen)
        return false;
    memcpy(out + *o, s, len);
    *o += len;
    return true;
}

static bool put_encoded(char *out, size_t outlen, size_t *o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            if (!put(out, outlen, o, (const char *)&c, 1))
                return false;
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            if (!put(out, outlen, o, e, 3))
                return false;
        }
    }
    return true;
}

long query_rewrite(const char *query, const struct mapping *params, size_t nparams,
                   const char *const *values, char *out, size_t outlen)
{
    size_t o = 0;
    const char *p = query;
    char sep = 0; /* separator that preceded the current piece */
    for (;;) {
        size_t len = strcspn(p, "&;");
        bool keep = len > 0 && !(nparams && is_target(p, len, params, nparams));
        if (keep) {
            if (o > 0 && !put(out, outlen, &o, &sep, 1))
                return -1;
            if (!put(out, outlen, &o, p, len))
                return -1;
        }
        if (p[len] == '\0')
            break;
        sep = p[len];
        p += len + 1;
    }
    for (size_t i = 0; i < nparams; i++) {
        if (!values || !values[i])
            continue;
        if ((o > 0 && !put(out, outlen, &o, "&", 1)) ||
            !put(out, outlen, &o, params[i].target, strlen(params[i].target)) ||
            !put(out, outlen, &o, "=", 1) || !put_encoded(out, outlen, &o, values[i]))
            return -1;
    }
    if (o >= outlen)
        return -1;
    out[o] = '\0';
    return (long)o;
}
