/* cache.c - see cache.h. */
#include "auth/cache.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/httpsyntax.h"

#define SHARDS 64
#define NO_VALUE UINT32_MAX

/* Room to unpack one cached answer: every wanted value at its largest, and a denial body. */
#define SCRATCH_SPACE                                                                              \
    (sizeof(int32_t) + (CONFIG_MAX_WANTED + 1) * (sizeof(uint32_t) + HTTP_MAX_VALUE + 1) +         \
     AUTH_MAX_BODY_KEPT)

struct entry {
    struct cache_key key;
    struct entry *next; /* hash chain */
    int64_t expires_ms;
    int status;      /* 0 while the leader asks the service */
    bool referenced; /* CLOCK: used since the hand last passed */
    size_t slot;     /* index in the shard's ring */
    unsigned char *blob;
    size_t blob_len;
};

struct shard {
    pthread_mutex_t lock;
    pthread_cond_t answered;
    struct entry **buckets;
    size_t nbuckets; /* a power of two */
    struct entry **ring;
    size_t capacity, count, hand;
};

struct cache {
    struct shard shards[SHARDS];
    size_t max_entries;
    _Atomic size_t entries; /* in all shards */
};

struct cache_scratch {
    EVP_MD_CTX *md;
    unsigned char buf[SCRATCH_SPACE]; /* an answer unpacked from the cache */
    char pack[SCRATCH_SPACE];         /* an answer being packed into it */
};

static _Atomic uint64_t stat_hits, stat_misses, stat_evictions, stat_entries;

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- lifecycle ---- */

struct cache_scratch *cache_scratch_new(void)
{
    struct cache_scratch *s = malloc(sizeof(*s));
    if (!s)
        return NULL;
    s->md = EVP_MD_CTX_new();
    if (!s->md) {
        free(s);
        return NULL;
    }
    return s;
}

void cache_scratch_free(struct cache_scratch *s)
{
    if (!s)
        return;
    EVP_MD_CTX_free(s->md);
    free(s);
}

struct cache *cache_new(const struct rule_cache *settings)
{
    struct cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    /* Keys spread evenly but not exactly: a shard may hold half again its share (its ring
     * costs a pointer a slot), while maxEntries bounds the total. */
    c->max_entries = settings->max_entries;
    size_t per_shard = (settings->max_entries + SHARDS - 1) / SHARDS;
    per_shard += per_shard / 2 + 8;
    size_t nbuckets = 16;
    while (nbuckets < per_shard)
        nbuckets <<= 1;
    /* Waits are bounded on the monotonic clock, as TTLs are: a clock step must not stretch them. */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    for (size_t i = 0; i < SHARDS; i++) {
        struct shard *sh = &c->shards[i];
        pthread_mutex_init(&sh->lock, NULL);
        pthread_cond_init(&sh->answered, &attr);
        sh->capacity = per_shard;
        sh->nbuckets = nbuckets;
        sh->buckets = calloc(nbuckets, sizeof(*sh->buckets));
        sh->ring = calloc(per_shard, sizeof(*sh->ring));
        if (!sh->buckets || !sh->ring) {
            pthread_condattr_destroy(&attr);
            cache_free(c);
            return NULL;
        }
    }
    pthread_condattr_destroy(&attr);
    return c;
}

void cache_free(struct cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < SHARDS; i++) {
        struct shard *sh = &c->shards[i];
        for (size_t k = 0; sh->ring && k < sh->count; k++) {
            free(sh->ring[k]->blob);
            free(sh->ring[k]);
        }
        atomic_fetch_sub(&stat_entries, sh->count);
        free(sh->ring);
        free(sh->buckets);
        pthread_mutex_destroy(&sh->lock);
        pthread_cond_destroy(&sh->answered);
    }
    free(c);
}

/* ---- keys ---- */

static void feed(EVP_MD_CTX *md, const char *s)
{
    /* Length-prefixed, so that no two different inputs feed the same bytes. */
    uint32_t len = s ? (uint32_t)strlen(s) : NO_VALUE;
    EVP_DigestUpdate(md, &len, sizeof(len));
    if (s)
        EVP_DigestUpdate(md, s, len);
}

