/*
 * worker.h - the worker threads: accept a FastCGI connection, decide each request on it, answer.
 *
 * Every worker accepts connections itself, concurrently, and lets libfcgi read the request
 * from the connection it accepted: a peer that stalls in the middle of its request holds up
 * only that one worker (for WORKER_IO_TIMEOUT_S at most), never the others. Each worker
 * finishes its request before it accepts again, so an answer is never held back until another
 * connection arrives. Each worker owns its scratch space (libcurl handle, buffers) for the
 * whole run and decides with the policy it acquires from the swap for each request.
 */
#ifndef AUTHZ_WORKER_H
#define AUTHZ_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/swap.h"

/* Seconds a FastCGI connection may stall while the authorizer reads or writes it. */
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
