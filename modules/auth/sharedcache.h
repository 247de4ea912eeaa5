/*
 * sharedcache.h - a second cache level that a fleet of authorizers shares through Redis.
 *
 * The caller keeps its per-process cache and, on a local miss, may look here before asking
 * the auth service. This module stores and fetches the caller's opaque blob (the outcome and
 * exported values, packed as the caller likes) under the 32-byte digest of the request's
 * cache key and a 32-byte fingerprint of the policy that produced it.
 *
 * Nothing readable, nothing forgeable (seal.h): Redis sees names that are HMACs and values
 * that are sealed with AES-256-GCM, with their own expiry inside. A value that does not open
 * under its name, policy and secret (changed, truncated, moved, of another version) is a
 * miss (SHAREDCACHE_TAMPERED); so is one whose expiry has passed (SHAREDCACHE_EXPIRED).
 *
 * Faults never change an answer: every way Redis can fail (refused, down, slow, restarted,
 * out of memory, error replies, garbage or an unexpected reply type) is SHAREDCACHE_ERROR
 * for that one call, which the caller treats as a miss. Each operation returns within the
 * settings' timeout_ms, a reconnect included (redisconn.h puts a deadline on every step).
 * After `failures_to_open` faults in a row a breaker (breaker.h) opens: calls return
 * SHAREDCACHE_SKIPPED at once, without touching the network, for open_ms; then one call
 * probes Redis. Its success closes the breaker, its failure doubles the wait (up to
 * max_open_ms). A reconnect is never waited for while the breaker is open.
 *
 * The one rule for the caller: anything but SHAREDCACHE_HIT from sharedcache_get means "not
 * here, ask the service"; no status of this module is ever a reason to deny or to allow.
 *
 * Threads. A worker owns one struct sharedcache_conn (allocated once, like its libcurl
 * handle): one Redis connection, its buffers and its OpenSSL contexts. A connection per
 * worker needs no lock on the request path and no wait for a free connection, and a worker
 * asks for one thing at a time anyway; Redis serves thousands of connections, so workers
 * times authorizers is not a concern. A conn is used by one thread at a time. A struct
 * sharedcache is shared by all workers: immutable once made but for its breaker (atomics,
 * hence not const in the calls). The counters (sharedcache_stats) are process-wide atomics.
 *
 * Lifetime and reload. A struct sharedcache holds one configuration generation's settings
 * (copied: the caller's settings may be wiped once sharedcache_new returns). On SIGHUP the
 * owner makes a new one and frees the old once no worker uses it any more. A conn remembers
 * only the generation number of the sharedcache it connected for, never a pointer: the first
 * call with a newer one closes the old connection and connects with the new address, password
 * and secrets. The sharedcache passed to a call must stay alive during that call only.
 *
 * The caller may log the error message of a call; it never contains a key, value, password
 * or secret.
 */
#ifndef AUTHZ_SHAREDCACHE_H
#define AUTHZ_SHAREDCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/seal.h"

#define SHAREDCACHE_SECRET_LEN SEAL_SECRET_LEN
#define SHAREDCACHE_DIGEST_LEN SEAL_DIGEST_LEN
#define SHAREDCACHE_FINGERPRINT_LEN SEAL_FINGERPRINT_LEN
#define SHAREDCACHE_MAX_PREFIX SEAL_MAX_PREFIX
#define SHAREDCACHE_MAX_BLOB (64 * 1024) /* a larger blob is not shared (INVALID) */
#define SHAREDCACHE_MAX_ADDRESS 256
#define SHAREDCACHE_MAX_CREDENTIAL 512 /* user and password, each */
#define SHAREDCACHE_MAX_TIMEOUT_MS 10000
#define SHAREDCACHE_MAX_HOLD_MS 60000                  /* the longest lock */
#define SHAREDCACHE_MAX_TTL_MS (7L * 24 * 3600 * 1000) /* the longest entry */

/* What the configuration says; the caller reads passwordFile and secretFile into it. */
struct sharedcache_settings {
    /* "host:port", "[ipv6]:port", or a unix socket path starting with '/'. A host name is
     * resolved by sharedcache_new, never on the request path: a reload resolves it again. */
    const char *address;
    const char *user;     /* NULL: AUTH password (Redis' default user); else AUTH user password */
    const char *password; /* NULL: no AUTH */
    unsigned char secret[SHAREDCACHE_SECRET_LEN]; /* names and seals what is written */
    bool has_old_secret;
    unsigned char old_secret[SHAREDCACHE_SECRET_LEN]; /* also read, during a rotation */
    const char *key_prefix;                           /* e.g. "authz:"; NULL or "" for none */
    long timeout_ms;                                  /* for one whole operation: 1..10000 */
    /* The breaker; 0 for the defaults (5 faults in a row; 1000 ms, doubling up to 30000). */
    unsigned failures_to_open;
    long open_ms, max_open_ms;
};

enum sharedcache_status {
    SHAREDCACHE_HIT,      /* get: the blob is in the call's result */
    SHAREDCACHE_MISS,     /* get: no entry */
    SHAREDCACHE_TAMPERED, /* get: an entry that does not open (a miss, counted apart) */
    SHAREDCACHE_EXPIRED,  /* get: an authentic entry past its own expiry (a miss) */
    SHAREDCACHE_OK,       /* set, unlock: done; try_lock: the lock is ours */
    SHAREDCACHE_BUSY,     /* try_lock: another holds it; unlock: it was no longer ours */
    SHAREDCACHE_SKIPPED,  /* the breaker is open: Redis was not asked */
    SHAREDCACHE_ERROR,    /* Redis failed or answered nonsense: see the call's error */
    SHAREDCACHE_INVALID,  /* the caller's arguments are out of bounds: nothing was done */
};

