/* kvsnprintf against the C library's snprintf, and the kernel's string
 * functions (kernel/lib/string.c, built renamed k*). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host_support.h"
#include <kernel/printk.h>

void *kmemcpy(void *d, const void *s, usize n);
void *kmemmove(void *d, const void *s, usize n);
void *kmemset(void *d, int c, usize n);
int kmemcmp(const void *a, const void *b, usize n);
usize kstrlcpy(char *d, const char *s, usize size);

#define SAME(...)                                                              \
    do {                                                                       \
        char a[128], b[128];                                                   \
        int na = ksnprintf(a, sizeof a, __VA_ARGS__);                          \
        int nb = snprintf(b, sizeof b, __VA_ARGS__);                           \
        assert_string_equal(a, b);                                             \
        assert_int_equal(na, nb);                                              \
    } while (0)

static void test_matches_libc(void **state)
{
    (void)state;
    SAME("plain");
    SAME("%d %d %d", 0, -1, 2147483647);
    SAME("%i", -2147483647 - 1);
    SAME("%u %x %X", 4000000000u, 0xdeadbeefu, 0xabcu);
    SAME("%lu %lx %ld", 18446744073709551615ul, 0x123456789abcdeful, -9223372036854775807l - 1);
    SAME("[%5d] [%-5d] [%05d] [%016lx]", 42, 42, -42, 0xffffful);
    SAME("[%s] [%8s] [%-8s] [%c]", "abc", "abc", "abc", 'z');
    SAME("%zu %%", (size_t)12345);
}

static void test_truncation_and_length(void **state)
{
    (void)state;
    char buf[8];
    int n = ksnprintf(buf, sizeof buf, "%s-%d", "abcdef", 12345);
    assert_int_equal(n, 12);
    assert_string_equal(buf, "abcdef-");
    n = ksnprintf(buf, 1, "xyz");
    assert_int_equal(n, 3);
    assert_string_equal(buf, "");
    n = ksnprintf(NULL, 0, "%d", 123);
    assert_int_equal(n, 3);
    ksnprintf(buf, sizeof buf, "%s", (char *)NULL);
    assert_string_equal(buf, "(null)");
}

static void test_pointer(void **state)
{
    (void)state;
    char buf[64];
    ksnprintf(buf, sizeof buf, "%p", (void *)0xffffffff80100000ul);
    assert_string_equal(buf, "0xffffffff80100000");
}

static void test_string_functions(void **state)
{
    (void)state;
    char a[64], b[64];
    for (int i = 0; i < 64; i++)
        a[i] = (char)i;
    for (usize n = 0; n <= 33; n++) {
        memset(b, 0x55, sizeof b);
        kmemcpy(b + 1, a, n);
        assert_memory_equal(b + 1, a, n);
        assert_int_equal((u8)b[n + 1], 0x55);
        assert_int_equal((u8)b[0], 0x55);
    }
    memcpy(b, a, 64);
    kmemmove(b + 3, b, 40); /* overlapping, forward */
    assert_memory_equal(b + 3, a, 40);
    memcpy(b, a, 64);
    kmemmove(b, b + 3, 40); /* overlapping, backward */
    assert_memory_equal(b, a + 3, 40);
    kmemset(b, 0xab, 19);
    for (int i = 0; i < 19; i++)
        assert_int_equal((u8)b[i], 0xab);
    assert_true(kmemcmp("abc", "abd", 3) < 0);
    assert_int_equal(kmemcmp("abc", "abd", 2), 0);
    assert_int_equal(kstrlcpy(b, "hello world", 6), 11);
    assert_string_equal(b, "hello");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_libc),
        cmocka_unit_test(test_truncation_and_length),
        cmocka_unit_test(test_pointer),
        cmocka_unit_test(test_string_functions),
    };
    return cmocka_run_group_tests_name("kernel formatting and strings", tests, NULL, NULL);
}
