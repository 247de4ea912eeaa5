/*
 * test_sharedcache.c - the shared cache against a real redis-server, a killed and restarted
 * one, a stalled one and a fake one that answers nonsense: whatever Redis does, a call is a
 * hit only for the exact value this secret sealed for this name and policy.
 *
 * Starts its own redis-server (with a password, on a free loopback port and a unix socket in
 * a temporary directory, persisting nothing) and fails if it cannot.
 */
#include "auto_config.h" /* memmem */

#include "auth/sharedcache.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/breaker.h"
#include "auth/seal.h"
#include "unit.h"

static const char PASSWORD[] = "test-redis-password";
static const char PREFIX[] = "authz:";
static const char BLOB[] = "status=200 X-User=alice token=Bearer s3cr3t-t0ken";
enum { SECRET = 0x11, OTHER_SECRET = 0x22, FINGERPRINT = 0xf1 };

struct redis {
    pid_t pid;
    int port;
    char dir[64];
    char socket[96];
    char tcp[32];
};

/* The server most tests share, and one that is killed and restarted. */
static struct redis shared, spare;

/* ---- helpers ---- */

static int64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&t, &t) < 0 && errno == EINTR)
        ;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* A connection of the test's own, with the password, over the unix socket. */
static redisContext *admin(const struct redis *r)
{
    struct timeval tv = {.tv_sec = 2};
    redisContext *c = redisConnectUnixWithTimeout(r->socket, tv);
    if (!c || c->err) {
        redisFree(c);
        return NULL;
    }
    redisReply *reply = redisCommand(c, "AUTH %s", PASSWORD);
    bool ok = reply && reply->type == REDIS_REPLY_STATUS;
    freeReplyObject(reply);
    if (!ok) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* Starts redis-server on r->port (a free one if 0) and waits until it answers. */
static bool redis_start(struct redis *r)
{
    if (!r->dir[0]) {
        snprintf(r->dir, sizeof(r->dir), "%s/sharedcache-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(r->dir))
            return false;
        snprintf(r->socket, sizeof(r->socket), "%s/redis.sock", r->dir);
    }
    if (!r->port)
        r->port = free_port();
    snprintf(r->tcp, sizeof(r->tcp), "127.0.0.1:%d", r->port);
    char port[16];
    snprintf(port, sizeof(port), "%d", r->port);
    fflush(NULL);
    r->pid = fork();
    if (r->pid < 0)
        return false;
    if (r->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        const char *argv[] = {"redis-server",
                              "--port",
                              port,
                              "--bind",
                              "127.0.0.1",
                              "--unixsocket",
                              r->socket,
                              "--unixsocketperm",
                              "700",
                              "--requirepass",
                              PASSWORD,
                              "--save",
                              "",
                              "--appendonly",
                              "no",
                              "--dir",
                              r->dir,
                              "--logfile",
                              "redis.log",
                              "--daemonize",
                              "no",
                              "--enable-debug-command",
                              "local",
                              NULL};
        const char *bin = getenv("REDIS_SERVER") ? getenv("REDIS_SERVER") : "redis-server";
        execvp(bin, (char *const *)argv);
        fprintf(stderr, "test_sharedcache: cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        int status;
        if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
            r->pid = 0;
            return false;
        }
        redisContext *c = admin(r);
        if (c) {
            redisFree(c);
            return true;
        }
        sleep_ms(10);
    }
    return false;
}

static void redis_kill(struct redis *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGKILL);
        waitpid(r->pid, NULL, 0);
    }
    r->pid = 0;
}

static void redis_cleanup(struct redis *r)
{
    redis_kill(r);
    if (r->dir[0]) {
        char path[160];
        snprintf(path, sizeof(path), "%s/redis.log", r->dir);
        unlink(path);
        unlink(r->socket);
        rmdir(r->dir);
    }
}

static void cleanup_all(void)
{
    redis_cleanup(&spare);
    redis_cleanup(&shared);
}

static void fill(unsigned char out[32], unsigned char byte)
{
    memset(out, byte, 32);
}

/* The settings most tests use: the shared server over TCP, the password, SECRET. */
static struct sharedcache_settings settings(const char *address)
{
    struct sharedcache_settings s = {
        .address = address,
        .password = PASSWORD,
        .key_prefix = PREFIX,
        .timeout_ms = 1000,
        .failures_to_open = 100,
    };
    fill(s.secret, SECRET);
    return s;
}

