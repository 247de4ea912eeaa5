/* breaker.c - see breaker.h. */
#include "auth/breaker.h"

void breaker_init(struct breaker *b, unsigned threshold, int64_t open_ms, int64_t max_open_ms)
{
    b->threshold = threshold;
    b->base_ms = open_ms;
    b->max_ms = max_open_ms;
    b->period_ms = open_ms;
    atomic_init(&b->state, BREAKER_CLOSED);
    atomic_init(&b->failures, 0);
    atomic_init(&b->retry_at, 0);
    pthread_mutex_init(&b->change, NULL);
}

void breaker_destroy(struct breaker *b)
{
    pthread_mutex_destroy(&b->change);
}

/* Under `change`: opens for the current period from now. */
static void open_locked(struct breaker *b, int64_t now_ms)
{
    atomic_store(&b->retry_at, now_ms + b->period_ms);
    atomic_store(&b->state, BREAKER_OPEN);
}

enum breaker_pass breaker_enter(struct breaker *b, int64_t now_ms)
{
    int state = atomic_load(&b->state);
    if (state == BREAKER_CLOSED)
        return BREAKER_CALL;
    if (state == BREAKER_HALF_OPEN || now_ms < atomic_load(&b->retry_at))
        return BREAKER_REFUSE;
    enum breaker_pass pass = BREAKER_REFUSE;
    pthread_mutex_lock(&b->change);
    state = atomic_load(&b->state);
    if (state == BREAKER_CLOSED) {
        pass = BREAKER_CALL;
    } else if (state == BREAKER_OPEN && now_ms >= atomic_load(&b->retry_at)) {
        atomic_store(&b->state, BREAKER_HALF_OPEN);
        pass = BREAKER_PROBE;
    }
    pthread_mutex_unlock(&b->change);
    return pass;
}

bool breaker_leave(struct breaker *b, enum breaker_pass pass, bool ok, int64_t now_ms)
{
    bool opened = false;
    if (pass == BREAKER_CALL) {
        if (ok) {
            if (atomic_load(&b->failures) != 0)
                atomic_store(&b->failures, 0);
            return false;
        }
        if (atomic_fetch_add(&b->failures, 1) + 1 < b->threshold)
            return false;
        pthread_mutex_lock(&b->change);
        /* Calls that were under way when another opened it report late: they change nothing. */
        if (atomic_load(&b->state) == BREAKER_CLOSED) {
            b->period_ms = b->base_ms;
            open_locked(b, now_ms);
            opened = true;
        }
        pthread_mutex_unlock(&b->change);
        return opened;
    }
    if (pass != BREAKER_PROBE)
        return false;
    pthread_mutex_lock(&b->change);
    if (ok) {
        atomic_store(&b->failures, 0);
        b->period_ms = b->base_ms;
        atomic_store(&b->state, BREAKER_CLOSED);
    } else {
        b->period_ms = b->period_ms > b->max_ms / 2 ? b->max_ms : 2 * b->period_ms;
        open_locked(b, now_ms);
        opened = true;
    }
    pthread_mutex_unlock(&b->change);
    return opened;
}

enum breaker_state breaker_state(const struct breaker *b)
{
    return (enum breaker_state)atomic_load(&b->state);
}

unsigned breaker_failures(const struct breaker *b)
{
    return atomic_load(&b->failures);
}
