/*
 * test_cache.c - the decision cache: keys, lifetimes, eviction, and that one identity's
 * answer is never served for another.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/cache.h"
#include "config/config.h"
#include "http/request.h"
#include "unit.h"

static struct config *load(const char *cache_settings)
{
    char text[2048], err[512];
    snprintf(text, sizeof(text),
             "middlewares = ( { name = \"m\"; type = \"jwt\"; paths = ( \"/\" );\n"
             "  rule = { url = \"http://127.0.0.1:9/auth\";\n"
             "    headers = { userId = \"X-Auth-UserId\"; };\n"
             "    cache = %s; }; } );\n",
             cache_settings);
    struct config *cfg = NULL;
    const char *msg = config_load_string(text, "test.conf", &cfg, err, sizeof(err));
    UNIT_CHECK(msg == NULL, "config should load: %s", msg ? msg : "");
    return cfg;
}

/* The caches the tests use, one per rule, made as a policy would make them. */
static struct {
    const struct rule *rule;
    struct cache *cache;
} caches[8];
static pthread_mutex_t caches_lock = PTHREAD_MUTEX_INITIALIZER;

static struct cache *cache_for(const struct rule *r)
{
    struct cache *c = NULL;
    pthread_mutex_lock(&caches_lock);
    for (size_t i = 0; i < UNIT_N(caches) && !c; i++) {
        if (caches[i].rule == r)
            c = caches[i].cache;
        else if (!caches[i].rule && (c = cache_new(&r->cache)))
            caches[i].rule = r, caches[i].cache = c;
    }
    pthread_mutex_unlock(&caches_lock);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    return c;
}

static void unload(struct config *cfg)
{
    for (size_t i = 0; cfg && i < UNIT_N(caches); i++) {
        if (caches[i].rule == &cfg->middlewares[0].rule) {
            cache_free(caches[i].cache);
            caches[i].rule = NULL;
            caches[i].cache = NULL;
        }
    }
    config_free(cfg);
}

static const struct rule *rule_of(const struct config *cfg)
{
    return &cfg->middlewares[0].rule;
}

/* A request view over params given as "NAME=value" strings. */
struct req {
    char *envp[16];
    char buf[8][256];
    struct request_view view;
};

static void make_req(struct req *r, const char *uri, const char *auth, const char *cookie,
                     const char *addr, const char *method)
{
    size_t n = 0, next = 0;
    memset(r, 0, sizeof(*r));
#define PARAM(fmt, v)                                                                              \
    do {                                                                                           \
        char *b = r->buf[next++];                                                                  \
        snprintf(b, 256, fmt, v);                                                                  \
        r->envp[n++] = b;                                                                          \
    } while (0)
    PARAM("%s", uri);
    if (auth)
        PARAM("HTTP_AUTHORIZATION=%s", auth);
    if (cookie)
        PARAM("HTTP_COOKIE=%s", cookie);
    PARAM("REMOTE_ADDR=%s", addr ? addr : "192.0.2.1");
    PARAM("REQUEST_METHOD=%s", method ? method : "GET");
    PARAM("%s", "HTTP_HOST=app.test");
    r->envp[n] = NULL;
#undef PARAM
    const char *bad = request_view_init(&r->view, r->envp);
    UNIT_CHECK(bad == NULL, "request should be valid: %s", bad ? bad : "");
}

static void key_of(const struct rule *rule, struct cache_scratch *s, struct req *r,
                   struct cache_key *k)
{
    cache_key_build(rule, &r->view, s, k);
}

static int same(const struct cache_key *a, const struct cache_key *b)
{
    return memcmp(a->digest, b->digest, sizeof(a->digest)) == 0;
}

/* An auth answer with status and userId (NULL: absent). */
static struct auth_result answer(const struct rule *rule, int status, const char *user,
                                 const char *cache_control)
{
    struct auth_result res;
    memset(&res, 0, sizeof(res));
    res.status = status;
    for (size_t i = 0; i < rule->nwanted; i++)
        if (strcmp(rule->wanted[i], "userId") == 0)
            res.values[i] = user;
    res.values[WANTED_CACHE_CONTROL] = cache_control;
    res.body = status == 401 ? "nope" : "";
    res.body_len = strlen(res.body);
    return res;
}

