/* basicauth.c - see basicauth.h. */
#include "auth/basicauth.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/basicheader.h"
#include "auth/cache.h"
#include "auth/hashgate.h"
#include "auth/htpasswd.h"
#include "auth/worker.h"
#include "base/log.h"

/* A table and the requests using it: freed with the last of them. */
struct table_ref {
    struct htpasswd_table *table;
    _Atomic unsigned refs;
};

struct basic_authenticator {
    struct authenticator base; /* first: the interface's pointer is this one's */
    const struct rule *rule;
    size_t user_index; /* rule.wanted's "user", or 0 if nothing exports it */
    struct hashgate *gate;
    char *www;
    pthread_mutex_t lock; /* guards current */
    struct table_ref *current;
    _Atomic long long checked_ms; /* when the file was last looked at */
    _Atomic bool reload_failed;   /* said once until a reload works again */
};

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void unref(struct table_ref *r)
{
    if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
        htpasswd_table_free(r->table);
        free(r);
    }
}

static struct table_ref *acquire(struct basic_authenticator *ba)
{
    pthread_mutex_lock(&ba->lock);
    struct table_ref *r = ba->current;
    atomic_fetch_add(&r->refs, 1);
    pthread_mutex_unlock(&ba->lock);
    return r;
}

static struct table_ref *wrap(struct htpasswd_table *t)
{
    struct table_ref *r = calloc(1, sizeof(*r));
    if (!r) {
        htpasswd_table_free(t);
        return NULL;
    }
    r->table = t;
    atomic_init(&r->refs, 1);
    return r;
}

/* At most once a second: whether the file changed, and if so the table replaced. */
static void maybe_reload(struct basic_authenticator *ba)
{
    if (!ba->rule->basic.htpasswd)
        return;
    long long now = now_ms(), last = atomic_load(&ba->checked_ms);
    if (now - last < 1000 || !atomic_compare_exchange_strong(&ba->checked_ms, &last, now))
        return;
    struct table_ref *old = acquire(ba);
    if (htpasswd_file_changed(old->table)) {
        struct htpasswd_table *t = NULL;
        char err[512];
        if (htpasswd_reload(old->table, &t, err, sizeof(err))) {
            if (!atomic_exchange(&ba->reload_failed, true))
                log_warn("%s: %s; still checking with the users it had", ba->rule->basic.where,
                         err);
        } else {
            struct table_ref *fresh = wrap(t);
            if (fresh) {
                pthread_mutex_lock(&ba->lock);
                struct table_ref *prev = ba->current;
                ba->current = fresh;
                pthread_mutex_unlock(&ba->lock);
                unref(prev);
                atomic_store(&ba->reload_failed, false);
                log_info("%s: %s changed: %zu users", ba->rule->basic.where,
                         ba->rule->basic.htpasswd, htpasswd_count(t));
            }
        }
    }
    unref(old);
}

static enum auth_status deny(const struct basic_authenticator *ba, struct auth_result *res,
                             const char *why)
{
    res->status = 401;
    res->values[WANTED_WWW_AUTHENTICATE] = ba->www;
    res->error = why;
    return AUTH_OK;
}

static enum auth_status basic_ask(const struct authenticator *self, struct auth_worker *w,
                                  const struct request_view *req, struct auth_result *res,
                                  enum cache_state *cache)
{
    struct basic_authenticator *ba = (struct basic_authenticator *)self;
    memset(res, 0, sizeof(*res));
    *cache = CACHE_OFF;
    const char *header = request_param(req->envp, "HTTP_AUTHORIZATION");
    struct basic_credential *cred = &w->basic;
    const char *why = NULL;
    if (basic_header_parse(header, header ? strlen(header) : 0, cred, &why) != BASIC_OK) {
        basic_credential_wipe(cred);
        return deny(ba, res, why ? why : "no Basic credentials");
    }
    if (auth_worker_gave_up(w, res)) { /* a hash costs tens of milliseconds */
        basic_credential_wipe(cred);
        return AUTH_FAILED;
    }
    maybe_reload(ba);
    struct table_ref *t = acquire(ba);
    enum htpasswd_status st =
        htpasswd_verify(t->table, cred->user, cred->password, ba->gate, BASICAUTH_WAIT_MS);
    unref(t);
    enum auth_status rc = AUTH_OK;
    switch (st) {
    case HTPASSWD_OK:
        res->status = 200;
        memcpy(w->basic_user, cred->user, cred->user_len + 1);
        if (ba->user_index)
            res->values[ba->user_index] = w->basic_user;
        break;
    case HTPASSWD_BUSY:
        res->error = "too many password checks at once (concurrentHashes)";
        res->cause = CAUSE_BUSY;
        rc = AUTH_FAILED;
        break;
    case HTPASSWD_ERROR:
        res->error = "the password check failed";
        res->cause = CAUSE_TRANSPORT;
        rc = AUTH_FAILED;
        break;
    default:
        rc = deny(ba, res, htpasswd_status_name(st));
        break;
    }
    basic_credential_wipe(cred);
    return rc;
}