static struct sharedcache *make(const struct sharedcache_settings *s)
{
    char err[256];
    struct sharedcache *sc = NULL;
    const char *msg = sharedcache_new(s, &sc, err, sizeof(err));
    UNIT_CHECK(msg == NULL, "sharedcache_new: %s", msg ? msg : "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    return sc;
}

static struct sharedcache_conn *conn(void)
{
    struct sharedcache_conn *w = sharedcache_conn_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    return w;
}

static struct sharedcache_stats stats(struct sharedcache *sc)
{
    struct sharedcache_stats st;
    sharedcache_stats(sc, &st);
    return st;
}

/* The name SECRET gives (digest byte, fingerprint byte) under PREFIX. */
static void name_of(unsigned char secret_byte, unsigned char digest_byte,
                    unsigned char fingerprint_byte, char name[SEAL_NAME_MAX])
{
    unsigned char secret[32], digest[32], fingerprint[32];
    fill(secret, secret_byte);
    fill(digest, digest_byte);
    fill(fingerprint, fingerprint_byte);
    struct seal_keys keys;
    struct seal_ctx *ctx = seal_ctx_new();
    CU_ASSERT_PTR_NULL(seal_keys_derive(secret, &keys));
    CU_ASSERT_TRUE(seal_name(ctx, &keys, PREFIX, fingerprint, digest, name));
    seal_ctx_free(ctx);
}

/* Raw access for tampering. GET returns the length, or -1 if there is no string. */
static long raw_get(redisContext *c, const char *name, unsigned char *out, size_t cap)
{
    redisReply *r = redisCommand(c, "GET %s", name);
    long len = -1;
    if (r && r->type == REDIS_REPLY_STRING && r->len <= cap) {
        memcpy(out, r->str, r->len);
        len = (long)r->len;
    }
    freeReplyObject(r);
    return len;
}

static void raw_set(redisContext *c, const char *name, const unsigned char *value, size_t len)
{
    redisReply *r = redisCommand(c, "SET %s %b", name, value, len);
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
}

static void raw_command(redisContext *c, const char *command)
{
    redisReply *r = redisCommand(c, command);
    UNIT_CHECK(r && r->type != REDIS_REPLY_ERROR, "%s: %s", command,
               r && r->type == REDIS_REPLY_ERROR ? r->str : "no reply");
    freeReplyObject(r);
}

/* Sets BLOB for (digest, FINGERPRINT) and checks that it reads back. */
static void put(struct sharedcache_conn *w, struct sharedcache *sc, unsigned char digest_byte)
{
    unsigned char digest[32], fingerprint[32];
    fill(digest, digest_byte);
    fill(fingerprint, FINGERPRINT);
    struct sharedcache_result res;
    enum sharedcache_status st =
        sharedcache_set(w, sc, digest, fingerprint, BLOB, strlen(BLOB), 60000, &res);
    UNIT_CHECK(st == SHAREDCACHE_OK, "set: %s %s", sharedcache_status_name(st),
               res.error ? res.error : "");
}

static enum sharedcache_status get(struct sharedcache_conn *w, struct sharedcache *sc,
                                   unsigned char digest_byte, unsigned char fingerprint_byte,
                                   struct sharedcache_result *res)
{
    unsigned char digest[32], fingerprint[32];
    fill(digest, digest_byte);
    fill(fingerprint, fingerprint_byte);
    return sharedcache_get(w, sc, digest, fingerprint, res);
}

/* ---- round trips ---- */

static void round_trip(const char *address, unsigned char digest_byte)
{
    struct sharedcache_settings s = settings(address);
    struct sharedcache *sc = make(&s);
    struct sharedcache_conn *w = conn();
    struct sharedcache_result res;
    struct sharedcache_stats before = stats(sc);

    UNIT_INT_EQ(get(w, sc, digest_byte, FINGERPRINT, &res), SHAREDCACHE_MISS);
    put(w, sc, digest_byte);
    UNIT_INT_EQ(get(w, sc, digest_byte, FINGERPRINT, &res), SHAREDCACHE_HIT);
    UNIT_INT_EQ(res.blob_len, strlen(BLOB));
    CU_ASSERT_TRUE(res.blob && memcmp(res.blob, BLOB, strlen(BLOB)) == 0);
    CU_ASSERT_PTR_NULL(res.error);
    CU_ASSERT_TRUE(res.micros > 0);

    struct sharedcache_stats after = stats(sc);
    UNIT_INT_EQ(after.hits - before.hits, 1);
    UNIT_INT_EQ(after.misses - before.misses, 1);
    UNIT_INT_EQ(after.stored - before.stored, 1);
    UNIT_INT_EQ(after.errors - before.errors, 0);
    /* One connection, authenticated once: AUTH, GET, SET, GET. */
    UNIT_INT_EQ(after.connects - before.connects, 1);
    UNIT_INT_EQ(after.round_trips - before.round_trips, 4);
    sharedcache_conn_free(w);
    sharedcache_free(sc);
}

static void test_round_trip_over_tcp(void)
{
    round_trip(shared.tcp, 0x01);
}

static void test_round_trip_over_unix_socket(void)
{
    round_trip(shared.socket, 0x05);
}

static void test_round_trip_with_an_acl_user(void)
{
    redisContext *c = admin(&shared);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    raw_command(c, "ACL SETUSER cacher reset on >cacher-password ~authz:* +get +set +del +eval");
    struct sharedcache_settings s = settings(shared.tcp);
    s.user = "cacher";
    s.password = "cacher-password";
    struct sharedcache *sc = make(&s);
    struct sharedcache_conn *w = conn();
    struct sharedcache_result res;
    put(w, sc, 0x02);
    UNIT_INT_EQ(get(w, sc, 0x02, FINGERPRINT, &res), SHAREDCACHE_HIT);
    sharedcache_free(sc);

    /* The user's password, not the default user's. */
    s.password = PASSWORD;
    sc = make(&s);
    UNIT_INT_EQ(get(w, sc, 0x02, FINGERPRINT, &res), SHAREDCACHE_ERROR);
    UNIT_STR_HAS(res.error, "AUTH refused");
    sharedcache_free(sc);
    sharedcache_conn_free(w);
    raw_command(c, "ACL DELUSER cacher");
    redisFree(c);
}

static void test_nothing_readable_in_redis(void)
{
    struct sharedcache_settings s = settings(shared.tcp);
    struct sharedcache *sc = make(&s);
    struct sharedcache_conn *w = conn();
    put(w, sc, 0x03);
    redisContext *c = admin(&shared);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    redisReply *keys = redisCommand(c, "KEYS *");
    CU_ASSERT_FATAL(keys && keys->type == REDIS_REPLY_ARRAY && keys->elements > 0);
    for (size_t i = 0; i < keys->elements; i++) {
        const char *name = keys->element[i]->str;
        CU_ASSERT_EQUAL(strncmp(name, PREFIX, strlen(PREFIX)), 0);
        UNIT_INT_EQ(strspn(name + strlen(PREFIX), "0123456789abcdef"), 64);
        unsigned char value[1024];
        long len = raw_get(c, name, value, sizeof(value));
        CU_ASSERT_TRUE(len > 0);
        CU_ASSERT_PTR_NULL(memmem(value, (size_t)len, "alice", 5));
        CU_ASSERT_PTR_NULL(memmem(value, (size_t)len, "s3cr3t", 6));
        CU_ASSERT_PTR_NULL(memmem(value, (size_t)len, "Bearer", 6));
    }
    freeReplyObject(keys);
    /* Redis drops the entry when the value says it expires, not later. */
    char name[SEAL_NAME_MAX];
    name_of(SECRET, 0x03, FINGERPRINT, name);
    redisReply *ttl = redisCommand(c, "PTTL %s", name);
    CU_ASSERT_TRUE(ttl && ttl->type == REDIS_REPLY_INTEGER && ttl->integer > 0 &&
                   ttl->integer <= 60000);
    freeReplyObject(ttl);
    redisFree(c);
    sharedcache_conn_free(w);
    sharedcache_free(sc);
}

static void test_wrong_password_is_an_error_never_a_hit(void)
{
    struct sharedcache_settings s = settings(shared.tcp);
    struct sharedcache *good = make(&s);
    struct sharedcache_conn *w = conn();
    put(w, good, 0x04);
    s.password = "not-the-password";
    struct sharedcache *sc = make(&s);
    struct sharedcache_stats before = stats(sc);
    struct sharedcache_result res;
    UNIT_INT_EQ(get(w, sc, 0x04, FINGERPRINT, &res), SHAREDCACHE_ERROR);
    UNIT_STR_HAS(res.error, "AUTH refused");
    CU_ASSERT_PTR_NULL(strstr(res.error, "not-the-password"));
    unsigned char digest[32], fingerprint[32];
    fill(digest, 0x04);
    fill(fingerprint, FINGERPRINT);
    UNIT_INT_EQ(sharedcache_set(w, sc, digest, fingerprint, "x", 1, 1000, &res), SHAREDCACHE_ERROR);
    sharedcache_free(sc);

    /* No password at all: Redis refuses the command itself. */
    s.password = NULL;
    sc = make(&s);
    UNIT_INT_EQ(get(w, sc, 0x04, FINGERPRINT, &res), SHAREDCACHE_ERROR);
    UNIT_STR_HAS(res.error, "NOAUTH");
    struct sharedcache_stats after = stats(sc);
    UNIT_INT_EQ(after.errors - before.errors, 3);
    UNIT_INT_EQ(after.hits - before.hits, 0);
    UNIT_INT_EQ(after.connects - before.connects, 1); /* only the one without AUTH */
    sharedcache_free(sc);
    sharedcache_conn_free(w);
    sharedcache_free(good);
}

/* ---- tampering ---- */

struct tamper {
    struct sharedcache *sc;
    struct sharedcache_conn *w;
    redisContext *c;
    char name[SEAL_NAME_MAX];
    unsigned char value[1024];
    size_t len;
};

static void tamper_begin(struct tamper *t, unsigned char digest_byte)
{
    struct sharedcache_settings s = settings(shared.tcp);
    t->sc = make(&s);
    t->w = conn();
    t->c = admin(&shared);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t->c);
    put(t->w, t->sc, digest_byte);
    name_of(SECRET, digest_byte, FINGERPRINT, t->name);
    long len = raw_get(t->c, t->name, t->value, sizeof(t->value));
    CU_ASSERT_FATAL(len == (long)(strlen(BLOB) + SEAL_OVERHEAD));
    t->len = (size_t)len;
}

