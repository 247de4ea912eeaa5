/*
 * outcome.h - what became of a request, said once: the outcome, the cause of a failure and
 * what the decision cache did, each an enum with one name table.
 *
 * decide sets them where the decision is made; the response, the metrics, the decision log
 * and the cache read them and never derive them again from status codes.
 */
#ifndef AUTHZ_OUTCOME_H
#define AUTHZ_OUTCOME_H

enum outcome {
    OUTCOME_ALLOWED,     /* a middleware allowed it: 200 with its exports */
    OUTCOME_UNPROTECTED, /* no middleware protects it: 200 without identity */
    OUTCOME_DENIED,      /* 401 or 403, or 302 to a sign-in page */
    OUTCOME_BAD_REQUEST, /* 400: the request cannot be decided safely */
    OUTCOME_ERROR,       /* 500: fail closed */
    OUTCOME_COUNT
};

/* Why a decision failed (OUTCOME_ERROR); CAUSE_NONE otherwise. */
enum cause {
    CAUSE_NONE,
    CAUSE_CONNECT,   /* the auth service could not be reached */
    CAUSE_TIMEOUT,   /* it did not answer in time */
    CAUSE_TLS,       /* TLS handshake or certificate */
    CAUSE_MALFORMED, /* its answer broke HTTP's rules */
    CAUSE_TOO_LARGE, /* its answer, or the rewritten query, exceeded a bound */
    CAUSE_TRANSPORT, /* reset, closed early, receive errors */
    CAUSE_STATUS,    /* it answered a status that neither allows nor denies */
    CAUSE_ABANDONED, /* the web server gave up on the request before it was decided */
    CAUSE_KEYS,      /* a middleware that verifies tokens has no keys (yet) */
    CAUSE_BUSY,      /* too many password checks at once */
    CAUSE_COUNT
};

/* What the decision cache did for a request. */
enum cache_state {
    CACHE_OFF,        /* the middleware has no cache, or no middleware matched */
    CACHE_HIT,        /* answered from the cache */
    CACHE_MISS,       /* asked, and the answer was offered to the cache */
    CACHE_SHARED_HIT, /* answered from the fleet's shared level (and kept in the process's) */
    CACHE_STATE_COUNT
};

/* Names for logs and metric labels: "allowed", "bad_request", ...; "none" for CAUSE_NONE. */
const char *outcome_name(enum outcome o);
const char *cause_name(enum cause c);
const char *cache_state_name(enum cache_state s);

/*
 * What an auth service's HTTP status means, the only place that says it: 2xx allows, 401 and
 * 403 deny, anything else is an error (fail closed).
 */
enum outcome outcome_of_auth_status(int status);

/* The status the web server is answered with for an outcome; `denied_status` is 401, 403,
 * or 302 for a sign-in redirect. */
int outcome_http_status(enum outcome o, int denied_status);

#endif
