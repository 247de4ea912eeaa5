/* test_buf.c - the bounded buffer: what fits is written, what does not leaves it full. */
#include "base/buf.h"

#include <string.h>

#include "unit.h"

static void test_appends_and_terminates(void)
{
    char mem[16];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    CU_ASSERT_STRING_EQUAL(mem, "");
    CU_ASSERT_TRUE(buf_adds(&b, "ab"));
    CU_ASSERT_TRUE(buf_addc(&b, 'c'));
    CU_ASSERT_TRUE(buf_printf(&b, "-%d-", 42));
    CU_ASSERT_TRUE(buf_add(&b, "xyz", 2));
    CU_ASSERT_STRING_EQUAL(b.data, "abc-42-xy");
    CU_ASSERT_EQUAL(b.len, 9);
    CU_ASSERT_TRUE(buf_ok(&b));
}

static void test_exact_fit_keeps_room_for_nul(void)
{
    char mem[4];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    CU_ASSERT_TRUE(buf_adds(&b, "abc"));
    CU_ASSERT_STRING_EQUAL(mem, "abc");
    CU_ASSERT_FALSE(buf_addc(&b, 'd'));
    CU_ASSERT_STRING_EQUAL(mem, "abc");
    CU_ASSERT_FALSE(buf_ok(&b));
}

static void test_full_is_sticky(void)
{
    char mem[8];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    CU_ASSERT_FALSE(buf_adds(&b, "too long for it"));
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_STRING_EQUAL(mem, "");
    /* Once full, even what would fit is refused: the message is incomplete anyway. */
    CU_ASSERT_FALSE(buf_adds(&b, "a"));
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_FALSE(buf_ok(&b));
    buf_reset(&b);
    CU_ASSERT_TRUE(buf_ok(&b));
    CU_ASSERT_TRUE(buf_adds(&b, "a"));
}

static void test_printf_that_does_not_fit_writes_nothing(void)
{
    char mem[8];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    CU_ASSERT_TRUE(buf_adds(&b, "ab"));
    CU_ASSERT_FALSE(buf_printf(&b, "%s", "0123456789"));
    CU_ASSERT_STRING_EQUAL(mem, "ab");
    CU_ASSERT_EQUAL(b.len, 2);
}

static void test_truncate_rolls_back(void)
{
    char mem[8];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    buf_adds(&b, "abc");
    size_t mark = b.len;
    buf_adds(&b, "defghij");
    CU_ASSERT_FALSE(buf_ok(&b));
    buf_truncate(&b, mark);
    CU_ASSERT_TRUE(buf_ok(&b));
    CU_ASSERT_STRING_EQUAL(mem, "abc");
    CU_ASSERT_TRUE(buf_adds(&b, "de"));
    CU_ASSERT_STRING_EQUAL(mem, "abcde");
}

static void test_binary_bytes(void)
{
    char mem[8];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    CU_ASSERT_TRUE(buf_add(&b, "a\0b", 3));
    CU_ASSERT_EQUAL(b.len, 3);
    CU_ASSERT_EQUAL(memcmp(mem, "a\0b\0", 4), 0);
    /* Nothing to add, from no memory (an empty body): no memcpy from NULL (the sanitizers
     * of make distcheck stop the process on that). */
    CU_ASSERT_TRUE(buf_add(&b, NULL, 0));
    CU_ASSERT_EQUAL(b.len, 3);
}

static void test_urlencoded(void)
{
    char mem[64];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    const char in[] = "a b&c=d/\xc3\xa9~-_.Z9";
    CU_ASSERT_TRUE(buf_add_urlencoded(&b, in, sizeof(in) - 1));
    CU_ASSERT_STRING_EQUAL(mem, "a%20b%26c%3Dd%2F%C3%A9~-_.Z9");
    char small[4];
    buf_init(&b, small, sizeof(small));
    CU_ASSERT_FALSE(buf_add_urlencoded(&b, " x", 2)); /* "%20" fits, "x" does not */
    CU_ASSERT_FALSE(buf_ok(&b));
}

int main(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_appends_and_terminates),
        UNIT_CASE(test_exact_fit_keeps_room_for_nul),
        UNIT_CASE(test_full_is_sticky),
        UNIT_CASE(test_printf_that_does_not_fit_writes_nothing),
        UNIT_CASE(test_truncate_rolls_back),
        UNIT_CASE(test_binary_bytes),
        UNIT_CASE(test_urlencoded),
        UNIT_END,
    };
    static const struct unit_suite suites[] = {{"buf", cases}, {NULL, NULL}};
    return unit_main(suites);
}
