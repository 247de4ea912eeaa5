/*
 * htpasswd_parse.h - one line of an htpasswd file, and the password-hash formats it may hold.
 *
 * Used by htpasswd.c (and its tests); see htpasswd.h for the format and what is refused. Pure
 * functions over the caller's bytes, safe from any thread.
 */
#ifndef AUTHZ_HTPASSWD_PARSE_H
#define AUTHZ_HTPASSWD_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* The accepted formats, weakest first: a larger value is a stronger kind. */
enum hash_kind { HASH_SHA1, HASH_APR1, HASH_SHA256, HASH_SHA512, HASH_BCRYPT };

/* The longest hash accepted ($6$rounds=1000000$, a 16-character salt, 86 characters). */
#define HASH_MAX_LEN 128

/* One user's entry, pointing into the line it was read from. */
struct hash_entry {
    const char *name;
    size_t name_len;
    bool name_ok; /* the name is valid (and may be quoted in a message) */
    const char *hash;
    size_t hash_len;
    enum hash_kind kind;
    unsigned long cost; /* bcrypt's cost, SHA-crypt's rounds; 0 for the others */
    unsigned line;      /* line in the file, or number of the inline entry (from 1) */
    bool is_inline;
};

enum line_kind { LINE_BLANK, LINE_COMMENT, LINE_ENTRY, LINE_ERROR };

/*
 * Parses one line (without its '\n'; a trailing '\r' is dropped). LINE_ENTRY fills the name,
 * hash, kind and cost of *e; LINE_ERROR sets *why to a static reason (and e->name_ok tells
 * whether the name may be shown with it). The line's bytes must outlive *e.
 */
enum line_kind htpasswd_parse_line(const char *line, size_t len, struct hash_entry *e,
                                   const char **why);

/* Whether checking a hash of this kind costs milliseconds or more (bcrypt and SHA-crypt). */
bool htpasswd_kind_is_slow(enum hash_kind kind);

/*
 * Writes a hash of like's kind and cost (and bcrypt variant) with a random salt and a random
 * checksum, which no password matches, into out (cap >= HASH_MAX_LEN + 1); its length in *len.
 * False if no random bytes could be had.
 */
bool htpasswd_make_dummy(const struct hash_entry *like, char *out, size_t cap, size_t *len);

#endif