static const char *user_of(const struct rule *rule, const struct auth_result *res)
{
    for (size_t i = 0; i < rule->nwanted; i++)
        if (strcmp(rule->wanted[i], "userId") == 0)
            return res->values[i];
    return NULL;
}

static void test_full_key_covers_every_input(void)
{
    struct config *cfg = load("{ ttl = 30; }");
    const struct rule *rule = rule_of(cfg);
    struct cache_scratch *s = cache_scratch_new();
    struct req base, other;
    struct cache_key kb, ko;
    make_req(&base, "REQUEST_URI=/a?x=1", "Bearer a", "c=1", NULL, NULL);
    key_of(rule, s, &base, &kb);

    make_req(&other, "REQUEST_URI=/a?x=1", "Bearer a", "c=1", NULL, NULL);
    key_of(rule, s, &other, &ko);
    UNIT_CHECK(same(&kb, &ko), "the same request must give the same key");

    const struct {
        const char *uri, *auth, *cookie, *addr, *method, *what;
    } variants[] = {
        {"REQUEST_URI=/b?x=1", "Bearer a", "c=1", NULL, NULL, "path"},
        {"REQUEST_URI=/a?x=2", "Bearer a", "c=1", NULL, NULL, "query"},
        {"REQUEST_URI=/a?x=1", "Bearer b", "c=1", NULL, NULL, "Authorization"},
        {"REQUEST_URI=/a?x=1", NULL, "c=1", NULL, NULL, "absent Authorization"},
        {"REQUEST_URI=/a?x=1", "Bearer a", "c=2", NULL, NULL, "Cookie"},
        {"REQUEST_URI=/a?x=1", "Bearer a", NULL, NULL, NULL, "absent Cookie"},
        {"REQUEST_URI=/a?x=1", "Bearer a", "c=1", "192.0.2.2", NULL, "client address"},
        {"REQUEST_URI=/a?x=1", "Bearer a", "c=1", NULL, "POST", "method"},
        /* Moving bytes between fields must not give the same key. */
        {"REQUEST_URI=/a?x=1", "Bearer ac=1", "", NULL, NULL, "field boundaries"},
    };
    for (size_t i = 0; i < UNIT_N(variants); i++) {
        make_req(&other, variants[i].uri, variants[i].auth, variants[i].cookie, variants[i].addr,
                 variants[i].method);
        key_of(rule, s, &other, &ko);
        UNIT_CHECK(!same(&kb, &ko), "a different %s must give a different key", variants[i].what);
    }
    cache_scratch_free(s);
    unload(cfg);
}

static void test_narrowed_key(void)
{
    struct config *cfg = load("{ ttl = 30; key = ( \"Authorization\" ); }");
    const struct rule *rule = rule_of(cfg);
    struct cache_scratch *s = cache_scratch_new();
    struct req a1, a2, b;
    struct cache_key k1, k2, kb;
    make_req(&a1, "REQUEST_URI=/a", "Bearer a", "c=1", NULL, NULL);
    make_req(&a2, "REQUEST_URI=/other?q", "Bearer a", "c=2", "192.0.2.9", "POST");
    make_req(&b, "REQUEST_URI=/a", "Bearer b", "c=1", NULL, NULL);
    key_of(rule, s, &a1, &k1);
    key_of(rule, s, &a2, &k2);
    key_of(rule, s, &b, &kb);
    UNIT_CHECK(same(&k1, &k2), "only Authorization counts in a narrowed key");
    UNIT_CHECK(!same(&k1, &kb), "a different credential must give a different key");
    cache_scratch_free(s);
    unload(cfg);
}

