/* Per-CPU trace rings: stop and overwrite modes, lost counts, the mask,
 * thread tags, and a concurrent reader that must never see a torn record. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "host_support.h"
#include <kernel/trace.h>

#define CAP 64
static struct km_trace_rec mem[CAP];

static void setup_ring(u32 mode)
{
    memset(mem, 0, sizeof mem);
    host_cpu.id = 3;
    host_cpu.thread = 0;
    trace_ring_init(&trace_rings[3], 3, mem, CAP, mode);
    trace_ring_attach(&trace_rings[3]);
    trace_mask = KM_TRACE_ALL_MASK;
}

static void write_n(u64 n)
{
    for (u64 i = 0; i < n; i++)
        trace(MARKER, i, ~i);
}

static void test_stop_mode_keeps_oldest_and_counts_lost(void **state)
{
    (void)state;
    setup_ring(KM_TRACE_STOP);
    write_n(CAP + 5);
    u64 count, first, lost, written;
    trace_ring_counts(&trace_rings[3], &count, &first, &lost, &written);
    assert_int_equal(count, CAP);
    assert_int_equal(first, 0);
    assert_int_equal(lost, 5);
    assert_int_equal(written, CAP + 5);
    assert_int_equal(count + lost, written);
    for (u64 i = 0; i < CAP; i++) {
        assert_int_equal(mem[i].a0, i);
        assert_int_equal(mem[i].a1, ~i);
        assert_int_equal(mem[i].event, KM_EV_MARKER);
        assert_int_equal(mem[i].cpu, 3);
    }
}

static void test_overwrite_mode_keeps_newest(void **state)
{
    (void)state;
    setup_ring(KM_TRACE_OVERWRITE);
    write_n(CAP + 5);
    u64 count, first, lost, written;
    trace_ring_counts(&trace_rings[3], &count, &first, &lost, &written);
    assert_int_equal(count, CAP);
    assert_int_equal(first, 5);
    assert_int_equal(lost, 5);
    assert_int_equal(written, CAP + 5);
    struct km_trace_rec out[CAP];
    u64 seq;
    /* Live: the slot the owner may be overwriting is left out. */
    u64 n = trace_ring_snapshot(&trace_rings[3], out, CAP, &seq);
    assert_int_equal(n, CAP - 1);
    assert_int_equal(seq, 6);
    for (u64 i = 0; i < n; i++)
        assert_int_equal(out[i].a0, seq + i);
    /* Stopped: all of it (the stop record is the newest). */
    trace_stop_local();
    n = trace_ring_snapshot(&trace_rings[3], out, CAP, &seq);
    assert_int_equal(n, CAP);
    assert_int_equal(seq, 6);
    assert_int_equal(out[CAP - 1].event, KM_EV_TRACE_STOP);
    for (u64 i = 0; i < n - 1; i++)
        assert_int_equal(out[i].a0, seq + i);
}

static void test_timestamps_increase(void **state)
{
    (void)state;
    setup_ring(KM_TRACE_STOP);
    write_n(10);
    for (int i = 1; i < 10; i++)
        assert_true(mem[i].tsc > mem[i - 1].tsc);
}

static void test_mask_filters_events(void **state)
{
    (void)state;
    setup_ring(KM_TRACE_STOP);
    trace_mask = KM_TRACE_ALL_MASK & ~(1ull << KM_EV_MARKER);
    write_n(10);
    trace(PROBE, 1, 2);
    u64 count, first, lost, written;
    trace_ring_counts(&trace_rings[3], &count, &first, &lost, &written);
    assert_int_equal(count, 1);
    assert_int_equal(mem[0].event, KM_EV_PROBE);
    assert_int_equal(lost, 0);
}

