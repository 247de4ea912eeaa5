/*
 * glue.h - the web-server configuration that must match an authorizer configuration.
 *
 * Which identity headers a client must never be able to forge, and which Variable- headers
 * must be turned into upstream headers, depend on the `headers` mappings of the configuration.
 * Copying those lines by hand is how a forged header slips through, so the authorizer prints
 * them: `authorizer --print-glue lighttpd|apache|nginx -c FILE`.
 */
#ifndef AUTHZ_GLUE_H
#define AUTHZ_GLUE_H

#include <stdio.h>

#include "config/config.h"

/* The servers glue can be printed for, NULL-terminated. */
extern const char *const glue_servers[];

/*
 * Writes the glue for `server` ("lighttpd", "apache" or "nginx") to out. Returns 0, or -1 if
 * the server is not one of glue_servers.
 */
int glue_print(FILE *out, const char *server, const struct config *cfg);

#endif
