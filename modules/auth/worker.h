/*
 * worker.h - the auth layer's scratch space for one worker thread.
 *
 * Allocated once per worker at startup and used by every authenticator that worker runs, so
 * that answering a request allocates nothing: the libcurl client of forward auth, the
 * buffers a cache unpacks an answer into.
 */
#ifndef AUTHZ_AUTH_WORKER_H
#define AUTHZ_AUTH_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "auth/basicheader.h"
#include "core/policy.h"

struct auth_worker {
    struct forward_client *forward;
    struct cache_scratch *cache;
    char *jwt_values;              /* JWTAUTH_VALUES_SPACE: the claims a verified token exports */
    char jwt_why[256];             /* why a token was refused, for the log */
    struct basic_credential basic; /* the credential being checked, wiped after */
    char basic_user[BASIC_MAX_USER + 1]; /* the user name an allow exports */
    /* The shared cache level's connection and value space: made at the first shared lookup,
     * as most configurations have none. */
    struct sharedcache_conn *shared;
    unsigned char *shared_blob; /* SHAREDCACHE_MAX_BLOB */
    /* Set by the daemon: true when the web server has given up on the request being decided
     * (its client went away while the request waited for a worker). NULL: never. */
    bool (*gave_up)(void *arg);
    void *gave_up_arg;
};

/* A worker's scratch space, or NULL with the reason in err. */
struct auth_worker *auth_worker_new(char *err, size_t errlen);
void auth_worker_free(struct auth_worker *w);

/*
 * Asked right before an expensive step (an auth call, a password hash), not before a cache
 * lookup: nothing is spent on an answer no one waits for, and an answer that costs nothing
 * costs no check either. True, with res filled as a failure of cause CAUSE_ABANDONED, if
 * the web server has given up. Inline: the authenticators that ask need nothing else of
 * this file's (a build of one authenticator alone, as the fuzzers link, has no worker).
 */
static inline bool auth_worker_gave_up(const struct auth_worker *w, struct auth_result *res)
{
    if (!w->gave_up || !w->gave_up(w->gave_up_arg))
        return false;
    memset(res, 0, sizeof(*res));
    res->error = "the web server closed the connection before it was decided";
    res->cause = CAUSE_ABANDONED;
    return true;
}

#endif
