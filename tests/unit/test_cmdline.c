/* Kernel command-line parser and the boot options table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "host_support.h"
#include <kernel/cmdline.h>
#include <kernel/options.h>
#include <abi/trace.h>

static u64 num;
static u32 num32, choice, flag;
static const char *const choices[] = {"red", "green", NULL};
static const struct cmdline_opt opts[] = {
    {"num", OPT_U64, &num, NULL, 1, 1000, false, "1..1000"},
    {"pow", OPT_U32, &num32, NULL, 64, 4096, true, "power of two"},
    {"color", OPT_ENUM, &choice, choices, 0, 0, false, "red or green"},
    {"quiet", OPT_FLAG, &flag, NULL, 0, 0, false, "flag"},
};

static int nreports;
static char last[256];
static void report(const char *m)
{
    nreports++;
    strncpy(last, m, sizeof last - 1);
}

static int parse(const char *line)
{
    nreports = 0;
    last[0] = 0;
    num = 0;
    num32 = 0;
    choice = 99;
    flag = 0;
    int e = cmdline_parse(line, opts, sizeof opts / sizeof opts[0], report);
    assert_int_equal(e, nreports);
    return e;
}

static void test_good_options(void **state)
{
    (void)state;
    assert_int_equal(parse("  num=0x10 pow=128   color=green quiet "), 0);
    assert_int_equal(num, 16);
    assert_int_equal(num32, 128);
    assert_int_equal(choice, 1);
    assert_int_equal(flag, 1);
    assert_int_equal(parse(""), 0);
}

static void test_unknown_option_reported(void **state)
{
    (void)state;
    assert_int_equal(parse("num=5 nmu=6 quiet"), 1);
    assert_non_null(strstr(last, "unknown option 'nmu'"));
    assert_int_equal(num, 5); /* the good ones still apply */
    assert_int_equal(flag, 1);
}

static void test_bad_values(void **state)
{
    (void)state;
    const char *bad[] = {"num=", "num", "num=0", "num=1001", "num=12x", "num=0x",
                         "num=99999999999999999999999", "pow=100", "pow=8192",
                         "color=blue", "color=", "quiet=1", "num=-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(bad[i]) != 1)
            fail_msg("'%s' was accepted", bad[i]);
    }
}

static void test_parse_u64(void **state)
{
    (void)state;
    u64 v;
    assert_true(parse_u64("18446744073709551615", 20, &v));
    assert_true(v == ~0ull);
    assert_false(parse_u64("18446744073709551616", 20, &v));
    assert_true(parse_u64("0xffffffffffffffff", 18, &v));
    assert_false(parse_u64("0x1ffffffffffffffff", 19, &v));
    assert_true(parse_u64("0XaB", 4, &v));
    assert_int_equal(v, 0xab);
}

static void test_boot_options_table(void **state)
{
    (void)state;
    host_console_clear();
    assert_int_equal(options_parse("trace.mode=overwrite trace.records=1024 timer_hz=0 "
                                   "dump=com2 maxcpus=4 kmem=pool"),
                     0);
    assert_int_equal(opt.trace_mode, KM_TRACE_OVERWRITE);
    assert_int_equal(opt.trace_records, 1024);
    assert_int_equal(opt.timer_hz, 0);
    assert_int_equal(opt.maxcpus, 4);
    assert_int_equal(options_parse("trace.records=1000"), 1); /* not a power of two */
    assert_int_equal(options_parse("trace.mask=0x8000000000000000"), 1); /* no such event */
    assert_int_equal(options_parse("kmem=kpager kmem.pool=16"), 0);
    assert_int_equal(opt.kmem, KMEM_MODE_KPAGER);
    assert_int_equal(opt.kmem_pool, 16u << 8); /* MiB, kept in pages */
    assert_int_equal(options_parse("kmem=slab"), 1);
    assert_int_equal(options_parse("kmem.pool=0"), 1); /* at least 1 MiB */
    /* pmu=: 1..4 raw encodings; a bad list is refused whole */
    assert_int_equal(options_parse("pmu=0x53003c,0x5300c0"), 0);
    assert_int_equal(opt.pmu.n, 2);
    assert_true(opt.pmu.v[0] == 0x53003c && opt.pmu.v[1] == 0x5300c0);
    assert_int_equal(options_parse("pmu=1,2,3,4"), 0);
    assert_int_equal(opt.pmu.n, 4);
    opt.pmu.n = 0;
    const char *badpmu[] = {"pmu", "pmu=", "pmu=0", "pmu=0x53003c,", "pmu=,0x1", "pmu=1,2,3,4,5",
                            "pmu=0x100000000", "pmu=cycles", "pmu=0x53003c,,0x1"};
    for (size_t i = 0; i < sizeof badpmu / sizeof badpmu[0]; i++) {
        host_console_clear();
        if (options_parse(badpmu[i]) != 1)
            fail_msg("'%s' was accepted", badpmu[i]);
        assert_non_null(strstr(host_console, "cmdline: option 'pmu'"));
        assert_int_equal(opt.pmu.n, 0);
    }
    host_console_clear();
    assert_int_equal(options_parse("bogus"), 1);
    assert_non_null(strstr(host_console, "cmdline: unknown option 'bogus'"));
    assert_non_null(strstr(host_console, "known options:"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_options),
        cmocka_unit_test(test_unknown_option_reported),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_boot_options_table),
    };
    return cmocka_run_group_tests_name("kernel command line", tests, NULL, NULL);
}