static void test_no_cross_identity_answers(void)
{
    struct config *cfg = load("{ ttl = 30; key = ( \"Authorization\" ); }");
    const struct rule *rule = rule_of(cfg);
    struct cache *c = cache_for(rule);
    struct cache_scratch *s = cache_scratch_new();
    struct req alice, bob;
    struct cache_key ka, kb;
    struct auth_result res;
    make_req(&alice, "REQUEST_URI=/a", "Bearer alice", NULL, NULL, NULL);
    make_req(&bob, "REQUEST_URI=/a", "Bearer bob", NULL, NULL, NULL);
    key_of(rule, s, &alice, &ka);
    key_of(rule, s, &bob, &kb);

    UNIT_INT_EQ(cache_lookup(c, rule, &ka, s, &res, 100), LOOKUP_LEADER);
    struct auth_result a = answer(rule, 200, "alice-id", NULL);
    cache_fill(c, rule, &ka, s, AUTH_OK, &a);

    UNIT_INT_EQ(cache_lookup(c, rule, &kb, s, &res, 100), LOOKUP_LEADER);
    struct auth_result b = answer(rule, 200, "bob-id", NULL);
    cache_fill(c, rule, &kb, s, AUTH_OK, &b);

    UNIT_INT_EQ(cache_lookup(c, rule, &ka, s, &res, 100), LOOKUP_HIT);
    UNIT_INT_EQ(res.status, 200);
    UNIT_STR_EQ(user_of(rule, &res), "alice-id");
    UNIT_INT_EQ(cache_lookup(c, rule, &kb, s, &res, 100), LOOKUP_HIT);
    UNIT_STR_EQ(user_of(rule, &res), "bob-id");
    cache_scratch_free(s);
    unload(cfg);
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&t, &t) != 0)
        ;
}

/* Fills one answer for a fresh key and tells whether the next lookup is a hit. */
static int cached_after(const struct rule *rule, const char *auth, enum auth_status bs,
                        struct auth_result a, long wait_before_lookup_ms)
{
    struct cache_scratch *s = cache_scratch_new();
    struct req r;
    struct cache_key k;
    struct auth_result res;
    make_req(&r, "REQUEST_URI=/a", auth, NULL, NULL, NULL);
    key_of(rule, s, &r, &k);
    int leader = cache_lookup(cache_for(rule), rule, &k, s, &res, 100) == LOOKUP_LEADER;
    UNIT_CHECK(leader, "a new key must make the caller the leader");
    cache_fill(cache_for(rule), rule, &k, s, bs, &a);
    if (wait_before_lookup_ms)
        sleep_ms(wait_before_lookup_ms);
    int hit = cache_lookup(cache_for(rule), rule, &k, s, &res, 100) == LOOKUP_HIT;
    if (!hit) /* complete the pending entry the lookup just created */
        cache_fill(cache_for(rule), rule, &k, s, AUTH_FAILED, &a);
    cache_scratch_free(s);
    return hit;
}

static void test_lifetimes(void)
{
    struct config *cfg = load("{ ttl = 0.05; negativeTtl = 30; }");
    const struct rule *rule = rule_of(cfg);
    UNIT_CHECK(cached_after(rule, "t1", AUTH_OK, answer(rule, 200, "u", NULL), 0),
               "a 200 is cached");
    UNIT_CHECK(!cached_after(rule, "t2", AUTH_OK, answer(rule, 200, "u", NULL), 120),
               "a 200 expires after ttl");
    UNIT_CHECK(cached_after(rule, "t3", AUTH_OK, answer(rule, 401, NULL, NULL), 0),
               "a 401 is cached for negativeTtl");
    UNIT_CHECK(!cached_after(rule, "t4", AUTH_OK, answer(rule, 500, NULL, NULL), 0),
               "a 500 is never cached");
    UNIT_CHECK(!cached_after(rule, "t5", AUTH_FAILED, answer(rule, 0, NULL, NULL), 0),
               "a failed call is never cached");
    UNIT_CHECK(!cached_after(rule, "t6", AUTH_OK, answer(rule, 200, "u", "no-store"), 0),
               "Cache-Control: no-store is honoured");
    UNIT_CHECK(!cached_after(rule, "t7", AUTH_OK, answer(rule, 200, "u", "private, No-Cache"), 0),
               "Cache-Control: no-cache is honoured");
    UNIT_CHECK(!cached_after(rule, "t8", AUTH_OK, answer(rule, 200, "u", "max-age=0"), 0),
               "Cache-Control: max-age=0 is honoured");
    UNIT_CHECK(cached_after(rule, "t9", AUTH_OK, answer(rule, 200, "u", "max-age=60"), 0),
               "a longer max-age keeps ttl");
    unload(cfg);

    cfg = load("{ ttl = 30; }");
    rule = rule_of(cfg);
    UNIT_CHECK(!cached_after(rule, "t1", AUTH_OK, answer(rule, 403, NULL, NULL), 0),
               "denials are not cached without negativeTtl");
    unload(cfg);
}

