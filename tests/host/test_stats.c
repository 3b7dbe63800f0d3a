/* Summary statistics on known inputs (nearest-rank percentiles, sample
 * standard deviation). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats.h"

static void test_one_to_ten(void **state)
{
    (void)state;
    long long v[10] = { 7, 3, 10, 1, 5, 9, 2, 8, 6, 4 };
    struct stats s;
    assert_int_equal(stats_compute(v, 10, &s), 0);
    assert_int_equal(s.n, 10);
    assert_int_equal(s.min, 1);
    assert_int_equal(s.max, 10);
    assert_int_equal(s.p50, 5); /* rank ceil(5.0) = 5: the lower middle */
    assert_int_equal(s.p90, 9);
    assert_int_equal(s.p99, 10);
    assert_true(fabs(s.mean - 5.5) < 1e-12);
    assert_true(s.has_stddev);
    assert_true(fabs(s.stddev - sqrt(82.5 / 9.0)) < 1e-12); /* 3.02765... */
    assert_int_equal(v[0], 7);                              /* input untouched */
}

/* The textbook nearest-rank example: 15, 20, 35, 40, 50. */
static void test_nearest_rank(void **state)
{
    (void)state;
    long long v[5] = { 15, 20, 35, 40, 50 };
    assert_int_equal(stats_percentile(v, 5, 1), 15);
    assert_int_equal(stats_percentile(v, 5, 5), 15);
    assert_int_equal(stats_percentile(v, 5, 30), 20);
    assert_int_equal(stats_percentile(v, 5, 40), 20);
    assert_int_equal(stats_percentile(v, 5, 50), 35);
    assert_int_equal(stats_percentile(v, 5, 100), 50);
}

static void test_percentile_exact_ranks(void **state)
{
    (void)state;
    static long long v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = i + 1;
    /* p * n / 100 is an integer: no rounding up past it */
    assert_int_equal(stats_percentile(v, 1000, 90), 900);
    assert_int_equal(stats_percentile(v, 1000, 99), 990);
    assert_int_equal(stats_percentile(v, 1000, 1), 10);
    assert_int_equal(stats_percentile(v, 999, 99), 990); /* ceil(989.01) */
    assert_int_equal(stats_percentile(v, 1, 1), 1);
}

static void test_single_and_empty(void **state)
{
    (void)state;
    long long one = -42;
    struct stats s;
    assert_int_equal(stats_compute(&one, 1, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.min, -42);
    assert_int_equal(s.p50, -42);
    assert_int_equal(s.p99, -42);
    assert_int_equal(s.max, -42);
    assert_true(s.mean == -42.0);
    assert_false(s.has_stddev); /* undefined for one sample */
    assert_int_equal(stats_compute(NULL, 0, &s), 0);
    assert_int_equal(s.n, 0);
}

static void test_negative_and_duplicates(void **state)
{
    (void)state;
    long long v[6] = { -5, 3, 3, 3, -5, 100 };
    struct stats s;
    assert_int_equal(stats_compute(v, 6, &s), 0);
    assert_int_equal(s.min, -5);
    assert_int_equal(s.p50, 3);
    assert_int_equal(s.p90, 100);
    assert_int_equal(s.max, 100);
    assert_true(fabs(s.mean - 99.0 / 6) < 1e-12);
    double m = 99.0 / 6, ss = 0;
    for (int i = 0; i < 6; i++)
        ss += (v[i] - m) * (v[i] - m);
    assert_true(fabs(s.stddev - sqrt(ss / 5)) < 1e-9);
}

/* Large values: a naive sum of squares would lose everything. */
static void test_large_values(void **state)
{
    (void)state;
    long long v[4] = { INT64_C(1) << 50, (INT64_C(1) << 50) + 2, (INT64_C(1) << 50) + 4,
                       (INT64_C(1) << 50) + 6 };
    struct stats s;
    assert_int_equal(stats_compute(v, 4, &s), 0);
    assert_true(fabs(s.mean - ((double)(INT64_C(1) << 50) + 3)) < 1);
    assert_true(fabs(s.stddev - sqrt(20.0 / 3)) < 1e-6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_to_ten),
        cmocka_unit_test(test_nearest_rank),
        cmocka_unit_test(test_percentile_exact_ranks),
        cmocka_unit_test(test_single_and_empty),
        cmocka_unit_test(test_negative_and_duplicates),
        cmocka_unit_test(test_large_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
