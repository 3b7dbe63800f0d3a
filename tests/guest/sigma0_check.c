/* sigma0_check: sigma0 hands out memory (kernel option sigma0, sigma0.elf
 * as boot module 1), and a pager serves anonymous memory from it to a
 * task of its own. */
#include <user/l4.h>
#include <user/sigma0.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/tap.h>

#define WIN 0x0000200000000000ull    /* where we take sigma0's pages */
#define ANON 0x0000300000000000ull   /* the child's anonymous region */
#define POOL 0x0000310000000000ull   /* the anonymous pager's pool */
#define ANON_PAGES 64

static struct anon_pager pager;
static struct l4_thread pager_thread;

static void pager_main(void *arg) { anon_pager_serve(arg); }

/* The child task: touches its anonymous pages, each with its own value. */
static long child(void *arg)
{
    (void)arg;
    volatile km_u64 *a = (volatile km_u64 *)ANON;
    for (unsigned i = 0; i < ANON_PAGES; i++)
        a[i * 512] = 0xa0000000ull + i;
    long good = 0;
    for (unsigned i = 0; i < ANON_PAGES; i++)
        good += a[i * 512] == 0xa0000000ull + i && a[i * 512 + 1] == 0;
    return good;
}

int main(void)
{
    struct km_sysinfo si;
    memset(&si, 0, sizeof si);
    long sr = sys_sysinfo(&si);
    tap_ok(sr == 0 && si.sigma0 != 0, "sysinfo names sigma0 (%lx)", (unsigned long)si.sigma0);
    tap_ok(si.sigma0_mem >= (4u << 20), "sigma0 owns %lu KiB", (unsigned long)(si.sigma0_mem >> 10));

    volatile km_u64 *w1 = (volatile km_u64 *)WIN, *w2 = (volatile km_u64 *)(WIN + 4096);
    long r = sigma0_get(12, KM_R | KM_W, 0, WIN);
    tap_ok(r == 0, "a page from sigma0 (%ld)", r);
    if (r == 0) {
        *w1 = 0x1111;
        tap_ok(*w1 == 0x1111, "it is mapped read-write where our acceptor said");
    }
    r = sigma0_get(12, KM_R | KM_W, 0, WIN + 4096);
    if (tap_ok(r == 0, "a second page (%ld)", r)) {
        *w2 = 0x2222;
        tap_ok(*w1 == 0x1111 && *w2 == 0x2222, "the two pages are different frames");
    }
    r = sigma0_get(21, KM_R, 0, WIN + (2ull << 20));
    if (tap_ok(r == 0, "a 2 MiB block, read-only (%ld)", r)) {
        volatile km_u64 *b = (volatile km_u64 *)(WIN + (2ull << 20));
        tap_ok(b[0] == 0 || b[0] != 0, "its first and last pages read");
        (void)b[(2u << 20) / 8 - 1];
    }
    tap_ok(sigma0_get(11, KM_R, 0, WIN + (8ull << 20)) == -KM_EINVAL, "a block under 4 KiB is refused");
    tap_ok(sigma0_get(12, KM_R, si.sigma0_base + 123, WIN + (8ull << 20)) == -KM_EINVAL ||
               sigma0_get(12, KM_R, si.sigma0_base + 123, WIN + (8ull << 20)) == -KM_ENOMEM,
           "a misaligned physical address is refused");
    tap_ok(sigma0_get(12, KM_R, 0x1000, WIN + (8ull << 20)) == -KM_ENOMEM,
           "a physical page sigma0 does not own is refused (-KM_ENOMEM)");
    tap_ok(sigma0_get(12, KM_R, si.sigma0_base, WIN + (8ull << 20)) == -KM_ENOMEM,
           "a page already given is not given again");
    km_u64 last = si.sigma0_base + si.sigma0_mem - 4096;
    r = sigma0_get(12, KM_R | KM_W, last, WIN + (8ull << 20));
    tap_ok(r == 0, "a named physical page that is still free (%ld)", r);

    /* The anonymous-memory pager in a thread of ours, serving a new task. */
    memset(&pager, 0, sizeof pager);
    pager.anon_lo = ANON;
    pager.anon_hi = ANON + ANON_PAGES * 4096ull;
    pager.pool = POOL;
    struct l4_thread_attr pa = L4_THREAD_ATTR_INIT;
    r = l4_thread_start(&pager_thread, &pa, pager_main, &pager);
    if (tap_ok(r == 0, "start the anonymous-memory pager (%ld)", r)) {
        struct l4_task t;
        struct l4_thread_attr ta = L4_THREAD_ATTR_INIT;
        ta.pager = pager_thread.tid;
        r = l4_task_start(&t, &ta, sys_myself(), child, 0);
        if (tap_ok(r == 0, "start a task whose pager it is (%ld)", r)) {
            r = l4_receive(t.main.tid);
            tap_ok(r == 0 && l4_mr(0) == ANON_PAGES,
                   "the task wrote and read %u fresh zeroed pages (%lu good)", ANON_PAGES,
                   (unsigned long)l4_mr(0));
            tap_ok(pager.pages == ANON_PAGES && pager.error == 0,
                   "each came from sigma0 (%lu pages, error %ld)", pager.pages, pager.error);
            l4_task_delete(&t);
        }
        pager.stop = 1;
        l4_send_nowait(pager_thread.tid, 0);
        l4_thread_join(&pager_thread);
    }

    /* Last: take everything sigma0 has left; it says so when it is empty. */
    unsigned long got = 0;
    while (sigma0_get(12, KM_R, 0, WIN + (16ull << 20) + got * 4096) == 0)
        got++;
    tap_ok(got > 0 && got < si.sigma0_mem / 4096, "then %lu more pages until sigma0 runs out", got);
    tap_ok(sigma0_get(12, KM_R, 0, WIN + (15ull << 20)) == -KM_ENOMEM, "and after that -KM_ENOMEM");
    return tap_done("sigma0_check");
}
