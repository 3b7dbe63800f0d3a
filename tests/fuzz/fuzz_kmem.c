/* libFuzzer harness of the kpager import/export path (kmem=kpager,
 * abi/kspace.h) on a host mapping database: the input drives a sequence of
 * operations on three tasks (task 1 is the kpager of all three, itself
 * included), every one of them run as the kernel runs it: under a struct
 * kmem_op for the task that receives memory, a missing page raised with
 * kfault_raise (kernel/kfault.c as written) whose stub IPC answers with map
 * items taken from the input (structured or raw words), applied by
 * kfault_accept; then the operation is redone.  Other operations: map and
 * grant between any tasks, unmap (with or without KM_UNMAP_SELF: on the
 * kpager's pages that is revocation), supply release, task destruction.
 *
 * After each step: mapdb_check() is NULL for every task; accounting is
 * exact (the pages charged to all tasks are the pool's pages in use plus
 * the lent frames the kernel holds); a page that comes back to the kpager
 * is all zero, or for a node table holds only names of node pages; no
 * task reaches a frame the kernel holds as a lent page.  Node tables that
 * went out come back through RESTORE requests answered, like the others,
 * with whatever pages the input names (so their import sees any content).
 *
 * The items handed to kfault_accept may name any page, shared ones too (a
 * lend takes access away from every mapping of the frame); build with
 * -DFUZZ_EXCLUSIVE to lend only pages no other task maps.
 *
 * Build: make fuzz (FUZZ_TIME=seconds); a brief deterministic run is part
 * of make test (tests/sh/fuzz_kmem.sh). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <abi/kspace.h>
#include <abi/l4.h>
#include <abi/syscall.h>
#include <arch/current.h>
#include <arch/layout.h>
#include <arch/machine.h>
#include <arch/mmu.h>
#include <kernel/frame.h>
#include <kernel/kfault.h>
#include <kernel/kmem.h>
#include <kernel/mapdb.h>
#include <kernel/options.h>
#include <kernel/task.h>
#include <kernel/thread.h>

/* ---- host stand-ins (tests/unit/host_support.c without cmocka) ----------- */

#define FUZZ_NAME "fuzz_kmem"
#include "fuzz_host.h"

/* ---- the world ------------------------------------------------------------- */

#define ARENA (8ull << 20)
#define NT 3
#define KP 0 /* tasks[KP] is the kpager */
#define NREG 5
#define PPR 32 /* pages per region the input names */
static const u64 region[NREG] = {0x40000000ull, 0x40200000ull, 0x80000000ull, 0x8000000000ull,
                                 KM_UTCB_AREA - 0x200000ull};

static void *bitmap;
static struct task tasks[NT];
struct thread thread_table[THREAD_MAX];
static struct thread_ext exts[NT + 1];
static struct kmem_op op;

struct task *task_by_number(u32 n) { return n >= 1 && n <= NT && tasks[n - 1].number ? &tasks[n - 1] : NULL; }
struct task *task_lookup(km_taskid id)
{
    struct task *t = task_by_number(KM_ID_NUMBER(id));
    return t && t->version == KM_ID_VERSION(id) ? t : NULL;
}

static const u8 *in;
static size_t left;
static u8 byte(void)
{
    if (!left)
        return 0;
    left--;
    return *in++;
}
static u64 word(void)
{
    u64 w = 0;
    for (int i = 0; i < 8; i++)
        w = w << 8 | byte();
    return w;
}
static u64 page_va(u8 b) { return region[(b >> 5) % NREG] + (u64)(b & (PPR - 1)) * PAGE_SIZE; }

static void task_new(int i)
{
    struct task *t = &tasks[i];
    memset(t, 0, sizeof *t);
    t->number = (u32)i + 1;
    t->version = 1;
    if (!aspace_create(t) || mapdb_task_init(t))
        FAIL("task_new");
}

static void task_gone(int i)
{
    struct task *t = &tasks[i];
    kmem_supply_release(t);
    mapdb_task_destroy(t);
    aspace_destroy(t);
    for (int k = 0; k < KMEM_NTYPES; k++)
        if (t->kmem.pages[k])
            FAIL("task %d destroyed keeps %lu pages of type %d", i + 1, (unsigned long)t->kmem.pages[k], k);
    t->number = 0;
}

/* Threads: 1 the kpager (task 1), 2 the one the kernel works for, 3..5
 * clients, one per task, with the kpager. */
