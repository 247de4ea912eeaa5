/*
 * jwks.h - the keys of one `jwt` rule that verifies tokens itself: read from its files
 * (jwksFile, publicKey, secretFile) when the policy is built (start, SIGHUP), and fetched from
 * its jwksUrl by a thread of its own.
 *
 * The fetcher asks jwksUrl at once, then every jwksRefresh seconds (sooner if the answer's
 * Cache-Control max-age says so, never sooner than jwksMinRefresh), with the rule's timeouts
 * and TLS settings, redirects never followed and proxies ignored. A failed, oversized or
 * garbage answer keeps the last good set (and is logged). A token whose kid no key has may
 * ask for one refetch, at most once per jwksMinRefresh: a flood of made-up kids costs the
 * identity provider one fetch per that interval, whatever its size. Until the first set is
 * there (the provider was down at start), jwks_acquire gives none and the middleware fails
 * closed.
 *
 * The set in use is swapped under a mutex and reference-counted (jwk.h), so a request keeps
 * verifying with the set it took while a new one is published.
 */
#ifndef AUTHZ_JWKS_H
#define AUTHZ_JWKS_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/jwk.h"
#include "config/config.h"

/* Bytes of a JWKS answer read at most; a larger one is refused. */
#define JWKS_MAX_DOCUMENT (1024 * 1024)

struct jwks_source;

/* The algorithms a rule allows (its `algorithms`, or all); 0 with a message if one is unknown. */
unsigned jwks_rule_algs(const struct rule *r, char *err, size_t errlen);

/*
 * Checks what -t can check without fetching: the algorithm names, and that the key files can
 * be read and hold usable keys for them (a rule with only jwksUrl has nothing to read).
 * Returns NULL or a message naming the rule.
 */
const char *jwks_check(const struct rule *r, char *err, size_t errlen);

/* The key source of rule r (files read now, fetcher started if jwksUrl), or NULL with err. */
struct jwks_source *jwks_source_new(const struct rule *r, char *err, size_t errlen);

/* Stops the fetcher and frees the source (a set still held lives until released). */
void jwks_source_free(struct jwks_source *s);

/* The current set with a reference for the caller (jwt_keyset_unref), or NULL if none yet. */
struct jwt_keyset *jwks_acquire(struct jwks_source *s);

/*
 * A token's kid is unknown to the set: asks for a refetch if one is allowed now and waits for
 * it up to wait_ms. True if a newer set than `seen` has been published meanwhile.
 */
bool jwks_refresh_for_unknown_kid(struct jwks_source *s, const struct jwt_keyset *seen,
                                  long wait_ms);

/* How many fetches were made (for tests and metrics). */
unsigned long jwks_fetches(const struct jwks_source *s);

#endif