void cache_key_build(const struct rule *r, const struct request_view *req, struct cache_scratch *s,
                     struct cache_key *k)
{
    EVP_DigestInit_ex(s->md, EVP_sha256(), NULL);
    const struct client_header *headers = r->forward;
    size_t n = r->nforward;
    if (r->cache.key) {
        headers = r->cache.key;
        n = r->cache.nkey;
    } else {
        feed(s->md, req->method);
        feed(s->md, req->scheme);
        feed(s->md, req->host);
        feed(s->md, req->request_uri);
        feed(s->md, req->remote_addr);
    }
    for (size_t i = 0; i < n; i++) {
        feed(s->md, headers[i].cgi);
        feed(s->md, request_param(req->envp, headers[i].cgi));
    }
    unsigned int len = 0;
    EVP_DigestFinal_ex(s->md, k->digest, &len);
}

void cache_key_of_bytes(struct cache_scratch *s, const void *data, size_t len, struct cache_key *k)
{
    unsigned int n = 0;
    EVP_DigestInit_ex(s->md, EVP_sha256(), NULL);
    EVP_DigestUpdate(s->md, data, len);
    EVP_DigestFinal_ex(s->md, k->digest, &n);
}

static struct shard *shard_of(struct cache *c, const struct cache_key *k)
{
    return &c->shards[k->digest[0] % SHARDS];
}

static struct entry **bucket_of(struct shard *sh, const struct cache_key *k)
{
    uint64_t h;
    memcpy(&h, k->digest + 8, sizeof(h));
    return &sh->buckets[h & (sh->nbuckets - 1)];
}

static struct entry *find(struct shard *sh, const struct cache_key *k)
{
    for (struct entry *e = *bucket_of(sh, k); e; e = e->next)
        if (memcmp(e->key.digest, k->digest, sizeof(k->digest)) == 0)
            return e;
    return NULL;
}

/* Takes e out of its hash chain and the ring, and frees it. */
static void drop(struct cache *c, struct shard *sh, struct entry *e)
{
    for (struct entry **p = bucket_of(sh, &e->key); *p; p = &(*p)->next) {
        if (*p == e) {
            *p = e->next;
            break;
        }
    }
    sh->ring[e->slot] = sh->ring[--sh->count];
    sh->ring[e->slot]->slot = e->slot;
    free(e->blob);
    free(e);
    atomic_fetch_sub(&c->entries, 1);
    atomic_fetch_sub(&stat_entries, 1);
}

/* Makes room for one entry: CLOCK, skipping answers still pending. False if none can go. */
static bool make_room(struct cache *c, struct shard *sh)
{
    if (sh->count < sh->capacity && atomic_load(&c->entries) < c->max_entries)
        return true;
    if (sh->count == 0)
        return true; /* the others hold the total: this one may exceed it by one */
    for (size_t tries = 0; tries < 2 * sh->capacity + 1; tries++) {
        if (sh->hand >= sh->count)
            sh->hand = 0;
        struct entry *e = sh->ring[sh->hand];
        if (e->status != 0 && !e->referenced) {
            drop(c, sh, e);
            atomic_fetch_add(&stat_evictions, 1);
            return true;
        }
        e->referenced = false;
        sh->hand++;
    }
    return false;
}

/* A pending entry for k, whose leader is about to ask the service. */
static bool insert_pending(struct cache *c, struct shard *sh, const struct cache_key *k)
{
    if (!make_room(c, sh))
        return false;
    struct entry *e = calloc(1, sizeof(*e));
    if (!e)
        return false;
    e->key = *k;
    e->slot = sh->count;
    sh->ring[sh->count++] = e;
    struct entry **b = bucket_of(sh, k);
    e->next = *b;
    *b = e;
    atomic_fetch_add(&c->entries, 1);
    atomic_fetch_add(&stat_entries, 1);
    return true;
}

/* ---- stored answers ---- */

/*
 * Layout: status, then for each wanted header a length (NO_VALUE if absent) and its bytes,
 * then the body's length and bytes (kept for denials only). Packed in the leader's scratch
 * space, then copied into a blob of its own size.
 */
