/*
 * response.h - a decision written as a FastCGI (CGI-style) response.
 *
 * The contract the web-server glue relies on:
 *   - the first line is always "Status: <code> <reason>" (lighttpd drops headers before it,
 *     mod_fcgid shows "Unknown Reason" without the phrase);
 *   - on allow: one "Variable-<target>: <value>" per exported identity header, then always
 *     "Variable-AUTHZ_QUERY_STRING: <query>" (possibly empty) and
 *     "Variable-AUTHZ_DECISION: allowed" ("unprotected" where no middleware matched), which is
 *     never empty so that glue can tell an allowed request even where a server drops empty
 *     variables (lighttpd does); no body;
 *   - on allow with addAuthCookiesToResponse, before AUTHZ_QUERY_STRING: each Set-Cookie of
 *     the answer as "Variable-AUTHZ_SET_COOKIE_<n>" (n from 1, at most CONFIG_MAX_AUTH_COOKIES);
 *   - on 401/403: every WWW-Authenticate, the Location, every Set-Cookie and the Content-Type
 *     the auth service sent (the safe ones), and its body, capped; a short text body if it
 *     sent none;
 *   - on 302 (a sign-in redirect): Location, every Set-Cookie, a short text body;
 *   - on a denial with status_only (nginx's subrequest): the status line alone, 401 for 302;
 *   - on 400/500: a short text body that reveals nothing about the cause.
 * Every value written has been checked free of control characters before it gets here.
 * What is allowed or denied is read from the decision's outcome, never from its status.
 */
#ifndef AUTHZ_RESPONSE_H
#define AUTHZ_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/httpsyntax.h"
#include "core/decide.h"

/* The largest response: every exported value, the query, cookies, a location and a relayed
 * body at their bounds (each cookie line costs its name on top of the joined value). */
#define RESPONSE_MAX                                                                               \
    (CONFIG_MAX_MAPPINGS * (HTTP_MAX_VALUE + 160) + QUERY_MAX_OUT + AUTH_MAX_BODY_KEPT +           \
     3 * AUTH_MAX_JOINED + SIGNIN_MAX_LOCATION + 64 * (HTTP_MAX_VALUE / 2) + 1024)

/* Writes the response for a decision into out (whole, or false if it did not fit). */
bool response_write(const struct decision *d, struct buf *out);

#endif
