/*
 * httpsyntax.h - the few HTTP grammar rules every other module relies on.
 *
 * Kept in one place so that "what is a header name" and "what may be sent as a header value"
 * have exactly one answer in the whole program.
 */
#ifndef AUTHZ_HTTPSYNTAX_H
#define AUTHZ_HTTPSYNTAX_H

#include <stdbool.h>
#include <stddef.h>

/* Longest header value the authorizer forwards or exports; longer ones are dropped. */
#define HTTP_MAX_VALUE 4096

/* RFC 9110 token (the grammar of header names): 1*tchar. */
bool http_is_token(const char *s, size_t len);

/*
 * A value that is safe to place on a header line: no control character at all (CR, LF, NUL,
 * TAB, DEL, ...), at most HTTP_MAX_VALUE bytes. Bytes >= 0x80 are kept (obs-text).
 */
bool http_value_is_safe(const char *s, size_t len);

/* No control character at all (CR, LF, NUL, TAB, DEL, ...); no length limit. */
bool http_value_is_clean(const char *s, size_t len);

/*
 * A code point that some language's trim takes for white space: ' ', TAB to CR, and beyond
 * ASCII NEL, the no-break space, U+1680, U+180E, U+2000..U+200B, the line and paragraph
 * separators, U+202F, U+205F, U+3000 and U+FEFF (.NET's Trim(), Python's strip(),
 * JavaScript's trim(), Java's strip(), old .NET's Trim() for U+200B and U+FEFF).
 */
bool http_is_trimmed_space(long cp);

/*
 * A value the authorizer may export (an identity header, a query parameter, a cookie): safe
 * as above, and also valid UTF-8 with no C1 control (U+0080..U+009F), no line or paragraph
 * separator (U+2028, U+2029), and no http_is_trimmed_space at either end (web servers trim a
 * header value but not a parameter, and an application that trims reads " admin" as
 * another user's name). Applications read header bytes as UTF-8 or as Latin-1, and
 * both readings of such a value hold a character that some of them take for a line break
 * (Python's splitlines, JavaScript's line terminators): an identity must not be two lines to
 * anyone. Raw bytes that are not UTF-8 are refused for the same reason: read as Latin-1,
 * 0x85 is NEL.
 */
bool http_value_is_exportable(const char *s, size_t len);

/*
 * An RFC 3986 authority without user information, as a Host header must be: a reg-name
 * (letters, digits, "-._~", sub-delims, %-escapes) or an IP literal in brackets, then
 * optionally ':' and at most 5 digits. Refuses '@', '/', '\\', '?', '#', spaces and every
 * byte >= 0x80: a Host that a URL parser would read as another host ("a.example:@b.example").
 * The empty string is refused too.
 */
bool http_authority_is_valid(const char *s, size_t len);

/* Case-insensitive ASCII comparison of two byte strings of the given lengths. */
bool http_name_eq(const char *a, size_t alen, const char *b, size_t blen);

/*
 * Writes the CGI parameter name of a header ("X-Api-Key" -> "HTTP_X_API_KEY": uppercase,
 * every other character than a letter or digit as '_') into out.
 * Returns false if it does not fit.
 */
bool http_cgi_name(const char *header, char *out, size_t outlen);

/* The value of a hexadecimal digit (either case), or -1: for %XX escapes. */
int http_hex_value(unsigned char c);

/* The reason phrase for a status code the authorizer answers with ("Unauthorized"). */
const char *http_reason(int status);

#endif
