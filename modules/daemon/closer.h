/*
 * closer.h - closes finished TCP connections on one thread of its own, so that the worker
 * that answered is free at once.
 *
 * Closing a TCP connection while the web server's bytes are still unread (a request body the
 * authorizer never reads, a record after the answer) makes the kernel send a reset, and a
 * reset can cost the web server the answer it has not read yet. So a finished connection is
 * shut down for writing, then read and discarded until the web server closes its end, and
 * only then closed: a lingering close. It takes a round trip or more, which a worker should
 * not spend waiting. The closer does it for all connections at once with one epoll set, each
 * connection bounded by CLOSER_LINGER_S seconds and CLOSER_MAX_DRAIN bytes read.
 *
 * Thread-safe: any worker may hand connections over concurrently.
 */
#ifndef AUTHZ_CLOSER_H
#define AUTHZ_CLOSER_H

#include <stddef.h>

/* The longest a finished connection is kept waiting for the web server to close its end. */
#define CLOSER_LINGER_S 5
/* The most bytes read and discarded from one finished connection before closing it anyway. */
#define CLOSER_MAX_DRAIN (256 * 1024)
/* Connections lingering at once (and at most a quarter of RLIMIT_NOFILE); beyond that,
 * closer_close closes at once: a worker never lingers. */
#define CLOSER_MAX_CONNECTIONS 4096

struct closer;

/* Starts the closer thread. Returns it, or NULL with a message in err. */
struct closer *closer_start(char *err, size_t errlen);

/*
 * Takes fd (a connected TCP socket whose answer is written) and closes it without a reset:
 * on the closer's thread when it has room, else on the caller's, within the same bounds.
 * The caller must not use fd afterwards. Returns at once in the usual case.
 */
void closer_close(struct closer *c, int fd);

/* Stops the thread and closes the connections still lingering. NULL is ignored. */
void closer_stop(struct closer *c);

#endif