static void tamper_end(struct tamper *t)
{
    redisFree(t->c);
    sharedcache_conn_free(t->w);
    sharedcache_free(t->sc);
}

/* The entry now reads as tampered, and the counters say so. */
static void expect_tampered(struct tamper *t, unsigned char digest_byte,
                            unsigned char fingerprint_byte)
{
    struct sharedcache_stats before = stats(t->sc);
    struct sharedcache_result res;
    UNIT_INT_EQ(get(t->w, t->sc, digest_byte, fingerprint_byte, &res), SHAREDCACHE_TAMPERED);
    CU_ASSERT_PTR_NULL(res.blob);
    struct sharedcache_stats after = stats(t->sc);
    UNIT_INT_EQ(after.tampered - before.tampered, 1);
    UNIT_INT_EQ(after.hits - before.hits, 0);
    UNIT_INT_EQ(after.errors - before.errors, 0);
}

static void test_a_flipped_bit_is_tampered(void)
{
    struct tamper t;
    tamper_begin(&t, 0x10);
    const size_t at[] = {0, 1, 13, 20, 21, t.len - 17, t.len - 1};
    for (size_t i = 0; i < UNIT_N(at); i++) {
        unsigned char copy[1024];
        memcpy(copy, t.value, t.len);
        copy[at[i]] ^= 0x04;
        raw_set(t.c, t.name, copy, t.len);
        expect_tampered(&t, 0x10, FINGERPRINT);
    }
    tamper_end(&t);
}

static void test_a_truncated_value_is_tampered(void)
{
    struct tamper t;
    tamper_begin(&t, 0x11);
    const size_t lengths[] = {0, 1, 13, SEAL_OVERHEAD - 1, SEAL_OVERHEAD, t.len - 1};
    for (size_t i = 0; i < UNIT_N(lengths); i++) {
        raw_set(t.c, t.name, t.value, lengths[i]);
        expect_tampered(&t, 0x11, FINGERPRINT);
    }
    raw_set(t.c, t.name, (const unsigned char *)"plain text", 10);
    expect_tampered(&t, 0x11, FINGERPRINT);
    tamper_end(&t);
}

static void test_another_version_is_tampered(void)
{
    struct tamper t;
    tamper_begin(&t, 0x12);
    t.value[0] = SEAL_VERSION + 1;
    raw_set(t.c, t.name, t.value, t.len);
    expect_tampered(&t, 0x12, FINGERPRINT);
    tamper_end(&t);
}

static void test_a_value_copied_under_another_key_is_tampered(void)
{
    struct tamper t;
    tamper_begin(&t, 0x13);
    char other[SEAL_NAME_MAX];
    name_of(SECRET, 0x14, FINGERPRINT, other);
    raw_set(t.c, other, t.value, t.len);
    expect_tampered(&t, 0x14, FINGERPRINT);
    tamper_end(&t);
}

static void test_a_value_sealed_with_another_secret_is_tampered(void)
{
    struct tamper t;
    tamper_begin(&t, 0x15);
    unsigned char secret[32], fingerprint[32], sealed[1024];
    fill(secret, OTHER_SECRET);
    fill(fingerprint, FINGERPRINT);
    struct seal_keys keys;
    struct seal_ctx *ctx = seal_ctx_new();
    CU_ASSERT_PTR_NULL(seal_keys_derive(secret, &keys));
    size_t len = 0;
    CU_ASSERT_TRUE(seal_value(ctx, &keys, t.name, fingerprint, wall_ms() + 60000, BLOB,
                              strlen(BLOB), sealed, sizeof(sealed), &len));
    seal_ctx_free(ctx);
    raw_set(t.c, t.name, sealed, len);
    expect_tampered(&t, 0x15, FINGERPRINT);

    /* And a cache with the other secret does not even find ours. */
    struct sharedcache_settings s = settings(shared.tcp);
    fill(s.secret, OTHER_SECRET);
    struct sharedcache *other = make(&s);
    put(t.w, t.sc, 0x16);
    struct sharedcache_result res;
    UNIT_INT_EQ(get(t.w, other, 0x16, FINGERPRINT, &res), SHAREDCACHE_MISS);
    sharedcache_free(other);
    tamper_end(&t);
}

static void test_another_fingerprint_misses(void)
{
    struct tamper t;
    tamper_begin(&t, 0x17);
    struct sharedcache_result res;
    /* After a change of policy the entry is not found... */
    UNIT_INT_EQ(get(t.w, t.sc, 0x17, 0xf2, &res), SHAREDCACHE_MISS);
    /* ...and moved to where the new policy looks, it does not open. */
    char other[SEAL_NAME_MAX];
    name_of(SECRET, 0x17, 0xf2, other);
    raw_set(t.c, other, t.value, t.len);
    expect_tampered(&t, 0x17, 0xf2);
    tamper_end(&t);
}

