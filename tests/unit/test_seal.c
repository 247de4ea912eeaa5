/* test_seal.c - entry names and sealed values: only the exact value sealed for a name opens. */
#include "auto_config.h" /* memmem */

#include "auth/seal.h"

#include <string.h>

#include "unit.h"

static const char BLOB[] = "status=200 user=alice token=Bearer s3cr3t";
static const int64_t NOW = 1700000000000;

struct fixture {
    struct seal_ctx *ctx;
    struct seal_keys keys;
    unsigned char digest[SEAL_DIGEST_LEN], fingerprint[SEAL_FINGERPRINT_LEN];
    char name[SEAL_NAME_MAX];
    unsigned char sealed[256];
    size_t sealed_len;
};

static void secret_of(unsigned char secret[SEAL_SECRET_LEN], unsigned char byte)
{
    memset(secret, byte, SEAL_SECRET_LEN);
}

/* Keys from secret 0x11, the entry's name, and BLOB sealed for it until NOW + 1 s. */
static void setup(struct fixture *f)
{
    unsigned char secret[SEAL_SECRET_LEN];
    secret_of(secret, 0x11);
    f->ctx = seal_ctx_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->ctx);
    CU_ASSERT_PTR_NULL(seal_keys_derive(secret, &f->keys));
    memset(f->digest, 0xd1, sizeof(f->digest));
    memset(f->fingerprint, 0xf1, sizeof(f->fingerprint));
    CU_ASSERT_TRUE(seal_name(f->ctx, &f->keys, "authz:", f->fingerprint, f->digest, f->name));
    CU_ASSERT_TRUE(seal_value(f->ctx, &f->keys, f->name, f->fingerprint, NOW + 1000, BLOB,
                              strlen(BLOB), f->sealed, sizeof(f->sealed), &f->sealed_len));
    UNIT_INT_EQ(f->sealed_len, strlen(BLOB) + SEAL_OVERHEAD);
}

static void teardown(struct fixture *f)
{
    seal_keys_wipe(&f->keys);
    seal_ctx_free(f->ctx);
}

static enum seal_open open_as(struct fixture *f, const unsigned char *in, size_t len)
{
    unsigned char out[256];
    size_t out_len = 99;
    enum seal_open o = seal_open_value(f->ctx, &f->keys, f->name, f->fingerprint, NOW, in, len, out,
                                       sizeof(out), &out_len);
    if (o != SEAL_OPENED)
        UNIT_INT_EQ(out_len, 0);
    return o;
}

static void test_keys_are_separate_and_deterministic(void)
{
    unsigned char secret[SEAL_SECRET_LEN];
    struct seal_keys a, b, c;
    secret_of(secret, 0x11);
    CU_ASSERT_PTR_NULL(seal_keys_derive(secret, &a));
    CU_ASSERT_PTR_NULL(seal_keys_derive(secret, &b));
    secret_of(secret, 0x22);
    CU_ASSERT_PTR_NULL(seal_keys_derive(secret, &c));
    CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a.name, a.value, sizeof(a.name)), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a.name, c.name, sizeof(a.name)), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a.value, c.value, sizeof(a.value)), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a.name, secret, sizeof(a.name)), 0);
    seal_keys_wipe(&a);
    unsigned char zero[sizeof(a)] = {0};
    CU_ASSERT_EQUAL(memcmp(&a, zero, sizeof(a)), 0);
}

static void test_name_is_prefix_and_hex(void)
{
    struct fixture f;
    setup(&f);
    UNIT_INT_EQ(strlen(f.name), 6 + 64);
    CU_ASSERT_EQUAL(strncmp(f.name, "authz:", 6), 0);
    UNIT_INT_EQ(strspn(f.name + 6, "0123456789abcdef"), 64);

    char again[SEAL_NAME_MAX], other[SEAL_NAME_MAX];
    CU_ASSERT_TRUE(seal_name(f.ctx, &f.keys, "authz:", f.fingerprint, f.digest, again));
    UNIT_STR_EQ(again, f.name);
    unsigned char digest[SEAL_DIGEST_LEN];
    memcpy(digest, f.digest, sizeof(digest));
    digest[31] ^= 1;
    CU_ASSERT_TRUE(seal_name(f.ctx, &f.keys, "authz:", f.fingerprint, digest, other));
    CU_ASSERT_STRING_NOT_EQUAL(other, f.name);
    unsigned char fingerprint[SEAL_FINGERPRINT_LEN];
    memcpy(fingerprint, f.fingerprint, sizeof(fingerprint));
    fingerprint[0] ^= 1;
    CU_ASSERT_TRUE(seal_name(f.ctx, &f.keys, "authz:", fingerprint, f.digest, other));
    CU_ASSERT_STRING_NOT_EQUAL(other, f.name);
    CU_ASSERT_TRUE(seal_name(f.ctx, &f.keys, "", f.fingerprint, f.digest, other));
    UNIT_STR_EQ(other, f.name + 6);

    char prefix[SEAL_MAX_PREFIX + 2];
    memset(prefix, 'p', sizeof(prefix) - 1);
    prefix[sizeof(prefix) - 1] = '\0';
    CU_ASSERT_FALSE(seal_name(f.ctx, &f.keys, prefix, f.fingerprint, f.digest, other));
    UNIT_STR_EQ(other, "");
    prefix[SEAL_MAX_PREFIX] = '\0';
    CU_ASSERT_TRUE(seal_name(f.ctx, &f.keys, prefix, f.fingerprint, f.digest, other));
    UNIT_INT_EQ(strlen(other), SEAL_NAME_MAX - 1);
    teardown(&f);
}

