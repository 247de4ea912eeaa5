/*
 * server.h - the FastCGI side: the listening socket, the worker threads, a clean stop.
 *
 * Every worker accepts connections itself, concurrently, and lets libfcgi read the request
 * from the connection it accepted: a peer that stalls in the middle of its request holds up
 * only that one worker (for SERVER_IO_TIMEOUT_S at most), never the others. Each worker
 * finishes its request before it accepts again, so an answer is never held back until
 * another connection arrives. Each worker owns its backend
 * (libcurl handle) and its scratch space for the whole run. SIGTERM or SIGINT stops accepting,
 * lets requests in flight finish, and returns; SIGHUP reloads the configuration.
 */
#ifndef AUTHZ_SERVER_H
#define AUTHZ_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/* Seconds a FastCGI connection may stall while the authorizer reads or writes it. */
#define SERVER_IO_TIMEOUT_S 10

/*
 * The socket to accept on, in this order: one passed by systemd socket activation
 * (LISTEN_FDS, LISTEN_PID), the configured `listen`, the listening socket inherited as fd 0
 * (lighttpd bin-path, mod_fcgid, spawn-fcgi). Returns the fd, or -1 with a message in err.
 */
int server_open_listener(const struct config *cfg, char *err, size_t errlen);

/*
 * Opens a listening socket: "host:port", ":port" (all addresses), "[::1]:port", or a unix
 * socket path (starting with '/'); mode >= 0 is applied to a unix socket. Returns the fd, or -1
 * with a message in err.
 */
int server_listen(const char *spec, int mode, char *err, size_t errlen);

/* True if fd is a listening socket (as inherited on fd 0 from lighttpd, mod_fcgid, ...). */
bool server_is_listener(int fd);

/*
 * Serves until SIGTERM or SIGINT; takes ownership of cfg. On SIGHUP it loads `file` again
 * (the same validation as `authorizer -t`): if valid, new requests use it while requests in
 * flight finish on the old one; if not, it logs why and keeps serving with the old one.
 * `listen` and `workers` changes need a restart. Returns 0 after a clean stop, 1 if workers
 * could not start.
 */
int server_run(struct config *cfg, const char *file, int listen_fd);

#endif
