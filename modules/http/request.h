/*
 * request.h - a read-only view of one FastCGI request's parameters.
 *
 * Built from the parameter array libfcgi hands over ("NAME=value" strings). Nothing is copied:
 * the view points into the array, which lives until the request is finished. Where a parameter
 * appears twice the first one counts, as in libfcgi's own lookup.
 */
#ifndef AUTHZ_REQUEST_H
#define AUTHZ_REQUEST_H

#include <stddef.h>

/* Longest REQUEST_URI accepted (path and query); longer requests get 400. */
#define REQUEST_MAX_URI 16384

struct request_view {
    char **envp;
    const char *method;      /* REQUEST_METHOD */
    const char *request_uri; /* REQUEST_URI: the raw request target */
    const char *path;        /* raw path inside request_uri (no scheme/authority, no query) */
    size_t path_len;
    const char *query;       /* the part of REQUEST_URI after '?' (not QUERY_STRING); never NULL */
    const char *scheme;      /* "http" or "https" */
    const char *host;        /* HTTP_HOST, else SERVER_NAME; may be "" */
    const char *remote_addr; /* REMOTE_ADDR, may be "" */
};

/* Returns the value of a parameter, or NULL. */
const char *request_param(char *const *envp, const char *name);

/*
 * Fills the view. Returns NULL, or a short reason why the request is malformed (no or bad
 * REQUEST_URI, oversized, control characters in a field the authorizer forwards): the caller
 * answers 400.
 */
const char *request_view_init(struct request_view *v, char **envp);

#endif