static void test_denial_keeps_body(void)
{
    struct config *cfg = load("{ ttl = 30; negativeTtl = 30; }");
    const struct rule *rule = rule_of(cfg);
    struct cache_scratch *s = cache_scratch_new();
    struct req r;
    struct cache_key k;
    struct auth_result res;
    make_req(&r, "REQUEST_URI=/a", "Bearer x", NULL, NULL, NULL);
    key_of(rule, s, &r, &k);
    cache_lookup(cache_for(rule), rule, &k, s, &res, 100);
    struct auth_result a = answer(rule, 401, NULL, NULL);
    a.values[WANTED_WWW_AUTHENTICATE] = "Bearer realm=\"t\"";
    cache_fill(cache_for(rule), rule, &k, s, AUTH_OK, &a);
    UNIT_INT_EQ(cache_lookup(cache_for(rule), rule, &k, s, &res, 100), LOOKUP_HIT);
    UNIT_INT_EQ(res.status, 401);
    UNIT_STR_EQ(res.values[WANTED_WWW_AUTHENTICATE], "Bearer realm=\"t\"");
    UNIT_INT_EQ(res.body_len, 4);
    UNIT_CHECK(memcmp(res.body, "nope", 4) == 0, "the body is kept");
    cache_scratch_free(s);
    unload(cfg);
}

/* Asks for n distinct credentials, each answered 200 and filled in. */
static void fill_tokens(const struct rule *rule, int n)
{
    struct cache_scratch *s = cache_scratch_new();
    for (int i = 0; i < n; i++) {
        char token[32];
        snprintf(token, sizeof(token), "Bearer t%d", i);
        struct req r;
        struct cache_key k;
        struct auth_result res;
        make_req(&r, "REQUEST_URI=/a", token, NULL, NULL, NULL);
        key_of(rule, s, &r, &k);
        if (cache_lookup(cache_for(rule), rule, &k, s, &res, 100) == LOOKUP_LEADER) {
            struct auth_result a = answer(rule, 200, "u", NULL);
            cache_fill(cache_for(rule), rule, &k, s, AUTH_OK, &a);
        }
    }
    cache_scratch_free(s);
}

static void test_eviction_bounds_memory(void)
{
    struct cache_stats before, after;
    cache_stats(&before);
    struct config *cfg = load("{ ttl = 30; maxEntries = 64; key = ( \"Authorization\" ); }");
    fill_tokens(rule_of(cfg), 2000);
    cache_stats(&after);
    /* maxEntries, and at most one more for each of the 64 shards that was empty. */
    UNIT_CHECK(after.entries - before.entries <= 64 + 64, "at most maxEntries entries, got %llu",
               (unsigned long long)(after.entries - before.entries));
    UNIT_CHECK(after.evictions - before.evictions >= 2000 - 128, "evictions counted: %llu",
               (unsigned long long)(after.evictions - before.evictions));
    unload(cfg);
    cache_stats(&after);
    UNIT_INT_EQ(after.entries, before.entries);
}

/* A cache of N entries keeps N distinct keys: no shard runs out of room before the total. */
static void test_capacity_is_the_total(void)
{
    struct cache_stats before, after;
    cache_stats(&before);
    struct config *cfg = load("{ ttl = 30; maxEntries = 6400; key = ( \"Authorization\" ); }");
    fill_tokens(rule_of(cfg), 6400);
    cache_stats(&after);
    UNIT_INT_EQ(after.evictions - before.evictions, 0);
    UNIT_INT_EQ(after.entries - before.entries, 6400);
    unload(cfg);
}

/* While a leader asks the service, a second lookup for the same key waits for its answer. */
struct waiter {
    const struct rule *rule;
    struct cache_key key;
    int result;
    char user[32];
};

static void *wait_for_answer(void *arg)
{
    struct waiter *w = arg;
    struct cache_scratch *s = cache_scratch_new();
    struct auth_result res;
    w->result = cache_lookup(cache_for(w->rule), w->rule, &w->key, s, &res, 5000);
    const char *u = w->result == LOOKUP_HIT ? user_of(w->rule, &res) : NULL;
    snprintf(w->user, sizeof(w->user), "%s", u ? u : "");
    cache_scratch_free(s);
    return NULL;
}

