/*
 * worker.h - the worker threads: accept a FastCGI connection, decide each request on it, answer.
 *
 * Every worker accepts connections itself, concurrently, and reads the request from the
 * connection it accepted (http/fcgi.h parses it): a peer that stalls or trickles holds up only
 * that one worker, for WORKER_IO_TIMEOUT_S from the request's first byte at most, never the
 * others. Each worker
 * finishes its request before it accepts again, so an answer is never held back until another
 * connection arrives. Each worker owns its scratch space (libcurl handle, buffers) for the
 * whole run and decides with the policy it acquires from the swap for each request. A
 * finished TCP connection goes to the pool's closer (daemon/closer.h), so a web server that
 * is slow to close its end never holds a worker; a unix socket is closed by the worker.
 */
#ifndef AUTHZ_WORKER_H
#define AUTHZ_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/swap.h"

/* Seconds a FastCGI connection may wait for a request's first byte, and the request may take
 * from its first byte to its last; the same for writing an answer. */
#define WORKER_IO_TIMEOUT_S 10

struct worker_pool;

/*
 * Starts n workers accepting on listen_fd and deciding with the policies of swap. Returns the
 * pool, or NULL with a message in err (the workers already started are stopped again).
 */
struct worker_pool *workers_start(int listen_fd, struct swap *swap, size_t n, char *err,
                                  size_t errlen);

/*
 * Stops accepting (shutting the listener down wakes every worker blocked in accept), lets
 * each worker finish its request in flight, joins them and frees the pool.
 */
void workers_stop(struct worker_pool *pool);

#endif
