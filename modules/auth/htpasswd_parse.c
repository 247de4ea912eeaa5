/* htpasswd_parse.c - see htpasswd_parse.h. */
#include "auth/htpasswd_parse.h"

#include <crypt.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "auth/htpasswd.h"

#define SHA_CRYPT_DEFAULT_ROUNDS 5000
#define SHA_CRYPT_MIN_ROUNDS 1000
#define SHA_CRYPT_MAX_SALT 16
#define BCRYPT_MIN_COST 4

#define STR_(x) #x
#define STR(x) STR_(x)

#define ACCEPTED "accepted: bcrypt $2y$ $2a$ $2b$, $apr1$, $5$, $6$, {SHA}"

/* The alphabet of crypt(3) hashes and of bcrypt's (the same 64 characters). */
static const char crypt64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static bool is_crypt64(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0' || !strchr(crypt64, s[i]))
            return false;
    return true;
}

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static bool starts_with(const char *s, size_t n, const char *prefix)
{
    size_t p = strlen(prefix);
    return n >= p && memcmp(s, prefix, p) == 0;
}

/* A decimal number of 1 to 9 digits without a leading zero; returns the digits used or 0. */
static size_t parse_number(const char *s, size_t n, unsigned long *out)
{
    size_t i = 0;
    unsigned long v = 0;
    while (i < n && i < 9 && s[i] >= '0' && s[i] <= '9')
        v = v * 10 + (unsigned long)(s[i++] - '0');
    if (i == 0 || (i > 1 && s[0] == '0'))
        return 0;
    *out = v;
    return i;
}

/* $2y$NN$ then 22 characters of salt and 31 of checksum. */
static const char *check_bcrypt(const char *h, size_t n, unsigned long *cost)
{
    if (n != 60 || h[6] != '$' || h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' ||
        !is_crypt64(h + 7, 53))
        return "a malformed bcrypt hash";
    *cost = (unsigned long)(h[4] - '0') * 10 + (unsigned long)(h[5] - '0');
    if (*cost < BCRYPT_MIN_COST)
        return "a bcrypt cost below 4";
    if (*cost > HTPASSWD_MAX_BCRYPT_COST)
        return "a bcrypt cost above " STR(
            HTPASSWD_MAX_BCRYPT_COST) " (each check would take seconds)";
    return NULL;
}

/* $apr1$, 1 to 8 characters of salt, $, 22 characters. */
static const char *check_apr1(const char *h, size_t n)
{
    const char *salt = h + 6;
    const char *dollar = memchr(salt, '$', n - 6);
    size_t salt_len = dollar ? (size_t)(dollar - salt) : 0;
    if (!dollar || salt_len < 1 || salt_len > 8 || !is_crypt64(salt, salt_len) ||
        n != 6 + salt_len + 1 + 22 || !is_crypt64(dollar + 1, 22))
        return "a malformed $apr1$ hash";
    return NULL;
}

/* $5$ or $6$, maybe rounds=N$, 1 to 16 characters of salt, $, 43 or 86 characters. */
static const char *check_sha_crypt(const char *h, size_t n, size_t digest_chars,
                                   unsigned long *rounds)
{
    size_t i = 3;
    *rounds = SHA_CRYPT_DEFAULT_ROUNDS;
    if (starts_with(h + i, n - i, "rounds=")) {
        i += 7;
        size_t digits = parse_number(h + i, n - i, rounds);
        if (digits == 0 || i + digits >= n || h[i + digits] != '$')
            return "a malformed SHA-crypt hash (rounds=)";
        if (*rounds < SHA_CRYPT_MIN_ROUNDS)
            return "SHA-crypt rounds below 1000";
        if (*rounds > HTPASSWD_MAX_SHA_ROUNDS)
            return "SHA-crypt rounds above " STR(
                HTPASSWD_MAX_SHA_ROUNDS) " (each check would take seconds)";
        i += digits + 1;
    }
    const char *dollar = memchr(h + i, '$', n - i);
    size_t salt_len = dollar ? (size_t)(dollar - (h + i)) : 0;
    if (!dollar || salt_len < 1 || salt_len > SHA_CRYPT_MAX_SALT || !is_crypt64(h + i, salt_len) ||
        n != i + salt_len + 1 + digest_chars || !is_crypt64(dollar + 1, digest_chars))
        return "a malformed SHA-crypt hash";
    return NULL;
}

