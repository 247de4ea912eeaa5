/*
 * fuzz_config.c - config_load_string on arbitrary text, then config_free (LeakSanitizer
 * finds what a failed load leaves behind).
 *
 * A loaded configuration is checked for the promises the request path relies on: paths
 * compiled, bounds kept, every mapping's wanted index valid, params' match names derived.
 *
 * Inputs with "@include" are skipped: libconfig would open the named file (even /dev/zero),
 * which the fuzzer must not do; the configuration is trusted text, not client input.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "fuzz_common.h"
#include "base/httpsyntax.h"
#include "base/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    log_set_level(LOG_LEVEL_ERROR); /* tlsVerify = false warns on every load */
    return 0;
}

static void check_mapping(const struct rule *r, const struct mapping *m,
                          const struct query_target *t)
{
    FUZZ_CHECK(m->source && m->target, "mapping without names");
    FUZZ_CHECK(m->wanted < r->nwanted, "wanted index out of range");
    FUZZ_CHECK(http_name_eq(r->wanted[m->wanted], strlen(r->wanted[m->wanted]), m->source,
                            strlen(m->source)),
               "wanted index names another header");
    if (!t)
        return;
    FUZZ_CHECK(t->name == m->target && strlen(t->match_name) == strlen(m->target), "match name");
    for (size_t i = 0; m->target[i]; i++) {
        char c = m->target[i];
        char want = c == '.' ? '_' : (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        FUZZ_CHECK(t->match_name[i] == want, "match name of '%s' is '%s'", m->target,
                   t->match_name);
    }
}

static void check_config(const struct config *cfg)
{
    FUZZ_CHECK(cfg->nmiddlewares > 0, "no middleware loaded");
    FUZZ_CHECK(cfg->workers >= 1 && cfg->workers <= CONFIG_MAX_WORKERS, "workers");
    for (size_t i = 0; i < cfg->nmiddlewares; i++) {
        const struct middleware *m = &cfg->middlewares[i];
        FUZZ_CHECK(m->name && m->type && m->npaths > 0, "middleware %zu incomplete", i);
        for (size_t k = 0; k < m->npaths; k++)
            FUZZ_CHECK(m->paths[k].source, "path %zu not compiled", k);
        const struct rule *r = &m->rule;
        FUZZ_CHECK(r->url && r->timeout_ms > 0 && r->connect_timeout_ms > 0 &&
                       r->connect_timeout_ms <= r->timeout_ms,
                   "rule timeouts");
        FUZZ_CHECK(r->nwanted >= WANTED_FIXED && r->nwanted <= CONFIG_MAX_WANTED, "nwanted");
        FUZZ_CHECK(r->nheaders <= CONFIG_MAX_MAPPINGS && r->nparams <= CONFIG_MAX_MAPPINGS,
                   "mapping count");
        FUZZ_CHECK(r->nforward <= CONFIG_MAX_CLIENT_HEADERS &&
                       r->nrequired <= CONFIG_MAX_CLIENT_HEADERS,
                   "client header count");
        for (size_t k = 0; k < r->nforward; k++)
            FUZZ_CHECK(r->forward[k].cgi && strncmp(r->forward[k].cgi, "HTTP_", 5) == 0,
                       "forwarded header without its CGI name");
        for (size_t k = 0; k < r->nheaders; k++)
            check_mapping(r, &r->headers[k], NULL);
        for (size_t k = 0; k < r->nparams; k++)
            check_mapping(r, &r->params[k], &r->param_targets[k]);
        if (r->cache.enabled)
            FUZZ_CHECK(r->cache.ttl_ms > 0 && r->cache.max_entries > 0, "cache settings");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (strstr(text, "@include")) {
        free(text);
        return 0;
    }
    struct config *cfg = NULL;
    char err[512];
    err[0] = '\0';
    const char *msg = config_load_string(text, "fuzz.conf", &cfg, err, sizeof(err));
    if (msg) {
        FUZZ_CHECK(cfg == NULL, "a failed load returned a config");
        FUZZ_CHECK(msg == err && strnlen(err, sizeof(err)) < sizeof(err) && *err,
                   "error message missing or not terminated");
    } else {
        FUZZ_CHECK(cfg != NULL, "a successful load returned no config");
        check_config(cfg);
    }
    config_free(cfg);
    free(text);
    return 0;
}
