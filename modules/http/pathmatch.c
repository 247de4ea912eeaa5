/* pathmatch.c - see pathmatch.h. */
#include "http/pathmatch.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>

#include "base/httpsyntax.h"

enum view_kind { VIEW_DECODED, VIEW_LITERAL };

/* ---- UTF-8 ---- */

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned min, cp;
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, min = 0x80, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, min = 0x800, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, min = 0x10000, cp = c & 0x07;
        else
            return false; /* a continuation byte first, 0xc0/0xc1 (overlong) or 0xf5..0xff */
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

static bool has_high_bytes(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return true;
    return false;
}

/*
 * Writes the valid UTF-8 s into out with every non-ASCII letter whose case mapping is an ASCII
 * letter replaced by that letter ("ı" and "İ" are 'i', "ſ" is 's', the Kelvin sign 'k'), as
 * Java's equalsIgnoreCase compares (an upstream may match "/APİ" to "/api" with it, while
 * Unicode case folding keeps the dotted and the dotless i apart) and as query.c reads
 * parameter names. The result is never longer than s; returns its length.
 */
static size_t ascii_case_letters(const char *s, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        ucs4_t c;
        int n = u8_mbtouc(&c, (const uint8_t *)s + i, len - i);
        ucs4_t upper_lower = c >= 0x80 ? uc_tolower(uc_toupper(c)) : c;
        ucs4_t lower = c >= 0x80 ? uc_tolower(c) : c;
        if (c >= 0x80 && (upper_lower < 0x80 || lower < 0x80)) {
            out[o++] = (char)(upper_lower < 0x80 ? upper_lower : lower);
        } else {
            memcpy(out + o, s + i, (size_t)n);
            o += (size_t)n;
        }
        i += (size_t)n;
    }
    return o;
}

/* NFKC and full case folding of s into out (capacity *outlen, updated), after the ASCII case
 * letters (see ascii_case_letters); false if it does not fit or libunistring fails. ASCII is
 * only lowercased. */
static bool fold(const char *s, size_t len, char *out, size_t *outlen)
{
    char mapped[PATH_MAX_RAW + 2];
    if (len > sizeof(mapped))
        return false;
    len = ascii_case_letters(s, len, mapped);
    size_t cap = *outlen;
    uint8_t *r =
        u8_casefold((const uint8_t *)mapped, len, NULL, UNINORM_NFKC, (uint8_t *)out, outlen);
    if (!r)
        return false;
    if (r != (uint8_t *)out) { /* it did not fit in out: libunistring allocated */
        free(r);
        *outlen = cap;
        return false;
    }
    return true;
}

/* ---- compiling patterns (startup) ---- */

static const char *segment_from(const char *start, size_t slen, struct path_segment *seg)
{
    char lower[PATH_MAX_RAW + 1];
    for (size_t i = 0; i < slen; i++)
        lower[i] = (char)tolower((unsigned char)start[i]);
    size_t n = slen;
    char folded[4 * PATH_MAX_RAW];
    const char *text = lower;
    if (has_high_bytes(lower, slen)) {
        if (!utf8_valid((const unsigned char *)lower, slen))
            return "must be valid UTF-8";
        n = sizeof(folded);
        if (!fold(lower, slen, folded, &n))
            return "cannot be folded (NFKC, case)";
        text = folded;
        /* Fullwidth '/' or '.' (U+FF0F, U+FF0E) fold to ASCII: such a pattern segment would
         * be a separator or a dot segment, which no request segment can equal. */
        for (size_t i = 0; i < n; i++)
            if (strchr("/?#%\\;", folded[i]) && folded[i])
                return "holds a character that folds to '/', '?', '#', '%', '\\' or ';'";
        if ((n == 1 && folded[0] == '.') || (n == 2 && folded[0] == '.' && folded[1] == '.'))
            return "folds to a '.' or '..' segment";
    }
    seg->text = malloc(n + 1);
    if (!seg->text)
        return "out of memory";
    memcpy(seg->text, text, n);
    seg->text[n] = '\0';
    seg->len = n;
    seg->glob = memchr(seg->text, '*', n) != NULL;
    seg->dstar = n == 2 && seg->text[0] == '*' && seg->text[1] == '*';
    return NULL;
}

static bool is_star_segment(const char *s, size_t n)
{
    return (n == 1 && s[0] == '*') || (n == 2 && s[0] == '*' && s[1] == '*');
}