static void threads(void)
{
    memset(thread_table, 0, sizeof thread_table);
    memset(exts, 0, sizeof exts);
    for (u32 n = 1; n <= 2 + NT; n++) {
        struct thread *th = &thread_table[n];
        th->number = n;
        th->version = 1;
        th->state = TS_RUNNABLE;
        th->task = &tasks[n == 1 ? KP : n == 2 ? 1 : n - 3];
        th->kpager = n >= 3 ? KM_ID(1, 1) : KM_NILTHREAD;
        th->ext = n == 2 ? &exts[0] : NULL;
    }
}

/* ---- the checks ------------------------------------------------------------ */

#ifdef FUZZ_EXCLUSIVE
/* Is frame phys reachable (present) anywhere but (task, va)? */
static bool mapped_elsewhere(u64 phys, int task, u64 va)
{
    for (int i = 0; i < NT; i++)
        for (int r = 0; r < NREG; r++)
            for (u64 p = 0; p < PPR; p++) {
                u64 v = region[r] + p * PAGE_SIZE, ph;
                u32 rights;
                if ((i != task || v != va) && mapdb_lookup(&tasks[i], v, &ph, &rights) && ph == phys)
                    return true;
            }
    return false;
}
#endif

static bool all_zero(u64 phys)
{
    const u64 *w = phys_to_virt(phys);
    for (int i = 0; i < 512; i++)
        if (w[i])
            return false;
    return true;
}

/* Page phys holds a node table's export: only names of node pages. */
static bool localised(u64 phys)
{
    const u64 *w = phys_to_virt(phys);
    for (int i = 0; i < 512; i++)
        if (w[i] && (w[i] < KM_KS_MN || w[i] >= KM_KS_TCB))
            return false;
    return true;
}

/* The kpager's pages lent before the step: (va, frame, how to check it). */
enum { CHECK_ZERO, CHECK_NAMES, CHECK_NONE };
static u64 lent_va[NREG * PPR], lent_phys[NREG * PPR], lent_kobj[NREG * PPR];
static int nlent;

static void note_lent(void)
{
    nlent = 0;
    struct task *k = &tasks[KP];
    for (int r = 0; r < NREG; r++)
        for (u64 p = 0; p < PPR; p++) {
            u64 v = region[r] + p * PAGE_SIZE;
            struct mmu_slot s;
            if (mmu_walk(k, v, MMU_FIND, &s) && s.node && *s.node && !mmu_present(&s)) {
                /* what to check once it is back: vacant, or a node
                 * table's export (one in use: not a page supplied for a
                 * restore, which keeps the kpager's own content) */
                u64 ph = mmu_phys(&s), kobj = frame_lend(ph)->kobj;
                struct task *owner = task_by_number((u32)(kobj & 0xfff));
                struct mmu_leaf l;
                u64 rva = (((kobj & ~0xfffull) - KM_KS_NT) >> 12) << 21;
                bool nt = km_ks_type(kobj & ~0xfffull) == KMEM_NODETABLE;
                lent_va[nlent] = v;
                bool restore = false; /* supplied for a restore, unused yet */
                for (u32 j = 0; owner && j < owner->nsupply; j++)
                    restore |= owner->supply[j].phys == ph &&
                               KM_KREQ_REASON(owner->supply[j].req) == KM_KREASON_RESTORE;
                lent_kobj[nlent] = restore ? CHECK_NONE
                                   : nt && owner && mmu_leaf_of(owner, rva, &l) && l.nt == ph ? CHECK_NAMES
                                                                                             : CHECK_ZERO;
                lent_phys[nlent++] = ph;
            }
        }
}

static void check(const char *what)
{
    u64 charged = 0, held_lent = 0;
    for (int i = 0; i < NT; i++) {
        const char *err = mapdb_check(&tasks[i]);
        if (err)
            FAIL("after %s: task %d: %s", what, i + 1, err);
        for (int k = 0; k < KMEM_NTYPES; k++)
            charged += tasks[i].kmem.pages[k];
    }
    for (u64 p = PAGE_SIZE; p < ARENA; p += PAGE_SIZE)
        if (frame_lend(p)->kobj)
            held_lent++;
    if (charged != kmem_pool_used() + held_lent)
        FAIL("after %s: %lu pages charged, %lu from the pool + %lu lent", what, (unsigned long)charged,
             (unsigned long)kmem_pool_used(), (unsigned long)held_lent);
    /* a page back with the kpager is vacant, or a node table's export */
    struct task *k = &tasks[KP];
    for (int i = 0; i < nlent; i++) {
        struct mmu_slot s;
        bool nt = lent_kobj[i] == CHECK_NAMES;
        if (lent_kobj[i] != CHECK_NONE && mmu_walk(k, lent_va[i], MMU_FIND, &s) && s.node && *s.node &&
            mmu_present(&s) && mmu_phys(&s) == lent_phys[i] &&
            !(nt ? localised(lent_phys[i]) : all_zero(lent_phys[i])))
            FAIL("after %s: page %lx came back to the kpager %s", what, (unsigned long)lent_va[i],
                 nt ? "with more than names of node pages" : "not zeroed");
    }
    /* nobody reaches a frame the kernel holds */
    for (int i = 0; i < NT; i++)
        for (int r = 0; r < NREG; r++)
            for (u64 p = 0; p < PPR; p++) {
                u64 ph;
                u32 rights;
                if (mapdb_lookup(&tasks[i], region[r] + p * PAGE_SIZE, &ph, &rights) && frame_lend(ph)->kobj)
                    FAIL("after %s: task %d page %lx reaches kernel page %lx (%lx)", what, i + 1,
                         (unsigned long)(region[r] + p * PAGE_SIZE), (unsigned long)ph,
                         (unsigned long)frame_lend(ph)->kobj);
            }
}

