/*
 * htpasswd.h - users and password hashes in Apache's htpasswd format, and checking passwords
 * against them.
 *
 * A table is loaded from an htpasswd file (or its text) and/or inline "user:hash" entries, is
 * checked as a whole at load, and is immutable afterwards: any number of threads may look users
 * up and check passwords at once without locks. A change on disk is noticed by
 * htpasswd_file_changed and answered by htpasswd_reload, which builds a new table beside the
 * old one; the caller swaps its pointer and frees the old table once no thread uses it.
 *
 * The format, one entry a line:
 *   user:hash      the user name is everything before the (only) ':', the hash everything after
 *   # comment      ('#' as the first character that is not a space or tab)
 *   (blank)        (empty, or spaces and tabs only)
 * A trailing CR is dropped (files written on Windows). Everything else is refused at load, with
 * the file and line and the reason: no ':' or more than one, an empty user name or one with a
 * control character, whitespace before the name or after the hash, a user twice (also across the
 * file and the inline entries), and a hash that is not one of
 *   $2y$ $2a$ $2b$   bcrypt (htpasswd -B), cost 4 to HTPASSWD_MAX_BCRYPT_COST
 *   $apr1$           Apache's MD5 (htpasswd -m, its default)
 *   $5$ $6$          SHA-256-crypt and SHA-512-crypt (htpasswd -2, -5), at most
 *                    HTPASSWD_MAX_SHA_ROUNDS rounds
 *   {SHA}            unsalted SHA-1 (htpasswd -s; accepted as Apache does, but weak)
 * Plaintext passwords (htpasswd -p, or anything unrecognised) are refused: Apache on Linux hands
 * them to crypt(3) and never matches them either, so such a line is a mistake that leaves a
 * password in clear. crypt(3) DES (htpasswd -d, 13 characters) is refused because it reads only
 * the first 8 bytes of a password and is cracked in hours. Messages never quote a hash field,
 * which for a plaintext line would be the password.
 *
 * Which library checks what (the same results as apr-util's apr_password_validate, which Apache
 * uses; the unit tests compare the two on every fixture):
 *   bcrypt, $5$, $6$   libxcrypt's crypt_rn (reentrant, works in a buffer on the caller's stack)
 *   $apr1$             apr-util's apr_md5_encode
 *   {SHA}              apr-util's apr_sha1_base64
 * and the result is compared with the stored hash in constant time (CRYPTO_memcmp). As with
 * Apache, bcrypt reads only the first 72 bytes of a password, and a SHA-crypt check of a password
 * of 512 bytes or more fails (libxcrypt refuses to hash one, so no such hash is made with it).
 *
 * An unknown user costs the same as a wrong password: the check runs against a dummy hash made
 * at load with a random salt, of the table's strongest kind (bcrypt > $6$ > $5$ > $apr1$ >
 * {SHA}) at its highest cost. Callers should still not tell the client which of the two it was.
 *
 * Errors are values: loading returns NULL or a message naming the file and line; checks return
 * an enum htpasswd_status. Nothing here logs, prints or exits.
 */
#ifndef AUTHZ_HTPASSWD_H
#define AUTHZ_HTPASSWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hashgate;

/* Bounds: longer user names and passwords are refused before anything is hashed. */
#define HTPASSWD_MAX_USER 255                /* bytes in a user name */
#define HTPASSWD_MAX_PASSWORD 1024           /* bytes in a password */
#define HTPASSWD_MAX_FILE (16 * 1024 * 1024) /* bytes in the file (or text) */
#define HTPASSWD_MAX_USERS 100000            /* entries, file and inline together */
#define HTPASSWD_MAX_BCRYPT_COST 17          /* htpasswd's maximum: seconds a check */
#define HTPASSWD_MAX_SHA_ROUNDS 1000000      /* $5$/$6$ rounds: most of a second */

/* Where a table comes from: a file, or its text, and/or inline entries. */
struct htpasswd_source {
    const char *path; /* an htpasswd file to read, or NULL */
    const char *text; /* or (path NULL) the text of one, text_len bytes */
    size_t text_len;
    const char *text_name;      /* names `text` in messages ("users.htpasswd") */
    const char *const *entries; /* inline "user:hash" lines (no blank or comment), or NULL */
    size_t n_entries;
    const char *entries_name; /* names the inline entries in messages ("authorizer.conf:12") */
};

struct htpasswd_table;

/*
 * Process-wide setup (not thread-safe), to be called once from main before any thread starts
 * and before any table is loaded: apr_initialize (APR asks for it before any use; it counts its
 * callers, so it pairs with other APR users in the process) and a random key for the keyed
 * hashes below (OpenSSL's RAND_bytes). Returns NULL or a message. htpasswd_global_cleanup undoes
 * it (apr_terminate, the key wiped) after every table is freed and every thread has stopped. No
 * APR pool is made or kept by this module: there is nothing else to release.
 */
