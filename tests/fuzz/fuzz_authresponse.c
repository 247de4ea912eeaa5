/*
 * fuzz_authresponse.c - parsing of the auth service's response headers (auth/forward.c), fed line
 * by line as libcurl's header callback would feed them (auth/forward_int.h).
 *
 * Input: the response head; every line ends at '\n' (kept, as libcurl keeps it). Lines are fed
 * until the parser refuses the response, as libcurl stops the transfer then. Checked after
 * every line: each captured value is NUL-terminated, at most HTTP_MAX_VALUE bytes and free of
 * control characters (but the '\n' between the values of a header kept whole), and only
 * wanted headers have one. When the response was not refused, the captured values are compared
 * with an independent reading of the lines: the first occurrence (case-insensitive name) since
 * the last status line and before the blank line, trimmed of spaces and tabs, kept if safe; for
 * the headers kept whole (AUTH_WANTED_JOINED) every safe, non-empty value that still fits,
 * '\n'-joined.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/forward.h"
#include "auth/forward_int.h"
#include "config/config.h"
#include "fuzz_common.h"
#include "base/httpsyntax.h"
#include "base/log.h"

static const char conf_text[] =
    "middlewares = ( { name = \"m\"; type = \"jwt\"; paths = ( \"/\" );\n"
    "  rule = { url = \"http://auth.invalid/check\";\n"
    "    headers = { X-User-Id = \"X-Auth-User\"; x-role = \"X-Auth-Role\";"
    " X-Empty = \"X-Auth-Empty\"; };\n"
    "    params = { X-User-Id = \"user_id\"; X-Country = \"country\"; };\n"
    "  }; } );\n";

static struct config *cfg;
static const struct rule *rule;
static struct forward_client *backend;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    log_set_level(LOG_LEVEL_ERROR);
    char err[512];
    if (config_load_string(conf_text, "fuzz.conf", &cfg, err, sizeof(err)) != NULL) {
        fprintf(stderr, "fuzz_authresponse: %s\n", err);
        abort();
    }
    rule = &cfg->middlewares[0].rule;
    if (forward_global_init() != NULL || !(backend = forward_client_new(err, sizeof(err))))
        abort();
    return 0;
}

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

static bool name_eq(const char *a, size_t alen, const char *b)
{
    if (alen != strlen(b))
        return false;
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

/* The reference: what each wanted header's value should be after these lines. */
struct expect {
    bool seen[CONFIG_MAX_WANTED];
    const char *val[CONFIG_MAX_WANTED]; /* into the input copy; NULL: none or dropped */
    size_t len[CONFIG_MAX_WANTED];
    char joined[WANTED_FIXED][AUTH_MAX_JOINED]; /* of the AUTH_WANTED_JOINED ones */
    bool in_body;
};

static void expect_joined(struct expect *e, size_t i, const char *v, size_t vlen, bool safe)
{
    size_t at = e->len[i], sep = at > 0;
    if (!safe || vlen == 0 || at + sep + vlen + 1 > AUTH_MAX_JOINED)
        return;
    if (sep)
        e->joined[i][at] = '\n';
    memcpy(e->joined[i] + at + sep, v, vlen);
    e->len[i] = at + sep + vlen;
    e->val[i] = e->joined[i];
}

/* The UTF-8 of the white space a trim takes beyond ASCII (the C1 NEL and the separators are
 * refused anyway): no-break space, U+1680, U+180E, U+2000..U+200B, U+202F, U+205F, U+3000,
 * U+FEFF. */
static const char *const wide_spaces[] = {
    "\xc2\xa0",     "\xe1\x9a\x80", "\xe1\xa0\x8e", "\xe2\x80\x80", "\xe2\x80\x81",
    "\xe2\x80\x82", "\xe2\x80\x83", "\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86",
    "\xe2\x80\x87", "\xe2\x80\x88", "\xe2\x80\x89", "\xe2\x80\x8a", "\xe2\x80\x8b",
    "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80", "\xef\xbb\xbf",
};

/* Whether v starts (at_end false) or ends with ' ' or one of wide_spaces. */
static bool space_at(const unsigned char *v, size_t n, bool at_end)
{
    if (n > 0 && v[at_end ? n - 1 : 0] == ' ')
        return true;
    for (size_t i = 0; i < sizeof(wide_spaces) / sizeof(*wide_spaces); i++) {
        size_t w = strlen(wide_spaces[i]);
        if (n >= w && memcmp(at_end ? v + n - w : v, wide_spaces[i], w) == 0)
            return true;
    }
    return false;
}

/*
 * The model of an exportable value, written apart from base/httpsyntax.c: no C0 or DEL, and
 * well-formed UTF-8 by the byte ranges of Unicode's table 3-7, without U+0080..U+009F
 * (C2 80..C2 9F) and U+2028, U+2029 (E2 80 A8, E2 80 A9), and no white space at either end.
 */
