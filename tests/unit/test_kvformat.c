/* kvformat, the sink-based core of the shared formatter: what it hands the
 * sink, and the conversions user printf relies on (%o, '*' widths, %s
 * precision) against the C library's snprintf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host_support.h"
#include <kernel/printk.h>

struct collect {
    char buf[256];
    size_t len;
    int calls;
};

static void collect_put(void *ctx, char c)
{
    struct collect *s = ctx;
    s->calls++;
    if (s->len + 1 < sizeof s->buf)
        s->buf[s->len++] = c;
    s->buf[s->len] = 0;
}

static int format(struct collect *s, const char *fmt, ...)
{
    va_list ap;
    memset(s, 0, sizeof *s);
    va_start(ap, fmt);
    int n = kvformat(collect_put, s, fmt, ap);
    va_end(ap);
    return n;
}

#define SAME(...)                                                              \
    do {                                                                       \
        struct collect same_;                                                  \
        char b[256];                                                           \
        int na = format(&same_, __VA_ARGS__);                                  \
        int nb = snprintf(b, sizeof b, __VA_ARGS__);                           \
        assert_string_equal(same_.buf, b);                                     \
        assert_int_equal(na, nb);                                              \
        assert_int_equal(same_.calls, nb);                                     \
    } while (0)

static void test_sink_gets_every_char(void **state)
{
    (void)state;
    SAME("");
    SAME("plain text");
    SAME("%d|%5u|%-6x|%08lX", -17, 42u, 0xbeefu, 0xabcdeful);
    SAME("%s and %c", "str", 'c');
    SAME("100%%");
}

static void test_user_conversions(void **state)
{
    (void)state;
    SAME("%o %o %lo", 0u, 8u, 01777777777777777777777ul);
    SAME("[%*d] [%*d] [%-*s]", 6, 42, -6, 42, 5, "ab");
    SAME("[%.3s] [%.0s] [%.10s] [%8.2s] [%-8.2s]", "abcdef", "abc", "abc", "xyz", "xyz");
    SAME("[%5c] [%-5c]", 'a', 'b');
    SAME("%lld %llu %llx", -5ll, 5ull, 0x5ull);
    SAME("%zd %zx", (ssize_t)-3, (size_t)0xff);
}

static void test_edge_cases(void **state)
{
    (void)state;
    struct collect s;
    assert_int_equal(format(&s, "%"), 0); /* lone % at the end: nothing */
    assert_string_equal(s.buf, "");
    assert_int_equal(format(&s, "a%qb"), 4); /* unknown conversion: verbatim */
    assert_string_equal(s.buf, "a%qb");
    format(&s, "%p", (void *)0x1234);
    assert_string_equal(s.buf, "0x0000000000001234");
    SAME("[%05d] [%-05d]", -42, -42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sink_gets_every_char),
        cmocka_unit_test(test_user_conversions),
        cmocka_unit_test(test_edge_cases),
    };
    return cmocka_run_group_tests_name("kvformat (shared by kernel and user printf)", tests, NULL,
                                       NULL);
}