size_t cache_pack_answer(const struct rule *r, const struct auth_result *res,
                         struct cache_scratch *s, const unsigned char **out)
{
    struct buf b;
    buf_init(&b, s->pack, sizeof(s->pack));
    int32_t status = res->status;
    buf_add(&b, &status, sizeof(status));
    for (size_t i = 0; i < r->nwanted; i++) {
        uint32_t l = res->values[i] ? (uint32_t)strlen(res->values[i]) : NO_VALUE;
        buf_add(&b, &l, sizeof(l));
        if (res->values[i])
            buf_add(&b, res->values[i], l);
    }
    bool denial = outcome_of_auth_status(res->status) == OUTCOME_DENIED;
    uint32_t bl = denial ? (uint32_t)res->body_len : 0;
    buf_add(&b, &bl, sizeof(bl));
    buf_add(&b, res->body, bl);
    *out = (const unsigned char *)b.data;
    return buf_ok(&b) ? b.len : 0;
}

static unsigned char *pack(const struct rule *r, const struct auth_result *res,
                           struct cache_scratch *s, size_t *len)
{
    const unsigned char *packed;
    *len = cache_pack_answer(r, res, s, &packed);
    unsigned char *blob = *len ? malloc(*len) : NULL;
    if (blob)
        memcpy(blob, packed, *len);
    return blob;
}

static void unpack(const struct rule *r, const unsigned char *p, struct cache_scratch *s,
                   struct auth_result *res);

bool cache_unpack_answer(const struct rule *r, const unsigned char *p, size_t len,
                         struct cache_scratch *s, struct auth_result *res)
{
    /* The same walk as unpack, every length checked against what is there. */
    size_t at = 0;
    if (len < sizeof(int32_t))
        return false;
    at += sizeof(int32_t);
    for (size_t i = 0; i < r->nwanted; i++) {
        uint32_t l;
        if (len - at < sizeof(l))
            return false;
        memcpy(&l, p + at, sizeof(l));
        at += sizeof(l);
        if (l == NO_VALUE)
            continue;
        if (l > HTTP_MAX_VALUE || len - at < l || memchr(p + at, '\0', l))
            return false;
        at += l;
    }
    uint32_t bl;
    if (len - at < sizeof(bl))
        return false;
    memcpy(&bl, p + at, sizeof(bl));
    at += sizeof(bl);
    if (bl > AUTH_MAX_BODY_KEPT || len - at != bl)
        return false;
    unpack(r, p, s, res);
    /* Only what the cache keeps: an allow or a denial, never an error. */
    enum outcome o = outcome_of_auth_status(res->status);
    return o == OUTCOME_ALLOWED || o == OUTCOME_DENIED;
}

static void unpack(const struct rule *r, const unsigned char *p, struct cache_scratch *s,
                   struct auth_result *res)
{
    memset(res, 0, sizeof(*res));
    unsigned char *out = s->buf;
    int32_t status;
    memcpy(&status, p, sizeof(status));
    p += sizeof(status);
    res->status = status;
    for (size_t i = 0; i < r->nwanted; i++) {
        uint32_t l;
        memcpy(&l, p, sizeof(l));
        p += sizeof(l);
        if (l == NO_VALUE)
            continue;
        memcpy(out, p, l);
        out[l] = '\0';
        res->values[i] = (const char *)out;
        out += l + 1;
        p += l;
    }
    uint32_t bl;
    memcpy(&bl, p, sizeof(bl));
    p += sizeof(bl);
    memcpy(out, p, bl);
    res->body = (const char *)out;
    res->body_len = bl;
}

/* How long an answer may be kept, in ms; 0: not at all. */
static long lifetime(const struct rule *r, enum auth_status st, const struct auth_result *res)
{
    if (st != AUTH_OK)
        return 0;
    /* A cookie is set for one client at one moment (a refreshed session): replaying it to
     * a later request would hand out a stale or someone else's session. */
    if (res->values[WANTED_SET_COOKIE])
        return 0;
    long ttl = 0;
    switch (outcome_of_auth_status(res->status)) {
    case OUTCOME_ALLOWED:
        ttl = r->cache.ttl_ms;
        break;
    case OUTCOME_DENIED:
        ttl = r->cache.negative_ttl_ms;
        break;
    default:
        return 0; /* errors are never cached */
    }
    const char *cc = res->values[WANTED_CACHE_CONTROL];
    while (ttl > 0 && cc && *cc) {
        while (*cc == ' ' || *cc == ',')
            cc++;
        size_t n = strcspn(cc, ",");
        if (http_name_eq(cc, n, "no-store", 8) || http_name_eq(cc, n, "no-cache", 8)) {
            ttl = 0;
        } else if (n > 8 && http_name_eq(cc, 8, "max-age=", 8)) {
            long age = 0;
            for (size_t i = 8; i < n && isdigit((unsigned char)cc[i]) && age < 1000000; i++)
                age = age * 10 + (cc[i] - '0');
            if (age * 1000 < ttl)
                ttl = age * 1000;
        }
        cc += n;
    }
    return ttl;
}

