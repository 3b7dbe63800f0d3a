/* kmem_usage: the paper's Figure 2.  Kernel memory per task, by type, for
 * tasks of typical shapes, with their page tables, node tables and
 * mapping-node pages supplied by a kpager (kmem=kpager; with kmem=pool the
 * same pages come from the kernel's pool and the figures are the same).
 *
 * Each shape is a task running here in its own address space: a few
 * threads, and user memory in several regions at the places a Unix
 * process has them (program image, heap, mmap area, stack), touched page
 * by page and served by a pager of this program.  Per task (one sample
 * each, metric unit in brackets):
 *   pt, nt, mn, tcb, utcb  pages of page tables (the top-level table
 *                          included), node tables, mapping nodes, TCBs
 *                          and UTCBs                              [pages]
 *   total_kb               all of them                            [kB]
 *   pinned_bytes           the task's kernel state outside those pages
 *                          (task table entry, pinned TCB parts)   [bytes]
 *   pinned_pages           of the pages above, those the kpager cannot
 *                          take back (from the kernel's pool)     [pages]
 *   pinned                 the scheme's overhead per task: pinned pages
 *                          and pinned bytes together              [bytes]
 * The task and its threads are all made by threads that have the kpager,
 * so that every page it can supply comes from it.
 */
#include <abi/kmem.h>
#include <user/bench.h>
#include <user/kpager.h>
#include <user/l4.h>
#include <user/stdio.h>
#include <user/string.h>

#define POOL_PAGES 512
#define MAX_REGIONS 6

struct region {
    km_u64 base;
    unsigned pages;
};

struct shape {
    const char *name;
    unsigned threads; /* the task's main thread included */
    struct region r[MAX_REGIONS];
};

/* Addresses: image-like low region, heap above it, mmap area and stack
 * high in the space (like a Linux process: sparse, so tables dominate). */
#define IMG 0x0000000001000000ull
#define HEAP 0x0000000040000000ull
#define MMAP 0x00007f0000000000ull
#define STACK 0x00007ffd00000000ull

