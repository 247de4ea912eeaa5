/*
 * b64url.c - strict base64url decoding through EVP_DecodeBlock.
 */
#include "auth/b64url.h"

#include <openssl/evp.h>
#include <string.h>

/* Standard-alphabet characters translated per EVP_DecodeBlock call (a multiple of 4). */
#define CHUNK 1024

/* The 6-bit value of a base64url character, or -1: only for checking the last character. */
static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long b64url_decode(const char *in, size_t len, unsigned char *out, size_t outcap)
{
    size_t rem = len % 4;
    if (rem == 1 || outcap < B64URL_DECODE_ROOM(len))
        return -1;
    if (len == 0)
        return 0;
    /*
     * A final group of 2 characters carries 8 bits of its 12, one of 3 carries 16 of 18: the
     * rest must be zero, or two texts would decode to the same bytes.
     */
    int last = b64url_value((unsigned char)in[len - 1]);
    if (last < 0 || (rem == 2 && (last & 0x0f) != 0) || (rem == 3 && (last & 0x03) != 0))
        return -1;

    char std[CHUNK];
    size_t written = 0;
    for (size_t start = 0; start < len; start += CHUNK) {
        size_t n = len - start < CHUNK ? len - start : CHUNK;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)in[start + i];
            if (b64url_value(c) < 0)
                return -1;
            std[i] = c == '-' ? '+' : c == '_' ? '/' : (char)c;
        }
        size_t pad = 0;
        while (n % 4 != 0) {
            std[n++] = '=';
            pad++;
        }
        int got = EVP_DecodeBlock(out + written, (const unsigned char *)std, (int)n);
        if (got < 0 || (size_t)got != n / 4 * 3)
            return -1;
        written += (size_t)got - pad;
    }
    return (long)written;
}
