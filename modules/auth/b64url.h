/*
 * b64url.h - strict base64url decoding (RFC 4648 section 5, without padding), as JWS (RFC 7515)
 * and JWK (RFC 7517) use it.
 *
 * Strict means one text for one byte string: only A-Z a-z 0-9 - _ are accepted, so padding '=',
 * the standard alphabet's '+' and '/', whitespace and every other byte are refused, as are a
 * length that no byte string encodes to (4k + 1) and unused trailing bits that are not zero.
 * The decoding itself is OpenSSL's (EVP_DecodeBlock) on the text translated to the standard
 * alphabet and padded.
 *
 * No allocation, no global state: safe from any number of threads.
 */
#ifndef AUTHZ_B64URL_H
#define AUTHZ_B64URL_H

#include <stddef.h>

/* Room the output needs for len characters of input (a little more than what it decodes to). */
#define B64URL_DECODE_ROOM(len) ((((len) + 3) / 4) * 3)

/*
 * Decodes in[0..len) into out, which has outcap bytes (at least B64URL_DECODE_ROOM(len)).
 * Returns the number of bytes decoded (0 for empty input), or -1 if the text is not strict
 * base64url or out is too small.
 */
long b64url_decode(const char *in, size_t len, unsigned char *out, size_t outcap);

#endif
