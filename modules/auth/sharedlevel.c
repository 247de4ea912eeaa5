/* sharedlevel.c - see sharedlevel.h. */
#include "auth/sharedlevel.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/httpsyntax.h"
#include "base/log.h"

#define MAX_FILE 1024 /* a password or a secret is far shorter */

/* Reads a small file whole, without its one trailing newline. -1 with err on failure. */
static long read_small(const char *where, const char *file, unsigned char *out, size_t cap,
                       char *err, size_t errlen)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read '%s': %s", where, file, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH)))
        log_warn("%s: '%s' can be read or written by every user of this machine; chmod o-rw it",
                 where, file);
    size_t n = fread(out, 1, cap, f);
    bool longer = n == cap && fgetc(f) != EOF;
    bool failed = ferror(f);
    fclose(f);
    if (failed || longer) {
        snprintf(err, errlen, "%s: '%s' %s", where, file,
                 failed ? "could not be read" : "is too long");
        OPENSSL_cleanse(out, cap);
        return -1;
    }
    if (n > 0 && out[n - 1] == '\n')
        n--;
    return (long)n;
}

/* A secret: 32 raw bytes or 64 hex digits. */
static bool read_secret(const char *where, const char *file,
                        unsigned char secret[SHAREDCACHE_SECRET_LEN], char *err, size_t errlen)
{
    unsigned char text[MAX_FILE];
    long n = read_small(where, file, text, sizeof(text), err, errlen);
    bool ok = false;
    if (n == SHAREDCACHE_SECRET_LEN) {
        memcpy(secret, text, SHAREDCACHE_SECRET_LEN);
        ok = true;
    } else if (n == 2 * SHAREDCACHE_SECRET_LEN) {
        ok = true;
        for (size_t i = 0; i < SHAREDCACHE_SECRET_LEN && ok; i++) {
            int hi = http_hex_value(text[2 * i]), lo = http_hex_value(text[2 * i + 1]);
            ok = hi >= 0 && lo >= 0;
            secret[i] = (unsigned char)(hi << 4 | lo);
        }
    }
    /* All zeros, or one byte repeated: a placeholder, not a secret. */
    bool repeated = ok;
    for (size_t i = 1; i < SHAREDCACHE_SECRET_LEN && repeated; i++)
        repeated = secret[i] == secret[0];
    if (n >= 0 && (!ok || repeated))
        snprintf(err, errlen,
                 "%s: '%s' must hold 32 random bytes or 64 hexadecimal digits (for example "
                 "from `openssl rand -hex 32`)%s",
                 where, file, repeated ? ", not one byte repeated" : "");
    ok = ok && !repeated;
    OPENSSL_cleanse(text, sizeof(text));
    return ok;
}

/* The settings with the files' contents; the caller wipes them. */
struct loaded {
    struct sharedcache_settings s;
    char password[SHAREDCACHE_MAX_CREDENTIAL + 1];
};

static bool load(const struct shared_cache_settings *c, struct loaded *l, char *err, size_t errlen)
{
    memset(l, 0, sizeof(*l));
    l->s.address = c->address;
    l->s.user = c->user;
    l->s.key_prefix = c->key_prefix;
    l->s.timeout_ms = c->timeout_ms;
    if (c->password_file) {
        unsigned char text[MAX_FILE];
        long n = read_small(c->password_where, c->password_file, text, sizeof(text), err, errlen);
        if (n < 0)
            return false;
        if (n == 0 || n > SHAREDCACHE_MAX_CREDENTIAL || memchr(text, '\0', (size_t)n) ||
            memchr(text, '\n', (size_t)n) || memchr(text, '\r', (size_t)n)) {
            snprintf(err, errlen, "%s: '%s' must hold one line of 1 to %d bytes", c->password_where,
                     c->password_file, SHAREDCACHE_MAX_CREDENTIAL);
            OPENSSL_cleanse(text, sizeof(text));
            return false;
        }
        memcpy(l->password, text, (size_t)n);
        OPENSSL_cleanse(text, sizeof(text));
        l->s.password = l->password;
    }
    if (!read_secret(c->secret_where, c->secret_file, l->s.secret, err, errlen))
        return false;
    if (c->old_secret_file) {
        if (!read_secret(c->old_secret_where, c->old_secret_file, l->s.old_secret, err, errlen))
            return false;
        l->s.has_old_secret = true;
    }
    return true;
}

struct sharedcache *sharedlevel_new(const struct config *cfg, char *err, size_t errlen)
{
    struct loaded l;
    struct sharedcache *sc = NULL;
    if (load(&cfg->shared_cache, &l, err, errlen)) {
        char why[512];
        if (sharedcache_new(&l.s, &sc, why, sizeof(why)))
            snprintf(err, errlen, "%s: %s", cfg->shared_cache.where, why);
    }
    OPENSSL_cleanse(&l, sizeof(l));
    return sc;
}

const char *sharedlevel_check(const struct config *cfg, char *err, size_t errlen)
{
    if (!cfg->shared_cache.enabled)
        return NULL;
    struct sharedcache *sc = sharedlevel_new(cfg, err, errlen);
    if (!sc)
        return err;
    sharedcache_free(sc);
    return NULL;
}

/* Each field with its length first, so that ("ab","c") and ("a","bc") differ. */
static void add(EVP_MD_CTX *md, const void *p, size_t n)
{
    uint64_t len = n;
    EVP_DigestUpdate(md, &len, sizeof(len));
    if (n)
        EVP_DigestUpdate(md, p, n);
}

static void add_str(EVP_MD_CTX *md, const char *s)
{
    add(md, s ? s : "", s ? strlen(s) : 0);
}

bool sharedlevel_fingerprint(const struct middleware *m,
                             unsigned char out[SHAREDCACHE_FINGERPRINT_LEN])
{
    const struct rule *r = &m->rule;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int len = 0;
    if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        add_str(md, "fcgi-authorizer shared decision v1");
        add_str(md, m->name);
        int64_t kind = m->kind;
        add(md, &kind, sizeof(kind));
        add_str(md, r->url);
        for (size_t i = 0; i < r->nwanted; i++)
            add_str(md, r->wanted[i]);
        add_str(md, "--forward");
        for (size_t i = 0; i < r->nforward; i++)
            add_str(md, r->forward[i].name);
        add_str(md, "--key");
        for (size_t i = 0; i < r->cache.nkey; i++)
            add_str(md, r->cache.key[i].name);
        int64_t times[2] = {r->cache.ttl_ms, r->cache.negative_ttl_ms};
        add(md, times, sizeof(times));
        EVP_DigestFinal_ex(md, out, &len);
    }
    EVP_MD_CTX_free(md);
    return len == SHAREDCACHE_FINGERPRINT_LEN;
}
