/* Regression check (analyze/regress.c): baseline file parsing, and the
 * comparison's verdicts at and around the threshold. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "regress.h"

#define HDR BL_MAGIC "\n# accel: icount\n# git_rev: abc\n"

static void parse_ok(const char *text, struct baseline *b)
{
    char err[256] = "";
    int rc = baseline_parse(text, "t", b, err, sizeof err);
    if (rc)
        fail_msg("parse failed: %s", err);
}

/* Parses text expecting failure; err must contain want. */
static void parse_bad(const char *text, const char *want)
{
    struct baseline b;
    char err[256] = "";
    assert_int_equal(baseline_parse(text, "t", &b, err, sizeof err), -1);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
    assert_int_equal(b.n, 0);
    baseline_free(&b);
}

static void test_parse_good(void **state)
{
    (void)state;
    struct baseline b;
    parse_ok(HDR "# a comment: with a colon\n"
                 "# date: 2026-01-01T00:00:00Z\n"
                 "\n"
                 "a v m cycles 100 10\r\n"
                 "b\tv  m cycles 0\n",
             &b);
    assert_string_equal(b.accel, "icount");
    assert_string_equal(b.git_rev, "abc");
    assert_string_equal(b.date, "2026-01-01T00:00:00Z");
    assert_int_equal(b.n, 2);
    assert_string_equal(b.e[0].bench, "a");
    assert_int_equal(b.e[0].p50, 100);
    assert_int_equal(b.e[0].n, 10);
    assert_string_equal(b.e[1].bench, "b");
    assert_int_equal(b.e[1].p50, 0);
    assert_int_equal(b.e[1].n, -1);
    baseline_free(&b);
}

static void test_parse_bad(void **state)
{
    (void)state;
    parse_bad("", "not a kmemlab baseline");
    parse_bad("garbage\n", "t:1: not a kmemlab baseline");
    parse_bad(BL_MAGIC "\na v m cycles 1\n", "no '# accel: MODE' header");
    parse_bad(HDR, "no metrics");
    parse_bad(HDR "a v m cycles\n", "t:4: expected 'benchmark variant metric unit p50 [n]', got 4 fields");
    parse_bad(HDR "a v m cycles 1 2 3\n", "got 7 fields");
    parse_bad(HDR "a v m cycles 12x\n", "t:4: p50 '12x' is not a non-negative integer");
    parse_bad(HDR "a v m cycles -5\n", "p50 '-5'");
    parse_bad(HDR "a v m cycles 99999999999999999999999\n", "is not a non-negative integer");
    parse_bad(HDR "a v m cycles 5 0\n", "n '0' is not a positive integer");
    parse_bad(HDR "a v m cycles 5\na v m cycles 6\n", "t:5: a/v/m appears twice");
    parse_bad(HDR "# accel: kvm\na v m cycles 5\n", "t:4: header field 'accel' given twice");
    parse_bad(BL_MAGIC "\n# accel:\na v m cycles 5\n", "header field 'accel' is empty");
    parse_bad(HDR "a v m cycles 5\x01\n", "unprintable byte 0x01");
}

static void add(struct baseline *b, const char *bench, const char *unit, long long p50)
{
    b->e = realloc(b->e, (size_t)(b->n + 1) * sizeof *b->e);
    assert_non_null(b->e);
    struct bl_entry *e = &b->e[b->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->bench, sizeof e->bench, "%s", bench);
    strcpy(e->variant, "v");
    strcpy(e->metric, "m");
    snprintf(e->unit, sizeof e->unit, "%s", unit);
    e->p50 = p50;
    e->n = 100;
}

