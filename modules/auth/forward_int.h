/*
 * backend_int.h - backend.c's response parsing, visible to its tests and fuzzers only.
 */
#ifndef AUTHZ_BACKEND_INT_H
#define AUTHZ_BACKEND_INT_H

#include "auth/forward.h"

/* Starts capturing an auth response for rule r into res, as backend_call does. */
void backend_capture_begin(struct backend *b, const struct rule *r, struct auth_result *res);

/*
 * Feeds one raw header line (status line, header, or the blank line, with its CRLF) as
 * libcurl's header callback would. Returns NULL, or why the response is refused as a whole.
 */
const char *backend_capture_line(struct backend *b, char *line, size_t len);

#endif