static void test_round_trip(void)
{
    struct fixture f;
    setup(&f);
    unsigned char out[256];
    size_t len = 0;
    UNIT_INT_EQ(seal_open_value(f.ctx, &f.keys, f.name, f.fingerprint, NOW, f.sealed, f.sealed_len,
                                out, sizeof(out), &len),
                SEAL_OPENED);
    UNIT_INT_EQ(len, strlen(BLOB));
    CU_ASSERT_EQUAL(memcmp(out, BLOB, len), 0);

    /* An empty blob is a value too. */
    CU_ASSERT_TRUE(seal_value(f.ctx, &f.keys, f.name, f.fingerprint, NOW + 1, "", 0, f.sealed,
                              sizeof(f.sealed), &f.sealed_len));
    UNIT_INT_EQ(f.sealed_len, SEAL_OVERHEAD);
    UNIT_INT_EQ(open_as(&f, f.sealed, f.sealed_len), SEAL_OPENED);
    teardown(&f);
}

static void test_nothing_readable_and_nonces_differ(void)
{
    struct fixture f;
    setup(&f);
    CU_ASSERT_PTR_NULL(memmem(f.sealed, f.sealed_len, "alice", 5));
    CU_ASSERT_PTR_NULL(memmem(f.sealed, f.sealed_len, "s3cr3t", 6));
    UNIT_INT_EQ(f.sealed[0], SEAL_VERSION);
    unsigned char second[256];
    size_t len = 0;
    CU_ASSERT_TRUE(seal_value(f.ctx, &f.keys, f.name, f.fingerprint, NOW + 1000, BLOB, strlen(BLOB),
                              second, sizeof(second), &len));
    UNIT_INT_EQ(len, f.sealed_len);
    CU_ASSERT_NOT_EQUAL(memcmp(second + 1, f.sealed + 1, SEAL_NONCE_LEN), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(second, f.sealed, len), 0);
    UNIT_INT_EQ(open_as(&f, second, len), SEAL_OPENED);
    teardown(&f);
}

static void test_every_bit_flip_is_refused(void)
{
    struct fixture f;
    setup(&f);
    unsigned char copy[256];
    unsigned refused = 0, bits = 0;
    for (size_t i = 0; i < f.sealed_len; i++) {
        for (int bit = 0; bit < 8; bit++, bits++) {
            memcpy(copy, f.sealed, f.sealed_len);
            copy[i] ^= (unsigned char)(1 << bit);
            refused += open_as(&f, copy, f.sealed_len) == SEAL_REFUSED;
        }
    }
    UNIT_INT_EQ(refused, bits);
    teardown(&f);
}

static void test_every_truncation_is_refused(void)
{
    struct fixture f;
    setup(&f);
    unsigned refused = 0;
    for (size_t len = 0; len < f.sealed_len; len++)
        refused += open_as(&f, f.sealed, len) == SEAL_REFUSED;
    UNIT_INT_EQ(refused, f.sealed_len);
    /* Nor may anything be appended. */
    unsigned char longer[257];
    memcpy(longer, f.sealed, f.sealed_len);
    longer[f.sealed_len] = 0;
    UNIT_INT_EQ(open_as(&f, longer, f.sealed_len + 1), SEAL_REFUSED);
    teardown(&f);
}

