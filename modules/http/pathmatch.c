/* pathmatch.c - see pathmatch.h. */
#include "http/pathmatch.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/httpsyntax.h"

enum view_kind { VIEW_DECODED, VIEW_LITERAL };

/* ---- compiling patterns (startup) ---- */

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
        /* A trailing lone-star segment protects the prefix and all below, as without it.
         * Trailing slashes after it do not matter ("/api/" + '*' + "/" is "/api/" + '*'), as
         * they do not anywhere else: otherwise "/api" itself would be left unprotected. */
        if (slen == 1 && start[0] == '*' && p[strspn(p, "/")] == '\0')
            break;
        struct path_segment *seg = &out->segs[out->nsegs++];
        seg->text = malloc(slen + 1);
        if (!seg->text) {
            path_pattern_free(out);
            return "out of memory";
        }
        for (size_t i = 0; i < slen; i++)
            seg->text[i] = (char)tolower((unsigned char)start[i]);
        seg->text[slen] = '\0';
        seg->len = slen;
        seg->glob = memchr(start, '*', slen) != NULL;
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

/*
 * Builds a normalized view from decoded bytes: split into segments, optionally cut ";params",
 * resolve dot segments, lowercase. out must hold len + 2 bytes. Returns the view length.
 */
static size_t build_view(const char *in, size_t len, enum view_kind kind, char *out)
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
        if (slen == 0 || (slen == 1 && in[start] == '.'))
            continue;
        if (slen == 2 && in[start] == '.' && in[start + 1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* drop the '/' that led into the popped segment */
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

/* Adds the reading of in[0..len) as a view, unless an identical view is there already. */
static void add_view(struct path_views *v, const char *in, size_t len, enum view_kind kind)
{
    char *out = v->buf[v->n];
    size_t olen = build_view(in, len, kind, out);
    for (size_t k = 0; k < v->n; k++)
        if (v->len[k] == olen && memcmp(v->view[k], out, olen) == 0)
            return;
    v->view[v->n] = out;
    v->len[v->n] = olen;
    v->n++;
}

enum path_status path_normalize(const char *raw, size_t len, struct path_views *v)
{
    v->n = 0;
    if (len > PATH_MAX_RAW)
        return PATH_TOO_LONG;
    if (len == 0 || raw[0] != '/')
        return PATH_MALFORMED;

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
    if (once < 0)
        return PATH_MALFORMED;
    add_view(v, v->once, (size_t)once, VIEW_DECODED);
    if (!has_escape && !has_special)
        return PATH_OK; /* the common case: every reading is the same */

    long lit = decode(raw, len, v->literal, true, false);
    add_view(v, v->literal, (size_t)lit, VIEW_LITERAL);
    if (!has_escape)
        return PATH_OK;

    /* Decoded once but split on '/' only (Go's ServeMux, servers that decode before they
     * resolve dot segments): "/x%2F..%2Fp/;/.." is "/p" to it. */
    add_view(v, v->once, (size_t)once, VIEW_LITERAL);

    /* An encoded '?' or '#' that something decodes before splitting off the query (as
     * mod_rewrite did) ends the path there: "/protected%3Fx" is read as "/protected". */
    size_t cut = 0;
    while (cut < (size_t)once && v->once[cut] != '?' && v->once[cut] != '#')
        cut++;
    if (cut < (size_t)once)
        add_view(v, v->once, cut, VIEW_DECODED);

    /* Frameworks that decode again see "%2570" as "p": both readings of that too. */
    if (memchr(v->once, '%', (size_t)once)) {
        long twice = decode(v->once, (size_t)once, v->twice, false, true);
        if (twice < 0)
            return PATH_MALFORMED;
        add_view(v, v->twice, (size_t)twice, VIEW_DECODED);
        add_view(v, v->twice, (size_t)twice, VIEW_LITERAL);
    }
    return PATH_OK;
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

static bool match_view(const struct path_pattern *p, const char *view, size_t vlen, bool split)
{
    size_t i = 0;
    for (size_t k = 0; k < p->nsegs; k++) {
        size_t sep = i < vlen ? sep_len(view, i, vlen, split) : 0;
        if (sep == 0)
            return false;
        i += sep;
        /* Split readings were not normalized: skip the empty segments between separators. */
        while (split && i < vlen && (sep = sep_len(view, i, vlen, split)) > 0)
            i += sep;
        size_t start = i;
        while (i < vlen && sep_len(view, i, vlen, split) == 0)
            i++;
        size_t slen = i - start;
        if (slen == 0)
            return false; /* the root view "/" has no segments */
        const struct path_segment *seg = &p->segs[k];
        if (seg->glob) {
            if (!glob_match(seg->text, seg->len, view + start, slen))
                return false;
        } else if (seg->len != slen || memcmp(seg->text, view + start, slen) != 0) {
            return false;
        }
    }
    return true;
}

bool path_pattern_match(const struct path_pattern *p, const struct path_views *v)
{
    for (size_t k = 0; k < v->n; k++) {
        if (match_view(p, v->view[k], v->len[k], false))
            return true;
        /*
         * A view may still hold a '\\' or an encoded slash inside a segment (the literal view,
         * or the decoded one of a double-encoded path). A server that resolves dot segments
         * with them opaque and hands the path on to an application that splits on them anyway
         * sees "/protected%2F..%2F..%2Fpublic" below /protected: match that split reading too.
         * Matching more readings can only protect more, never less.
         */
        if ((memchr(v->view[k], '%', v->len[k]) || memchr(v->view[k], '\\', v->len[k])) &&
            match_view(p, v->view[k], v->len[k], true))
            return true;
    }
    return false;
}
