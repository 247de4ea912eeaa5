/* hashgate.c - see hashgate.h. */
#include "auth/hashgate.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct hashgate {
    pthread_mutex_t lock;
    pthread_cond_t freed; /* signalled by hashgate_leave */
    unsigned free;
};

struct hashgate *hashgate_new(unsigned slots)
{
    if (slots < 1 || slots > HASHGATE_MAX_SLOTS)
        return NULL;
    struct hashgate *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        goto fail_gate;
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&g->freed, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        goto fail_gate;
    if (pthread_mutex_init(&g->lock, NULL) != 0)
        goto fail_cond;
    g->free = slots;
    return g;

fail_cond:
    pthread_cond_destroy(&g->freed);
fail_gate:
    free(g);
    return NULL;
}

void hashgate_free(struct hashgate *g)
{
    if (!g)
        return;
    pthread_cond_destroy(&g->freed);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

bool hashgate_enter(struct hashgate *g, long wait_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (wait_ms > 0) {
        deadline.tv_sec += wait_ms / 1000;
        deadline.tv_nsec += (wait_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }

    pthread_mutex_lock(&g->lock);
    /* A wakeup may be spurious or taken by another waiter: look again until the deadline. */
    while (g->free == 0 && wait_ms > 0) {
        if (pthread_cond_timedwait(&g->freed, &g->lock, &deadline) == ETIMEDOUT)
            break;
    }
    bool taken = g->free > 0;
    if (taken)
        g->free--;
    pthread_mutex_unlock(&g->lock);
    return taken;
}

void hashgate_leave(struct hashgate *g)
{
    pthread_mutex_lock(&g->lock);
    g->free++;
    pthread_mutex_unlock(&g->lock);
    pthread_cond_signal(&g->freed);
}

unsigned hashgate_free_slots(struct hashgate *g)
{
    pthread_mutex_lock(&g->lock);
    unsigned n = g->free;
    pthread_mutex_unlock(&g->lock);
    return n;
}
