/*
 * signals.h - the signals the daemon handles, as one set.
 *
 * They are blocked in every thread from the start (so that a reload or stop during startup is
 * not lost and an early SIGHUP does not kill the process) and taken by the signal thread with
 * sigwait: SIGTERM and SIGINT stop, SIGHUP reloads, SIGUSR1 logs the cache totals.
 */
#ifndef AUTHZ_SIGNALS_H
#define AUTHZ_SIGNALS_H

#include <signal.h>

/* Fills set with the daemon's signals. */
void signals_set(sigset_t *set);

/* Blocks them in the calling thread (and so in every thread it starts afterwards). */
void signals_block(void);

#endif