static void test_compare(void **state)
{
    (void)state;
    struct baseline base = { .accel = "icount" }, run = { .accel = "icount" };
    struct rg_result r;
    char err[128];
    add(&base, "same", "cycles", 1000);
    add(&run, "same", "cycles", 1000);
    add(&base, "at_limit", "cycles", 1000); /* +1.0% exactly: not above */
    add(&run, "at_limit", "cycles", 1010);
    add(&base, "slower", "cycles", 1000); /* +1.1% */
    add(&run, "slower", "cycles", 1011);
    add(&base, "faster", "cycles", 1000); /* -1.1% */
    add(&run, "faster", "cycles", 989);
    add(&base, "gone", "cycles", 5);
    add(&base, "zero", "cycles", 0); /* baseline 0: any increase regresses */
    add(&run, "zero", "cycles", 1);
    add(&base, "unit", "cycles", 10);
    add(&run, "unit", "ns", 10);
    add(&run, "added", "cycles", 7);

    assert_int_equal(regress_compare(&base, &run, 1.0, &r, err, sizeof err), 0);
    assert_int_equal(r.nrows, 8);
    enum rg_verdict want[] = { RG_OK, RG_OK, RG_REGRESSION, RG_IMPROVED, RG_MISSING, RG_REGRESSION, RG_UNIT, RG_NEW };
    for (int i = 0; i < 8; i++)
        assert_int_equal(r.rows[i].v, want[i]);
    assert_string_equal(r.rows[7].run->bench, "added");
    assert_null(r.rows[7].base);
    assert_null(r.rows[4].run);
    assert_true(fabs(r.rows[2].delta_pct - 1.1) < 1e-9);
    assert_true(isnan(r.rows[5].delta_pct));
    assert_int_equal(r.count[RG_REGRESSION], 2);
    assert_int_equal(r.failed, 4); /* 2 regressions, 1 missing, 1 unit */

    /* The verdict line is the last line and says FAIL. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    regress_print(f, &base, "b.txt", &run, 3, 1.0, &r);
    fclose(f);
    assert_non_null(strstr(text, "| metric | baseline | run | delta % | verdict |"));
    assert_non_null(strstr(text, "| slower/v/m | 1000 cycles | 1011 cycles | +1.10 | REGRESSION |"));
    assert_non_null(strstr(text, "\nregress: FAIL: 2 regressions, 1 missing, 1 unit change;"));
    free(text);
    regress_free(&r);

    /* A wider threshold: only the missing metric, the unit and zero fail. */
    assert_int_equal(regress_compare(&base, &run, 5.0, &r, err, sizeof err), 0);
    assert_int_equal(r.rows[2].v, RG_OK);
    assert_int_equal(r.rows[3].v, RG_OK);
    assert_int_equal(r.failed, 3);
    regress_free(&r);

    /* A threshold of 0: any slower p50 is a regression. */
    assert_int_equal(regress_compare(&base, &run, 0.0, &r, err, sizeof err), 0);
    assert_int_equal(r.rows[1].v, RG_REGRESSION);
    regress_free(&r);
    assert_int_equal(regress_compare(&base, &run, -1.0, &r, err, sizeof err), -1);
    baseline_free(&base);
    baseline_free(&run);
}

static void test_write_parse_roundtrip(void **state)
{
    (void)state;
    struct baseline b = { .accel = "icount", .git_rev = "deadbeef", .date = "2026-11-25T00:00:00Z",
                          .run = "4", .system = "kmemlab", .smp = "2" },
                    c;
    add(&b, "fault_simple", "cycles", 1733);
    add(&b, "null_syscall", "cycles", 91);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(baseline_write(f, &b), 0);
    fclose(f);
    parse_ok(text, &c);
    assert_string_equal(c.accel, "icount");
    assert_string_equal(c.git_rev, "deadbeef");
    assert_string_equal(c.run, "4");
    assert_int_equal(c.n, 2);
    assert_int_equal(c.e[0].p50, 1733);
    assert_int_equal(c.e[1].n, 100);

    struct rg_result r;
    char err[64];
    assert_int_equal(regress_compare(&b, &c, 1.0, &r, err, sizeof err), 0);
    assert_int_equal(r.failed, 0);
    assert_int_equal(r.count[RG_OK], 2);
    regress_free(&r);
    free(text);
    baseline_free(&b);
    baseline_free(&c);
}

/* Statistical mode: 100 samples base + 10 * (i % 10), p50 = base + 40. */
static void set_of(long long *v, long long base)
{
    for (int i = 0; i < 100; i++)
        v[i] = base + 10 * (i % 10);
}

static enum rg_verdict stat_verdict(long long base, long long run, double min_pct, double *p)
{
    long long b[100], r[100];
    enum rg_verdict v;
    set_of(b, base);
    set_of(r, run);
    assert_int_equal(regress_stat_verdict(b, 100, base + 40, r, 100, run + 40, min_pct, &v, p), 0);
    return v;
}

static void test_stat_verdicts(void **state)
{
    (void)state;
    double p;
    /* identical sets: not significant */
    assert_int_equal(stat_verdict(1000, 1000, 2.0, &p), RG_OK);
    assert_true(p > 0.5);
    /* shifted by 100 (p50 1040 -> 1140, +9.6%): significant and large */
    assert_int_equal(stat_verdict(1000, 1100, 2.0, &p), RG_REGRESSION);
    assert_true(p < 1e-6);
    assert_int_equal(stat_verdict(1100, 1000, 2.0, &p), RG_IMPROVED);
    assert_true(p < 1e-6);
    /* shifted by 10 (one step): significant, but p50 +0.96% is under 2% */
    assert_int_equal(stat_verdict(1000, 1010, 2.0, &p), RG_OK);
    assert_true(p < RG_ALPHA);
    /* the same shift with a 0.5% practical threshold is a regression */
    assert_int_equal(stat_verdict(1000, 1010, 0.5, &p), RG_REGRESSION);
}

/* A large p50 change that the sets do not support is not a regression:
 * two samples each, complete separation, p = 1/6 at best. */
static void test_stat_needs_significance(void **state)
{
    (void)state;
    long long b[] = { 100, 101 }, r[] = { 200, 201 };
    enum rg_verdict v;
    double p;
    assert_int_equal(regress_stat_verdict(b, 2, 100, r, 2, 200, 2.0, &v, &p), 0);
    assert_int_equal(v, RG_OK);
    assert_true(p > RG_ALPHA);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_write_parse_roundtrip),
        cmocka_unit_test(test_stat_verdicts),
        cmocka_unit_test(test_stat_needs_significance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