static void test_an_expired_value_is_a_miss(void)
{
    struct tamper t;
    tamper_begin(&t, 0x18);
    /* A value past its own expiry that Redis still holds (its PX lost or ignored). */
    unsigned char secret[32], fingerprint[32], sealed[1024];
    fill(secret, SECRET);
    fill(fingerprint, FINGERPRINT);
    struct seal_keys keys;
    struct seal_ctx *ctx = seal_ctx_new();
    CU_ASSERT_PTR_NULL(seal_keys_derive(secret, &keys));
    size_t len = 0;
    CU_ASSERT_TRUE(seal_value(ctx, &keys, t.name, fingerprint, wall_ms() - 1, BLOB, strlen(BLOB),
                              sealed, sizeof(sealed), &len));
    raw_set(t.c, t.name, sealed, len);
    struct sharedcache_stats before = stats(t.sc);
    struct sharedcache_result res;
    UNIT_INT_EQ(get(t.w, t.sc, 0x18, FINGERPRINT, &res), SHAREDCACHE_EXPIRED);
    CU_ASSERT_PTR_NULL(res.blob);
    UNIT_INT_EQ(stats(t.sc).expired - before.expired, 1);

    /* A short ttl: the sealed expiry is no later than ttl from the set. */
    unsigned char digest[32];
    fill(digest, 0x19);
    int64_t before_set = wall_ms();
    UNIT_INT_EQ(sharedcache_set(t.w, t.sc, digest, fingerprint, BLOB, 4, 400, &res),
                SHAREDCACHE_OK);
    int64_t after_set = wall_ms();
    char name[SEAL_NAME_MAX];
    name_of(SECRET, 0x19, FINGERPRINT, name);
    long n = raw_get(t.c, name, sealed, sizeof(sealed));
    CU_ASSERT_FATAL(n > 0);
    unsigned char out[64];
    size_t out_len;
    UNIT_INT_EQ(seal_open_value(ctx, &keys, name, fingerprint, before_set + 399, sealed, (size_t)n,
                                out, sizeof(out), &out_len),
                SEAL_OPENED);
    UNIT_INT_EQ(seal_open_value(ctx, &keys, name, fingerprint, after_set + 400, sealed, (size_t)n,
                                out, sizeof(out), &out_len),
                SEAL_EXPIRED);
    seal_ctx_free(ctx);
    sleep_ms(700);
    UNIT_INT_EQ(get(t.w, t.sc, 0x19, FINGERPRINT, &res), SHAREDCACHE_MISS);
    tamper_end(&t);
}

static void test_another_type_under_the_key_is_an_error(void)
{
    struct tamper t;
    tamper_begin(&t, 0x1a);
    redisReply *r = redisCommand(t.c, "DEL %s", t.name);
    freeReplyObject(r);
    r = redisCommand(t.c, "LPUSH %s x", t.name);
    freeReplyObject(r);
    struct sharedcache_result res;
    UNIT_INT_EQ(get(t.w, t.sc, 0x1a, FINGERPRINT, &res), SHAREDCACHE_ERROR);
    UNIT_STR_HAS(res.error, "WRONGTYPE");
    /* An error reply leaves the connection in step: the next call uses it. */
    uint64_t connects = stats(t.sc).connects;
    put(t.w, t.sc, 0x1b);
    UNIT_INT_EQ(get(t.w, t.sc, 0x1b, FINGERPRINT, &res), SHAREDCACHE_HIT);
    UNIT_INT_EQ(stats(t.sc).connects, connects);
    tamper_end(&t);
}

/* ---- rotation ---- */

static void test_old_secret_is_read_during_rotation(void)
{
    struct sharedcache_settings s = settings(shared.tcp);
    struct sharedcache *before_rotation = make(&s); /* SECRET */
    fill(s.secret, OTHER_SECRET);
    s.has_old_secret = true;
    fill(s.old_secret, SECRET);
    struct sharedcache *rotating = make(&s); /* OTHER_SECRET, reading SECRET too */
    s.has_old_secret = false;
    struct sharedcache *after_rotation = make(&s); /* OTHER_SECRET only */
    struct sharedcache_conn *w = conn();
    struct sharedcache_result res;

    put(w, before_rotation, 0x20);
    UNIT_INT_EQ(get(w, rotating, 0x20, FINGERPRINT, &res), SHAREDCACHE_HIT);
    CU_ASSERT_TRUE(res.blob && memcmp(res.blob, BLOB, strlen(BLOB)) == 0);
    UNIT_INT_EQ(get(w, after_rotation, 0x20, FINGERPRINT, &res), SHAREDCACHE_MISS);

    /* Writes use the new secret only. */
    put(w, rotating, 0x21);
    UNIT_INT_EQ(get(w, after_rotation, 0x21, FINGERPRINT, &res), SHAREDCACHE_HIT);
    UNIT_INT_EQ(get(w, before_rotation, 0x21, FINGERPRINT, &res), SHAREDCACHE_MISS);
    UNIT_INT_EQ(get(w, rotating, 0x21, FINGERPRINT, &res), SHAREDCACHE_HIT);

    /* Nothing under either secret: both were asked, in one call. */
    uint64_t trips = stats(rotating).round_trips;
    UNIT_INT_EQ(get(w, rotating, 0x22, FINGERPRINT, &res), SHAREDCACHE_MISS);
    UNIT_INT_EQ(stats(rotating).round_trips - trips, 2);

    /* A tampered entry under the old name is counted as such. */
    redisContext *c = admin(&shared);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    char name[SEAL_NAME_MAX];
    name_of(SECRET, 0x20, FINGERPRINT, name);
    raw_set(c, name, (const unsigned char *)"garbage", 7);
    UNIT_INT_EQ(get(w, rotating, 0x20, FINGERPRINT, &res), SHAREDCACHE_TAMPERED);
    redisFree(c);

    sharedcache_conn_free(w);
    sharedcache_free(after_rotation);
    sharedcache_free(rotating);
    sharedcache_free(before_rotation);
}

/* ---- faults ---- */

