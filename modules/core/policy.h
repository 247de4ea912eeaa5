/*
 * policy.h - what decide works from: a loaded configuration and, for each middleware, the
 * authenticator that answers for it; and the answer an authenticator gives.
 *
 * The authenticator is the one small interface through which every way of deciding plugs in
 * (an auth service over HTTP, a cache in front of another authenticator, local checks): decide
 * never knows which one answered. Authenticators are built in auth/ (auth/registry.h makes a
 * policy from a configuration). A policy is immutable while workers use it; a reload builds a
 * new one, and the old one is freed when its last request is done.
 */
#ifndef AUTHZ_POLICY_H
#define AUTHZ_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/httpsyntax.h"
#include "config/config.h"
#include "core/outcome.h"
#include "http/request.h"

/* Body bytes an answer keeps for relaying a denial. */
#define AUTH_MAX_BODY_KEPT 8192

/* Bytes kept of a header that may come several times (WWW-Authenticate, Set-Cookie): its
 * values joined by '\n', which no kept value contains, so that each is relayed on its own. */
#define AUTH_MAX_JOINED HTTP_MAX_VALUE /* so that a cache keeps it like any other value */

/* Whether values[i] of a rule.wanted name holds every value of the header, '\n'-joined. */
#define AUTH_WANTED_JOINED(i) ((i) == WANTED_WWW_AUTHENTICATE || (i) == WANTED_SET_COOKIE)

enum auth_status {
    AUTH_OK,          /* an answer arrived: see auth_result.status */
    AUTH_BAD_REQUEST, /* the request cannot be asked about safely: answer 400 */
    AUTH_FAILED,      /* no usable answer (refused, timed out, malformed, too big): 500 */
};

/* An answer, in the shape of an auth service's HTTP response. */
struct auth_result {
    int status;        /* HTTP status (AUTH_OK only): its meaning is outcome_of_auth_status */
    const char *error; /* why there is no answer, for the log */
    enum cause cause;  /* the kind of failure (AUTH_FAILED), else CAUSE_NONE */
    /* The value of each rule.wanted name, or NULL if absent or dropped as unsafe: the first
     * one, or all of them '\n'-joined for AUTH_WANTED_JOINED names. */
    const char *values[CONFIG_MAX_WANTED];
    const char *dropped; /* a wanted name whose value was dropped as unsafe, for the log */
    double seconds;      /* how long asking took (0 if nothing was asked) */
    const char *body;    /* what a denial relays, at most AUTH_MAX_BODY_KEPT bytes */
    size_t body_len;
};

/* Per-worker scratch space of the auth layer (libcurl handle, cache buffers); see auth/. */
struct auth_worker;

struct authenticator {
    /*
     * Answers for one request. Fills res (valid until the worker's next call) and says in
     * *cache whether a cache answered (CACHE_HIT), was filled (CACHE_MISS) or is not used.
     */
    enum auth_status (*ask)(const struct authenticator *self, struct auth_worker *w,
                            const struct request_view *req, struct auth_result *res,
                            enum cache_state *cache);
    /*
     * Optional: what a cache in front keys this authenticator's answers on (32 bytes), when
     * it is less than everything the request says (a verified token depends on the token
     * only). False: do not use the cache for this request. NULL: the cache's default key.
     */
    bool (*cache_key)(const struct authenticator *self, struct auth_worker *w,
                      const struct request_view *req, unsigned char key[32]);
};

struct policy {
    struct config *cfg;
    /* guards[i] answers for cfg->middlewares[i]. */
    const struct authenticator *const *guards;
};

#endif
