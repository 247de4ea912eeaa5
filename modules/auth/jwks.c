/* jwks.c - see jwks.h. */
#include "auto_config.h"

#include "auth/jwks.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/httpsyntax.h"
#include "base/log.h"

/* Key files are small; a larger one is a mistake, not a key. */
#define MAX_KEY_FILE (1024 * 1024)

struct jwks_source {
    const struct rule *rule;
    unsigned algs;
    /* The files' contents, kept for every rebuild with a fetched document. */
    char *jwks_file, *pem, *secret;
    size_t jwks_file_len, pem_len, secret_len;

    pthread_mutex_t lock;
    pthread_cond_t wake;      /* the fetcher: stop, or fetch now */
    pthread_cond_t published; /* waiters for a refetch */
    struct jwt_keyset *current;
    unsigned long generation; /* sets published */
    unsigned long fetches;
    bool stop, fetch_now, fetching;
    long long last_fetch_ms; /* monotonic, when the last fetch started; 0: never */
    bool has_thread;
    pthread_t thread;
};

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- reading and building ---- */

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    char *data = malloc(MAX_KEY_FILE + 1);
    size_t n = data ? fread(data, 1, MAX_KEY_FILE + 1, f) : 0;
    bool bad = ferror(f) || n > MAX_KEY_FILE;
    fclose(f);
    if (!data || bad) {
        free(data);
        snprintf(err, errlen, "cannot read '%s': %s", path,
                 data ? "larger than 1 MB, or unreadable" : "out of memory");
        return NULL;
    }
    data[n] = '\0';
    *len = n;
    return data;
}

unsigned jwks_rule_algs(const struct rule *r, char *err, size_t errlen)
{
    const struct rule_jwt *j = &r->jwt;
    if (j->nalgorithms == 0)
        return JWT_ALGS_ALL;
    unsigned algs = 0;
    for (size_t i = 0; i < j->nalgorithms; i++) {
        int a = jwt_alg_parse(j->algorithms[i], strlen(j->algorithms[i]));
        if (a < 0) {
            snprintf(err, errlen,
                     "%s.algorithms: '%s' is not one of RS256/384/512, PS256/384/512, "
                     "ES256/384/512, EdDSA, HS256/384/512",
                     j->where, j->algorithms[i]);
            return 0;
        }
        algs |= JWT_ALG_BIT(a);
    }
    return algs;
}

static void note_skipped(void *arg, const char *msg)
{
    log_warn("%s: a key is skipped: %s", (const char *)arg, msg);
}

/* A set from the files and (if given) a fetched document; NULL with err. */
static struct jwt_keyset *build(const struct jwks_source *s, const char *doc, size_t doclen,
                                char *err, size_t errlen)
{
    const struct rule_jwt *j = &s->rule->jwt;
    struct jwt_keyset_builder *b = jwt_keyset_builder_new(s->algs, note_skipped, j->where);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char why[256];
    const char *bad = NULL, *setting = NULL;
    if (s->jwks_file &&
        (bad = jwt_keyset_add_jwks(b, s->jwks_file, s->jwks_file_len, why, sizeof(why))))
        setting = "jwksFile";
    else if (s->pem && (bad = jwt_keyset_add_pem(b, s->pem, s->pem_len, NULL, 0, why, sizeof(why))))
        setting = "publicKey";
    else if (s->secret &&
             (bad = jwt_keyset_add_secret(b, s->secret, s->secret_len, NULL, 0, why, sizeof(why))))
        setting = "secretFile";
    else if (doc && (bad = jwt_keyset_add_jwks(b, doc, doclen, why, sizeof(why))))
        setting = "jwksUrl";
    if (bad) {
        jwt_keyset_builder_free(b);
        snprintf(err, errlen, "%s.%s: %s", j->where, setting, why);
        return NULL;
    }
    struct jwt_keyset *set = jwt_keyset_build(b, why, sizeof(why));
    if (!set)
        snprintf(err, errlen, "%s: no usable key for the allowed algorithms: %s", j->where, why);
    return set;
}

