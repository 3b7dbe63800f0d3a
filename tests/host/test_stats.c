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

/* Mann-Whitney U, worked by hand: a = {1, 2, 2, 5}, b = {2, 3, 4}.  Pairs
 * with a > b: 1 -> 0, each 2 -> 1/2 (the tie with b's 2), 5 -> 3: U_a = 4,
 * U_b = 12 - 4 = 8.  Pooled 1 2 2 2 3 4 5: one tie group of 3, so
 * var = 3*4/12 * ((7 + 1) - (27 - 3) / (7 * 6)) = 8 - 4/7, and with the
 * continuity correction z = (4 - 6 + 1/2) / sqrt(var) = -0.55035,
 * p_less = P(Z > 1.5 / sqrt(var)) = 0.29104. */
static void test_mw_hand_computed(void **state)
{
    (void)state;
    long long a[] = { 5, 2, 1, 2 }, b[] = { 4, 2, 3 };
    struct mw_result r;
    assert_int_equal(stats_mann_whitney(a, 4, b, 3, &r), 0);
    assert_true(r.u_a == 4.0);
    assert_true(r.u_b == 8.0);
    assert_true(fabs(r.z - -0.5503495392790071) < 1e-9);
    assert_true(fabs(r.p_less - 0.2910398259647511) < 1e-9);
    assert_true(fabs(r.p_greater - (1 - 0.17950602689321474)) < 1e-9);
}

/* No ties, complete separation: U_a = 0, var = 3*4/12 * 8 = 8,
 * p_less = P(Z > 5.5 / sqrt 8) = 0.025915. */
static void test_mw_separated(void **state)
{
    (void)state;
    long long a[] = { 1, 2, 3 }, b[] = { 4, 5, 6, 7 };
    struct mw_result r;
    assert_int_equal(stats_mann_whitney(a, 3, b, 4, &r), 0);
    assert_true(r.u_a == 0.0 && r.u_b == 12.0);
    assert_true(fabs(r.p_less - 0.025914963608954858) < 1e-9);
    assert_true(r.p_greater > 0.98);
}

/* The sets of the synthetic runs (tests/sh/data/synth_db.sh): 100 samples
 * base + 10 * (i % 10) + offset. */
static void synth_set(long long *v, long long base)
{
    for (int i = 0; i < 100; i++)
        v[i] = base + 10 * (i % 10);
}

static void test_mw_identical_not_significant(void **state)
{
    (void)state;
    long long a[100], b[100];
    synth_set(a, 1000);
    synth_set(b, 1000);
    struct mw_result r;
    assert_int_equal(stats_mann_whitney(a, 100, b, 100, &r), 0);
    assert_true(r.u_a == 5000.0);
    assert_true(r.z == 0.0);
    assert_true(r.p_greater > 0.5 && r.p_less > 0.5);
}

static void test_mw_shifted_significant(void **state)
{
    (void)state;
    long long a[100], b[100];
    synth_set(a, 1040); /* a step of 10 is one tie group; 4 steps up */
    synth_set(b, 1000);
    struct mw_result r;
    assert_int_equal(stats_mann_whitney(a, 100, b, 100, &r), 0);
    assert_true(r.p_greater < 1e-6);
    assert_true(r.p_less > 0.99);
    assert_true(r.u_a > r.u_b);
    /* and the other way round */
    assert_int_equal(stats_mann_whitney(b, 100, a, 100, &r), 0);
    assert_true(r.p_less < 1e-6);
}

/* Every value equal: no spread, no evidence either way; empty sets are refused. */
static void test_mw_degenerate(void **state)
{
    (void)state;
    long long a[] = { 7, 7, 7 }, b[] = { 7, 7 };
    struct mw_result r;
    assert_int_equal(stats_mann_whitney(a, 3, b, 2, &r), 0);
    assert_true(r.u_a == 3.0 && r.z == 0.0 && r.p_greater == 1.0 && r.p_less == 1.0);
    assert_int_equal(stats_mann_whitney(a, 0, b, 2, &r), -1);
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
        cmocka_unit_test(test_mw_hand_computed),
        cmocka_unit_test(test_mw_separated),
        cmocka_unit_test(test_mw_identical_not_significant),
        cmocka_unit_test(test_mw_shifted_significant),
        cmocka_unit_test(test_mw_degenerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