const char *path_pattern_compile(const char *source, struct path_pattern *out)
{
    memset(out, 0, sizeof(*out));
    size_t len = strlen(source);
    if (strcmp(source, "*") == 0) {
        out->source = strdup(source);
        return out->source ? NULL : "out of memory";
    }
    if (len == 0 || source[0] != '/')
        return "must start with '/'";
    if (len > PATH_MAX_RAW)
        return "is too long";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)source[i];
        if (c < 0x21 || c == 0x7f)
            return "must not contain spaces or control characters";
        if (strchr("?#%\\;", c))
            return "must not contain '?', '#', '%', '\\' or ';' (write the decoded path)";
    }

    out->source = strdup(source);
    out->segs = calloc(len / 2 + 1, sizeof(*out->segs));
    if (!out->source || !out->segs) {
        path_pattern_free(out);
        return "out of memory";
    }

    const char *p = source;
    while (*p) {
        while (*p == '/')
            p++;
        const char *start = p;
        while (*p && *p != '/')
            p++;
        size_t slen = (size_t)(p - start);
        if (slen == 0)
            break;
        if ((slen == 1 && start[0] == '.') || (slen == 2 && start[0] == '.' && start[1] == '.')) {
            path_pattern_free(out);
            return "must not contain '.' or '..' segments";
        }
        if (slen > 2 && strstr(start, "**") && (size_t)(strstr(start, "**") - start) < slen) {
            path_pattern_free(out);
            return "uses '**' inside a segment: '**' stands alone between slashes";
        }
        /* A trailing lone-star segment ('*' or "**") protects the prefix and all below, as
         * without it. Trailing slashes after it do not matter ("/api/" + '*' + "/" is "/api/"
         * + '*'), as they do not anywhere else: otherwise "/api" itself would be left
         * unprotected. */
        if (is_star_segment(start, slen) && p[strspn(p, "/")] == '\0')
            break;
        struct path_segment *seg = &out->segs[out->nsegs];
        const char *msg = segment_from(start, slen, seg);
        if (msg) {
            path_pattern_free(out);
            return msg;
        }
        /* "**" twice in a row is "**" once. */
        if (seg->dstar && out->nsegs > 0 && out->segs[out->nsegs - 1].dstar) {
            free(seg->text);
            seg->text = NULL;
            continue;
        }
        out->nsegs++;
    }
    return NULL;
}

void path_pattern_free(struct path_pattern *p)
{
    if (p->segs)
        for (size_t i = 0; i < p->nsegs; i++)
            free(p->segs[i].text);
    free(p->segs);
    free(p->source);
    memset(p, 0, sizeof(*p));
}

const char *path_segment_compile(const char *source, struct path_segment *out)
{
    memset(out, 0, sizeof(*out));
    size_t len = strlen(source);
    if (len == 0 || len > 255)
        return "must be 1 to 255 characters";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)source[i];
        if (c < 0x21 || c == 0x7f || strchr("/?#%\\;", c))
            return "must be one path segment without '/', '?', '#', '%', '\\', ';' or spaces";
    }
    if (strcmp(source, ".") == 0 || strcmp(source, "..") == 0 || strstr(source, "**"))
        return "must be a name or a glob such as \"*.php\"";
    return segment_from(source, len, out);
}

/* ---- normalizing request paths (per request, no allocation) ---- */

/*
 * Percent-decodes src into dst. With keep_slashes, %2F and %5C stay encoded (lowercased) so
 * they remain part of their segment. Returns the decoded length or -1 if an escape is
 * malformed or decodes to a control character.
 */
static long decode(const char *src, size_t len, char *dst, bool keep_slashes, bool lenient)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c != '%') {
            dst[o++] = (char)c;
            continue;
        }
        if (i + 2 >= len || http_hex_value((unsigned char)src[i + 1]) < 0 ||
            http_hex_value((unsigned char)src[i + 2]) < 0) {
            if (!lenient)
                return -1;
            dst[o++] = '%';
            continue;
        }
        unsigned char d = (unsigned char)(http_hex_value((unsigned char)src[i + 1]) * 16 +
                                          http_hex_value((unsigned char)src[i + 2]));
        if (d < 0x20 || d == 0x7f)
            return -1;
        if (keep_slashes && (d == '/' || d == '\\')) {
            dst[o++] = '%';
            dst[o++] = (char)tolower((unsigned char)src[i + 1]);
            dst[o++] = (char)tolower((unsigned char)src[i + 2]);
        } else {
            dst[o++] = (char)d;
        }
        i += 2;
    }
    return (long)o;
}

