/* ipc_roundtrip: cycles for one IPC round trip, call + reply-and-wait,
 * with one word each way.
 *
 * Variants (one phase each, in this order):
 *   intra_as   client and server are threads of this task, same CPU
 *   inter_as   the server is a thread of another task, same CPU
 *   cross_cpu  the server is a thread of this task on CPU 1 (skipped with
 *              one CPU)
 * The client is the main thread on its CPU; the measured region is the
 * l4_call alone (the IPC system call and its return).  The warm-up also
 * faults the other task's pages in, so no page fault falls into a sample.
 */
#include <user/bench.h>
#include <user/l4.h>
#include <user/stdio.h>
#include <user/tsc.h>

#define SAMPLES 10000
#define LABEL_QUIT 0x51

static int errors;
static km_tid me;

static long check(long r, const char *what)
{
    if (r < 0) {
        printf("ipc_roundtrip: %s failed: %s\n", what, sys_errname(r));
        errors++;
    }
    return r;
}

/* Echo: the word back; QUIT ends the loop (after its reply). */
static void serve(void)
{
    long r = l4_receive_any();
    while (r == 0) {
        km_tid client = l4_sender();
        if (l4_label() == LABEL_QUIT) {
            l4_reply(client, l4_tag(LABEL_QUIT, 0, 0));
            return;
        }
        r = l4_reply_and_wait(client, l4_tag(0, 1, 0));
    }
}

static void server_thread(void *arg)
{
    (void)arg;
    serve();
}

static long server_task(void *arg)
{
    (void)arg;
    serve();
    return 0;
}

/* One phase: SAMPLES round trips to server after the warm-up. */
static void measure(unsigned long nr, const char *variant, km_tid server, km_i64 ovh)
{
    struct km_bench_desc d;
    unsigned long wrong = 0;

    for (int i = 0; i < BENCH_WARMUP + SAMPLES; i++) {
        l4_set_mr(0, (km_u64)i);
        km_u64 t0 = tsc_begin();
        long r = l4_call(server, l4_tag(1, 1, 0));
        km_u64 t1 = tsc_end();
        if (r != 0 || l4_mr(0) != (km_u64)i) {
            if (!wrong++)
                check(r < 0 ? r : -KM_EINVAL, "l4_call (or its reply's word)");
        }
        if (i >= BENCH_WARMUP)
            bench_samples[i - BENCH_WARMUP] = (km_i64)(t1 - t0);
    }
    if (wrong) {
        printf("ipc_roundtrip: %s: %lu bad round trips; series not submitted\n", variant, wrong);
        return;
    }
    bench_desc(&d, "ipc_roundtrip", variant, "roundtrip", "cycles", ovh);
    check(bench_finish(&d, bench_samples, SAMPLES), "sys_bench_submit");
    (void)nr;
}

static void stop(km_tid server)
{
    check(l4_call(server, l4_tag(LABEL_QUIT, 0, 0)), "stopping the server");
}

int main(void)
{
    struct km_sysinfo si;
    struct l4_thread srv, pager_thr;
    struct l4_pager pg;
    static struct l4_task task;

    me = sys_myself();
    if (check((long)me, "sys_myself") < 0 || check(sys_sysinfo(&si), "sys_sysinfo") < 0)
        return 1;
    printf("ipc_roundtrip: %d samples per variant after %d warm-up round trips; client on CPU %u "
           "of %u\n", SAMPLES, BENCH_WARMUP, si.cpu, si.ncpus);
    km_i64 ovh = bench_empty_overhead();

    /* intra_as */
    check(bench_mark(BENCH_MARK_BEGIN, 1), "sys_trace_marker");
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    if (check(l4_thread_start(&srv, &a, server_thread, 0), "starting the server thread") == 0) {
        measure(1, "intra_as", srv.tid, ovh);
        stop(srv.tid);
        l4_thread_join(&srv);
    }
    check(bench_mark(BENCH_MARK_END, 1), "sys_trace_marker");

    /* inter_as */
    check(bench_mark(BENCH_MARK_BEGIN, 2), "sys_trace_marker");
    l4_pager_init(&pg, KM_ANYTHREAD, KM_RWX);
    if (check(l4_pager_thread_start(&pager_thr, &a, &pg), "starting the pager") == 0) {
        struct l4_thread_attr ta = a;
        ta.pager = pager_thr.tid;
        if (check(l4_task_start(&task, &ta, KM_NILTHREAD, server_task, 0), "starting the server task") == 0) {
            measure(2, "inter_as", task.main.tid, ovh);
            stop(task.main.tid);
            printf("ipc_roundtrip: inter_as: the server task took %lu page faults (all in the "
                   "warm-up)\n", pg.faults);
            check(l4_task_delete(&task), "deleting the server task");
        }
    }
    check(bench_mark(BENCH_MARK_END, 2), "sys_trace_marker");

    /* cross_cpu */
    if (si.ncpus < 2) {
        printf("ipc_roundtrip: one CPU: no cross_cpu variant\n");
        return errors != 0;
    }
    check(bench_mark(BENCH_MARK_BEGIN, 3), "sys_trace_marker");
    a.cpu = si.cpu == 1 ? 0 : 1;
    if (check(l4_thread_start(&srv, &a, server_thread, 0), "starting the server on another CPU") == 0) {
        measure(3, "cross_cpu", srv.tid, ovh);
        stop(srv.tid);
        l4_thread_join(&srv);
    }
    check(bench_mark(BENCH_MARK_END, 3), "sys_trace_marker");
    return errors != 0;
}
