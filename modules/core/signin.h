/*
 * signin.h - the sign-in redirect: who is sent to the sign-in page, and where exactly.
 *
 * A browser that has no session is better served by the sign-in page than by a 401 it cannot
 * act on; an API client is not (it would follow the redirect and parse a login form). The way
 * back (`rd`) is built from what the web server knows of the request: its scheme, a Host that
 * the configuration allows (or the server's own name) and the raw request target. Headers a
 * client can forge (X-Forwarded-*) are never read, so nobody can make the sign-in page send a
 * user elsewhere after signing in.
 */
#ifndef AUTHZ_SIGNIN_H
#define AUTHZ_SIGNIN_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "http/request.h"

/* The longest Location written: signIn and the original URL, every byte percent-encoded. */
#define SIGNIN_MAX_LOCATION (2048 + 3 * (REQUEST_MAX_URI + REQUEST_MAX_AUTHORITY + 16))

/* True if the client is a browser navigating: its Accept prefers text/html (as much as any
 * other type it lists) and it is no XMLHttpRequest (X-Requested-With). */
bool signin_wants_page(char *const *envp);

/*
 * Writes the rule's signIn followed by the original URL, percent-encoded, into out. Returns
 * NULL, or why there is no redirect (the Host is not in allowedHosts, the URL is too long).
 */
const char *signin_location(const struct rule *r, const struct request_view *req, char *out,
                            size_t outlen);

/* True if a Location the auth service answered may be relayed: an absolute http(s) URL or a
 * path on this site (not "//host", which a browser reads as another site). */
bool signin_location_ok(const char *location);

#endif