static bool is_dot_segment(const char *s, size_t n)
{
    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

static bool next_segment(const char *view, size_t vlen, size_t i, bool split, size_t *start,
                         size_t *len, size_t *next);

/*
 * Builds a normalized view from decoded bytes: split into segments, optionally cut ";params",
 * lowercase. A "." or ".." segment is not resolved but noted in *dots: the path is refused
 * (see path_normalize). out must hold len + 2 bytes. Returns the view length.
 */
static size_t build_view(const char *in, size_t len, enum view_kind kind, char *out, bool *dots)
{
    size_t o = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && (in[i] == '/' || (kind == VIEW_DECODED && in[i] == '\\')))
            i++;
        size_t start = i;
        while (i < len && in[i] != '/' && !(kind == VIEW_DECODED && in[i] == '\\'))
            i++;
        size_t slen = i - start;
        if (kind == VIEW_DECODED) {
            const char *semi = memchr(in + start, ';', slen);
            if (semi)
                slen = (size_t)(semi - (in + start));
        }
        if (slen == 0)
            continue;
        if (is_dot_segment(in + start, slen)) {
            *dots = true;
            continue;
        }
        out[o++] = '/';
        for (size_t k = 0; k < slen; k++)
            out[o++] = (char)tolower((unsigned char)in[start + k]);
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return o;
}

/* Room for one more view of up to len bytes, or NULL if the views are full. */
static char *view_room(struct path_views *v, size_t len)
{
    if (v->n >= PATH_MAX_VIEWS || len + 2 > sizeof(v->arena) - v->used)
        return NULL;
    return v->arena + v->used;
}

/* Keeps the view just built at `out` (olen bytes) unless an identical one is there. */
static void keep_view(struct path_views *v, char *out, size_t olen)
{
    for (size_t k = 0; k < v->n; k++)
        if (v->len[k] == olen && memcmp(v->view[k], out, olen) == 0)
            return;
    /* A dot segment that only the matcher's split reading shows ("/a%2f..%2fb") or that
     * cutting a format suffix left behind ("/a/..json") is one all the same. */
    size_t start, n, next;
    for (size_t i = 0; next_segment(out, olen, i, true, &start, &n, &next); i = next)
        if (is_dot_segment(out + start, n))
            v->dots = true;
    v->view[v->n] = out;
    v->len[v->n] = olen;
    v->split[v->n] = memchr(out, '%', olen) || memchr(out, '\\', olen);
    v->used += olen + 1;
    v->n++;
}

/* Adds the reading of in[0..len) as a view; false if there is no room for it. */
static bool add_view(struct path_views *v, const char *in, size_t len, enum view_kind kind)
{
    char *out = view_room(v, len);
    if (!out)
        return false;
    keep_view(v, out, build_view(in, len, kind, out, &v->dots));
    return true;
}

/* ---- what applications make of a view ---- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * Each segment of view trimmed as Windows and lenient routers read it: surrounding blanks,
 * trailing dots, a "::$stream" name. Writes into out; returns the length.
 */
static size_t trim_segments(const char *view, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t start = ++i; /* past the '/' */
        while (i < len && view[i] != '/')
            i++;
        size_t end = i;
        const char *stream = NULL;
        for (size_t k = start; k + 1 < end && !stream; k++)
            if (view[k] == ':' && view[k + 1] == ':')
                stream = view + k;
        if (stream)
            end = (size_t)(stream - view);
        while (start < end && is_blank(view[start]))
            start++;
        while (end > start && is_blank(view[end - 1]))
            end--;
        size_t dots = 0;
        while (start + dots < end && view[start + dots] == '.')
            dots++;
        out[o++] = '/';
        if (dots > 0 && start + dots == end) {
            /* Only dots ("..", "... "): a dot segment to Windows, the parent if two or more. */
            memcpy(out + o, "..", dots > 1 ? 2 : 1);
            o += dots > 1 ? 2 : 1;
            continue;
        }
        while (end > start && (is_blank(view[end - 1]) || view[end - 1] == '.'))
            end--;
        memcpy(out + o, view + start, end - start);
        o += end - start;
    }
    return o;
}

static bool segment_glob_match(const struct path_segment *seg, const char *s, size_t slen);

