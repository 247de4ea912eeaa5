/*
 * listener.h - the sockets the daemon accepts on: what a `listen` spec means, systemd socket
 * activation, and the socket a web server hands a spawned program on fd 0.
 */
#ifndef AUTHZ_LISTENER_H
#define AUTHZ_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/*
 * The socket to accept on, in this order: one passed by systemd socket activation
 * (LISTEN_FDS, LISTEN_PID), the configured `listen`, the listening socket inherited as fd 0
 * (lighttpd bin-path, mod_fcgid, spawn-fcgi). Returns the fd, or -1 with a message in err.
 */
int listener_open(const struct config *cfg, char *err, size_t errlen);

/*
 * Opens a listening socket: "host:port", ":port" (all addresses), "[::1]:port", or a unix
 * socket path (starting with '/'); mode >= 0 is applied to a unix socket. Returns the fd, or -1
 * with a message in err.
 */
int listener_bind(const char *spec, int mode, char *err, size_t errlen);

/* True if fd is a listening socket (as inherited on fd 0 from lighttpd, mod_fcgid, ...). */
bool listener_is_socket(int fd);

/* True if fd is a unix-domain socket. */
bool listener_is_unix(int fd);

#endif