static void test_a_full_redis_is_an_error(void)
{
    redisContext *c = admin(&shared);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct sharedcache_settings s = settings(shared.tcp);
    struct sharedcache *sc = make(&s);
    struct sharedcache_conn *w = conn();
    put(w, sc, 0x30);
    raw_command(c, "CONFIG SET maxmemory-policy noeviction");
    raw_command(c, "CONFIG SET maxmemory 1");
    unsigned char digest[32], fingerprint[32];
    fill(digest, 0x31);
    fill(fingerprint, FINGERPRINT);
    struct sharedcache_result res;
    UNIT_INT_EQ(sharedcache_set(w, sc, digest, fingerprint, BLOB, 4, 1000, &res),
                SHAREDCACHE_ERROR);
    UNIT_STR_HAS(res.error, "OOM");
    /* Reading still works. */
    UNIT_INT_EQ(get(w, sc, 0x30, FINGERPRINT, &res), SHAREDCACHE_HIT);
    raw_command(c, "CONFIG SET maxmemory 0");
    UNIT_INT_EQ(sharedcache_set(w, sc, digest, fingerprint, BLOB, 4, 1000, &res), SHAREDCACHE_OK);
    redisFree(c);
    sharedcache_conn_free(w);
    sharedcache_free(sc);
}

static void *debug_sleep(void *arg)
{
    redisContext *c = arg;
    redisReply *r = redisCommand(c, "DEBUG SLEEP 1");
    freeReplyObject(r);
    return NULL;
}

static void test_a_slow_redis_is_an_error_within_the_timeout(void)
{
    struct sharedcache_settings s = settings(shared.tcp);
    s.timeout_ms = 50;
    struct sharedcache *sc = make(&s);
    struct sharedcache_conn *w = conn();
    struct sharedcache_result res;
    put(w, sc, 0x32);

    redisContext *c = admin(&shared);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    pthread_t sleeper;
    pthread_create(&sleeper, NULL, debug_sleep, c);
    sleep_ms(200);
    struct sharedcache_stats before = stats(sc);
    int64_t t0 = now_us();
    /* Redis would answer HIT after its sleep: an ERROR means the call did not wait for it. */
    UNIT_INT_EQ(get(w, sc, 0x32, FINGERPRINT, &res), SHAREDCACHE_ERROR);
    int64_t took = now_us() - t0;
    UNIT_STR_HAS(res.error, "no reply within the timeout");
    struct sharedcache_stats after = stats(sc);
    UNIT_INT_EQ(after.errors - before.errors, 1);
    UNIT_INT_EQ(after.breaker_failures, 1);
    printf("\n    a GET to a sleeping Redis (timeout 50 ms) returned after %.1f ms ",
           took / 1000.0);
    pthread_join(sleeper, NULL);
    redisFree(c);

    /* The late reply was never read as the answer to anything: a new connection is used. */
    UNIT_INT_EQ(get(w, sc, 0x32, FINGERPRINT, &res), SHAREDCACHE_HIT);
    UNIT_INT_EQ(stats(sc).connects - after.connects, 1);
    UNIT_INT_EQ(stats(sc).breaker_failures, 0);
    sharedcache_conn_free(w);
    sharedcache_free(sc);
}

static struct sharedcache_settings spare_settings(void)
{
    struct sharedcache_settings s = settings(spare.tcp);
    s.timeout_ms = 100;
    s.failures_to_open = 5;
    s.open_ms = 200;
    s.max_open_ms = 400;
    return s;
}

static void test_the_breaker_opens_when_redis_dies(void)
{
    CU_ASSERT_FATAL(redis_start(&spare));
    struct sharedcache_settings s = spare_settings();
    struct sharedcache *sc = make(&s);
    struct sharedcache_conn *w = conn();
    struct sharedcache_result res;
    put(w, sc, 0x40);
    redis_kill(&spare);

    struct sharedcache_stats before = stats(sc);
    long slowest = 0;
    for (int i = 0; i < 5; i++) {
        UNIT_INT_EQ(get(w, sc, 0x40, FINGERPRINT, &res), SHAREDCACHE_ERROR);
        CU_ASSERT_PTR_NOT_NULL(res.error);
        slowest = res.micros > slowest ? res.micros : slowest;
        UNIT_INT_EQ(stats(sc).breaker_state, i < 4 ? BREAKER_CLOSED : BREAKER_OPEN);
    }
    printf("\n    calls to a killed Redis took at most %.2f ms ", slowest / 1000.0);
    struct sharedcache_stats open = stats(sc);
    UNIT_INT_EQ(open.breaker_opens - before.breaker_opens, 1);
    UNIT_INT_EQ(open.errors - before.errors, 5);

    /* Open: nothing touches the network. */
    unsigned char digest[32], fingerprint[32];
    fill(digest, 0x40);
    fill(fingerprint, FINGERPRINT);
    struct sharedcache_lock lock;
    for (int i = 0; i < 10; i++) {
        UNIT_INT_EQ(get(w, sc, 0x40, FINGERPRINT, &res), SHAREDCACHE_SKIPPED);
        UNIT_INT_EQ(res.micros, 0);
    }
    UNIT_INT_EQ(sharedcache_set(w, sc, digest, fingerprint, "x", 1, 1000, &res),
                SHAREDCACHE_SKIPPED);
    UNIT_INT_EQ(sharedcache_try_lock(w, sc, digest, fingerprint, 1000, &lock, &res),
                SHAREDCACHE_SKIPPED);
    struct sharedcache_stats skipped = stats(sc);
    UNIT_INT_EQ(skipped.skipped - open.skipped, 12);
    UNIT_INT_EQ(skipped.round_trips, open.round_trips);
    UNIT_INT_EQ(skipped.connects, open.connects);
    UNIT_INT_EQ(skipped.errors, open.errors);
    UNIT_INT_EQ(skipped.hits, open.hits);
    sharedcache_conn_free(w);
    sharedcache_free(sc);
}

static void test_after_a_restart_the_probe_closes_the_breaker(void)
{
    if (!spare.pid)
        CU_ASSERT_FATAL(redis_start(&spare));
    struct sharedcache_settings s = spare_settings();
    s.open_ms = 400;
    s.max_open_ms = 3000;
    struct sharedcache *sc = make(&s);
    struct sharedcache_conn *w = conn();
    struct sharedcache_result res;
    put(w, sc, 0x41);
    redis_kill(&spare);
    for (int i = 0; i < 5; i++)
        UNIT_INT_EQ(get(w, sc, 0x41, FINGERPRINT, &res), SHAREDCACHE_ERROR);
    UNIT_INT_EQ(stats(sc).breaker_state, BREAKER_OPEN);

    /* The probe finds Redis still down: open again, for twice as long. */
    sleep_ms(450);
    uint64_t opens = stats(sc).breaker_opens;
    int64_t probed = now_us();
    UNIT_INT_EQ(get(w, sc, 0x41, FINGERPRINT, &res), SHAREDCACHE_ERROR);
    UNIT_INT_EQ(stats(sc).breaker_state, BREAKER_OPEN);
    UNIT_INT_EQ(stats(sc).breaker_opens - opens, 1);

    CU_ASSERT_FATAL(redis_start(&spare));
    if (now_us() - probed < 700000) /* well inside the doubled 800 ms */
        UNIT_INT_EQ(get(w, sc, 0x41, FINGERPRINT, &res), SHAREDCACHE_SKIPPED);
    int64_t left = probed + 850000 - now_us();
    if (left > 0)
        sleep_ms((long)(left / 1000));
    /* The probe: Redis is back (empty, it keeps nothing), the breaker closes. */
    UNIT_INT_EQ(get(w, sc, 0x41, FINGERPRINT, &res), SHAREDCACHE_MISS);
    UNIT_INT_EQ(stats(sc).breaker_state, BREAKER_CLOSED);
    put(w, sc, 0x41);
    UNIT_INT_EQ(get(w, sc, 0x41, FINGERPRINT, &res), SHAREDCACHE_HIT);
    sharedcache_conn_free(w);
    sharedcache_free(sc);
}