/* Reads the rule's files into s; false with err. */
static bool read_files(struct jwks_source *s, char *err, size_t errlen)
{
    const struct rule_jwt *j = &s->rule->jwt;
    char why[512];
    if (j->jwks_file &&
        !(s->jwks_file = read_file(j->jwks_file, &s->jwks_file_len, why, sizeof(why)))) {
        snprintf(err, errlen, "%s.jwksFile: %s", j->where, why);
        return false;
    }
    if (j->public_key && !(s->pem = read_file(j->public_key, &s->pem_len, why, sizeof(why)))) {
        snprintf(err, errlen, "%s.publicKey: %s", j->where, why);
        return false;
    }
    if (j->secret_file &&
        !(s->secret = read_file(j->secret_file, &s->secret_len, why, sizeof(why)))) {
        snprintf(err, errlen, "%s.secretFile: %s", j->where, why);
        return false;
    }
    /* The raw bytes of the file, but for one line end that an editor adds. */
    if (s->secret && s->secret_len > 0 && s->secret[s->secret_len - 1] == '\n')
        s->secret_len -= s->secret_len > 1 && s->secret[s->secret_len - 2] == '\r' ? 2 : 1;
    return true;
}

static bool has_files(const struct rule_jwt *j)
{
    return j->jwks_file || j->public_key || j->secret_file;
}

static void free_contents(struct jwks_source *s)
{
    free(s->jwks_file);
    free(s->pem);
    if (s->secret)
        memset(s->secret, 0, s->secret_len);
    free(s->secret);
}

const char *jwks_check(const struct rule *r, char *err, size_t errlen)
{
    struct jwks_source s = {.rule = r};
    if (!(s.algs = jwks_rule_algs(r, err, errlen)))
        return err;
    const char *rc = NULL;
    if (has_files(&r->jwt)) {
        struct jwt_keyset *set =
            read_files(&s, err, errlen) ? build(&s, NULL, 0, err, errlen) : NULL;
        rc = set ? NULL : err;
        jwt_keyset_unref(set);
    }
    free_contents(&s);
    return rc;
}

/* ---- publishing ---- */

static void publish(struct jwks_source *s, struct jwt_keyset *set)
{
    pthread_mutex_lock(&s->lock);
    struct jwt_keyset *old = s->current;
    s->current = set;
    s->generation++;
    pthread_cond_broadcast(&s->published);
    pthread_mutex_unlock(&s->lock);
    jwt_keyset_unref(old);
}

struct jwt_keyset *jwks_acquire(struct jwks_source *s)
{
    pthread_mutex_lock(&s->lock);
    struct jwt_keyset *set = s->current ? jwt_keyset_ref(s->current) : NULL;
    pthread_mutex_unlock(&s->lock);
    return set;
}

unsigned long jwks_fetches(const struct jwks_source *s)
{
    return __atomic_load_n(&s->fetches, __ATOMIC_RELAXED);
}

/* ---- fetching ---- */

struct answer {
    struct buf body;
    char *mem;
    long max_age; /* -1: none */
    const struct jwks_source *source;
};

/* A stop (SIGHUP or SIGTERM freeing the policy) need not wait for a slow identity provider. */
static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    const struct answer *an = ud;
    return __atomic_load_n(&an->source->stop, __ATOMIC_RELAXED) ? 1 : 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct answer *a = ud;
    return buf_add(&a->body, data, size * n) ? size * n : 0; /* too large: abort */
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    struct answer *a = ud;
    size_t len = size * n;
    if (len > 14 && http_name_eq(data, 14, "Cache-Control:", 14)) {
        for (size_t i = 14; i + 8 <= len; i++) {
            if (http_name_eq(data + i, 8, "max-age=", 8)) {
                long v = 0;
                for (size_t k = i + 8; k < len && data[k] >= '0' && data[k] <= '9' && v < 1e7; k++)
                    v = v * 10 + (data[k] - '0');
                a->max_age = v;
                break;
            }
        }
    }
    return len;
}

static bool set_options(CURL *c, const struct rule *r, struct answer *a, char *errbuf)
{
    const struct rule_jwt *j = &r->jwt;
    return curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_PROXY, "") == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_URL, j->jwks_url) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r->connect_timeout_ms) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, r->tls_verify ? 1L : 0L) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, r->tls_verify ? 2L : 0L) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_CAINFO, r->tls_ca_file) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_SSLCERT, r->tls_client_cert) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_SSLKEY, r->tls_client_key) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_USERAGENT, "fcgi-authorizer/" PACKAGE_VERSION) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_WRITEDATA, a) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_HEADERDATA, a) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_XFERINFODATA, a) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) == CURLE_OK;
}

/* One fetch: a new set published, or the last good one kept. Returns the answer's max-age
 * in seconds, or -1. */
