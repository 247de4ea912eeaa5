/*
 * basicheader.h - reads the user name and password out of an `Authorization: Basic` value.
 *
 * RFC 7617: "Basic", one space or more, then the base64 of "user:password". The scheme is
 * matched case-insensitively; the base64 must be strict (the standard alphabet, padded to a
 * multiple of four, no whitespace or line breaks inside, canonical padding bits); the decoded
 * credential is split at its FIRST ':' so that a password may contain ':' and a user name
 * cannot. Bytes >= 0x80 (UTF-8) are kept as they are; control characters are refused anywhere.
 * Spaces and tabs after the base64 are the header's own whitespace and are ignored.
 *
 * The value's length is checked before anything is decoded. Nothing here logs, and the reasons
 * returned never quote the header, the user name or the password. Safe from any number of
 * threads (no state); allocates nothing.
 */
#ifndef AUTHZ_BASICHEADER_H
#define AUTHZ_BASICHEADER_H

#include <stddef.h>

/* The longest user name and password accepted, in bytes (the same bounds as htpasswd.h). */
#define BASIC_MAX_USER 255
#define BASIC_MAX_PASSWORD 1024

/* The base64 of the longest credential, and of a whole header value with room for spaces. */
#define BASIC_MAX_TOKEN (4 * ((BASIC_MAX_USER + 1 + BASIC_MAX_PASSWORD + 2) / 3))
#define BASIC_MAX_VALUE (BASIC_MAX_TOKEN + 64)

/* A decoded credential, owned by the caller (typically on its stack or per worker). */
struct basic_credential {
    char user[BASIC_MAX_USER + 1];         /* NUL-terminated, not empty, no ':' */
    char password[BASIC_MAX_PASSWORD + 1]; /* NUL-terminated, may be empty, may hold ':' */
    size_t user_len, password_len;
};

enum basic_status {
    BASIC_OK,        /* cred holds the user name and password */
    BASIC_NONE,      /* no Basic credential: no value, an empty one, or another scheme (Bearer) */
    BASIC_MALFORMED, /* "Basic" but not a usable credential: *why says what is wrong */
};

/*
 * Parses the value of an Authorization header (value[0..len), need not be NUL-terminated;
 * NULL means absent). On BASIC_OK fills *cred. On BASIC_MALFORMED *why (if why is not NULL)
 * points at a static reason fit for the log, such as "no ':' in the credential"; otherwise it is
 * set to NULL. Whatever the outcome, no copy of the password is left anywhere but in *cred (on
 * BASIC_OK); wipe it with basic_credential_wipe when done.
 */
enum basic_status basic_header_parse(const char *value, size_t len, struct basic_credential *cred,
                                     const char **why);

/* Overwrites the credential with zeros in a way the compiler cannot drop. */
void basic_credential_wipe(struct basic_credential *cred);

#endif