/* The part after the first segment that is a front controller ("/index.php/admin": "/admin"),
 * or NULL. */
static const char *after_front_controller(const struct path_options *opt, const char *view,
                                          size_t len, size_t *rest_len)
{
    for (size_t i = 0; i < len;) {
        size_t start = ++i;
        while (i < len && view[i] != '/')
            i++;
        if (i == len)
            return NULL; /* the last segment is the script itself */
        for (size_t f = 0; f < opt->nfront_controllers; f++) {
            if (segment_glob_match(&opt->front_controllers[f], view + start, i - start)) {
                *rest_len = len - i;
                return view + i;
            }
        }
    }
    return NULL;
}

/* The length of view without a format suffix on its last segment (".json": Rails, Spring),
 * or len if it has none. */
static size_t without_format_suffix(const char *view, size_t len)
{
    size_t last = len;
    while (last > 0 && view[last - 1] != '/')
        last--;
    for (size_t i = len; i > last + 1; i--) {
        if (view[i - 1] != '.')
            continue;
        size_t n = len - i;
        if (n == 0 || n > 16)
            return len;
        for (size_t k = i; k < len; k++)
            if (!isalnum((unsigned char)view[k]))
                return len;
        return i - 1;
    }
    return len;
}

/*
 * The application readings of base view k (see pathmatch.h): folded, trimmed, after a front
 * controller, and without a format suffix. False if there is no room for them.
 */
static bool add_app_views(struct path_views *v, size_t k, const struct path_options *opt)
{
    const char *view = v->view[k];
    size_t len = v->len[k];
    char *w = v->work;
    size_t n = len;
    if (has_high_bytes(view, len)) {
        n = sizeof(v->work) / 2;
        if (!fold(view, len, w, &n))
            return false;
    } else {
        memcpy(w, view, len);
    }
    /* Built again (folding may have made new separators and dot segments: "．．") and kept as
     * the folded reading; then trimmed, and built once more (trimming may empty segments or
     * make dot segments: "..." and ".. " are ".." to Windows). */
    char *t = w + sizeof(v->work) / 2;
    n = build_view(w, n, VIEW_DECODED, t, &v->dots);
    if (n != len || memcmp(t, view, n) != 0) {
        char *f = view_room(v, n);
        if (!f)
            return false;
        memcpy(f, t, n + 1);
        keep_view(v, f, n);
    }
    n = trim_segments(t, n, w);
    char *out = view_room(v, n);
    if (!out)
        return false;
    size_t olen = build_view(w, n, VIEW_DECODED, out, &v->dots);
    const char *rest = NULL;
    size_t rest_len = 0;
    if (opt && opt->nfront_controllers)
        rest = after_front_controller(opt, out, olen, &rest_len);
    if (rest) {
        memmove(out, rest, rest_len);
        out[rest_len] = '\0';
        olen = rest_len;
    }
    keep_view(v, out, olen);
    if (!opt || !opt->format_suffixes)
        return true;
    size_t cut = without_format_suffix(out, olen);
    if (cut == olen)
        return true;
    char *s = view_room(v, cut);
    if (!s)
        return false;
    memcpy(s, out, cut);
    s[cut] = '\0';
    keep_view(v, s, cut);
    return true;
}

/*
 * For a target that starts with two or more separators, '/' and '\\' in any mix ("//host/p",
 * "/\\host/p", "////host/p"): where the path after the host starts, or NULL. The URL parsers
 * of Node and Python read such a start as an authority, and Node skips any further slashes
 * and backslashes before the host: "///evil/p" is host "evil", path "/p" to it.
 */
static const char *after_host(const char *s, size_t len, size_t *rest_len)
{
    size_t i = 0;
    while (i < len && (s[i] == '/' || s[i] == '\\'))
        i++;
    if (i < 2)
        return NULL;
    while (i < len && s[i] != '/' && s[i] != '\\')
        i++;
    *rest_len = len - i;
    return s + i;
}

/*
 * The after-host reading of an already decoded path ("/%2F/evil/p" is "///evil/p" once
 * decoded, which an application that decodes before it parses the URL reads as "/p"), split
 * both ways; nothing if it has no run of separators in front. False if there is no room.
 */