static long fetch(struct jwks_source *s)
{
    const struct rule_jwt *j = &s->rule->jwt;
    __atomic_add_fetch(&s->fetches, 1, __ATOMIC_RELAXED);
    struct answer a = {.max_age = -1, .mem = malloc(JWKS_MAX_DOCUMENT + 1), .source = s};
    CURL *c = curl_easy_init();
    char errbuf[CURL_ERROR_SIZE] = "";
    const char *why = NULL;
    long status = 0;
    if (!a.mem || !c) {
        why = "out of memory";
    } else {
        buf_init(&a.body, a.mem, JWKS_MAX_DOCUMENT + 1);
        if (!set_options(c, s->rule, &a, errbuf))
            why = "libcurl refused an option";
        else if (curl_easy_perform(c) != CURLE_OK)
            why = buf_ok(&a.body) ? (*errbuf ? errbuf : "the fetch failed") : "answer too large";
        else if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200)
            why = "the answer's status is not 200";
    }
    if (!why) {
        char err[512];
        struct jwt_keyset *set = build(s, a.body.data, a.body.len, err, sizeof(err));
        if (set) {
            publish(s, set);
            log_info("%s.jwksUrl: %zu keys", j->where, jwt_keyset_count(set));
        } else {
            log_warn("%s; keeping the keys it had", err);
        }
    } else {
        log_warn("%s.jwksUrl: %s (status %ld); keeping the keys it had", j->where, why, status);
    }
    if (c)
        curl_easy_cleanup(c);
    free(a.mem);
    return a.max_age;
}

static void *fetcher(void *arg)
{
    struct jwks_source *s = arg;
    const struct rule_jwt *j = &s->rule->jwt;
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        s->fetching = true;
        s->fetch_now = false;
        s->last_fetch_ms = now_ms();
        pthread_mutex_unlock(&s->lock);
        long max_age = fetch(s);
        pthread_mutex_lock(&s->lock);
        s->fetching = false;
        pthread_cond_broadcast(&s->published); /* waiters learn the fetch is over */
        long wait = j->refresh_ms;
        if (max_age >= 0 && max_age * 1000 < wait)
            wait = max_age * 1000;
        if (wait < j->min_refresh_ms)
            wait = j->min_refresh_ms;
        long long next = s->last_fetch_ms + wait;
        while (!s->stop && !s->fetch_now && now_ms() < next) {
            struct timespec until = {.tv_sec = (time_t)(next / 1000),
                                     .tv_nsec = (long)(next % 1000) * 1000000};
            pthread_cond_timedwait(&s->wake, &s->lock, &until);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

bool jwks_refresh_for_unknown_kid(struct jwks_source *s, const struct jwt_keyset *seen,
                                  long wait_ms)
{
    if (!s->has_thread)
        return false;
    pthread_mutex_lock(&s->lock);
    unsigned long gen = s->generation;
    bool newer = s->current != seen;
    if (!newer && !s->fetching && now_ms() - s->last_fetch_ms >= s->rule->jwt.min_refresh_ms) {
        s->fetch_now = true;
        pthread_cond_signal(&s->wake);
    }
    long long until_ms = now_ms() + wait_ms;
    while (!newer && (s->fetching || s->fetch_now) && s->generation == gen) {
        long long t = until_ms;
        struct timespec until = {.tv_sec = (time_t)(t / 1000),
                                 .tv_nsec = (long)(t % 1000) * 1000000};
        if (pthread_cond_timedwait(&s->published, &s->lock, &until) == ETIMEDOUT)
            break;
    }
    newer = newer || s->generation != gen;
    pthread_mutex_unlock(&s->lock);
    return newer;
}

/* ---- lifecycle ---- */

struct jwks_source *jwks_source_new(const struct rule *r, char *err, size_t errlen)
{
    struct jwks_source *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->rule = r;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attr);
    pthread_cond_init(&s->published, &attr);
    pthread_condattr_destroy(&attr);
    if (!(s->algs = jwks_rule_algs(r, err, errlen)) || !read_files(s, err, errlen))
        goto fail;
    if (has_files(&r->jwt)) {
        struct jwt_keyset *set = build(s, NULL, 0, err, errlen);
        if (!set)
            goto fail;
        s->current = set;
    }
    if (r->jwt.jwks_url) {
        if (pthread_create(&s->thread, NULL, fetcher, s) != 0) {
            snprintf(err, errlen, "%s: cannot start the jwksUrl fetcher", r->jwt.where);
            goto fail;
        }
        s->has_thread = true;
    }
    return s;
fail:
    jwks_source_free(s);
    return NULL;
}

void jwks_source_free(struct jwks_source *s)
{
    if (!s)
        return;
    if (s->has_thread) {
        pthread_mutex_lock(&s->lock);
        __atomic_store_n(&s->stop, true, __ATOMIC_RELAXED);
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
    }
    jwt_keyset_unref(s->current);
    free_contents(s);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->published);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
