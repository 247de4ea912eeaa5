/*
 * basicauth.h - the authenticator of a `basicAuth` middleware: HTTP Basic credentials checked
 * against users in Apache's htpasswd format (auth/htpasswd.h).
 *
 * Answers, in the shape of an auth service's (so that decide, the cache and the response treat
 * them as any): 401 with WWW-Authenticate: Basic realm="<realm>", charset="UTF-8" for a missing,
 * malformed or wrong credential (unknown users cost what a wrong password costs); 200 with the
 * user name as the value of "user" (forwardUsername, params); a failure (500, fail closed) when
 * too many slow hashes are running already (concurrentHashes), so that a flood of wrong
 * passwords cannot take every worker for seconds.
 *
 * The htpasswd file is looked at, at most once a second, by the request that comes first after
 * that second (one stat, no stat per request): a file that changed is loaded beside the old
 * table and replaces it if valid; if not, the old one stays and the log says why, once. With a
 * cache in front, answers are keyed by a keyed hash of the credential together with the user's
 * line in the file, so an answer dies as soon as that line changes and never serves another
 * user. Passwords are never logged and are wiped after use.
 */
#ifndef AUTHZ_BASICAUTH_H
#define AUTHZ_BASICAUTH_H

#include <stddef.h>

#include "config/config.h"
#include "core/policy.h"

/* How long a request waits for a free hash slot before it fails. */
#define BASICAUTH_WAIT_MS 1000

/* The authenticator of middleware m (MIDDLEWARE_BASIC), with slots for `workers` workers;
 * NULL with the reason in err. */
struct authenticator *basic_authenticator_new(const struct middleware *m, int workers, char *err,
                                              size_t errlen);
void basic_authenticator_free(struct authenticator *a);

/* What -t checks: the users load (the file's syntax and hashes). NULL or a message. */
const char *basic_check(const struct middleware *m, char *err, size_t errlen);

#endif
