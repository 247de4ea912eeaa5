/* query.c - see query.h. */
#include "http/query.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include <unicase.h>
#include <unistr.h>

#include "base/buf.h"
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
 * reads names as C strings and skips leading spaces), and leading '?' skipped (Node's
 * URLSearchParams drops the '?' of "/x??name=v", reading "?name" as name). Then, as arrays go:
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
        if (leading && (c == ' ' || c == '?' || (!php && (c == '[' || c == ']'))))
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

static bool is_param_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

bool query_target_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > QUERY_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_param_char((unsigned char)name[i]))
            return false;
    return true;
}

void query_target_init(struct query_target *t, const char *name)
{
    t->name = name;
    /* As a lenient framework reads it (see match_name): lowercase, '.' as '_'. */
    size_t i = 0;
    for (; name[i] && i < QUERY_MAX_NAME; i++)
        t->match_name[i] = name[i] == '.' ? '_' : (char)tolower((unsigned char)name[i]);
    t->match_name[i] = '\0';
}

/* The code point of the UTF-8 sequence at s[*i] (advancing *i past it), or -1 if there is no
 * valid one (then *i advances by one byte). */
static long utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    size_t n = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : 0;
    if (n == 0 || *i + n >= len) {
        (*i)++;
        return -1;
    }
    long cp = c & (0x3f >> n);
    for (size_t k = 1; k <= n; k++) {
        if ((s[*i + k] & 0xc0) != 0x80) {
            (*i)++;
            return -1;
        }
        cp = (cp << 6) | (s[*i + k] & 0x3f);
    }
    *i += n + 1;
    return cp;
}

/* A code point that one of the trims frameworks apply to names removes: C0, space, DEL and C1
 * (Java's trim() takes everything up to ' '), and Unicode's white space (see
 * http_is_trimmed_space: .NET, Python, JavaScript). */
static bool is_trimmed(long c)
{
    return c <= 0x20 || (c >= 0x7f && c <= 0x9f) || http_is_trimmed_space(c);
}

/* The value of the four hex digits at s[i], or -1. */
static long hex4(const char *s, size_t len, size_t i)
{
    long v = 0;
    for (size_t k = i; k < i + 4; k++) {
        int h = k < len ? http_hex_value((unsigned char)s[k]) : -1;
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/*
 * The name as frameworks that trim and compare case-insensitively read it (Java's trim() and
 * equalsIgnoreCase, .NET's Trim() and OrdinalIgnoreCase, Python's strip()): fully
 * %-decoded, with ASP.NET's %uXXXX too, '+' as space; then read as UTF-8 (a byte that is not
 * is its Latin-1 character, as a server reading Latin-1 sees it) and every code point of
 * is_trimmed taken from both ends, leading '?' too (as in match_name); '.' and ' ' as '_'
 * (PHP), and a non-ASCII letter that upper- or lowercases to an ASCII one read as that letter
 * ("ı" is 'i' and "ſ" is 's' to equalsIgnoreCase, the Kelvin sign is 'k'). False if too long.
 */
static bool trimmed_name(const char *s, size_t len, char *out, size_t outlen, size_t *outn)
{
    unsigned char raw[512];
    size_t n = 0;
    for (size_t i = 0; i < len && s[i] != '='; i++) {
        long u = s[i] == '%' && i + 1 < len && (s[i + 1] == 'u' || s[i + 1] == 'U')
                     ? hex4(s, len, i + 2)
                     : -1;
        if (u >= 0) {
            i += 5;
            int k = n < sizeof(raw) ? u8_uctomb(raw + n, (ucs4_t)u, (int)(sizeof(raw) - n)) : -2;
            if (k == -2)
                return false; /* no room */
            if (k < 0)
                raw[n++] = 0xff; /* a surrogate: no UTF-8, a character no name holds */
            else
                n += (size_t)k;
            continue;
        }
        if (n == sizeof(raw))
            return false;
        raw[n++] = name_byte(s, len, &i);
    }
    long cps[512];
    size_t ncp = 0;
    for (size_t i = 0; i < n;) {
        size_t at = i;
        long c = raw[i] < 0x80 ? raw[i++] : utf8_next(raw, n, &i);
        cps[ncp++] = c >= 0 ? c : raw[at]; /* not UTF-8: the byte as Latin-1 */
    }
    size_t start = 0, end = ncp;
    while (start < end && (is_trimmed(cps[start]) || cps[start] == '?'))
        start++;
    while (end > start && is_trimmed(cps[end - 1]))
        end--;
    size_t o = 0;
    for (size_t i = start; i < end; i++) {
        long c = cps[i];
        if (c >= 0x80) {
            ucs4_t up = uc_tolower(uc_toupper((ucs4_t)c));
            ucs4_t low = uc_tolower((ucs4_t)c);
            c = up < 0x80 && up ? (long)up : low < 0x80 && low ? (long)low : 0x80;
        }
        if (c == ' ' || c == '.')
            c = '_';
        if (o >= outlen)
            return false;
        out[o++] = (char)(c < 0x80 ? tolower((int)c) : 0x80);
    }
    *outn = o;
    return true;
}

static bool is_target(const char *piece, size_t len, const struct query_target *params,
                      size_t nparams)
{
    /* A piece is a target if any reading of its name is one; names too long are none. */
    for (int reading = 0; reading <= 2; reading++) {
        char name[160];
        size_t n;
        bool fits = reading < 2 ? match_name(piece, len, reading == 1, name, sizeof(name), &n)
                                : trimmed_name(piece, len, name, sizeof(name), &n);
        if (!fits)
            continue; /* longer than any target name */
        for (size_t i = 0; i < nparams; i++)
            if (strlen(params[i].match_name) == n && memcmp(params[i].match_name, name, n) == 0)
                return true;
    }
    return false;
}

long query_rewrite(const char *query, const struct query_target *targets, size_t ntargets,
                   const char *const *values, char *out, size_t outlen)
{
    if (outlen == 0)
        return -1;
    struct buf b;
    buf_init(&b, out, outlen);
    const char *p = query;
    char sep = 0; /* separator that preceded the current piece */
    for (;;) {
        size_t len = strcspn(p, "&;");
        if (len > 0 && !(ntargets && is_target(p, len, targets, ntargets))) {
            if (b.len > 0)
                buf_addc(&b, sep);
            buf_add(&b, p, len);
        }
        if (p[len] == '\0')
            break;
        sep = p[len];
        p += len + 1;
    }
    for (size_t i = 0; values && i < ntargets; i++) {
        if (!values[i])
            continue;
        if (b.len > 0)
            buf_addc(&b, '&');
        buf_adds(&b, targets[i].name);
        buf_addc(&b, '=');
        buf_add_urlencoded(&b, values[i], strlen(values[i]));
    }
    return buf_ok(&b) ? (long)b.len : -1;
}
