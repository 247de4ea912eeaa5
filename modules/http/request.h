/*
 * request.h - a read-only view of one FastCGI request's parameters.
 *
 * Built from the parameter array libfcgi hands over ("NAME=value" strings). Nothing is copied:
 * the view points into the array, which lives until the request is finished. Where a parameter
 * appears twice the first one counts, as in libfcgi's own lookup.
 */
#ifndef AUTHZ_REQUEST_H
#define AUTHZ_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

/* Longest REQUEST_URI accepted (path and query); longer requests get 400. */
#define REQUEST_MAX_URI 16384

/* Longest authority of an absolute-form REQUEST_URI ("host:port"). */
#define REQUEST_MAX_AUTHORITY 255

struct request_view {
    char **envp;
    const char *method;      /* REQUEST_METHOD */
    const char *request_uri; /* REQUEST_URI: the raw request target */
    const char *path;        /* raw path inside request_uri (no scheme/authority): path_len
                                bytes, and the query follows up to the NUL */
    size_t path_len;
    const char *query;       /* the part of REQUEST_URI after '?' (not QUERY_STRING); never NULL */
    const char *scheme;      /* "http" or "https" */
    const char *host;        /* HTTP_HOST, else SERVER_NAME, else "" (an absolute target's
                                authority must be the same host: see request_view_init) */
    const char *remote_addr; /* REMOTE_ADDR, may be "" */
};

/* Returns the value of a parameter, or NULL. */
const char *request_param(char *const *envp, const char *name);

/* True if the parameter is there more than once: which copy a reader takes is anybody's
 * guess, so the authorizer refuses to guess (a header in two spellings, "X-Api-Key" and
 * "X_Api_Key", reaches it as two HTTP_X_API_KEY parameters). */
bool request_param_repeated(char *const *envp, const char *name);

/*
 * Fills the view. Returns NULL, or a short reason why the request is malformed (no or bad
 * REQUEST_URI, oversized, control characters in a field the authorizer forwards, a field it
 * reads given twice): the caller answers 400.
 *
 * An absolute-form target ("GET http://host/path") must name the host of the Host header,
 * which stays the host (what the upstream gets, its port included): a target without a Host
 * header, whose host differs from the Host header, whose scheme differs from the
 * connection's, or that carries user information is refused, so that no server in front can
 * proxy it to another host than the one decided on.
 */
const char *request_view_init(struct request_view *v, char **envp);

#endif