static const struct shape shapes[] = {
    {"pingpong", 2, {{IMG, 3}, {HEAP, 1}, {STACK, 1}}},
    {"getty", 2, {{IMG, 12}, {HEAP, 4}, {MMAP, 3}, {STACK, 1}}},
    {"bash", 2, {{IMG, 60}, {HEAP, 20}, {MMAP, 15}, {STACK, 3}}},
    {"smbd", 2, {{IMG, 40}, {HEAP, 12}, {MMAP, 10}, {MMAP + 0x200000000ull, 2}, {STACK, 1}}},
    {"emacs", 2, {{IMG, 400}, {HEAP, 200}, {MMAP, 60}, {MMAP + 0x40000000ull, 10}, {STACK, 5}}},
    {"server", 19, {{IMG, 50}, {HEAP, 150}, {MMAP, 40}, {STACK, 19}}},
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static volatile char target[4096] __attribute__((aligned(4096)));
static char pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static struct kpager kp;
static struct l4_window_pager pager;
static volatile const struct shape *cur;
static struct l4_thread extra[32];
static volatile int extra_stop;

static void idle_thread(void *arg)
{
    (void)arg;
    while (!extra_stop)
        sys_yield();
}

/* The task: touches its regions, starts its threads, then reports. */
static long client(void *arg)
{
    (void)arg;
    const struct shape *s = (const struct shape *)cur;
    for (int i = 0; i < MAX_REGIONS; i++)
        for (unsigned p = 0; p < s->r[i].pages; p++)
            *(volatile char *)(unsigned long)(s->r[i].base + (km_u64)p * 4096) = 1;
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT; /* pager nil: the creator's */
    extra_stop = 0;
    for (unsigned t = 0; t < s->threads; t++) /* this one ends when it returns */
        if (l4_thread_start(&extra[t], &a, idle_thread, 0) < 0)
            return -KM_ENOMEM;
    return 0;
}

/* A region of a shape: any page will do. */
static km_u64 target_page(km_u64 addr, void *arg)
{
    (void)addr, (void)arg;
    return (km_u64)(unsigned long)target;
}

static int report(const char *name, const char *metric, const char *unit, km_i64 v)
{
    struct km_bench_desc d;
    bench_samples[0] = v;
    bench_desc(&d, "kmem_usage", name, metric, unit, 0);
    return bench_finish(&d, bench_samples, 1) < 0;
}

static int measure(const struct shape *s, struct l4_thread_attr *a, km_tid me, km_tid kpager)
{
    static struct l4_task task;
    struct km_kmem_info info;
    cur = s;
    /* The task's first thread is made by this one: with the kpager set
     * here for that, its TCB and UTCB come from the kpager too. */
    long r = sys_thread_control(me, KM_TCTL_SET_KPAGER, kpager);
    if (r == 0)
        r = l4_task_start(&task, a, me, client, 0);
    sys_thread_control(me, KM_TCTL_SET_KPAGER, KM_NILTHREAD);
    if (r == 0)
        r = sys_thread_control(task.main.tid, KM_TCTL_SET_KPAGER, kpager);
    long w = l4_receive(task.main.tid);
    if (r == 0 && (w < 0 || l4_label() != L4_LABEL_DONE || (long)l4_mr(0) != 0))
        r = w < 0 ? w : (long)l4_mr(0) ? (long)l4_mr(0) : -KM_EINVAL;
    if (r == 0)
        r = sys_kmem_info(task.id, &info);
    extra_stop = 1;
    l4_task_delete(&task);
    if (r < 0) {
        printf("kmem_usage: %s: %s\n", s->name, sys_errname(r));
        return 1;
    }
    km_u64 pt = info.pages[KM_KMEM_PAGETABLE], nt = info.pages[KM_KMEM_NODETABLE];
    km_u64 mn = info.pages[KM_KMEM_MAPNODE], tcb = info.pages[KM_KMEM_TCB];
    km_u64 ut = info.pages[KM_KMEM_UTCB];
    km_u64 total = pt + nt + mn + tcb + ut;
    /* Unpageable: pages from the pool, and the pinned bytes. */
    km_u64 pinned = info.pinned_pages * 4096 + info.pinned_bytes;
    unsigned long user_kb = 0;
    for (int i = 0; i < MAX_REGIONS; i++)
        user_kb += s->r[i].pages * 4;
    printf("kmem_usage: %-8s %2u threads %5lu kB user: P %lu N %lu M %lu TCB %lu UTCB %lu = %lu kB; "
           "pinned %lu pages + %lu bytes = %lu.%02lu frames\n", s->name, s->threads, user_kb,
           (unsigned long)pt, (unsigned long)nt, (unsigned long)mn, (unsigned long)tcb,
           (unsigned long)ut, (unsigned long)total * 4, (unsigned long)info.pinned_pages,
           (unsigned long)info.pinned_bytes, (unsigned long)(pinned / 4096),
           (unsigned long)(pinned % 4096 * 100 / 4096));
    int e = report(s->name, "pt", "pages", (km_i64)pt) + report(s->name, "nt", "pages", (km_i64)nt) +
            report(s->name, "mn", "pages", (km_i64)mn) + report(s->name, "tcb", "pages", (km_i64)tcb) +
            report(s->name, "utcb", "pages", (km_i64)ut) +
            report(s->name, "total_kb", "kB", (km_i64)total * 4) +
            report(s->name, "pinned_bytes", "bytes", (km_i64)info.pinned_bytes) +
            report(s->name, "pinned_pages", "pages", (km_i64)info.pinned_pages) +
            report(s->name, "pinned", "bytes", (km_i64)pinned);
    return e;
}

int main(void)
{
    struct km_sysinfo si;
    struct l4_thread pager_thr, kp_thr;
    km_tid me = sys_myself();
    if ((long)me < 0 || sys_sysinfo(&si) < 0)
        return 1;
    kpager_init(&kp, pool, POOL_PAGES, KM_KFAULT_MAX, 0);
    l4_window_pager_init(&pager, 0, KM_UTCB_AREA, target_page, 0);
    target[0] = 0;
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    long r = l4_window_pager_start(&pager_thr, &a, &pager);
    if (r == 0)
        r = kpager_thread_start(&kp_thr, &a, &kp);
    if (r < 0) {
        printf("kmem_usage: threads: %s\n", sys_errname(r));
        return 1;
    }
    a.pager = pager_thr.tid;
    int errors = bench_mark(BENCH_MARK_BEGIN, 1) < 0;
    for (unsigned i = 0; i < NSHAPES; i++) {
        int e = measure(&shapes[i], &a, me, kp_thr.tid);
        if (e)
            printf("kmem_usage: %s: %d errors\n", shapes[i].name, e);
        errors += e;
    }
    errors += bench_mark(BENCH_MARK_END, 1) < 0;
    if (errors)
        printf("kmem_usage: %d errors\n", errors);
    printf("kmem_usage: the kpager answered %lu kernel page faults with %lu pages%s\n", kp.kfaults,
           kp.supplied, kp.kfaults ? "" : " (kmem=pool: the pool supplied them)");
    return errors != 0;
}