/* {SHA} and the base64 of 20 bytes: 27 characters and '='. */
static const char *check_sha1(const char *h, size_t n)
{
    if (n != 5 + 28 || h[n - 1] != '=')
        return "a malformed {SHA} hash";
    for (size_t i = 5; i < n - 1; i++) {
        char c = h[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return "a malformed {SHA} hash";
    }
    return NULL;
}

/* Recognises the format of h[0..n) (no control characters) or says why not. */
static const char *classify(const char *h, size_t n, enum hash_kind *kind, unsigned long *cost)
{
    const char *why;
    *cost = 0;
    if (starts_with(h, n, "$2y$") || starts_with(h, n, "$2a$") || starts_with(h, n, "$2b$")) {
        *kind = HASH_BCRYPT;
        why = check_bcrypt(h, n, cost);
    } else if (starts_with(h, n, "$apr1$")) {
        *kind = HASH_APR1;
        why = check_apr1(h, n);
    } else if (starts_with(h, n, "$5$")) {
        *kind = HASH_SHA256;
        why = check_sha_crypt(h, n, 43, cost);
    } else if (starts_with(h, n, "$6$")) {
        *kind = HASH_SHA512;
        why = check_sha_crypt(h, n, 86, cost);
    } else if (starts_with(h, n, "{SHA}")) {
        *kind = HASH_SHA1;
        return check_sha1(h, n);
    } else if (n == 13 && is_crypt64(h, n)) {
        return "a crypt(3) DES hash (or a plaintext password of that shape), refused: DES "
               "reads only the first 8 bytes of a password and is cracked in hours; make the "
               "entry again with htpasswd -B";
    } else if (h[0] == '$' || h[0] == '{') {
        return "an unsupported hash format (" ACCEPTED ")";
    } else {
        return "not a password hash: plaintext passwords are refused (" ACCEPTED ")";
    }
    if (why || *kind == HASH_APR1)
        return why;

    /* The same string is handed to libxcrypt later: ask it whether it can check it here. */
    char copy[HASH_MAX_LEN + 1];
    if (n > HASH_MAX_LEN)
        return "a malformed hash";
    memcpy(copy, h, n);
    copy[n] = '\0';
    int salt = crypt_checksalt(copy);
    if (salt == CRYPT_SALT_INVALID)
        return "a hash this system's libcrypt cannot read";
    if (salt == CRYPT_SALT_METHOD_DISABLED)
        return "a hash format this system's libcrypt does not support";
    return NULL;
}

enum line_kind htpasswd_parse_line(const char *s, size_t len, struct hash_entry *e,
                                   const char **why)
{
    e->name_ok = false;
    if (len > 0 && s[len - 1] == '\r')
        len--;
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i == len)
        return LINE_BLANK;
    if (s[i] == '#')
        return LINE_COMMENT;

    *why = NULL;
    const char *colon = memchr(s, ':', len);
    if (i > 0)
        *why = "whitespace before the user name";
    else if (!colon)
        *why = "no ':' between the user name and the hash";
    if (*why)
        return LINE_ERROR;

    e->name = s;
    e->name_len = (size_t)(colon - s);
    e->hash = colon + 1;
    e->hash_len = len - e->name_len - 1;
    if (e->name_len == 0)
        *why = "empty user name";
    else if (e->name_len > HTPASSWD_MAX_USER)
        *why = "user name longer than " STR(HTPASSWD_MAX_USER) " bytes";
    for (size_t k = 0; !*why && k < e->name_len; k++)
        if (is_control((unsigned char)s[k]))
            *why = "control character in the user name";
    if (*why)
        return LINE_ERROR;
    e->name_ok = true;

    if (memchr(e->hash, ':', e->hash_len))
        *why = "more than one ':' (no user name and no hash format has one)";
    else if (e->hash_len == 0)
        *why = "no hash after ':'";
    else if (e->hash[e->hash_len - 1] == ' ' || e->hash[e->hash_len - 1] == '\t')
        *why = "whitespace after the hash";
    for (size_t k = 0; !*why && k < e->hash_len; k++)
        if (is_control((unsigned char)e->hash[k]))
            *why = "a control character in the hash";
    if (!*why)
        *why = classify(e->hash, e->hash_len, &e->kind, &e->cost);
    return *why ? LINE_ERROR : LINE_ENTRY;
}

bool htpasswd_kind_is_slow(enum hash_kind kind)
{
    return kind == HASH_BCRYPT || kind == HASH_SHA256 || kind == HASH_SHA512;
}

/* Appends n random characters of the crypt alphabet (each from one random byte: no bias). */
static void add_random_crypt64(char *out, size_t *len, const unsigned char *rnd, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[(*len)++] = crypt64[rnd[i] & 63];
    out[*len] = '\0';
}

bool htpasswd_make_dummy(const struct hash_entry *like, char *out, size_t cap, size_t *len)
{
    unsigned char rnd[128];
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (cap < HASH_MAX_LEN + 1 || RAND_bytes(rnd, sizeof(rnd)) != 1)
        return false;
    *len = 0;
    out[0] = '\0';

    switch (like->kind) {
    case HASH_BCRYPT: {
        /* The setting (variant, cost, salt) is all bcrypt hashes; 31 characters complete it. */
        char prefix[] = {'$', '2', like->hash[2], '$', '\0'};
        if (!crypt_gensalt_rn(prefix, like->cost, (const char *)rnd, 16, setting, sizeof(setting)))
            return false;
        *len = (size_t)snprintf(out, cap, "%s", setting);
        add_random_crypt64(out, len, rnd + 16, 31);
        break;
    }
    case HASH_SHA256:
    case HASH_SHA512: {
        const char *prefix = like->kind == HASH_SHA256 ? "$5$" : "$6$";
        if (!crypt_gensalt_rn(prefix, like->cost, (const char *)rnd, 16, setting, sizeof(setting)))
            return false;
        *len = (size_t)snprintf(out, cap, "%s$", setting);
        add_random_crypt64(out, len, rnd + 16, like->kind == HASH_SHA256 ? 43 : 86);
        break;
    }
    case HASH_APR1:
        *len = (size_t)snprintf(out, cap, "$apr1$");
        add_random_crypt64(out, len, rnd, 8);
        out[(*len)++] = '$';
        add_random_crypt64(out, len, rnd + 8, 22);
        break;
    case HASH_SHA1:
        *len = (size_t)snprintf(out, cap, "{SHA}");
        *len += (size_t)EVP_EncodeBlock((unsigned char *)out + *len, rnd, 20);
        break;
    }

    /* Whatever was made must pass the checks every line passes. */
    struct hash_entry check;
    const char *why = NULL;
    char line[HASH_MAX_LEN + 3];
    int n = snprintf(line, sizeof(line), "x:%s", out);
    return n > 0 && (size_t)n < sizeof(line) &&
           htpasswd_parse_line(line, (size_t)n, &check, &why) == LINE_ENTRY &&
           check.kind == like->kind && check.cost == like->cost;
}