static void test_a_restart_between_calls_costs_nothing(void)
{
    if (!spare.pid)
        CU_ASSERT_FATAL(redis_start(&spare));
    struct sharedcache_settings s = spare_settings();
    struct sharedcache *sc = make(&s);
    struct sharedcache_conn *w = conn();
    struct sharedcache_result res;
    put(w, sc, 0x42);
    redis_kill(&spare);
    CU_ASSERT_FATAL(redis_start(&spare));
    /* The kept connection was closed by the old server: seen before sending, replaced. */
    struct sharedcache_stats before = stats(sc);
    UNIT_INT_EQ(get(w, sc, 0x42, FINGERPRINT, &res), SHAREDCACHE_MISS);
    UNIT_INT_EQ(stats(sc).errors, before.errors);
    UNIT_INT_EQ(stats(sc).connects - before.connects, 1);
    sharedcache_conn_free(w);
    sharedcache_free(sc);
}

/* ---- a fake server that answers nonsense ---- */

struct fake {
    int listener;
    int port;
    pthread_t thread;
    _Atomic bool stop;
    const char *reply; /* written once per request; NULL: never answer */
    size_t reply_len;
    size_t repeat; /* bytes of 'x' written after reply */
    bool close_after;
};

static void *fake_serve(void *arg)
{
    struct fake *f = arg;
    while (!atomic_load(&f->stop)) {
        struct pollfd p = {.fd = f->listener, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(f->listener, NULL, NULL);
        if (fd < 0)
            continue;
        for (;;) {
            struct pollfd q = {.fd = fd, .events = POLLIN};
            if (poll(&q, 1, 2000) <= 0)
                break;
            char buf[4096];
            if (recv(fd, buf, sizeof(buf), 0) <= 0)
                break;
            if (!f->reply)
                continue;
            if (send(fd, f->reply, f->reply_len, MSG_NOSIGNAL) < 0)
                break;
            char x[4096];
            memset(x, 'x', sizeof(x));
            for (size_t sent = 0; sent < f->repeat; sent += sizeof(x))
                if (send(fd, x, sizeof(x), MSG_NOSIGNAL) < 0)
                    break;
            if (f->close_after)
                break;
        }
        close(fd);
    }
    return NULL;
}

static void fake_start(struct fake *f)
{
    memset(f, 0, sizeof(*f));
    f->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    CU_ASSERT_FATAL(bind(f->listener, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    CU_ASSERT_FATAL(listen(f->listener, 8) == 0);
    getsockname(f->listener, (struct sockaddr *)&sa, &len);
    f->port = ntohs(sa.sin_port);
    pthread_create(&f->thread, NULL, fake_serve, f);
}

static void fake_stop(struct fake *f)
{
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
    close(f->listener);
}

static void test_garbage_replies_are_errors(void)
{
    static const struct {
        const char *what, *reply;
        size_t repeat;
        bool close_after;
        enum sharedcache_status expect;
    } cases[] = {
        {"nonsense", "hello world\r\n", 0, false, SHAREDCACHE_ERROR},
        {"an array header", "*2147483647\r\n", 0, false, SHAREDCACHE_ERROR},
        {"a nested array", "*1\r\n*1\r\n$1\r\nx\r\n", 0, false, SHAREDCACHE_ERROR},
        {"an integer", ":42\r\n", 0, false, SHAREDCACHE_ERROR},
        {"a status", "+OK\r\n", 0, false, SHAREDCACHE_ERROR},
        {"a bad length", "$abc\r\n", 0, false, SHAREDCACHE_ERROR},
        {"a cut bulk", "$50\r\nabc", 0, true, SHAREDCACHE_ERROR},
        {"a huge bulk", "$999999999\r\n", 200000, false, SHAREDCACHE_ERROR},
        {"an endless status", "+", 200000, false, SHAREDCACHE_ERROR},
        {"two replies", "$-1\r\n+OK\r\n", 0, false, SHAREDCACHE_ERROR},
        {"a closed connection", "", 0, true, SHAREDCACHE_ERROR},
        {"silence", NULL, 0, false, SHAREDCACHE_ERROR},
        {"an error reply", "-ERR no such thing\r\n", 0, false, SHAREDCACHE_ERROR},
        {"a bulk of noise", "$40\r\n0123456789012345678901234567890123456789\r\n", 0, false,
         SHAREDCACHE_TAMPERED},
        {"nil", "$-1\r\n", 0, false, SHAREDCACHE_MISS},
    };
    struct fake f;
    fake_start(&f);
    char address[32];
    snprintf(address, sizeof(address), "127.0.0.1:%d", f.port);
    struct sharedcache_settings s = settings(address);
    s.password = NULL;
    s.timeout_ms = 100;
    struct sharedcache *sc = make(&s);
    struct sharedcache_conn *w = conn();
    struct sharedcache_stats before = stats(sc);
    for (size_t i = 0; i < UNIT_N(cases); i++) {
        f.reply = cases[i].reply;
        f.reply_len = cases[i].reply ? strlen(cases[i].reply) : 0;
        f.repeat = cases[i].repeat;
        f.close_after = cases[i].close_after;
        struct sharedcache_result res;
        enum sharedcache_status st = get(w, sc, 0x50, FINGERPRINT, &res);
        UNIT_CHECK(st == cases[i].expect, "%s: %s, expected %s", cases[i].what,
                   sharedcache_status_name(st), sharedcache_status_name(cases[i].expect));
        CU_ASSERT_PTR_NULL(res.blob);
        if (st == SHAREDCACHE_ERROR)
            CU_ASSERT_PTR_NOT_NULL(res.error);
    }
    UNIT_INT_EQ(stats(sc).hits, before.hits);
    sharedcache_conn_free(w);
    sharedcache_free(sc);
    fake_stop(&f);
}

/* ---- the lock ---- */

static void test_only_one_holds_the_lock_until_it_expires(void)
{
    struct sharedcache_settings s = settings(shared.socket);
    struct sharedcache *sc = make(&s);
    struct sharedcache_conn *a = conn(), *b = conn();
    unsigned char digest[32], fingerprint[32];
    fill(digest, 0x60);
    fill(fingerprint, FINGERPRINT);
    struct sharedcache_lock la, lb;
    struct sharedcache_result res;

    UNIT_INT_EQ(sharedcache_try_lock(a, sc, digest, fingerprint, 5000, &la, &res), SHAREDCACHE_OK);
    char name[SEAL_NAME_MAX];
    name_of(SECRET, 0x60, FINGERPRINT, name);
    strcat(name, ":lock");
    UNIT_STR_EQ(la.name, name);
    UNIT_INT_EQ(sharedcache_try_lock(b, sc, digest, fingerprint, 5000, &lb, &res),
                SHAREDCACHE_BUSY);
    /* What was not taken cannot be released. */
    UNIT_INT_EQ(sharedcache_unlock(b, sc, &lb, &res), SHAREDCACHE_INVALID);
    UNIT_INT_EQ(sharedcache_unlock(a, sc, &la, &res), SHAREDCACHE_OK);
    UNIT_INT_EQ(sharedcache_unlock(a, sc, &la, &res), SHAREDCACHE_BUSY);
    UNIT_INT_EQ(sharedcache_try_lock(b, sc, digest, fingerprint, 5000, &lb, &res), SHAREDCACHE_OK);
    UNIT_INT_EQ(sharedcache_unlock(b, sc, &lb, &res), SHAREDCACHE_OK);

    /* A holder that never unlocks delays the others by the hold time only. */
    UNIT_INT_EQ(sharedcache_try_lock(a, sc, digest, fingerprint, 300, &la, &res), SHAREDCACHE_OK);
    UNIT_INT_EQ(sharedcache_try_lock(b, sc, digest, fingerprint, 5000, &lb, &res),
                SHAREDCACHE_BUSY);
    sleep_ms(600);
    UNIT_INT_EQ(sharedcache_try_lock(b, sc, digest, fingerprint, 5000, &lb, &res), SHAREDCACHE_OK);
    /* The late holder's unlock does not release the new holder's lock. */
    UNIT_INT_EQ(sharedcache_unlock(a, sc, &la, &res), SHAREDCACHE_BUSY);
    UNIT_INT_EQ(sharedcache_try_lock(a, sc, digest, fingerprint, 5000, &la, &res),
                SHAREDCACHE_BUSY);
    UNIT_INT_EQ(sharedcache_unlock(b, sc, &lb, &res), SHAREDCACHE_OK);

    UNIT_INT_EQ(sharedcache_try_lock(a, sc, digest, fingerprint, 0, &la, &res),
                SHAREDCACHE_INVALID);
    sharedcache_conn_free(a);
    sharedcache_conn_free(b);
    sharedcache_free(sc);
}

/* ---- settings, arguments, generations, threads ---- */

static void test_settings_are_checked(void)
{
    static const struct {
        const char *address, *prefix, *user, *password;
        long timeout_ms;
        const char *error;
    } cases[] = {
        {"", "p:", NULL, NULL, 20, "address: empty"},
        {"127.0.0.1:65536", "p:", NULL, NULL, 20, "port must be"},
        {"127.0.0.1:6379", "p:", NULL, NULL, 0, "timeout"},
        {"127.0.0.1:6379", "p:", NULL, NULL, 10001, "timeout"},
        {"127.0.0.1:6379", "with space", NULL, NULL, 20, "keyPrefix"},
        {"127.0.0.1:6379", "authz:authz:authz:authz:authz:authz:authz:authz:authz:authz:authz:",
         NULL, NULL, 20, "keyPrefix: longer"},
        {"127.0.0.1:6379", "p:", "user", NULL, 20, "user: needs a password"},
        {"127.0.0.1:6379", "p:", NULL, "", 20, "password"},
    };
    for (size_t i = 0; i < UNIT_N(cases); i++) {
        struct sharedcache_settings s = {.address = cases[i].address,
                                         .key_prefix = cases[i].prefix,
                                         .user = cases[i].user,
                                         .password = cases[i].password,
                                         .timeout_ms = cases[i].timeout_ms};
        char err[256];
        struct sharedcache *sc = (struct sharedcache *)&s;
        const char *msg = sharedcache_new(&s, &sc, err, sizeof(err));
        UNIT_STR_HAS(msg, cases[i].error);
        CU_ASSERT_PTR_NULL(sc);
    }
    const char *good[] = {"127.0.0.1:6379", "/tmp/redis.sock"};
    for (size_t i = 0; i < UNIT_N(good); i++) {
        struct sharedcache_settings s = settings(good[i]);
        char err[256];
        struct sharedcache *sc = NULL;
        const char *msg = sharedcache_new(&s, &sc, err, sizeof(err));
        UNIT_CHECK(msg == NULL, "%s: %s", good[i], msg ? msg : "");
        sharedcache_free(sc);
    }
    UNIT_STR_EQ(sharedcache_status_name(SHAREDCACHE_HIT), "hit");
    UNIT_STR_EQ(sharedcache_status_name(SHAREDCACHE_TAMPERED), "tampered");
    UNIT_STR_EQ(sharedcache_status_name(SHAREDCACHE_SKIPPED), "skipped");
    UNIT_STR_EQ(sharedcache_status_name((enum sharedcache_status)99), "unknown");
}

static void test_arguments_out_of_bounds_touch_nothing(void)
{
    struct sharedcache_settings s = settings(shared.tcp);
    struct sharedcache *sc = make(&s);
    struct sharedcache_conn *w = conn();
    unsigned char digest[32], fingerprint[32];
    fill(digest, 0x70);
    fill(fingerprint, FINGERPRINT);
    static unsigned char big[SHAREDCACHE_MAX_BLOB + 1];
    struct sharedcache_result res;
    struct sharedcache_stats before = stats(sc);
    UNIT_INT_EQ(sharedcache_set(w, sc, digest, fingerprint, big, sizeof(big), 1000, &res),
                SHAREDCACHE_INVALID);
    CU_ASSERT_PTR_NOT_NULL(res.error);
    UNIT_INT_EQ(sharedcache_set(w, sc, digest, fingerprint, BLOB, 4, 0, &res), SHAREDCACHE_INVALID);
    UNIT_INT_EQ(
        sharedcache_set(w, sc, digest, fingerprint, BLOB, 4, SHAREDCACHE_MAX_TTL_MS + 1, &res),
        SHAREDCACHE_INVALID);
    struct sharedcache_stats after = stats(sc);
    UNIT_INT_EQ(after.round_trips, before.round_trips);
    UNIT_INT_EQ(after.errors, before.errors);

    /* The largest blob goes through whole. */
    UNIT_INT_EQ(sharedcache_set(w, sc, digest, fingerprint, big, sizeof(big) - 1, 1000, &res),
                SHAREDCACHE_OK);
    UNIT_INT_EQ(sharedcache_get(w, sc, digest, fingerprint, &res), SHAREDCACHE_HIT);
    UNIT_INT_EQ(res.blob_len, SHAREDCACHE_MAX_BLOB);
    sharedcache_conn_free(w);
    sharedcache_free(sc);
}

static void test_a_new_generation_reconnects(void)
{
    struct sharedcache_settings s = settings(shared.tcp);
    struct sharedcache *first = make(&s);
    s.address = shared.socket;
    struct sharedcache *second = make(&s);
    struct sharedcache_conn *w = conn();
    struct sharedcache_result res;
    uint64_t connects = stats(NULL).connects;
    put(w, first, 0x71);
    UNIT_INT_EQ(stats(NULL).connects - connects, 1);
    UNIT_INT_EQ(get(w, second, 0x71, FINGERPRINT, &res), SHAREDCACHE_HIT);
    UNIT_INT_EQ(stats(NULL).connects - connects, 2);
    /* The old generation may go while the conn still has its connection. */
    sharedcache_free(first);
    UNIT_INT_EQ(get(w, second, 0x71, FINGERPRINT, &res), SHAREDCACHE_HIT);
    UNIT_INT_EQ(stats(NULL).connects - connects, 2);
    /* Same settings, new generation: a new connection all the same. */
    struct sharedcache *third = make(&s);
    UNIT_INT_EQ(get(w, third, 0x71, FINGERPRINT, &res), SHAREDCACHE_HIT);
    UNIT_INT_EQ(stats(NULL).connects - connects, 3);
    sharedcache_free(third);
    sharedcache_free(second);
    sharedcache_conn_free(w);
}

struct worker_run {
    struct sharedcache *sc;
    unsigned char byte;
    int hits, other;
};

static void *worker(void *arg)
{
    struct worker_run *r = arg;
    struct sharedcache_conn *w = sharedcache_conn_new();
    unsigned char digest[32], fingerprint[32];
    fill(fingerprint, FINGERPRINT);
    for (int i = 0; w && i < 100; i++) {
        fill(digest, r->byte);
        digest[0] = (unsigned char)i;
        struct sharedcache_result res;
        if (sharedcache_set(w, r->sc, digest, fingerprint, &r->byte, 1, 10000, &res) !=
            SHAREDCACHE_OK)
            r->other++;
        enum sharedcache_status st = sharedcache_get(w, r->sc, digest, fingerprint, &res);
        if (st == SHAREDCACHE_HIT && res.blob_len == 1 && res.blob[0] == r->byte)
            r->hits++;
        else
            r->other++;
    }
    sharedcache_conn_free(w);
    return NULL;
}

static void test_workers_share_one_cache(void)
{
    struct sharedcache_settings s = settings(shared.socket);
    struct sharedcache *sc = make(&s);
    enum { N = 4 };
    pthread_t threads[N];
    struct worker_run runs[N];
    for (int i = 0; i < N; i++) {
        runs[i] = (struct worker_run){.sc = sc, .byte = (unsigned char)(0x80 + i)};
        pthread_create(&threads[i], NULL, worker, &runs[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(threads[i], NULL);
        UNIT_INT_EQ(runs[i].hits, 100);
        UNIT_INT_EQ(runs[i].other, 0);
    }
    sharedcache_free(sc);
}

int main(void)
{
    if (!redis_start(&shared)) {
        fprintf(stderr, "test_sharedcache: could not start redis-server (package redis-server; "
                        "REDIS_SERVER names another binary)\n");
        cleanup_all();
        return 99;
    }
    atexit(cleanup_all);
    static const struct unit_case round_trips[] = {
        UNIT_CASE(test_round_trip_over_tcp),
        UNIT_CASE(test_round_trip_over_unix_socket),
        UNIT_CASE(test_round_trip_with_an_acl_user),
        UNIT_CASE(test_nothing_readable_in_redis),
        UNIT_CASE(test_wrong_password_is_an_error_never_a_hit),
        UNIT_END,
    };
    static const struct unit_case tampering[] = {
        UNIT_CASE(test_a_flipped_bit_is_tampered),
        UNIT_CASE(test_a_truncated_value_is_tampered),
        UNIT_CASE(test_another_version_is_tampered),
        UNIT_CASE(test_a_value_copied_under_another_key_is_tampered),
        UNIT_CASE(test_a_value_sealed_with_another_secret_is_tampered),
        UNIT_CASE(test_another_fingerprint_misses),
        UNIT_CASE(test_an_expired_value_is_a_miss),
        UNIT_CASE(test_another_type_under_the_key_is_an_error),
        UNIT_CASE(test_old_secret_is_read_during_rotation),
        UNIT_END,
    };
    static const struct unit_case faults[] = {
        UNIT_CASE(test_a_full_redis_is_an_error),
        UNIT_CASE(test_a_slow_redis_is_an_error_within_the_timeout),
        UNIT_CASE(test_the_breaker_opens_when_redis_dies),
        UNIT_CASE(test_after_a_restart_the_probe_closes_the_breaker),
        UNIT_CASE(test_a_restart_between_calls_costs_nothing),
        UNIT_CASE(test_garbage_replies_are_errors),
        UNIT_END,
    };
    static const struct unit_case operations[] = {
        UNIT_CASE(test_only_one_holds_the_lock_until_it_expires),
        UNIT_CASE(test_settings_are_checked),
        UNIT_CASE(test_arguments_out_of_bounds_touch_nothing),
        UNIT_CASE(test_a_new_generation_reconnects),
        UNIT_CASE(test_workers_share_one_cache),
        UNIT_END,
    };
    static const struct unit_suite suites[] = {
        {"round trips", round_trips},
        {"tampering", tampering},
        {"faults", faults},
        {"operations", operations},
        {NULL, NULL},
    };
    return unit_main(suites);
}