const char *htpasswd_global_init(void);
void htpasswd_global_cleanup(void);

/*
 * Loads a table. On success returns NULL and stores the table in *out (the caller owns it:
 * htpasswd_table_free). On failure returns a message, written into err and naming the file or
 * the inline entry, the line and the reason ("users.htpasswd:7: user "bob": ..."), and leaves
 * *out NULL; nothing is kept. The table copies what it needs from src (src may go away).
 */
const char *htpasswd_load(const struct htpasswd_source *src, struct htpasswd_table **out, char *err,
                          size_t errlen);

/*
 * Builds a new table from the same source as `old` (the file read again, the same inline
 * entries). Like htpasswd_load; `old` is not touched either way, so on failure the caller goes
 * on with it. A table loaded from text cannot be reloaded. After a failed reload
 * htpasswd_file_changed(old) stays true until the file is fixed: say so once, not every second.
 */
const char *htpasswd_reload(const struct htpasswd_table *old, struct htpasswd_table **out,
                            char *err, size_t errlen);

/* Frees a table; no thread may still use it. NULL is ignored. */
void htpasswd_table_free(struct htpasswd_table *t);

/* The number of users. */
size_t htpasswd_count(const struct htpasswd_table *t);

/*
 * Whether the table's file looks different on disk from when it was read: another inode or
 * device (replaced by a rename), another size, modification or change time, or it cannot be
 * stat'ed any more. One stat(2), no reading, except in the first seconds after the file was
 * last written: file times advance in coarse ticks, so a second write of the same size in the
 * same tick would leave them as they were; while that can happen the contents are read and
 * compared (SHA-256) as well. Meant to be called about once a second, not on every request.
 * Always false for a table without a file. Thread-safe.
 */
bool htpasswd_file_changed(const struct htpasswd_table *t);

enum htpasswd_status {
    HTPASSWD_OK,             /* the password is right */
    HTPASSWD_UNKNOWN_USER,   /* no such user (checked against the dummy hash all the same) */
    HTPASSWD_WRONG_PASSWORD, /* the user exists, the password is wrong */
    HTPASSWD_BUSY,           /* no slot of the gate was free in time; nothing was checked */
    HTPASSWD_TOO_LONG,       /* user name or password over the bounds; nothing was hashed */
    HTPASSWD_ERROR,          /* a library call failed (out of memory...): deny */
};

/* "ok", "unknown_user", "wrong_password", "busy", "too_long", "error": for logs and metrics. */
const char *htpasswd_status_name(enum htpasswd_status s);

/*
 * Checks a password (NUL-terminated strings; a user name is matched byte for byte). Only
 * HTPASSWD_OK lets the user in. Thread-safe; allocates nothing; uses about 33 KB of stack.
 *
 * gate (may be NULL: no bound) bounds the expensive checks, bcrypt and SHA-crypt, the dummy
 * check of unknown users included: a slot is held while hashing, and if none frees up within
 * wait_ms the answer is HTPASSWD_BUSY. $apr1$ and {SHA} checks are cheap and pass without a slot.
 */
enum htpasswd_status htpasswd_verify(const struct htpasswd_table *t, const char *user,
                                     const char *password, struct hashgate *gate, long wait_ms);

/*
 * A fingerprint of one user's line (a keyed hash of the user name and hash string): it changes
 * when the line does, so a cache that stores it beside an answer can drop the answer as soon as
 * the user's password (or the user) changes in the file. Keyed, so that for {SHA} lines it is not
 * a plain hash of a plain hash of the password. The same line gives the same fingerprint in every
 * table of the process (across reloads), and another one in another process.
 */
struct htpasswd_fingerprint {
    unsigned char bytes[32];
};

/* The user's fingerprint into *out; false (and *out zeroed) if there is no such user. */
bool htpasswd_fingerprint(const struct htpasswd_table *t, const char *user,
                          struct htpasswd_fingerprint *out);

/*
 * A key for a credential cache: HMAC-SHA256, under the per-process random key made by
 * htpasswd_global_init, of the user name and the password (each with its length, so no two
 * pairs share an input). A cache holding these holds neither a password nor a plain hash of one;
 * an entry is still as secret as the process memory, which holds the key too. Keys differ
 * between processes and runs. False (and *out zeroed) if htpasswd_global_init has not run, a
 * user name or password is over the bounds, or OpenSSL fails.
 */
struct htpasswd_key {
    unsigned char bytes[32];
};
bool htpasswd_credential_key(const char *user, const char *password, struct htpasswd_key *out);

/* How many password hashes this process has computed, for every table together (metrics). */
uint64_t htpasswd_hashes_computed(void);

#endif
