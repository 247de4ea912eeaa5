/*
 * fuzz_query.c - query_rewrite: removing forged parameters and appending the auth service's.
 *
 * Input: the client's query string. The params come from a small fixed configuration (loaded
 * once), the values are fixed (one target has no value). Checked:
 *   - the result fits the buffer, and a buffer one byte short is refused, never overrun;
 *   - no control character appears that the query did not hold;
 *   - every target with a value appears exactly once, one without a value not at all, by a
 *     simple lenient reading of names (percent-decoding, '+', case, '.' and ' ' as '_',
 *     leading spaces, a NUL or '[' ending the name) reimplemented here;
 *   - client pieces are kept byte for byte and in order (each output piece but the appended
 *     ones is a piece of the input);
 *   - rewriting the result again gives the same result (idempotence).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "fuzz_common.h"
#include "base/log.h"
#include "http/query.h"

static const char conf_text[] =
    "middlewares = ( { name = \"m\"; type = \"jwt\"; paths = ( \"/\" );\n"
    "  rule = { url = \"http://auth.invalid/check\";\n"
    "    params = {\n"
    "      X-User = \"user_id\";\n"
    "      X-Org = \"org.name\";\n"
    "      X-Role = \"Role\";\n"
    "      X-Tenant = \"tenant-id\";\n"
    "      X-None = \"absent\";\n"
    "    };\n"
    "  }; } );\n";

static struct config *cfg;
static const struct rule *rule;
/* One per param above, in order; NULL: the auth service sent none. */
static const char *const values[] = {"alice smith", "acme&co=1", "admin", "t~1", NULL};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    log_set_level(LOG_LEVEL_ERROR);
    char err[512];
    if (config_load_string(conf_text, "fuzz.conf", &cfg, err, sizeof(err)) != NULL) {
        fprintf(stderr, "fuzz_query: %s\n", err);
        abort();
    }
    rule = &cfg->middlewares[0].rule;
    if (rule->nparams != sizeof(values) / sizeof(*values))
        abort();
    return 0;
}

/* A simple lenient reading of a piece's name into out (NUL-terminated, truncated safely). */
static void simple_name(const char *s, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    bool leading = true;
    for (size_t i = 0; i < len && s[i] != '='; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && i + 2 < len && ref_hex((unsigned char)s[i + 1]) >= 0 &&
            ref_hex((unsigned char)s[i + 2]) >= 0) {
            c = (unsigned char)(ref_hex((unsigned char)s[i + 1]) * 16 +
                                ref_hex((unsigned char)s[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == '\0' || c == '[')
            break;
        if (leading && c == ' ')
            continue;
        leading = false;
        if (c == ' ' || c == '.')
            c = '_';
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (o + 1 >= outlen)
            break;
        out[o++] = (char)c;
    }
    out[o] = '\0';
}

static bool has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

/* Whether piece (len bytes) occurs as a whole piece of q at or after *from; advances *from. */
static bool find_piece(const char *q, size_t *from, const char *piece, size_t len)
{
    const char *p = q + *from;
    for (;;) {
        size_t plen = strcspn(p, "&;");
        if (plen == len && memcmp(p, piece, len) == 0) {
            *from = (size_t)(p + plen - q);
            return true;
        }
        if (p[plen] == '\0')
            return false;
        p += plen + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > QUERY_MAX_OUT)
        return 0;
    char *query = malloc(size + 1);
    if (!query)
        return 0;
    memcpy(query, data, size);
    query[size] = '\0'; /* a NUL inside ends the query, as it would in REQUEST_URI */
    size_t qlen = strlen(query);

    size_t outlen = QUERY_MAX_OUT;
    char *out = malloc(outlen);
    long n = query_rewrite(query, rule->param_targets, rule->nparams, values, out, outlen);
    if (n < 0)
        goto out; /* did not fit: an error, never a truncation */
    FUZZ_CHECK((size_t)n < outlen && strlen(out) == (size_t)n, "length %ld is wrong", n);
    FUZZ_CHECK(has_control(query, qlen) || !has_control(out, (size_t)n),
               "control character introduced");

    /* An exact-size buffer (ASan sees any overrun) works; one byte less is refused. */
    char *exact = malloc((size_t)n + 1);
    FUZZ_CHECK(query_rewrite(query, rule->param_targets, rule->nparams, values, exact,
                             (size_t)n + 1) == n &&
                   memcmp(exact, out, (size_t)n + 1) == 0,
               "an exact-size buffer gives another result");
    free(exact);
    char *tight = malloc((size_t)n + 1);
    FUZZ_CHECK(query_rewrite(query, rule->param_targets, rule->nparams, values, tight, (size_t)n) ==
                   -1,
               "a buffer one byte short is not refused");
    free(tight);

    /* Each piece of the output: a kept client piece (in order), or an appended target. */
    size_t count[sizeof(values) / sizeof(*values)] = {0};
    size_t from = 0;
    for (const char *p = out;;) {
        size_t plen = strcspn(p, "&;");
        char name[256];
        simple_name(p, plen, name, sizeof(name));
        bool appended = false;
        for (size_t i = 0; i < rule->nparams; i++) {
            if (strcmp(name, rule->param_targets[i].match_name) != 0)
                continue;
            size_t tlen = strlen(rule->params[i].target);
            FUZZ_CHECK(values[i] && plen > tlen && memcmp(p, rule->params[i].target, tlen) == 0 &&
                           p[tlen] == '=',
                       "a client piece reads as target '%s'", rule->params[i].target);
            count[i]++;
            appended = true;
        }
        if (!appended) {
            FUZZ_CHECK(plen > 0, "empty piece in the output");
            if (!find_piece(query, &from, p, plen)) {
                fuzz_dump("query", query, qlen);
                fuzz_dump("output", out, (size_t)n);
                fuzz_fail("output piece is not a client piece, or out of order");
            }
        }
        if (p[plen] == '\0')
            break;
        p += plen + 1;
    }
    for (size_t i = 0; i < rule->nparams; i++)
        FUZZ_CHECK(count[i] == (values[i] ? 1u : 0u), "target '%s' appears %zu times",
                   rule->params[i].target, count[i]);

    /* Idempotence. */
    char *again = malloc(outlen);
    long m = query_rewrite(out, rule->param_targets, rule->nparams, values, again, outlen);
    if (m != n || memcmp(again, out, (size_t)n + 1) != 0) {
        fuzz_dump("query", query, qlen);
        fuzz_dump("first", out, (size_t)n);
        if (m >= 0)
            fuzz_dump("second", again, (size_t)m);
        fuzz_fail("rewriting the result again changes it");
    }
    free(again);

out:
    free(out);
    free(query);
    return 0;
}
