/*
 * breaker.h - a circuit breaker: after repeated failures, stop calling for a while.
 *
 * Closed, every call is made; `threshold` failures in a row open the breaker. Open, calls are
 * refused without being made until the open period has passed; then exactly one call is let
 * through as a probe (half-open) while the others are still refused. The probe's success
 * closes the breaker; its failure opens it again for twice as long, up to the maximum.
 *
 * Any number of threads may use one breaker at once. The common cases (closed and calls
 * succeeding, open and waiting) read atomics only; the rare changes of state take a mutex.
 * Time is the caller's, in monotonic milliseconds, so tests can drive it.
 */
#ifndef AUTHZ_BREAKER_H
#define AUTHZ_BREAKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

/* What breaker_enter allows. */
enum breaker_pass {
    BREAKER_CALL,   /* closed: make the call */
    BREAKER_PROBE,  /* the one call that tests whether the other side is back */
    BREAKER_REFUSE, /* open, or another probe is out: do not make the call */
};

struct breaker {
    unsigned threshold;
    int64_t base_ms, max_ms;
    _Atomic int state;         /* enum breaker_state */
    _Atomic unsigned failures; /* in a row, while closed */
    _Atomic int64_t retry_at;  /* while open: when a probe may go */
    int64_t period_ms;         /* the current open period; under `change` */
    pthread_mutex_t change;
};

/* A closed breaker; threshold >= 1, 1 <= open_ms <= max_open_ms. */
void breaker_init(struct breaker *b, unsigned threshold, int64_t open_ms, int64_t max_open_ms);
void breaker_destroy(struct breaker *b);

/* Asks whether a call may be made now. Every CALL or PROBE must be followed by breaker_leave. */
enum breaker_pass breaker_enter(struct breaker *b, int64_t now_ms);

/* Reports how an allowed call went. True if this report opened the breaker. */
bool breaker_leave(struct breaker *b, enum breaker_pass pass, bool ok, int64_t now_ms);

enum breaker_state breaker_state(const struct breaker *b);

/* Failures in a row so far (reset by a success and when the breaker closes). */
unsigned breaker_failures(const struct breaker *b);

#endif
