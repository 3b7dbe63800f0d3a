/* PMU event encoding through libpfm4 (analyze/pmu.c), for a forced PMU:
 * the encodings a QEMU run with a Skylake CPU model would be given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pmu.h"

static int force_skl(void **state)
{
    (void)state;
    return setenv("LIBPFM_FORCE_PMU", "skl", 1);
}

static void test_architectural_events(void **state)
{
    (void)state;
    struct pmu_event ev[PMU_MAX_EVENTS];
    char err[256] = "";
    int n = pmu_encode_list("UNHALTED_CORE_CYCLES,INSTRUCTION_RETIRED", ev, PMU_MAX_EVENTS, err, sizeof err);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].name, "UNHALTED_CORE_CYCLES");
    assert_int_equal(ev[0].raw, 0x53003c); /* event 0x3c, USR|OS|INT|EN */
    assert_string_equal(ev[0].pmu, "skl");
    assert_string_equal(ev[1].name, "INSTRUCTION_RETIRED");
    assert_int_equal(ev[1].raw, 0x5300c0);
    assert_string_equal(ev[1].pmu, "skl");
    assert_non_null(strstr(ev[1].fqname, "skl::INSTRUCTION_RETIRED"));
}

/* perf's generic names mean the architectural events; modifiers stay. */
static void test_perf_names(void **state)
{
    (void)state;
    struct pmu_event ev[PMU_MAX_EVENTS];
    char err[256] = "";
    int n = pmu_encode_list(" cycles , instructions,cycles:u,instructions:k,DTLB_LOAD_MISSES:WALK_COMPLETED",
                            ev, PMU_MAX_EVENTS, err, sizeof err);
    assert_int_equal(n, 5);
    assert_string_equal(ev[0].name, "cycles"); /* blanks trimmed */
    assert_int_equal(ev[0].raw, 0x53003c);
    assert_int_equal(ev[1].raw, 0x5300c0);
    assert_int_equal(ev[2].raw, 0x51003c); /* user only: OS bit (17) clear */
    assert_int_equal(ev[3].raw, 0x5200c0); /* kernel only: USR bit (16) clear */
    assert_int_equal(ev[4].raw, 0x530e08);
    char out[64];
    pmu_translate_name("branch-misses", out, sizeof out);
    assert_string_equal(out, "MISPREDICTED_BRANCH_RETIRED");
    pmu_translate_name("INST_RETIRED:ANY_P", out, sizeof out);
    assert_string_equal(out, "INST_RETIRED:ANY_P");
}

static void test_unknown_event(void **state)
{
    (void)state;
    struct pmu_event ev[PMU_MAX_EVENTS];
    char err[256] = "";
    assert_int_equal(pmu_encode_list("cycles,NO_SUCH_EVENT_X,instructions", ev, PMU_MAX_EVENTS, err,
                                     sizeof err), -1);
    assert_non_null(strstr(err, "NO_SUCH_EVENT_X"));
    assert_non_null(strstr(err, "unknown event"));
    err[0] = 0;
    assert_int_equal(pmu_encode_list("cycles:nosuchmod", ev, PMU_MAX_EVENTS, err, sizeof err), -1);
    assert_non_null(strstr(err, "cycles:nosuchmod"));
}

static void test_empty_lists(void **state)
{
    (void)state;
    struct pmu_event ev[PMU_MAX_EVENTS];
    char err[256] = "";
    assert_int_equal(pmu_encode_list("", ev, PMU_MAX_EVENTS, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty event list"));
    assert_int_equal(pmu_encode_list("  ", ev, PMU_MAX_EVENTS, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty event list"));
    assert_int_equal(pmu_encode_list(NULL, ev, PMU_MAX_EVENTS, err, sizeof err), -1);
    assert_int_equal(pmu_encode_list("cycles,,instructions", ev, PMU_MAX_EVENTS, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty event name"));
    assert_int_equal(pmu_encode_list("cycles,", ev, PMU_MAX_EVENTS, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty event name"));
}

static void test_limits(void **state)
{
    (void)state;
    struct pmu_event ev[PMU_MAX_EVENTS];
    char err[256] = "";
    assert_int_equal(pmu_encode_list("cycles,instructions,cycles", ev, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "too many events"));
    /* OFFCORE_RESPONSE needs a second register (an MSR): not supported */
    assert_int_equal(pmu_encode_list("OFFCORE_RESPONSE_0:ANY_REQUEST", ev, PMU_MAX_EVENTS, err, sizeof err), -1);
    assert_non_null(strstr(err, "OFFCORE_RESPONSE_0:ANY_REQUEST"));
    assert_non_null(strstr(err, "registers"));
}

/* (An unknown LIBPFM_FORCE_PMU is tested through the CLI in
 * tests/sh/linux_baseline.sh: libpfm4 reads the variable once per process.) */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_architectural_events),
        cmocka_unit_test(test_perf_names),
        cmocka_unit_test(test_unknown_event),
        cmocka_unit_test(test_empty_lists),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, force_skl, NULL);
}
