/* basicheader.c - see basicheader.h. */
#include "auth/basicheader.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <string.h>

#include "base/httpsyntax.h"

static bool is_base64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/*
 * Checks that token[0..len) is strict base64: whole quanta of four, '=' only as the last one
 * or two characters. Returns the number of '=' or -1.
 */
static int strict_base64_padding(const char *token, size_t len)
{
    if (len == 0 || len % 4 != 0)
        return -1;
    int pad = 0;
    if (token[len - 1] == '=')
        pad = token[len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < len - (size_t)pad; i++)
        if (!is_base64_char((unsigned char)token[i]))
            return -1;
    return pad;
}

/*
 * Decodes strict base64 into out (room for len / 4 * 3 bytes); returns the decoded length or -1.
 * OpenSSL decodes; encoding the result again and comparing refuses the encodings that decode to
 * the same bytes but are not the canonical one (padding bits set).
 */
static int decode_strict(const char *token, size_t len, unsigned char *out, char *scratch)
{
    int pad = strict_base64_padding(token, len);
    if (pad < 0)
        return -1;
    int n = EVP_DecodeBlock(out, (const unsigned char *)token, (int)len);
    if (n < pad)
        return -1;
    n -= pad;
    int back = EVP_EncodeBlock((unsigned char *)scratch, out, n);
    if (back != (int)len || CRYPTO_memcmp(scratch, token, len) != 0)
        return -1;
    return n;
}

static enum basic_status malformed(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return BASIC_MALFORMED;
}

static enum basic_status split_credential(const unsigned char *c, size_t n,
                                          struct basic_credential *cred, const char **why)
{
    for (size_t i = 0; i < n; i++)
        if (is_control(c[i]))
            return malformed(why, "control character in the credential");
    const unsigned char *colon = memchr(c, ':', n);
    if (!colon)
        return malformed(why, "no ':' in the credential");
    size_t user_len = (size_t)(colon - c);
    size_t password_len = n - user_len - 1;
    if (user_len == 0)
        return malformed(why, "empty user name");
    if (user_len > BASIC_MAX_USER)
        return malformed(why, "user name too long");
    if (password_len > BASIC_MAX_PASSWORD)
        return malformed(why, "password too long");
    memcpy(cred->user, c, user_len);
    cred->user[user_len] = '\0';
    cred->user_len = user_len;
    memcpy(cred->password, colon + 1, password_len);
    cred->password[password_len] = '\0';
    cred->password_len = password_len;
    return BASIC_OK;
}

enum basic_status basic_header_parse(const char *value, size_t len, struct basic_credential *cred,
                                     const char **why)
{
    static const char scheme[] = "Basic";
    const size_t scheme_len = sizeof(scheme) - 1;
    if (why)
        *why = NULL;

    /* The scheme first, from its first bytes only: a long value of another scheme is not ours. */
    if (!value || len < scheme_len || !http_name_eq(value, scheme_len, scheme, scheme_len))
        return BASIC_NONE;
    if (len > scheme_len && value[scheme_len] != ' ') {
        if (value[scheme_len] == '\t')
            return malformed(why, "no space after Basic");
        return BASIC_NONE; /* a longer scheme name that starts with "Basic" */
    }
    if (len > BASIC_MAX_VALUE)
        return malformed(why, "credential too long");

    size_t start = scheme_len;
    while (start < len && value[start] == ' ')
        start++;
    size_t end = len;
    while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t'))
        end--;
    if (start == end)
        return malformed(why, "no credential after Basic");
    if (end - start > BASIC_MAX_TOKEN)
        return malformed(why, "credential too long");

    unsigned char decoded[BASIC_MAX_TOKEN / 4 * 3];
    char scratch[BASIC_MAX_TOKEN + 1];
    enum basic_status st;
    int n = decode_strict(value + start, end - start, decoded, scratch);
    if (n < 0)
        st = malformed(why, "not strict base64");
    else
        st = split_credential(decoded, (size_t)n, cred, why);
    OPENSSL_cleanse(decoded, sizeof(decoded));
    OPENSSL_cleanse(scratch, sizeof(scratch));
    return st;
}

void basic_credential_wipe(struct basic_credential *cred)
{
    OPENSSL_cleanse(cred, sizeof(*cred));
}
