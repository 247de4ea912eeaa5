/*
 * servercheck.h - finds, in a web server's configuration, the settings that silently skip the
 * authorizer (fail open) or leak its Variable- headers.
 *
 * `authorizer --check-server lighttpd|apache|nginx FILE` reads FILE ("-" for stdin), for
 * lighttpd and nginx best the server's own dump of its whole configuration
 * (`lighttpd -p -f lighttpd.conf`, `nginx -T`), and prints one line per problem.
 */
#ifndef AUTHZ_SERVERCHECK_H
#define AUTHZ_SERVERCHECK_H

#include <stdio.h>

/*
 * Checks the configuration text in `in` for `server`. Writes one line per problem to out.
 * Returns the number of problems (0: none found), or -1 if the server is unknown or the input
 * cannot be read (with a message on out).
 */
int servercheck_run(const char *server, FILE *in, const char *name, FILE *out);

#endif
