/*
 * unit.h - shared helpers for the CUnit test programs.
 *
 * Each test program lists its suites as arrays of UNIT_CASE entries and ends main with
 * `return unit_main(suites);`. unit_main runs them with CUnit's basic runner and turns the result
 * into an exit status that fails `make check`: 0 when everything passed, otherwise the number of
 * failed assertions, capped below 77 (automake's "skipped") so that it never wraps or reads as a
 * skip; 99 (automake's "hard error") if CUnit itself could not be set up.
 */
#ifndef AUTHZ_TESTS_UNIT_H
#define AUTHZ_TESTS_UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct unit_case {
    const char *name;
    CU_TestFunc func;
};

struct unit_suite {
    const char *name;
    const struct unit_case *cases; /* terminated by UNIT_END */
};

/* One test function, named after itself; UNIT_END closes a list of them. */
#define UNIT_CASE(f)                                                                               \
    {                                                                                              \
        .name = #f, .func = (f)                                                                    \
    }
#define UNIT_END                                                                                   \
    {                                                                                              \
        .name = NULL, .func = NULL                                                                 \
    }

#define UNIT_N(array) (sizeof(array) / sizeof((array)[0]))

/*
 * Records an assertion with a formatted description, so that a failure shows the values that
 * were compared and not only the expression. CUnit copies the text.
 */
static inline void unit_check(int ok, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static inline void unit_check(int ok, const char *file, unsigned line, const char *fmt, ...)
{
    char text[1024] = "";
    if (!ok) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
    }
    CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, line, ok ? "ok" : text, file, "", CU_FALSE);
}

/* Asserts with a printf-style message that is shown only if the condition is false. */
#define UNIT_CHECK(cond, ...) unit_check((cond) != 0, __FILE__, __LINE__, __VA_ARGS__)

/* Two NUL-terminated strings are equal (NULL only equals NULL). */
#define UNIT_STR_EQ(actual, expected)                                                              \
    do {                                                                                           \
        const char *unit_a_ = (actual);                                                            \
        const char *unit_e_ = (expected);                                                          \
        int unit_ok_ = (unit_a_ == NULL || unit_e_ == NULL) ? unit_a_ == unit_e_                   \
                                                            : strcmp(unit_a_, unit_e_) == 0;       \
        UNIT_CHECK(unit_ok_, "%s == \"%s\", expected \"%s\"", #actual,                             \
                   unit_a_ ? unit_a_ : "(null)", unit_e_ ? unit_e_ : "(null)");                    \
    } while (0)

/* A NUL-terminated string contains a substring. */
#define UNIT_STR_HAS(actual, needle)                                                               \
    do {                                                                                           \
        const char *unit_a_ = (actual);                                                            \
        const char *unit_n_ = (needle);                                                            \
        UNIT_CHECK(unit_a_ != NULL && strstr(unit_a_, unit_n_) != NULL,                            \
                   "%s == \"%s\" should contain \"%s\"", #actual, unit_a_ ? unit_a_ : "(null)",    \
                   unit_n_);                                                                       \
    } while (0)

/* Two integers are equal. */
#define UNIT_INT_EQ(actual, expected)                                                              \
    do {                                                                                           \
        long long unit_a_ = (long long)(actual);                                                   \
        long long unit_e_ = (long long)(expected);                                                 \
        UNIT_CHECK(unit_a_ == unit_e_, "%s == %lld, expected %lld", #actual, unit_a_, unit_e_);    \
    } while (0)

static inline int unit_main(const struct unit_suite *suites)
{
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
        return 99;
    }
    for (const struct unit_suite *s = suites; s->name; s++) {
        CU_pSuite suite = CU_add_suite(s->name, NULL, NULL);
        if (!suite)
            goto error;
        for (const struct unit_case *c = s->cases; c->name; c++)
            if (!CU_add_test(suite, c->name, c->func))
                goto error;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (CU_basic_run_tests() != CUE_SUCCESS)
        goto error;

    unsigned failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    unsigned tests_failed = CU_get_number_of_tests_failed();
    if (failures == 0 && tests_failed > 0)
        failures = tests_failed;
    CU_cleanup_registry();
    printf("\n");
    return failures > 76 ? 76 : (int)failures;

error:
    fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
    CU_cleanup_registry();
    return 99;
}

#endif
