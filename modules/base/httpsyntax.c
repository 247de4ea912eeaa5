/* httpsyntax.c - see httpsyntax.h. */
#include "base/httpsyntax.h"

#include <ctype.h>
#include <string.h>

static bool is_tchar(unsigned char c)
{
    if (isalnum(c))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool http_is_token(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

bool http_value_is_safe(const char *s, size_t len)
{
    return len <= HTTP_MAX_VALUE && http_value_is_clean(s, len);
}

bool http_authority_is_valid(const char *s, size_t len)
{
    size_t i = 0;
    if (len > 0 && s[0] == '[') { /* IP literal: hex digits, ':' and '.' (IPv4 suffix) */
        for (i = 1; i < len && s[i] != ']'; i++)
            if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
                return false;
        if (i == len || i == 1)
            return false;
        i++;
    } else {
        for (; i < len && s[i] != ':'; i++)
            if (!isalnum((unsigned char)s[i]) && (!s[i] || !strchr("-._~!$&'()*+,;=%", s[i])))
                return false;
        if (i == 0)
            return false;
    }
    if (i == len)
        return true;
    if (s[i] != ':' || len - i - 1 > 5)
        return false;
    for (i++; i < len; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

bool http_value_is_clean(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* The code point of the UTF-8 sequence at s[*i], advancing *i; -1 if it is not valid
 * UTF-8 (a stray or missing continuation byte, an overlong form, a surrogate, > U+10FFFF). */
static long utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[(*i)++];
    if (c < 0x80)
        return c;
    size_t more;
    long cp, min;
    if (c >= 0xc2 && c <= 0xdf)
        more = 1, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        more = 2, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        more = 3, cp = c & 0x07, min = 0x10000;
    else
        return -1;
    if (len - *i < more)
        return -1;
    for (size_t k = 0; k < more; k++) {
        unsigned char d = s[(*i)++];
        if ((d & 0xc0) != 0x80)
            return -1;
        cp = cp << 6 | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    return cp;
}

bool http_is_trimmed_space(long cp)
{
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           cp == 0x180e || (cp >= 0x2000 && cp <= 0x200b) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

bool http_value_is_exportable(const char *s, size_t len)
{
    if (len > HTTP_MAX_VALUE)
        return false;
    const unsigned char *u = (const unsigned char *)s;
    long first = -1, cp = -1;
    for (size_t i = 0; i < len;) { /* one pass: the C0 and DEL check of "clean" included */
        if (u[i] < 0x80) {
            if (u[i] < 0x20 || u[i] == 0x7f)
                return false;
            cp = u[i++];
        } else {
            cp = utf8_next(u, len, &i);
            if (cp < 0 || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029)
                return false;
        }
        if (first < 0)
            first = cp;
    }
    return len == 0 || !(http_is_trimmed_space(first) || http_is_trimmed_space(cp));
}

bool http_name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return false;
    return true;
}

bool http_cgi_name(const char *header, char *out, size_t outlen)
{
    size_t len = strlen(header);
    if (len + 6 > outlen)
        return false;
    memcpy(out, "HTTP_", 5);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)header[i];
        /* As Apache and lighttpd name them: every character but letters and digits as '_'. */
        out[5 + i] = isalnum(c) ? (char)toupper(c) : '_';
    }
    out[5 + len] = '\0';
    return true;
}

int http_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (unsigned char)tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

const char *http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 302:
        return "Found";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}
