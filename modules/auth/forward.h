/*
 * forward.h - forward auth: asking a middleware's auth service over HTTP.
 *
 * One client per worker thread: it owns a libcurl easy handle that is reused for every call,
 * so connections to the auth service are kept alive, and fixed buffers for the request headers
 * and the parts of the response that are kept. A call allocates nothing of its own. DNS and TLS
 * session caches are shared between all clients (libcurl's share interface).
 *
 * The request is a GET with no body that forwards the client's credentials and the original
 * request's coordinates; redirects are never followed and proxies from the environment are
 * ignored. From the response only the status, the first value of each header the rule wants
 * (rule.wanted; every value of WWW-Authenticate and Set-Cookie, core/policy.h) and the start
 * of the body are kept. The body of an answer that is no allow is read only as far as it is
 * kept: a denial with a large page is still that denial. A response that breaks HTTP's rules
 * or the bounds below is refused as a whole.
 */
#ifndef AUTHZ_FORWARD_H
#define AUTHZ_FORWARD_H

#include <stddef.h>

#include "config/config.h"
#include "core/policy.h"
#include "http/request.h"

#define FORWARD_MAX_CLIENT_VALUE 16384 /* one forwarded client header value */
#define FORWARD_MAX_HEADERS 100        /* header lines in one auth response */
#define FORWARD_MAX_HEADER_LINE 16384  /* one auth-response header line */
#define FORWARD_MAX_BODY (1024 * 1024) /* body bytes of an allow read before giving up */

struct forward_client;

/* Process-wide setup (curl_global_init, shared caches). Call once before any thread starts. */
const char *forward_global_init(void);
void forward_global_cleanup(void);

/* A client for one worker, or NULL with a reason in err (out of memory, a security option
 * that libcurl refused). */
struct forward_client *forward_client_new(char *err, size_t errlen);
void forward_client_free(struct forward_client *c);

/* Asks the rule's auth service about the request. The result stays valid until the next call. */
enum auth_status forward_call(struct forward_client *c, const struct rule *rule,
                              const struct request_view *req, struct auth_result *res);

/* The authenticator that asks the rule's auth service (see core/policy.h), or NULL. */
struct authenticator *forward_authenticator_new(const struct rule *rule);
void forward_authenticator_free(struct authenticator *a);

#endif