/* A name for metrics labels and logs: "hit", "miss", "tampered", ... */
const char *sharedcache_status_name(enum sharedcache_status s);

/* What one call did, beyond its status. Valid until the next call with the same conn. */
struct sharedcache_result {
    const unsigned char *blob; /* HIT: the caller's blob, blob_len bytes */
    size_t blob_len;
    const char *error; /* ERROR, INVALID: why, for the log; else NULL */
    long micros;       /* time spent on Redis (connecting included); 0 if not asked */
};

struct sharedcache;
struct sharedcache_conn;

/*
 * Checks and copies the settings, derives the keys and resolves the address. NULL on
 * success; otherwise writes what is wrong into err (which it returns) and leaves *out NULL.
 * Does not connect: an unreachable Redis is a fault of later calls, not of the settings.
 */
const char *sharedcache_new(const struct sharedcache_settings *s, struct sharedcache **out,
                            char *err, size_t errlen);

/* Wipes the copied password and keys. No call may be using sc. */
void sharedcache_free(struct sharedcache *sc);

/* A worker's connection and buffers (about 130 KB); NULL if out of memory. No I/O. */
struct sharedcache_conn *sharedcache_conn_new(void);
void sharedcache_conn_free(struct sharedcache_conn *w);

/*
 * Fetches the entry for (digest, fingerprint). With an old secret configured, an entry the
 * current secret does not name or open is looked for under the old one too (a second round
 * trip, within the same timeout). HIT, MISS, TAMPERED, EXPIRED, SKIPPED or ERROR.
 */
enum sharedcache_status
sharedcache_get(struct sharedcache_conn *w, struct sharedcache *sc,
                const unsigned char digest[SHAREDCACHE_DIGEST_LEN],
                const unsigned char fingerprint[SHAREDCACHE_FINGERPRINT_LEN],
                struct sharedcache_result *res);

/*
 * Stores blob[0..len) for (digest, fingerprint) for ttl_ms: Redis drops it then (SET PX), and
 * the sealed value itself says it expires then (wall clock), so no reader takes it for longer.
 * Written under the current secret only. OK, SKIPPED, ERROR, or INVALID (len above
 * SHAREDCACHE_MAX_BLOB, ttl_ms out of 1..SHAREDCACHE_MAX_TTL_MS).
 */
enum sharedcache_status
sharedcache_set(struct sharedcache_conn *w, struct sharedcache *sc,
                const unsigned char digest[SHAREDCACHE_DIGEST_LEN],
                const unsigned char fingerprint[SHAREDCACHE_FINGERPRINT_LEN], const void *blob,
                size_t len, long ttl_ms, struct sharedcache_result *res);

/*
 * A short lock per entry, so that a cold fleet asks the service about once per key: the
 * worker that gets it asks and sets; the others may wait a little and get again, or ask
 * anyway. It is a hint, never a guarantee: a holder that dies or hangs delays the others by
 * at most hold_ms (the lock's PX); a Redis fault means nobody knows, and the caller should
 * then ask the service at once instead of waiting. The lock is named like the entry (its
 * name + ":lock") and holds a random token, so unlock releases only a lock still ours.
 */
struct sharedcache_lock {
    char name[SEAL_NAME_MAX + 5];
    char token[33];
};

/* SET name:lock token NX PX hold_ms. OK (ours), BUSY, SKIPPED, ERROR, INVALID (hold_ms out
 * of 1..SHAREDCACHE_MAX_HOLD_MS). On OK, lock is filled for sharedcache_unlock. */
enum sharedcache_status
sharedcache_try_lock(struct sharedcache_conn *w, struct sharedcache *sc,
                     const unsigned char digest[SHAREDCACHE_DIGEST_LEN],
                     const unsigned char fingerprint[SHAREDCACHE_FINGERPRINT_LEN], long hold_ms,
                     struct sharedcache_lock *lock, struct sharedcache_result *res);

/* Deletes the lock if it still holds our token (a server-side script, atomic). OK (released),
 * BUSY (expired, perhaps taken by another), SKIPPED or ERROR (it then expires by itself). */
enum sharedcache_status sharedcache_unlock(struct sharedcache_conn *w, struct sharedcache *sc,
                                           const struct sharedcache_lock *lock,
                                           struct sharedcache_result *res);

/* Totals since the process started (all generations), and the breaker of sc (NULL: the one
 * the last call used). */
struct sharedcache_stats {
    uint64_t hits, misses, tampered, expired; /* outcomes of get */
    uint64_t stored;                          /* successful sets */
    uint64_t locked, lock_busy;               /* outcomes of try_lock */
    uint64_t errors;                          /* calls that met a Redis fault */
    uint64_t skipped;                         /* calls the open breaker answered */
    uint64_t round_trips;                     /* commands sent to Redis, AUTH included */
    uint64_t connects;                        /* connections made (and authenticated) */
    uint64_t breaker_opens;                   /* times a breaker opened */
    uint64_t calls, micros;                   /* calls that asked Redis, and their time */
    int breaker_state;         /* enum breaker_state of sc (NULL: of the last call): 0 closed */
    unsigned breaker_failures; /* faults in a row so far */
};
void sharedcache_stats(const struct sharedcache *sc, struct sharedcache_stats *out);

#endif