static bool add_decoded_rest_views(struct path_views *v, const char *s, size_t len)
{
    size_t rest_len = 0;
    const char *rest = after_host(s, len, &rest_len);
    if (!rest)
        return true;
    if (rest_len == 0)
        return add_view(v, "/", 1, VIEW_DECODED);
    return add_view(v, rest, rest_len, VIEW_DECODED) && add_view(v, rest, rest_len, VIEW_LITERAL);
}

/* The base readings of a raw path (see pathmatch.h); with_rests: also the after-host
 * readings of its decoded forms (the raw form's are the caller's). */
static enum path_status base_views(const char *raw, size_t len, struct path_views *v,
                                   bool with_rests)
{
    bool has_escape = false, has_special = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c <= 0x20 || c == 0x7f || c == '#')
            return PATH_MALFORMED;
        if (c == '%')
            has_escape = true;
        else if (c == ';' || c == '\\')
            has_special = true;
    }

    long once = decode(raw, len, v->once, false, false);
    if (once < 0 || !utf8_valid((const unsigned char *)v->once, (size_t)once))
        return PATH_MALFORMED;
    /* An encoded '?' ends the path for a server that decodes before it splits, and what
     * follows becomes a query nobody decided on. */
    if (memchr(v->once, '?', (size_t)once))
        return PATH_MALFORMED;
    if (!add_view(v, v->once, (size_t)once, VIEW_DECODED))
        return PATH_MALFORMED;
    if (!has_escape && !has_special)
        return PATH_OK; /* the common case: every base reading is the same */

    long lit = decode(raw, len, v->literal, true, false);
    if (!add_view(v, v->literal, (size_t)lit, VIEW_LITERAL))
        return PATH_MALFORMED;
    if (!has_escape)
        return PATH_OK;

    /* Decoded once but split on '/' only (Go's ServeMux, servers that decode before they
     * resolve dot segments): "/x%2F..%2Fp/;/.." is "/p" to it. */
    if (!add_view(v, v->once, (size_t)once, VIEW_LITERAL))
        return PATH_MALFORMED;
    if (with_rests && !add_decoded_rest_views(v, v->once, (size_t)once))
        return PATH_MALFORMED;

    /* An encoded '#' that something decodes before splitting off a fragment (as mod_rewrite
     * did) ends the path there: "/protected%23x" is read as "/protected". */
    size_t cut = 0;
    while (cut < (size_t)once && v->once[cut] != '#')
        cut++;
    if (cut < (size_t)once && !add_view(v, v->once, cut, VIEW_DECODED))
        return PATH_MALFORMED;

    /* Frameworks that decode again see "%2570" as "p": both readings of that too. */
    if (memchr(v->once, '%', (size_t)once)) {
        long twice = decode(v->once, (size_t)once, v->twice, false, true);
        if (twice < 0 || !utf8_valid((const unsigned char *)v->twice, (size_t)twice) ||
            memchr(v->twice, '?', (size_t)twice))
            return PATH_MALFORMED;
        if (!add_view(v, v->twice, (size_t)twice, VIEW_DECODED) ||
            !add_view(v, v->twice, (size_t)twice, VIEW_LITERAL) ||
            (with_rests && !add_decoded_rest_views(v, v->twice, (size_t)twice)))
            return PATH_MALFORMED;
    }
    return PATH_OK;
}

enum path_status path_normalize(const char *raw, size_t len, const struct path_options *opt,
                                struct path_views *v)
{
    v->n = 0;
    v->used = 0;
    v->dots = false;
    if (len > PATH_MAX_RAW)
        return PATH_TOO_LONG;
    if (len == 0 || raw[0] != '/')
        return PATH_MALFORMED;
    enum path_status st = base_views(raw, len, v, true);
    if (st != PATH_OK)
        return st;
    size_t rest_len = 0;
    const char *rest = after_host(raw, len, &rest_len);
    if (rest) {
        /* Its own base readings; the root if nothing follows the host. */
        st = rest_len                            ? base_views(rest, rest_len, v, false)
             : add_view(v, "/", 1, VIEW_DECODED) ? PATH_OK
                                                 : PATH_MALFORMED;
        if (st != PATH_OK)
            return st;
    }
    if (v->dots)
        return PATH_DOT_SEGMENT;
    size_t nbase = v->n;
    for (size_t k = 0; k < nbase; k++)
        if (!add_app_views(v, k, opt))
            return PATH_MALFORMED;
    return v->dots ? PATH_DOT_SEGMENT : PATH_OK;
}

/* ---- matching ---- */

