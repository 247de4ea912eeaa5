/*
 * backend.h - the call to a middleware's auth service.
 *
 * One backend per worker thread: it owns a libcurl easy handle that is reused for every call,
 * so connections to the auth service are kept alive, and fixed buffers for the request headers
 * and the parts of the response that are kept. A call allocates nothing of its own. DNS and TLS
 * session caches are shared between all backends (libcurl's share interface).
 *
 * The request is a GET with no body that forwards the client's credentials and the original
 * request's coordinates; redirects are never followed and proxies from the environment are
 * ignored. From the response only the status, the first value of each header the rule wants
 * (rule.wanted) and the start of the body are kept. A response that breaks HTTP's rules or the
 * bounds below is refused as a whole.
 */
#ifndef AUTHZ_BACKEND_H
#define AUTHZ_BACKEND_H

#include <stddef.h>

#include "config/config.h"
#include "http/request.h"

#define BACKEND_MAX_CLIENT_VALUE 16384 /* one forwarded client header value */
#define BACKEND_MAX_HEADERS 100        /* header lines in one auth response */
#define BACKEND_MAX_HEADER_LINE 16384  /* one auth-response header line */
#define BACKEND_MAX_BODY_KEPT 8192     /* body bytes kept for relaying a denial */
#define BACKEND_MAX_BODY (1024 * 1024) /* body bytes read at all before giving up */

enum backend_status {
    BACKEND_OK,          /* a well-formed response arrived: see status */
    BACKEND_BAD_REQUEST, /* a client header cannot be forwarded safely: answer 400 */
    BACKEND_FAILED,      /* no usable response: refused, reset, timed out, malformed, too big */
};

struct auth_result {
    int status;        /* the auth service's HTTP status (BACKEND_OK only) */
    const char *error; /* why the call did not succeed, for the log */
    /* The kind of failure, a metrics label: "connect", "timeout", "tls", "malformed",
     * "too_large" or "transport"; NULL on success. */
    const char *cause;
    /* First value of each rule.wanted header, or NULL if absent or dropped as unsafe. */
    const char *values[CONFIG_MAX_WANTED];
    const char *dropped; /* a wanted header whose value was dropped as unsafe, for the log */
    double seconds;      /* how long the call took (0 if it was not made) */
    const char *body;    /* the first BACKEND_MAX_BODY_KEPT bytes of the body */
    size_t body_len;
};

struct backend;

/* Process-wide setup (curl_global_init, shared caches). Call once before any thread starts. */
const char *backend_global_init(void);
void backend_global_cleanup(void);

struct backend *backend_new(void);
void backend_free(struct backend *b);

/* Asks the rule's auth service about the request. The result stays valid until the next call. */
enum backend_status backend_call(struct backend *b, const struct rule *rule,
                                 const struct request_view *req, struct auth_result *res);

#endif
