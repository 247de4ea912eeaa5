/*
 * test_hashgate.c - the bound on concurrent password checks: N slots, busy when none frees up
 * in time, never more than N holders at once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "auth/hashgate.h"
#include "unit.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_slots_out_of_range(void)
{
    UNIT_CHECK(hashgate_new(0) == NULL, "a gate of 0 slots is refused");
    UNIT_CHECK(hashgate_new(HASHGATE_MAX_SLOTS + 1) == NULL, "too many slots are refused");
    struct hashgate *g = hashgate_new(HASHGATE_MAX_SLOTS);
    UNIT_CHECK(g != NULL, "the largest gate is made");
    hashgate_free(g);
    hashgate_free(NULL);
}

static void test_busy_when_full(void)
{
    struct hashgate *g = hashgate_new(2);
    UNIT_INT_EQ(hashgate_free_slots(g), 2);
    UNIT_CHECK(hashgate_enter(g, 0), "first slot");
    UNIT_CHECK(hashgate_enter(g, 0), "second slot");
    UNIT_INT_EQ(hashgate_free_slots(g), 0);
    UNIT_CHECK(!hashgate_enter(g, 0), "no third slot without waiting");
    UNIT_CHECK(!hashgate_enter(g, 20), "no third slot within 20 ms either");
    UNIT_CHECK(!hashgate_enter(g, -5), "a negative wait is no wait");
    hashgate_leave(g);
    UNIT_CHECK(hashgate_enter(g, 0), "a slot given back is taken again");
    hashgate_leave(g);
    hashgate_leave(g);
    UNIT_INT_EQ(hashgate_free_slots(g), 2);
    hashgate_free(g);
}

static void *leave_later(void *arg)
{
    sleep_ms(30);
    hashgate_leave(arg);
    return NULL;
}

static void test_waiter_gets_freed_slot(void)
{
    struct hashgate *g = hashgate_new(1);
    UNIT_CHECK(hashgate_enter(g, 0), "the only slot");
    pthread_t t;
    pthread_create(&t, NULL, leave_later, g);
    UNIT_CHECK(hashgate_enter(g, 5000), "the slot freed by another thread is handed over");
    pthread_join(t, NULL);
    hashgate_leave(g);
    hashgate_free(g);
}

struct crowd {
    struct hashgate *gate;
    atomic_int inside, most, busy;
};

static void *crowd_member(void *arg)
{
    struct crowd *c = arg;
    for (int i = 0; i < 500; i++) {
        if (!hashgate_enter(c->gate, 1000)) {
            atomic_fetch_add(&c->busy, 1);
            continue;
        }
        int now = atomic_fetch_add(&c->inside, 1) + 1;
        int most = atomic_load(&c->most);
        while (now > most && !atomic_compare_exchange_weak(&c->most, &most, now))
            ;
        atomic_fetch_sub(&c->inside, 1);
        hashgate_leave(c->gate);
    }
    return NULL;
}

static void test_never_more_than_slots(void)
{
    struct crowd c = {.gate = hashgate_new(3)};
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, crowd_member, &c);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    UNIT_CHECK(atomic_load(&c.most) <= 3, "at most 3 holders at once, saw %d",
               atomic_load(&c.most));
    UNIT_CHECK(atomic_load(&c.most) >= 1, "someone got in");
    UNIT_INT_EQ(atomic_load(&c.busy), 0);
    UNIT_INT_EQ(hashgate_free_slots(c.gate), 3);
    hashgate_free(c.gate);
}

int main(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_slots_out_of_range),
        UNIT_CASE(test_busy_when_full),
        UNIT_CASE(test_waiter_gets_freed_slot),
        UNIT_CASE(test_never_more_than_slots),
        UNIT_END,
    };
    static const struct unit_suite suites[] = {{"hashgate", cases}, {NULL, NULL}};
    return unit_main(suites);
}
