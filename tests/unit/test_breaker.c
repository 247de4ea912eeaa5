/* test_breaker.c - the circuit breaker, driven by a clock of its own. */
#include "auth/breaker.h"

#include <pthread.h>

#include "unit.h"

/* Five failures in a row open it for 1 s, doubling up to 8 s. */
static void setup(struct breaker *b)
{
    breaker_init(b, 5, 1000, 8000);
}

static void fail_calls(struct breaker *b, int n, int64_t now)
{
    for (int i = 0; i < n; i++) {
        UNIT_INT_EQ(breaker_enter(b, now), BREAKER_CALL);
        breaker_leave(b, BREAKER_CALL, false, now);
    }
}

static void test_opens_after_failures_in_a_row(void)
{
    struct breaker b;
    setup(&b);
    fail_calls(&b, 4, 0);
    UNIT_INT_EQ(breaker_state(&b), BREAKER_CLOSED);
    UNIT_INT_EQ(breaker_failures(&b), 4);
    UNIT_INT_EQ(breaker_enter(&b, 0), BREAKER_CALL);
    CU_ASSERT_TRUE(breaker_leave(&b, BREAKER_CALL, false, 0));
    UNIT_INT_EQ(breaker_state(&b), BREAKER_OPEN);
    UNIT_INT_EQ(breaker_enter(&b, 1), BREAKER_REFUSE);
    UNIT_INT_EQ(breaker_enter(&b, 999), BREAKER_REFUSE);
    breaker_destroy(&b);
}

static void test_a_success_resets_the_count(void)
{
    struct breaker b;
    setup(&b);
    fail_calls(&b, 4, 0);
    UNIT_INT_EQ(breaker_enter(&b, 0), BREAKER_CALL);
    CU_ASSERT_FALSE(breaker_leave(&b, BREAKER_CALL, true, 0));
    UNIT_INT_EQ(breaker_failures(&b), 0);
    fail_calls(&b, 4, 0);
    UNIT_INT_EQ(breaker_state(&b), BREAKER_CLOSED);
    breaker_destroy(&b);
}

static void test_one_probe_after_the_open_period(void)
{
    struct breaker b;
    setup(&b);
    fail_calls(&b, 5, 0);
    UNIT_INT_EQ(breaker_enter(&b, 1000), BREAKER_PROBE);
    UNIT_INT_EQ(breaker_state(&b), BREAKER_HALF_OPEN);
    /* While the probe is out, everyone else is still refused. */
    UNIT_INT_EQ(breaker_enter(&b, 1001), BREAKER_REFUSE);
    UNIT_INT_EQ(breaker_enter(&b, 50000), BREAKER_REFUSE);
    CU_ASSERT_FALSE(breaker_leave(&b, BREAKER_PROBE, true, 1002));
    UNIT_INT_EQ(breaker_state(&b), BREAKER_CLOSED);
    UNIT_INT_EQ(breaker_failures(&b), 0);
    UNIT_INT_EQ(breaker_enter(&b, 1003), BREAKER_CALL);
    breaker_leave(&b, BREAKER_CALL, true, 1003);
    /* Closed again, it takes the full count to open, for the base period. */
    fail_calls(&b, 5, 2000);
    UNIT_INT_EQ(breaker_enter(&b, 2999), BREAKER_REFUSE);
    UNIT_INT_EQ(breaker_enter(&b, 3000), BREAKER_PROBE);
    breaker_destroy(&b);
}

static void test_failed_probes_double_the_wait_up_to_the_maximum(void)
{
    struct breaker b;
    setup(&b);
    fail_calls(&b, 5, 0);
    int64_t now = 0;
    const int64_t waits[] = {1000, 2000, 4000, 8000, 8000};
    for (size_t i = 0; i < UNIT_N(waits); i++) {
        UNIT_INT_EQ(breaker_enter(&b, now + waits[i] - 1), BREAKER_REFUSE);
        now += waits[i];
        UNIT_INT_EQ(breaker_enter(&b, now), BREAKER_PROBE);
        CU_ASSERT_TRUE(breaker_leave(&b, BREAKER_PROBE, false, now));
        UNIT_INT_EQ(breaker_state(&b), BREAKER_OPEN);
    }
    now += 8000;
    UNIT_INT_EQ(breaker_enter(&b, now), BREAKER_PROBE);
    breaker_leave(&b, BREAKER_PROBE, true, now);
    /* A success forgets the doubling. */
    fail_calls(&b, 5, now);
    UNIT_INT_EQ(breaker_enter(&b, now + 1000), BREAKER_PROBE);
    breaker_destroy(&b);
}

static void test_late_reports_do_not_reopen(void)
{
    struct breaker b;
    setup(&b);
    /* Calls let through before the breaker opened report after it did. */
    for (int i = 0; i < 7; i++)
        UNIT_INT_EQ(breaker_enter(&b, 0), BREAKER_CALL);
    for (int i = 0; i < 5; i++)
        breaker_leave(&b, BREAKER_CALL, false, 0);
    CU_ASSERT_FALSE(breaker_leave(&b, BREAKER_CALL, false, 900));
    CU_ASSERT_FALSE(breaker_leave(&b, BREAKER_CALL, true, 900));
    UNIT_INT_EQ(breaker_state(&b), BREAKER_OPEN);
    /* The late failure did not push the probe back. */
    UNIT_INT_EQ(breaker_enter(&b, 1000), BREAKER_PROBE);
    breaker_destroy(&b);
}

struct race {
    struct breaker *b;
    pthread_barrier_t *start;
    enum breaker_pass pass;
};

static void *enter_at_once(void *arg)
{
    struct race *r = arg;
    pthread_barrier_wait(r->start);
    r->pass = breaker_enter(r->b, 1000);
    return NULL;
}

static void test_threads_get_exactly_one_probe(void)
{
    struct breaker b;
    setup(&b);
    fail_calls(&b, 5, 0);
    enum { N = 8 };
    pthread_t threads[N];
    struct race races[N];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, N);
    for (int i = 0; i < N; i++) {
        races[i] = (struct race){.b = &b, .start = &start};
        pthread_create(&threads[i], NULL, enter_at_once, &races[i]);
    }
    int probes = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(threads[i], NULL);
        probes += races[i].pass == BREAKER_PROBE;
        refused += races[i].pass == BREAKER_REFUSE;
    }
    UNIT_INT_EQ(probes, 1);
    UNIT_INT_EQ(refused, N - 1);
    pthread_barrier_destroy(&start);
    breaker_destroy(&b);
}

int main(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_opens_after_failures_in_a_row),
        UNIT_CASE(test_a_success_resets_the_count),
        UNIT_CASE(test_one_probe_after_the_open_period),
        UNIT_CASE(test_failed_probes_double_the_wait_up_to_the_maximum),
        UNIT_CASE(test_late_reports_do_not_reopen),
        UNIT_CASE(test_threads_get_exactly_one_probe),
        UNIT_END,
    };
    static const struct unit_suite suites[] = {{"breaker", cases}, {NULL, NULL}};
    return unit_main(suites);
}
