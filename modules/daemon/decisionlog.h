/*
 * decisionlog.h - the one log line written per decision.
 *
 * Stable key=value fields (role, path, middleware, status, auth_status, reason, detail, ms,
 * cache, request_id), at info level, warn for failures. Values that come from the client are
 * made printable and bounded so that they can never forge a log line; header values
 * (credentials) are never logged.
 */
#ifndef AUTHZ_DECISIONLOG_H
#define AUTHZ_DECISIONLOG_H

#include <stdbool.h>

#include "core/decide.h"
#include "http/request.h"

/* Logs the decision about v; `responder`: asked in a FastCGI role other than AUTHORIZER (nginx). */
void decisionlog_write(const struct request_view *v, const struct decision *d, bool responder,
                       double ms);

#endif