long cache_lifetime(const struct rule *r, enum auth_status st, const struct auth_result *res)
{
    return lifetime(r, st, res);
}

/* ---- lookups ---- */

enum cache_lookup cache_lookup(struct cache *c, const struct rule *r, const struct cache_key *k,
                               struct cache_scratch *s, struct auth_result *res, long wait_ms)
{
    struct shard *sh = shard_of(c, k);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += wait_ms / 1000;
    deadline.tv_nsec += (wait_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }

    bool waited = false;
    pthread_mutex_lock(&sh->lock);
    for (;;) {
        struct entry *e = find(sh, k);
        if (!e) {
            /* After waiting in vain (the answer was not cacheable), ask without queueing
             * behind yet another leader. */
            bool leader = !waited && insert_pending(c, sh, k);
            pthread_mutex_unlock(&sh->lock);
            atomic_fetch_add(&stat_misses, 1);
            return leader ? LOOKUP_LEADER : LOOKUP_MISS;
        }
        if (e->status == 0) {
            /* Another worker is asking the service for this very key: wait for its answer. */
            if (pthread_cond_timedwait(&sh->answered, &sh->lock, &deadline) == ETIMEDOUT) {
                pthread_mutex_unlock(&sh->lock);
                atomic_fetch_add(&stat_misses, 1);
                return LOOKUP_MISS;
            }
            waited = true;
            continue;
        }
        if (e->expires_ms > now_ms()) {
            e->referenced = true;
            unpack(r, e->blob, s, res);
            pthread_mutex_unlock(&sh->lock);
            atomic_fetch_add(&stat_hits, 1);
            return LOOKUP_HIT;
        }
        /* Expired: this worker asks again, and others wait for it. */
        free(e->blob);
        e->blob = NULL;
        e->status = 0;
        pthread_mutex_unlock(&sh->lock);
        atomic_fetch_add(&stat_misses, 1);
        return LOOKUP_LEADER;
    }
}

static void fill(struct cache *c, const struct rule *r, const struct cache_key *k,
                 struct cache_scratch *s, const struct auth_result *res, long ttl);

void cache_fill(struct cache *c, const struct rule *r, const struct cache_key *k,
                struct cache_scratch *s, enum auth_status st, const struct auth_result *res)
{
    fill(c, r, k, s, res, lifetime(r, st, res));
}

void cache_fill_at_most(struct cache *c, const struct rule *r, const struct cache_key *k,
                        struct cache_scratch *s, const struct auth_result *res, long max_ms)
{
    long ttl = lifetime(r, AUTH_OK, res);
    fill(c, r, k, s, res, ttl < max_ms ? ttl : max_ms);
}

static void fill(struct cache *c, const struct rule *r, const struct cache_key *k,
                 struct cache_scratch *s, const struct auth_result *res, long ttl)
{
    struct shard *sh = shard_of(c, k);
    size_t len = 0;
    unsigned char *blob = ttl > 0 ? pack(r, res, s, &len) : NULL;

    pthread_mutex_lock(&sh->lock);
    struct entry *e = find(sh, k);
    if (e && e->status == 0) {
        if (blob) {
            e->blob = blob;
            e->blob_len = len;
            e->status = res->status;
            e->expires_ms = now_ms() + ttl;
            e->referenced = true;
            blob = NULL;
        } else {
            drop(c, sh, e); /* waiters find nothing and ask the service themselves */
        }
    }
    pthread_cond_broadcast(&sh->answered);
    pthread_mutex_unlock(&sh->lock);
    free(blob);
}

void cache_stats(struct cache_stats *out)
{
    out->hits = atomic_load(&stat_hits);
    out->misses = atomic_load(&stat_misses);
    out->evictions = atomic_load(&stat_evictions);
    out->entries = atomic_load(&stat_entries);
}
