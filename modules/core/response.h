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
 */
#ifndef AUTHZ_RESPONSE_H
#define AUTHZ_RESPONSE_H

#include <stddef.h>

#include "core/decide.h"

typedef void (*response_sink)(void *ud, const char *data, size_t len);

/* Writes the response for a decision through sink. */
void response_write(const struct decision *d, response_sink sink, void *ud);

#endif