/* '*' matches any run of bytes within one segment. */
static bool glob_match(const char *pat, size_t plen, const char *s, size_t slen)
{
    size_t p = 0, i = 0, star = (size_t)-1, mark = 0;
    while (i < slen) {
        if (p < plen && pat[p] == '*') {
            star = p++;
            mark = i;
        } else if (p < plen && pat[p] == s[i]) {
            p++;
            i++;
        } else if (star != (size_t)-1) {
            p = star + 1;
            i = ++mark;
        } else {
            return false;
        }
    }
    while (p < plen && pat[p] == '*')
        p++;
    return p == plen;
}

static bool segment_glob_match(const struct path_segment *seg, const char *s, size_t slen)
{
    if (seg->glob)
        return glob_match(seg->text, seg->len, s, slen);
    return seg->len == slen && memcmp(seg->text, s, slen) == 0;
}

/*
 * Length of the segment separator at view[i], or 0. With `split`, a '\\' and an encoded slash
 * ("%2f", "%5c": views are lowercase) separate segments as well.
 */
static size_t sep_len(const char *view, size_t i, size_t vlen, bool split)
{
    if (view[i] == '/')
        return 1;
    if (!split)
        return 0;
    if (view[i] == '\\')
        return 1;
    if (view[i] == '%' && i + 2 < vlen &&
        ((view[i + 1] == '2' && view[i + 2] == 'f') || (view[i + 1] == '5' && view[i + 2] == 'c')))
        return 3;
    return 0;
}

/* The next segment at or after byte i: *start, *len, and where the one after it is looked
 * for. False if there is none. Empty segments (split readings were not normalized) are
 * skipped. */
static bool next_segment(const char *view, size_t vlen, size_t i, bool split, size_t *start,
                         size_t *len, size_t *next)
{
    size_t sep;
    while (i < vlen && (sep = sep_len(view, i, vlen, split)) > 0)
        i += sep;
    if (i >= vlen)
        return false;
    *start = i;
    while (i < vlen && sep_len(view, i, vlen, split) == 0)
        i++;
    *len = i - *start;
    *next = i;
    return true;
}

/*
 * Segment-wise glob with "**" for any run of segments, the classic backtracking to the last
 * "**" (linear in the common case). A pattern matches a path and everything below it, so the
 * match succeeds once the pattern is used up.
 */
static bool match_view(const struct path_pattern *p, const char *view, size_t vlen, bool split)
{
    size_t k = 0, i = 0, star_k = 0, star_i = 0;
    bool starred = false;
    for (;;) {
        if (k == p->nsegs)
            return true;
        if (p->segs[k].dstar) {
            starred = true;
            star_k = ++k;
            star_i = i;
            continue;
        }
        size_t s, n, next;
        if (next_segment(view, vlen, i, split, &s, &n, &next) &&
            segment_glob_match(&p->segs[k], view + s, n)) {
            k++;
            i = next;
            continue;
        }
        if (!starred || !next_segment(view, vlen, star_i, split, &s, &n, &next))
            return false;
        star_i = next; /* the "**" takes one more segment */
        i = star_i;
        k = star_k;
    }
}

bool path_pattern_match_view(const struct path_pattern *p, const struct path_views *v, size_t k,
                             bool split)
{
    return match_view(p, v->view[k], v->len[k], split && v->split[k]);
}

bool path_pattern_match(const struct path_pattern *p, const struct path_views *v)
{
    for (size_t k = 0; k < v->n; k++)
        if (path_pattern_match_view(p, v, k, false) ||
            (v->split[k] && path_pattern_match_view(p, v, k, true)))
            return true;
    return false;
}

/* ---- covering (startup) ---- */

static bool segment_covers(const struct path_segment *p, const struct path_segment *q)
{
    if (q->dstar)
        return false;
    if (!p->glob)
        return !q->glob && p->len == q->len && memcmp(p->text, q->text, p->len) == 0;
    if (p->len == 1) /* a lone '*' */
        return true;
    return !q->glob && glob_match(p->text, p->len, q->text, q->len);
}

bool path_pattern_covers(const struct path_pattern *p, const struct path_pattern *q)
{
    if (p->nsegs > q->nsegs)
        return false;
    for (size_t i = 0; i < p->nsegs; i++) {
        if (p->segs[i].dstar)
            return false; /* not worked out: say nothing rather than something wrong */
        if (!segment_covers(&p->segs[i], &q->segs[i]))
            return false;
    }
    return true;
}