static bool model_exportable(const unsigned char *v, size_t n)
{
    if (n > HTTP_MAX_VALUE || space_at(v, n, false) || space_at(v, n, true))
        return false;
    for (size_t k = 0; k < n;) {
        unsigned char b = v[k];
        if (b < 0x80) {
            if (b < 0x20 || b == 0x7f)
                return false;
            k++;
            continue;
        }
        /* lead byte: sequence length and the allowed range of the second byte */
        size_t need;
        unsigned char lo = 0x80, hi = 0xbf;
        if (b >= 0xc2 && b <= 0xdf)
            need = 2;
        else if (b == 0xe0)
            need = 3, lo = 0xa0;
        else if (b == 0xed)
            need = 3, hi = 0x9f;
        else if (b >= 0xe1 && b <= 0xef)
            need = 3;
        else if (b == 0xf0)
            need = 4, lo = 0x90;
        else if (b == 0xf4)
            need = 4, hi = 0x8f;
        else if (b >= 0xf1 && b <= 0xf3)
            need = 4;
        else
            return false;
        if (n - k < need || v[k + 1] < lo || v[k + 1] > hi)
            return false;
        for (size_t j = 2; j < need; j++)
            if (v[k + j] < 0x80 || v[k + j] > 0xbf)
                return false;
        if (b == 0xc2 && v[k + 1] <= 0x9f)
            return false;
        if (b == 0xe2 && v[k + 1] == 0x80 && (v[k + 2] == 0xa8 || v[k + 2] == 0xa9))
            return false;
        k += need;
    }
    return true;
}

static void expect_line(struct expect *e, const char *line, size_t len)
{
    if (len >= 2 && line[len - 2] == '\r' && line[len - 1] == '\n')
        len -= 2;
    else if (len >= 1 && line[len - 1] == '\n')
        len -= 1;
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        memset(e, 0, sizeof(*e));
        return;
    }
    if (len == 0) {
        e->in_body = true;
        return;
    }
    if (e->in_body)
        return;
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return; /* refused: not compared */
    size_t nlen = (size_t)(colon - line);
    for (size_t i = 0; i < nlen; i++)
        if (!is_tchar((unsigned char)line[i]))
            return;
    const char *v = colon + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    for (size_t i = 0; i < rule->nwanted; i++) {
        if (e->seen[i] || !name_eq(line, nlen, rule->wanted[i]))
            continue;
        size_t vlen = (size_t)(end - v);
        bool safe = model_exportable((const unsigned char *)v, vlen);
        if (AUTH_WANTED_JOINED(i)) {
            expect_joined(e, i, v, vlen, safe);
            continue;
        }
        e->seen[i] = true;
        e->val[i] = safe ? v : NULL;
        e->len[i] = vlen;
    }
}

static void check_values(const struct auth_result *res)
{
    for (size_t i = 0; i < CONFIG_MAX_WANTED; i++) {
        const char *v = res->values[i];
        if (!v)
            continue;
        FUZZ_CHECK(i < rule->nwanted, "value for unwanted index %zu", i);
        size_t len = strnlen(v, HTTP_MAX_VALUE + 1);
        FUZZ_CHECK(len <= HTTP_MAX_VALUE, "value %zu longer than %d", i, HTTP_MAX_VALUE);
        /* Each value of a header kept whole is one line of it. */
        for (const char *p = v, *stop = v + len; p <= stop;) {
            const char *nl = AUTH_WANTED_JOINED(i) ? memchr(p, '\n', (size_t)(stop - p)) : NULL;
            size_t n = nl ? (size_t)(nl - p) : (size_t)(stop - p);
            FUZZ_CHECK(http_value_is_exportable(p, n), "value %zu is not exportable", i);
            FUZZ_CHECK(n > 0 || (!AUTH_WANTED_JOINED(i) && len == 0), "value %zu has an empty part",
                       i);
            FUZZ_CHECK(n == 0 ||
                           (p[0] != ' ' && p[0] != '\t' && p[n - 1] != ' ' && p[n - 1] != '\t'),
                       "value %zu is not trimmed", i);
            p += n + 1;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Each line in its own allocation, so ASan sees a read past its end. */
    struct auth_result res;
    struct expect e;
    memset(&e, 0, sizeof(e));
    forward_capture_begin(backend, rule, &res);
    const char *refusal = NULL;
    char *keep = malloc(size + 1); /* the reference's values point into this copy */
    if (!keep)
        return 0;
    memcpy(keep, data, size);
    for (size_t start = 0; start < size && !refusal;) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t len = nl ? (size_t)(nl - (data + start)) + 1 : size - start;
        char *line = malloc(len ? len : 1);
        if (!line)
            break;
        memcpy(line, data + start, len);
        refusal = forward_capture_line(backend, line, len);
        free(line);
        expect_line(&e, keep + start, len);
        check_values(&res);
        start += len;
    }
    if (!refusal) {
        for (size_t i = 0; i < rule->nwanted; i++) {
            const char *got = res.values[i];
            bool same = e.val[i]
                            ? got && strlen(got) == e.len[i] && memcmp(got, e.val[i], e.len[i]) == 0
                            : got == NULL;
            if (!same) {
                if (e.val[i])
                    fuzz_dump("expected", e.val[i], e.len[i]);
                if (got)
                    fuzz_dump("captured", got, strlen(got));
                fuzz_fail("header '%s' captured wrongly", rule->wanted[i]);
            }
        }
    }
    free(keep);
    return 0;
}