/* The key of an answer: the credential's keyed hash with the user's line in the file. */
static bool basic_cache_key(const struct authenticator *self, struct auth_worker *w,
                            const struct request_view *req, unsigned char key[32])
{
    struct basic_authenticator *ba = (struct basic_authenticator *)self;
    const char *header = request_param(req->envp, "HTTP_AUTHORIZATION");
    struct basic_credential *cred = &w->basic;
    const char *why;
    struct htpasswd_key k;
    struct htpasswd_fingerprint fp;
    bool ok = basic_header_parse(header, header ? strlen(header) : 0, cred, &why) == BASIC_OK &&
              htpasswd_credential_key(cred->user, cred->password, &k);
    if (ok) {
        maybe_reload(ba);
        struct table_ref *t = acquire(ba);
        htpasswd_fingerprint(t->table, cred->user, &fp); /* zero for an unknown user */
        unref(t);
        unsigned char both[64];
        memcpy(both, k.bytes, 32);
        memcpy(both + 32, fp.bytes, 32);
        struct cache_key ck;
        cache_key_of_bytes(w->cache, both, sizeof(both), &ck);
        memcpy(key, ck.digest, 32);
    }
    basic_credential_wipe(cred);
    return ok;
}

/* ---- lifecycle ---- */

static const char *load(const struct rule *r, struct htpasswd_table **out, char *err, size_t errlen)
{
    char entries[600];
    snprintf(entries, sizeof(entries), "%s.users", r->basic.where);
    struct htpasswd_source src = {
        .path = r->basic.htpasswd,
        .entries = (const char *const *)r->basic.users,
        .n_entries = r->basic.nusers,
        .entries_name = entries,
    };
    char why[768];
    if (htpasswd_load(&src, out, why, sizeof(why))) {
        snprintf(err, errlen, "%s: %s", r->basic.where, why);
        return err;
    }
    return NULL;
}

const char *basic_check(const struct middleware *m, char *err, size_t errlen)
{
    struct htpasswd_table *t = NULL;
    if (load(&m->rule, &t, err, errlen))
        return err;
    htpasswd_table_free(t);
    return NULL;
}

struct authenticator *basic_authenticator_new(const struct middleware *m, int workers, char *err,
                                              size_t errlen)
{
    const struct rule *r = &m->rule;
    struct basic_authenticator *ba = calloc(1, sizeof(*ba));
    if (!ba) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ba->base.ask = basic_ask;
    ba->base.cache_key = basic_cache_key;
    ba->rule = r;
    pthread_mutex_init(&ba->lock, NULL);
    for (size_t i = WANTED_FIXED; i < r->nwanted; i++)
        if (strcmp(r->wanted[i], "user") == 0)
            ba->user_index = i;
    int slots = r->basic.concurrent_hashes ? r->basic.concurrent_hashes : (workers + 1) / 2;
    char www[400];
    snprintf(www, sizeof(www), "Basic realm=\"%s\", charset=\"UTF-8\"",
             r->basic.realm ? r->basic.realm : m->name);
    ba->www = strdup(www);
    ba->gate = hashgate_new((unsigned)(slots > 0 ? slots : 1));
    atomic_init(&ba->checked_ms, now_ms());
    struct htpasswd_table *t = NULL;
    if (!ba->www || !ba->gate) {
        snprintf(err, errlen, "out of memory");
    } else if (!load(r, &t, err, errlen)) {
        ba->current = wrap(t);
        if (ba->current)
            return &ba->base;
        snprintf(err, errlen, "out of memory");
    }
    basic_authenticator_free(&ba->base);
    return NULL;
}

void basic_authenticator_free(struct authenticator *a)
{
    struct basic_authenticator *ba = (struct basic_authenticator *)a;
    if (!ba)
        return;
    unref(ba->current);
    hashgate_free(ba->gate);
    free(ba->www);
    pthread_mutex_destroy(&ba->lock);
    free(ba);
}