/* The fuzzed world has no threads of its own, so no TCB page is lent. */
enum kmem_let tcb_page_revoked(struct task *t, u64 ksaddr, u64 phys, bool orphan)
{
    (void)t, (void)phys, (void)orphan;
    FAIL("a TCB-range page (%lx) was lent", (unsigned long)ksaddr);
    return KMEM_LET_DONE;
}

const u64 *tcb_page_request_msg(const struct thread *t, u64 *tag)
{
    (void)t, (void)tag;
    FAIL("a paged-out thread");
    return NULL;
}

u64 tcb_page_request(const struct thread *t, u64 *w)
{
    (void)t, (void)w;
    FAIL("a paged-out thread");
    return 0;
}

i64 tcb_page_restore(struct thread *self, struct thread *t)
{
    (void)self, (void)t;
    FAIL("a paged-out thread");
    return -KM_ENOMEM;
}

/* ---- the kpager's answer: the stub IPC -------------------------------------- */

i64 ipc(struct thread *self, km_tid to, km_tid from, u32 flags, u64 tag)
{
    (void)from, (void)flags, (void)tag;
    struct thread *kp = thread_lookup(to);
    struct thread_ext *x = self->ext;
    u32 n = (u32)x->fault[1];
    if (!kp || n < 1 || n > KM_KFAULT_MAX || !(self->flags & TF_KFAULT_IPC))
        FAIL("kernel page fault IPC malformed");
    for (u32 i = 0; i < n; i++) { /* hierarchy order, never the same twice */
        u64 a = KM_KREQ_ADDR(x->fault[2 + i]);
        if (km_ks_type(a) != (int)KM_KREQ_TYPE(x->fault[2 + i]) || (i && a <= KM_KREQ_ADDR(x->fault[1 + i]) &&
                                                                   a < KM_KS_MN))
            FAIL("request %u: %lx", i, (unsigned long)x->fault[2 + i]);
    }
    int items = byte() % 6;
    for (int i = 0; i < items; i++) {
        u8 m = byte();
        u64 w0, w1;
        if (m < 160) { /* a requested page */
            w0 = KM_MAPITEM(KM_KREQ_ADDR(x->fault[2 + m % n]), 0);
            w1 = KM_FPAGE(page_va(byte()), 12, KM_R | KM_W);
        } else if (m < 200) { /* lent ahead */
            w0 = KM_MAPITEM(KM_KS_RESERVE, 0);
            w1 = KM_FPAGE(page_va(byte()), 12, KM_R | KM_W);
        } else if (m < 240) { /* a requested page, odd fpage and item bits */
            u8 b = byte();
            w0 = KM_KREQ_ADDR(x->fault[2 + m % n]) | (b & 0xf);
            w1 = page_va(byte()) | (u64)(11 + (b >> 4) % 4) << 6 | (b >> 2 & 7);
        } else { /* raw words */
            w0 = word();
            w1 = word();
        }
#ifdef FUZZ_EXCLUSIVE
        u64 ph;
        u32 rights;
        if (mapdb_lookup(kp->task, KM_FPAGE_BASE(w1), &ph, &rights) &&
            mapped_elsewhere(ph, (int)kp->task->number - 1, KM_FPAGE_BASE(w1)))
            continue; /* see the header */
#endif
        kfault_accept(kp, self, w0, w1);
    }
    return 0;
}

/* kfault.c's call to the kpager (kernel/ipc.c's fast path): the stub IPC above. */
i64 ipc_kfault_call(struct thread *self, struct thread *kpager)
{
    return ipc(self, thread_id(kpager), thread_id(kpager), 0, self->ext->kmsg_tag);
}

/* ---- operations -------------------------------------------------------------- */

static struct thread *self_thread(void) { return &thread_table[2]; }

