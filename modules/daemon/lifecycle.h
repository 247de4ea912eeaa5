/*
 * lifecycle.h - the daemon from start to stop.
 *
 * Loads the configuration, opens the socket, builds the policy, starts the workers (and the
 * metrics listener if configured), then serves signals until SIGTERM or SIGINT: SIGHUP loads
 * the file again (the same validation as `authorizer -t`) and, if valid, new requests use it
 * while requests in flight finish on the old one; if not, it logs why and keeps the old one.
 * `listen`, `workers` and `metrics_listen` change only with a restart. SIGUSR1 logs the cache
 * totals. A stop lets the requests in flight finish.
 */
#ifndef AUTHZ_LIFECYCLE_H
#define AUTHZ_LIFECYCLE_H

/*
 * Serves with the configuration in `file` until stopped. The daemon's signals must already be
 * blocked (signals_block), before any thread starts. Returns the exit status: 0 after a clean
 * stop, 1 if it could not start.
 */
int daemon_serve(const char *file);

#endif
