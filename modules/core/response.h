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
 *   - on 401/403: the auth service's WWW-Authenticate and Content-Type (if it sent safe ones)
 *     and its body, capped; a short text body if it sent none;
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

/* The largest response: every exported value, the query and a relayed body at their bounds. */
#define RESPONSE_MAX                                                                               \
    (CONFIG_MAX_MAPPINGS * (HTTP_MAX_VALUE + 160) + QUERY_MAX_OUT + AUTH_MAX_BODY_KEPT + 1024)

/* Writes the response for a decision into out (whole, or false if it did not fit). */
bool response_write(const struct decision *d, struct buf *out);

#endif