/* Runs fn for task t as the kernel does with a kpager: under a kmem_op; a
 * missing page raised as a kernel page fault; redone while pages come.
 * The kpager's own task takes its kernel pages from the pool (it could
 * never lend its first page otherwise: nothing would ever be mapped). */
#define UNDER_KPAGER(ti, va_, expr)                                                                 \
    do {                                                                                           \
        if ((ti) == KP) {                                                                          \
            (void)(expr);                                                                          \
            break;                                                                                 \
        }                                                                                          \
        for (int attempt = 0; attempt < 4; attempt++) {                                            \
            op = (struct kmem_op){.task = &tasks[ti]};                                             \
            kmem_op = &op;                                                                         \
            i64 r_ = (expr);                                                                       \
            kmem_op = NULL;                                                                        \
            if (r_ != -KM_ENOMEM || !op.missing_set)                                               \
                break;                                                                             \
            check("operation stopped for a page");                                                 \
            i64 k_ = kfault_raise(self_thread(), &thread_table[3 + (ti)], &tasks[ti], op.missing,  \
                                  op.va ? op.va : (va_));                                          \
            check("kernel page fault");                                                            \
            if (k_ != -KM_ERESTART)                                                                \
                break;                                                                             \
        }                                                                                          \
    } while (0)

static void step(void)
{
    u8 o = byte();
    int a = byte() % NT, b = byte() % NT;
    note_lent();
    switch (o % 8) {
    case 0:
    case 1: { /* a root mapping of a fresh frame */
        u64 va = page_va(byte());
        u32 rights = KM_R | (byte() & 3);
        u64 f = frame_alloc();
        if (!f)
            break;
        memset(phys_to_virt(f), 0xa5, PAGE_SIZE);
        i64 r = -KM_EINVAL;
        UNDER_KPAGER(a, va, r = mapdb_map_root(&tasks[a], va, f, rights, true));
        if (r)
            frame_free(f);
        check("root");
        break;
    }
    case 2:
    case 3: { /* map or grant, 1..8 pages */
        u8 s = byte(), d = byte(), m = byte();
        int log2 = 12 + m % 4;
        u64 src = ALIGN_DOWN(page_va(s), 1ull << log2), dst = ALIGN_DOWN(page_va(d), 1ull << log2);
        UNDER_KPAGER(b, dst,
                     mapdb_transfer(&tasks[a], KM_MAPITEM(0, m & 0x10), KM_FPAGE(src, log2, (m >> 5) & 7),
                                    &tasks[b], KM_FPAGE(dst, log2, 0)));
        check(m & 0x10 ? "grant" : "map");
        break;
    }
    case 4: /* unmap by any task */
    case 5: { /* revocation: the kpager unmaps its pages */
        int t = o % 8 == 5 ? KP : a;
        u8 m = byte();
        int log2 = 12 + m % 4;
        u64 va = ALIGN_DOWN(page_va(byte()), 1ull << log2);
        mapdb_unmap(&tasks[t], KM_FPAGE(va, log2, (m >> 2) & 7), m & 0x80);
        check("unmap");
        break;
    }
    case 6: /* unused supply back */
        kmem_supply_release(&tasks[a]);
        check("supply release");
        break;
    case 7: /* a task goes (the kpager too) and a new one takes its slot */
        if (byte() < 64) {
            task_gone(a);
            check("destroy");
            task_new(a);
            check("recreate");
        }
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool once;
    if (!once) {
        once = true;
        host_phys_base = aligned_alloc(PAGE_SIZE, ARENA);
        bitmap = calloc(1, frame_bitmap_bytes(ARENA));
        opt.kmem = KMEM_MODE_KPAGER;
        opt.kmem_pool = 0;
    }
    memset(host_phys_base, 0, ARENA);
    memset(bitmap, 0, frame_bitmap_bytes(ARENA));
    frame_init(ARENA, bitmap);
    frame_add_free(PAGE_SIZE, ARENA - PAGE_SIZE);
    u64 free0 = frame_free_count();
    memset(tasks, 0, sizeof tasks);
    for (int i = 0; i < NT; i++)
        task_new(i);
    threads();
    in = data;
    left = size;
    for (int i = 0; i < 64 && left; i++)
        step();
    /* clients first, then the kpager: everything comes back */
    for (int i = NT; i-- > 0;) {
        task_gone(i);
        check("teardown");
    }
    if (kmem_pool_used() || frame_free_count() != free0)
        FAIL("teardown: %lu pool pages, %lu frames not free", (unsigned long)kmem_pool_used(),
             (unsigned long)(free0 - frame_free_count()));
    return 0;
}