static void test_thread_tag(void **state)
{
    (void)state;
    setup_ring(KM_TRACE_STOP);
    trace(MARKER, 0, 0);
    trace_set_thread(42);
    trace(MARKER, 1, 0);
    trace_set_thread(0);
    trace(MARKER, 2, 0);
    assert_int_equal(mem[0].thread, 0);
    assert_int_equal(mem[1].thread, 42);
    assert_int_equal(mem[1].cpu, 3);
    assert_int_equal(mem[2].thread, 0);
    assert_int_equal(cpu_thread(), 0);
}

static void test_stop_records_final_event_then_ignores(void **state)
{
    (void)state;
    setup_ring(KM_TRACE_STOP);
    write_n(3);
    trace_stop_local();
    write_n(100);
    u64 count, first, lost, written;
    trace_ring_counts(&trace_rings[3], &count, &first, &lost, &written);
    assert_int_equal(count, 4);
    assert_int_equal(lost, 0);
    assert_int_equal(mem[3].event, KM_EV_TRACE_STOP);
    assert_int_equal(mem[3].a0, 4); /* written, counting itself */
}

static void test_stop_event_counts_overwritten(void **state)
{
    (void)state;
    setup_ring(KM_TRACE_OVERWRITE);
    write_n(CAP * 3);
    trace_stop_local();
    u64 count, first, lost, written;
    trace_ring_counts(&trace_rings[3], &count, &first, &lost, &written);
    const struct km_trace_rec *last = &mem[(written - 1) % CAP];
    assert_int_equal(last->event, KM_EV_TRACE_STOP);
    assert_int_equal(last->a0, written);
    assert_int_equal(last->a1, lost);
}

/* Concurrency: the owner writes records whose a0 is its sequence number and
 * a1 a function of it; a reader snapshots all the while.  Every record a
 * snapshot returns must be whole and in sequence. */
#define STRESS_N 2000000
static volatile int writer_done;

static void *writer(void *arg)
{
    (void)arg;
    host_cpu.id = 5;
    trace_ring_attach(&trace_rings[5]);
    for (u64 i = 0; i < STRESS_N; i++)
        trace(MARKER, i, i * 0x9e3779b97f4a7c15ull);
    __atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void test_concurrent_reader_never_sees_torn_records(void **state)
{
    (void)state;
    static struct km_trace_rec ring[256], out[256];
    trace_mask = KM_TRACE_ALL_MASK;
    trace_ring_init(&trace_rings[5], 5, ring, 256, KM_TRACE_OVERWRITE);
    writer_done = 0;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, writer, NULL), 0);
    u64 snapshots = 0, checked = 0;
    while (!__atomic_load_n(&writer_done, __ATOMIC_ACQUIRE)) {
        u64 seq;
        u64 n = trace_ring_snapshot(&trace_rings[5], out, 256, &seq);
        for (u64 i = 0; i < n; i++) {
            assert_int_equal(out[i].a0, seq + i);
            assert_int_equal(out[i].a1, (seq + i) * 0x9e3779b97f4a7c15ull);
            assert_int_equal(out[i].event, KM_EV_MARKER);
        }
        checked += n;
        snapshots++;
    }
    pthread_join(t, NULL);
    u64 count, first, lost, written;
    trace_ring_counts(&trace_rings[5], &count, &first, &lost, &written);
    assert_int_equal(written, STRESS_N);
    assert_int_equal(count + lost, written); /* read + lost == written */
    assert_true(snapshots > 0);
    print_message("%lu snapshots, %lu records checked\n", (unsigned long)snapshots,
                  (unsigned long)checked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_mode_keeps_oldest_and_counts_lost),
        cmocka_unit_test(test_overwrite_mode_keeps_newest),
        cmocka_unit_test(test_timestamps_increase),
        cmocka_unit_test(test_mask_filters_events),
        cmocka_unit_test(test_thread_tag),
        cmocka_unit_test(test_stop_records_final_event_then_ignores),
        cmocka_unit_test(test_stop_event_counts_overwritten),
        cmocka_unit_test(test_concurrent_reader_never_sees_torn_records),
    };
    return cmocka_run_group_tests_name("kernel trace rings", tests, NULL, NULL);
}