static void test_concurrent_misses_ask_once(void)
{
    struct config *cfg = load("{ ttl = 30; }");
    const struct rule *rule = rule_of(cfg);
    struct cache_scratch *s = cache_scratch_new();
    struct req r;
    struct waiter w = {.rule = rule};
    struct auth_result res;
    make_req(&r, "REQUEST_URI=/a", "Bearer same", NULL, NULL, NULL);
    key_of(rule, s, &r, &w.key);
    UNIT_INT_EQ(cache_lookup(cache_for(rule), rule, &w.key, s, &res, 100), LOOKUP_LEADER);
    pthread_t t;
    pthread_create(&t, NULL, wait_for_answer, &w);
    sleep_ms(50); /* let it queue behind the pending answer */
    struct auth_result a = answer(rule, 200, "shared", NULL);
    cache_fill(cache_for(rule), rule, &w.key, s, AUTH_OK, &a);
    pthread_join(t, NULL);
    UNIT_INT_EQ(w.result, LOOKUP_HIT);
    UNIT_STR_EQ(w.user, "shared");
    cache_scratch_free(s);
    unload(cfg);
}

static void test_config_errors(void)
{
    const char *bad[] = {
        "{ negativeTtl = 5; }", /* ttl is required */
        "{ ttl = 0; }",         /* ttl must be positive */
        "{ ttl = 100000; }",    /* more than a day */
        "{ ttl = 5; maxEntries = 0; }",
        "{ ttl = 5; key = (); }",
        "{ ttl = 5; key = ( \"Bad Header\" ); }",
        /* The auth service never sees X-Session: callers with other sessions would share. */
        "{ ttl = 5; key = ( \"X-Session\" ); }",
        "{ ttl = 5; key = ( \"Authorization\", \"x-session\" ); }",
        "{ ttl = 5; size = 3; }", /* unknown setting */
        "30",
    };
    for (size_t i = 0; i < UNIT_N(bad); i++) {
        char text[1024], err[512];
        snprintf(text, sizeof(text),
                 "middlewares = ( { name = \"m\"; type = \"jwt\"; paths = ( \"/\" );\n"
                 "  rule = { url = \"http://127.0.0.1:9/auth\";\n    cache = %s; }; } );\n",
                 bad[i]);
        struct config *cfg = NULL;
        const char *msg = config_load_string(text, "t.conf", &cfg, err, sizeof(err));
        UNIT_CHECK(msg != NULL && strstr(msg, "t.conf:3: middlewares[0].rule.cache") != NULL,
                   "cache = %s should be refused naming the setting, got: %s", bad[i],
                   msg ? msg : "(accepted)");
        unload(cfg);
    }
}

/* A key header is fine once the auth service sees it: forwarded, or required (hence sent). */
static void test_key_of_forwarded_headers(void)
{
    const char *rules[] = {
        "forwardHeaders = ( \"X-Session\" ); cache = { ttl = 5; key = ( \"x-session\" ); };",
        "requiredHeaders = ( \"X-Session\" ); cache = { ttl = 5; key = ( \"X-Session\" ); };",
        "cache = { ttl = 5; key = ( \"Cookie\" ); };",
    };
    for (size_t i = 0; i < UNIT_N(rules); i++) {
        char text[1024], err[512];
        snprintf(text, sizeof(text),
                 "middlewares = ( { name = \"m\"; type = \"jwt\"; paths = ( \"/\" );\n"
                 "  rule = { url = \"http://127.0.0.1:9/auth\"; %s }; } );\n",
                 rules[i]);
        struct config *cfg = NULL;
        const char *msg = config_load_string(text, "t.conf", &cfg, err, sizeof(err));
        UNIT_CHECK(msg == NULL, "%s: %s", rules[i], msg ? msg : "");
        config_free(cfg);
    }
}

int main(void)
{
    static const struct unit_case keys[] = {UNIT_CASE(test_full_key_covers_every_input),
                                            UNIT_CASE(test_narrowed_key),
                                            UNIT_CASE(test_no_cross_identity_answers), UNIT_END};
    static const struct unit_case store[] = {UNIT_CASE(test_lifetimes),
                                             UNIT_CASE(test_denial_keeps_body),
                                             UNIT_CASE(test_eviction_bounds_memory),
                                             UNIT_CASE(test_capacity_is_the_total),
                                             UNIT_CASE(test_concurrent_misses_ask_once),
                                             UNIT_CASE(test_config_errors),
                                             UNIT_CASE(test_key_of_forwarded_headers),
                                             UNIT_END};
    static const struct unit_suite suites[] = {{"keys", keys}, {"store", store}, {NULL, NULL}};
    return unit_main(suites);
}
