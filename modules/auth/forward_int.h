/*
 * forward_int.h - forward.c's response parsing, visible to its tests and fuzzers only.
 */
#ifndef AUTHZ_FORWARD_INT_H
#define AUTHZ_FORWARD_INT_H

#include "auth/forward.h"

/* Starts capturing an auth response for rule r into res, as forward_call does. */
void forward_capture_begin(struct forward_client *c, const struct rule *r, struct auth_result *res);

/*
 * Feeds one raw header line (status line, header, or the blank line, with its CRLF) as
 * libcurl's header callback would. Returns NULL, or why the response is refused as a whole.
 */
const char *forward_capture_line(struct forward_client *c, char *line, size_t len);

#endif
