/* Run metadata parser: accepted files, and each kind of bad line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "meta.h"

static void test_full(void **state)
{
    (void)state;
    struct meta m;
    char err[256];
    const char *text =
        "# written by run-qemu.sh\n"
        "started_utc=2025-01-02T03:04:05Z\n"
        "git_rev=0123456789ab\n"
        "git_dirty=true\n"
        "system=kmemlab\n"
        "accel=icount\n"
        "qemu_cpu = Skylake-Client \n"
        "qemu_version=QEMU emulator version 7.2.0\n"
        "icount=shift=0,align=off,sleep=off\n"
        "rtc=base=2025-01-01,clock=vm\n"
        "seed=42\n"
        "\n"
        "smp=4\n"
        "mem=512M\n"
        "host=buildbox\r\n"
        "cmdline_extra=\n"
        "accel_requested=auto\n"
        "accel_fallback=kvm self-test failed\n"
        "qemu_machine=pc-i440fx-7.2\n"
        "kernel=build/kernel.bin\n"
        "kernel_sha256=6a94\n"
        "programs=a.elf b.elf\n"
        "programs_sha256=01 02\n"
        "timeout=60\n"
        "qemu_exit=1\n"
        "exit_status=0\n"
        "result=kernel reported success\n"
        "duration_ms=1201\n";
    assert_int_equal(meta_parse(text, "run.meta", &m, err, sizeof err), 0);
    assert_string_equal(m.value[META_started_utc], "2025-01-02T03:04:05Z");
    assert_string_equal(m.value[META_git_dirty], "1");
    assert_string_equal(m.value[META_accel], "icount");
    assert_string_equal(m.value[META_qemu_cpu], "Skylake-Client");
    assert_string_equal(m.value[META_icount], "shift=0,align=off,sleep=off"); /* '=' in value */
    assert_string_equal(m.value[META_host], "buildbox");
    assert_null(m.value[META_cmdline_extra]); /* empty = absent */
    assert_string_equal(meta_key_name(META_smp), "smp");
    assert_string_equal(m.value[META_programs], "a.elf b.elf");
    assert_string_equal(m.value[META_duration_ms], "1201");
    meta_free(&m);
    assert_int_equal(meta_parse("", "empty", &m, err, sizeof err), 0);
    assert_null(m.value[META_accel]);
}

static void expect_error(const char *text, const char *words)
{
    struct meta m;
    char err[256];
    assert_int_equal(meta_parse(text, "run.meta", &m, err, sizeof err), -1);
    if (!strstr(err, words))
        fail_msg("error \"%s\" lacks \"%s\"", err, words);
    for (int k = 0; k < META_NKEYS; k++)
        assert_null(m.value[k]);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("accel=icount\ncolour=blue\n", "run.meta:2: unknown key: \"colour\"");
    expect_error("smp=2\nsmp=4\n", "run.meta:2: key given twice");
    expect_error("cmdline_extra=\ncmdline_extra=x\n", "key given twice");
    expect_error("accel=hvf\n", "accel must be icount, tcg, kvm or bare");
    expect_error("git_dirty=maybe\n", "git_dirty must be 0 or 1");
    expect_error("smp=0\n", "smp must be a positive integer");
    expect_error("smp=4cpus\n", "value must be an integer");
    expect_error("duration_ms=fast\n", "value must be an integer");
    expect_error("qemu_exit=1.5\n", "value must be an integer");
    expect_error("\n\njust words\n", "run.meta:3: expected key=value");
}

static void test_read_missing(void **state)
{
    (void)state;
    struct meta m;
    char err[256];
    assert_int_equal(meta_read("/nonexistent/run.meta", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/run.meta"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_read_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