static void test_another_name_fingerprint_or_secret_is_refused(void)
{
    struct fixture f;
    setup(&f);
    unsigned char out[256];
    size_t len = 0;
    char other[SEAL_NAME_MAX];
    unsigned char digest[SEAL_DIGEST_LEN];
    memset(digest, 0xd2, sizeof(digest));
    CU_ASSERT_TRUE(seal_name(f.ctx, &f.keys, "authz:", f.fingerprint, digest, other));
    UNIT_INT_EQ(seal_open_value(f.ctx, &f.keys, other, f.fingerprint, NOW, f.sealed, f.sealed_len,
                                out, sizeof(out), &len),
                SEAL_REFUSED);

    unsigned char fingerprint[SEAL_FINGERPRINT_LEN];
    memset(fingerprint, 0xf2, sizeof(fingerprint));
    UNIT_INT_EQ(seal_open_value(f.ctx, &f.keys, f.name, fingerprint, NOW, f.sealed, f.sealed_len,
                                out, sizeof(out), &len),
                SEAL_REFUSED);

    unsigned char secret[SEAL_SECRET_LEN];
    struct seal_keys keys;
    secret_of(secret, 0x22);
    CU_ASSERT_PTR_NULL(seal_keys_derive(secret, &keys));
    UNIT_INT_EQ(seal_open_value(f.ctx, &keys, f.name, f.fingerprint, NOW, f.sealed, f.sealed_len,
                                out, sizeof(out), &len),
                SEAL_REFUSED);
    /* Sealed with another secret under this name: refused by ours. */
    CU_ASSERT_TRUE(seal_value(f.ctx, &keys, f.name, f.fingerprint, NOW + 1000, BLOB, strlen(BLOB),
                              f.sealed, sizeof(f.sealed), &f.sealed_len));
    UNIT_INT_EQ(open_as(&f, f.sealed, f.sealed_len), SEAL_REFUSED);
    teardown(&f);
}

static void test_another_version_is_refused(void)
{
    struct fixture f;
    setup(&f);
    f.sealed[0] = SEAL_VERSION + 1;
    UNIT_INT_EQ(open_as(&f, f.sealed, f.sealed_len), SEAL_REFUSED);
    f.sealed[0] = 0;
    UNIT_INT_EQ(open_as(&f, f.sealed, f.sealed_len), SEAL_REFUSED);
    teardown(&f);
}

static void test_expiry_is_believed_only_when_authentic(void)
{
    struct fixture f;
    setup(&f);
    unsigned char out[256];
    size_t len = 0;
    UNIT_INT_EQ(seal_open_value(f.ctx, &f.keys, f.name, f.fingerprint, NOW + 999, f.sealed,
                                f.sealed_len, out, sizeof(out), &len),
                SEAL_OPENED);
    UNIT_INT_EQ(seal_open_value(f.ctx, &f.keys, f.name, f.fingerprint, NOW + 1000, f.sealed,
                                f.sealed_len, out, sizeof(out), &len),
                SEAL_EXPIRED);
    UNIT_INT_EQ(len, 0);
    /* A changed value is refused before its expiry means anything. */
    f.sealed[f.sealed_len - 1] ^= 1;
    UNIT_INT_EQ(seal_open_value(f.ctx, &f.keys, f.name, f.fingerprint, NOW + 5000, f.sealed,
                                f.sealed_len, out, sizeof(out), &len),
                SEAL_REFUSED);
    teardown(&f);
}

static void test_bounds(void)
{
    struct fixture f;
    setup(&f);
    unsigned char small[SEAL_OVERHEAD + 4];
    size_t len = 7;
    CU_ASSERT_FALSE(seal_value(f.ctx, &f.keys, f.name, f.fingerprint, NOW, BLOB, 5, small,
                               sizeof(small), &len));
    UNIT_INT_EQ(len, 0);
    CU_ASSERT_TRUE(seal_value(f.ctx, &f.keys, f.name, f.fingerprint, NOW + 1, BLOB, 4, small,
                              sizeof(small), &len));
    /* A blob that does not fit the reader's room is refused, not cut. */
    unsigned char out[8];
    UNIT_INT_EQ(seal_open_value(f.ctx, &f.keys, f.name, f.fingerprint, NOW, f.sealed, f.sealed_len,
                                out, sizeof(out), &len),
                SEAL_REFUSED);
    teardown(&f);
}

int main(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_keys_are_separate_and_deterministic),
        UNIT_CASE(test_name_is_prefix_and_hex),
        UNIT_CASE(test_round_trip),
        UNIT_CASE(test_nothing_readable_and_nonces_differ),
        UNIT_CASE(test_every_bit_flip_is_refused),
        UNIT_CASE(test_every_truncation_is_refused),
        UNIT_CASE(test_another_name_fingerprint_or_secret_is_refused),
        UNIT_CASE(test_another_version_is_refused),
        UNIT_CASE(test_expiry_is_believed_only_when_authentic),
        UNIT_CASE(test_bounds),
        UNIT_END,
    };
    static const struct unit_suite suites[] = {{"seal", cases}, {NULL, NULL}};
    return unit_main(suites);
}
