/*
 * hashgate.h - a bound on how many expensive password checks run at once.
 *
 * A bcrypt check at cost 10 keeps a CPU busy for tens of milliseconds. Without a bound, a flood
 * of wrong passwords takes every worker for as long as it lasts, and the requests that need no
 * password at all wait behind it. A hashgate is a counting semaphore of N slots: a check takes a
 * slot for as long as it hashes; when no slot frees up within a short wait the caller is told
 * "busy" at once (and answers 503 or 429) instead of queueing without end.
 *
 * All functions are safe from any number of threads at once, except hashgate_free, which must
 * not race with anything. The wait is measured on CLOCK_MONOTONIC (a clock step does not
 * shorten or stretch it). Waiters are not served in arrival order.
 */
#ifndef AUTHZ_HASHGATE_H
#define AUTHZ_HASHGATE_H

#include <stdbool.h>

#define HASHGATE_MAX_SLOTS 4096

struct hashgate;

/* A gate of `slots` slots (1 to HASHGATE_MAX_SLOTS), all free; NULL if out of range or memory. */
struct hashgate *hashgate_new(unsigned slots);

/* Frees the gate; no thread may hold a slot or wait in it. NULL is ignored. */
void hashgate_free(struct hashgate *g);

/*
 * Takes a slot, waiting up to wait_ms milliseconds (0: only if one is free now; negative values
 * count as 0). True if taken: the caller must hashgate_leave once done. False: busy.
 */
bool hashgate_enter(struct hashgate *g, long wait_ms);

/* Gives back a slot taken with hashgate_enter. */
void hashgate_leave(struct hashgate *g);

/* Slots free at this instant (already stale when it returns): for metrics and tests. */
unsigned hashgate_free_slots(struct hashgate *g);

#endif
