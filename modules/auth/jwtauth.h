/*
 * jwtauth.h - the authenticator of a `jwt` middleware that verifies tokens itself.
 *
 * The token comes from "Authorization: Bearer <token>" (the scheme in any case), or else from
 * the rule's tokenCookie. It is verified against the rule's keys (auth/jwks.h) and policy
 * (algorithms, issuer, audience, leeway, exp): no network call per request. The answer has the
 * shape of an auth service's, so that decide, the cache and the response treat it as any:
 *   - no token: 401, WWW-Authenticate: Bearer realm="<middleware>";
 *   - a token that does not verify: 401, ... error="invalid_token" (the reason goes to the
 *     log, never to the client);
 *   - a requiredClaims entry not held: 403, ... error="insufficient_scope";
 *   - valid: 200 with each claim that headers and params name (jwtclaims.h says how a claim
 *     becomes text; one with control characters or too long is dropped and logged), and a
 *     Cache-Control max-age that ends with the token's exp, so a cached allow never outlives
 *     its token;
 *   - no keys (yet): a failure, 500, fail closed.
 * A token whose kid is unknown may make the keys be fetched again once (jwks.h), and is
 * verified again with the new keys.
 */
#ifndef AUTHZ_JWTAUTH_H
#define AUTHZ_JWTAUTH_H

#include "base/httpsyntax.h"
#include "config/config.h"
#include "core/policy.h"

/* Room in a worker for the claims one answer exports. */
#define JWTAUTH_VALUES_SPACE (CONFIG_MAX_WANTED * (HTTP_MAX_VALUE + 1) + 64)

/* The authenticator of middleware m (a MIDDLEWARE_JWT one), or NULL with the reason in err. */
struct authenticator *jwt_authenticator_new(const struct middleware *m, char *err, size_t errlen);
void jwt_authenticator_free(struct authenticator *a);

#endif
