/* The kernel's dump writer (kernel/dump.c) read back by the host decoder
 * (trace/dump_read.c): what the kernel writes is what the host gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host_support.h"
#include <dump_read.h>
#include <kernel/bench_store.h>
#include <kernel/dump.h>
#include <kernel/frame.h>
#include <kernel/trace.h>

#define ARENA (16ull << 20)
static u64 bitmap[ARENA / 4096 / 64 + ARENA / 4096 / 2 + ARENA / 4096 * 2]; /* bits, aux words, loans */

struct membuf {
    u8 *p;
    size_t len, cap;
};

static void sink(void *ctx, const void *buf, unsigned long len)
{
    struct membuf *m = ctx;
    if (m->len + len > m->cap) {
        m->cap = (m->len + len) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->len, buf, len);
    m->len += len;
}

static int setup(void **state)
{
    (void)state;
    host_phys_base = calloc(1, ARENA);
    frame_init(ARENA, bitmap);
    frame_add_free(0, ARENA);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(host_phys_base);
    return 0;
}

/* Fills rings of 3 CPUs: cpu c gets 100 * (c + 1) events, cpu 2's ring
 * (overwrite, 128 records) wraps; one benchmark series of 5000 samples
 * spans two SAMPLES frames. */
static void test_kernel_dump_decodes(void **state)
{
    (void)state;
    static struct km_trace_rec rings[3][128];
    trace_mask = KM_TRACE_ALL_MASK;
    for (u32 c = 0; c < 3; c++) {
        host_cpu.id = c;
        trace_ring_init(&trace_rings[c], c, rings[c], 128,
                        c == 2 ? KM_TRACE_OVERWRITE : KM_TRACE_STOP);
        trace_ring_attach(&trace_rings[c]);
        trace_set_thread(c + 7);
        for (u64 i = 0; i < 100 * (c + 1); i++)
            trace(MARKER, i, c);
        trace_stop_local();
    }
    assert_true(bench_store_init(10000));
    struct km_bench_desc d = {"null_syscall", "default", "roundtrip", "cycles", 5};
    assert_true(bench_desc_valid(&d));
    i64 *dst = bench_store_reserve(5000);
    assert_non_null(dst);
    for (int i = 0; i < 5000; i++)
        dst[i] = 60 + i % 7;
    bench_store_commit(&d, dst, 5000, 0);
    assert_null(bench_store_reserve(5001)); /* room is 10000 in all */

    struct km_dump_run run;
    memset(&run, 0, sizeof run);
    run.tsc_hz = 1000000000;
    strcpy(run.cmdline, "timer_hz=100");
    struct dump_cpu_info cpus[3] = {{0, 0}, {1, -3}, {2, 5}};
    struct membuf m = {0};
    struct dump_writer w;
    dump_writer_init(&w, sink, &m);
    u32 frames = dump_run(&w, &run, cpus, 3);

    struct dump dd;
    struct dump_error err;
    int rc = dump_decode(m.p, m.len, &dd, &err);
    if (rc)
        fail_msg("decode failed: %s", err.msg);
    assert_int_equal(dd.frames, frames);
    assert_int_equal(dd.ncpus, 3);
    assert_int_equal(dd.run.tsc_hz, 1000000000);
    assert_string_equal(dd.cmdline, "timer_hz=100");
    /* cpu 0: 100 markers + stop; cpu 1: 128 kept of 201, stop mode */
    assert_int_equal(dd.cpu[0].info.count, 101);
    assert_int_equal(dd.cpu[0].info.lost, 0);
    assert_int_equal(dd.cpu[1].info.count, 128);
    assert_int_equal(dd.cpu[1].info.lost, 201 - 128);
    assert_int_equal(dd.cpu[1].info.tsc_offset, -3);
    assert_int_equal(dd.cpu[2].info.count, 128);
    assert_int_equal(dd.cpu[2].info.first_seq, 301 - 128);
    assert_int_equal(dd.cpu[2].info.written, 301);
    assert_int_equal(dd.cpu[2].recs[127].event, KM_EV_TRACE_STOP);
    assert_int_equal(dd.cpu[2].recs[0].a0, 301 - 128);
    assert_int_equal(dd.cpu[2].recs[0].thread, 9);
    assert_int_equal(dd.events, 101 + 128 + 128);
    assert_int_equal(dd.nseries, 1);
    assert_string_equal(dd.series[0].benchmark, "null_syscall");
    assert_int_equal(dd.series[0].n, 5000);
    assert_int_equal(dd.series[0].overhead, 5);
    assert_int_equal(dd.series[0].samples[4999], 60 + 4999 % 7);
    dump_free(&dd);
    free(m.p);
}

static void test_bench_desc_validation(void **state)
{
    (void)state;
    struct km_bench_desc d = {"a", "b", "c", "d", 0};
    assert_true(bench_desc_valid(&d));
    d.variant[0] = 0;
    assert_false(bench_desc_valid(&d));
    strcpy(d.variant, "has space");
    assert_false(bench_desc_valid(&d));
    memset(d.variant, 'x', sizeof d.variant); /* unterminated */
    assert_false(bench_desc_valid(&d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kernel_dump_decodes, setup, teardown),
        cmocka_unit_test(test_bench_desc_validation),
    };
    return cmocka_run_group_tests_name("kernel dump writer", tests, NULL, NULL);
}
