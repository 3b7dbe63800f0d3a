/* libFuzzer harness of the kpager path (kmem=kpager, abi/kspace.h) on a
 * host mapping database: the input drives a sequence of operations on
 * three tasks (task 1 is the kpager of all three, itself included; it
 * takes its own kernel pages from the pool), every one of them run as the
 * kernel runs it: under a struct kmem_op as syscall.c (unmap) and ipc.c
 * (map, grant) set it up, a missing page raised with kfault_raise
 * (kernel/kfault.c as written) whose stub IPC answers with map items taken
 * from the input, applied by kfault_accept; then the operation is redone.
 *
 * THE OPERATIONS (the first byte of a step, mod 32; weights out of 32):
 *   2  root        a root mapping of a fresh frame
 *   2  roots       1..64 roots in a row (tasks with many mappings: several
 *                  node pages, edge pages full of edges)
 *   1  xfer-rand   map or grant, 1..64 pages, any addresses
 *   5  xfer        map or grant from a page the sender has (within one
 *                  task too), 1..64 pages, acceptor windows of other sizes
 *   2  grant-up    grant a derived mapping back onto one of its ancestors
 *   5  unmap       by a task, around one of its mappings, 1..64 pages:
 *                  rights RWX, R, W, X or WX, with or without KM_UNMAP_SELF
 *                  (W, X, WX: reductions, which bring out nodes in)
 *   1  unmap-rand  anywhere
 *   6  revoke      the kpager unmaps a page it lent, of a chosen kind: node
 *                  page (nodes go out), edge page (the mappings derived
 *                  through its edges go), node table (exported localised),
 *                  page table, supply; with or without KM_UNMAP_SELF
 *   1  revoke-rand the kpager unmaps any of its pages
 *   1  release     a task's unused supply back
 *   2  destroy     a task (parent or child of others, nodes out or not)
 *                  goes and a new one takes its slot
 *   1  hoard       the harness takes every free frame but 0..3: the pool
 *                  runs dry, node_in and rebuilds fail, removals go by name
 *   1  unhoard     gives them back (all, or half)
 *   2  kfault      a kernel page fault for a task (a node page, or a node
 *                  table that is out): the kpager lends pages, maybe ones
 *                  whose derivation trees hold out nodes
 * Unless the input's first byte is >= 192, a prelude builds a world first
 * (the kpager's pages to lend, task 2 with 176 mappings in two node pages,
 * trees three deep across the tasks), the kpager answering by itself.
 * The kpager's answers pick its pages mostly among those it has mapped
 * (with or without derived mappings), pages that came back holding an
 * export (a node table given back as it was exported: its import path),
 * or any page; items may be malformed (odd bits, raw words).  Or it
 * answers as the benchmark's cold kpager does: one page of its that is
 * good to lend, for the first request only (the one page asked), so that
 * a fresh region's tables come one by one (a transfer waiting in place
 * then waits again in transfer_page, kernel/mapdb_transfer.c, for each).
 *
 * THE CHECKS, after every step and every kernel page fault:
 *   - mapdb_check() is NULL for every task (every invariant, out nodes too);
 *   - accounting is exact: the pages charged to all tasks are the pool's
 *     pages in use plus the lent frames the kernel holds;
 *   - a page that comes back to the kpager is all zero, or holds a node
 *     table's export (only names of node pages), or a node page's export
 *     (records in abi/kspace.h's format, each one the shadow's mapping);
 *   - no PTE gives access to a frame the kernel holds as a lent page;
 *   - THE SHADOW: the harness keeps its own model of every mapping (task,
 *     page -> frame, rights, the mapping it was derived from), updated by
 *     the documented semantics of each operation (mapdb.h: map, grant,
 *     grant back onto an ancestor, replacement, unmap with partial rights,
 *     lend, task destruction) and by what revocation removes (the kernel's
 *     calls to mapdb_drop_region, mapdb_reclaim_node_page and mapdb_lend
 *     are wrapped with -Wl,--wrap to learn which page tables and edge
 *     pages went and what they held); the kernel's mappings (read from its
 *     PTEs without changing anything: kept bits for out nodes) must be
 *     exactly the shadow's: same pages, frames and rights, each one's
 *     parent (where its node is in) the shadow's.  THE SECURITY PROPERTY:
 *     after an unmap by task A of region R, no mapping derived from A's
 *     mappings in R survives anywhere (nor keeps a right revoked): a
 *     survivor fails as "SECURITY".  A partial unmap may remove instead
 *     of reduce only while the pool is dry (hoard).
 * An operation the kernel stopped with -KM_ENOMEM changed a prefix of its
 * pages: the shadow takes the prefix that matches.
 *
 * The items handed to kfault_accept may name any page, shared ones too (a
 * lend takes access away from every mapping of the frame); build with
 * -DFUZZ_EXCLUSIVE to lend only pages no other task maps.
 *
 * Build: make fuzz (FUZZ_TIME=seconds); a brief deterministic run is part
 * of make test (tests/sh/fuzz_kmem.sh).  FUZZ_TRACE=1 in the environment
 * prints each step (to decode a crash input); FUZZ_STATS=1 prints what the
 * runs reached at exit (kmem_op_wait's waits by their call site in
 * mapdb_transfer.c, and its early -KM_ENOMEM, among them); FUZZ_FIND=LINE:KIND or
 * early:K stops the run at the first such wait (see __wrap_kmem_op_wait):
 * how to find an input for a seed.  make fuzz-cov shows what a corpus
 * reached of the kernel's lines. */
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
#include <kernel/mnode.h>
#include <kernel/nodetable.h>
#include <kernel/options.h>
#include <kernel/task.h>
#include <kernel/thread.h>

/* ---- host stand-ins (tests/unit/host_support.c without cmocka) ----------- */

#define FUZZ_NAME "fuzz_kmem"
/* The harness's own loops (the checks, the shadow) are not the code under
 * test: no coverage instrumentation (it would cost most of the time). */
#define HOT __attribute__((no_sanitize("coverage")))
#include "fuzz_host.h"

/* ---- the world ------------------------------------------------------------- */

#define ARENA (8ull << 20)
#define NFRAMES (ARENA / PAGE_SIZE)
#define NT 3
#define KP 0 /* tasks[KP] is the kpager */
#define NREG 4
#define PPR 64 /* pages per region the input names */
#define NKEY (NREG * PPR)
#define NG (NT * NKEY)
#define STEPS 96
/* ascending, each in a 2 MiB region of its own */
static const u64 region[NREG] = {0x40000000ull, 0x40200000ull, 0x8000000000ull, KM_UTCB_AREA - 0x200000ull};

static void *bitmap;
static struct task tasks[NT];
struct thread thread_table[THREAD_MAX];
static struct thread_ext exts[NT + 1];
static struct kmem_op op;
static bool tracing;

#define TR(...)                                                                                    \
    do {                                                                                           \
        if (tracing)                                                                               \
            fprintf(stderr, __VA_ARGS__);                                                          \
    } while (0)

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
static u64 page_va(u8 b) { return region[b >> 6] + (u64)(b & (PPR - 1)) * PAGE_SIZE; }

/* ---- the shadow: the harness's own model of every mapping ------------------
 * Key g = task index * NKEY + page index (region * PPR + page). */
struct shn {
    u64 frame;
    int parent; /* key of the mapping it was derived from, -1: a root */
    u8 rights;
    bool on;
};
static struct shn sh[NG];
static int killed_by[NG];     /* this step's unmap removed it: the key unmapped, or -1 */
static u8 revoked[NG];        /* rights this step's unmap took from it */
static u64 lender_at[NFRAMES]; /* frame_lend()->lender at the step's start */
static bool auto_kp;           /* the prelude: the kpager answers by itself */
static bool stats_on;          /* FUZZ_STATS */
static u64 op_count[16];
/* (kernel/mapdb.h) */
static struct {
    u64 revoke_kind[4], checks, checks_out, checks_nt_out, unmap_partial_out, unmap_out, destroy_out, xfer_out,
        lend_out, prefix, dry_ops, grant_up_done, checks_detached, waits, waits_meddled, meddles[8],
        waits_ended, back_sent, wait_early[3], cold;
} st;

static HOT int key_of(int ti, u64 va)
{
    for (int r = 0; r < NREG; r++)
        if (va >= region[r] && va < region[r] + PPR * PAGE_SIZE)
            return ti * NKEY + r * PPR + (int)((va - region[r]) / PAGE_SIZE);
    return -1;
}
static int task_of(int g) { return g / NKEY; }
static HOT u64 va_of(int g) { return region[g % NKEY / PPR] + (u64)(g % PPR) * PAGE_SIZE; }
/* A frame lent at the step's start that the operation gave back on its
 * way (an edge page or node page emptied by what it removed) is sent from
 * then on by the pages after that point: back_sendable, the model's
 * second try (the harness cannot see where the page came back), takes
 * such frames as not lent.  (This harness found the model wrong there:
 * seed kmem-back-mid-transfer.) */
static bool back_sendable;
static bool frame_was_lent(u64 phys)
{
    u64 f = phys / PAGE_SIZE;
    return lender_at[f] != 0 && !(back_sendable && !frame_lend_records[f].lender);
}
/* Whether the mapping g lent its frame to the kernel (at the step's start). */
static bool was_lender(int g)
{
    return sh[g].on && lender_at[sh[g].frame / PAGE_SIZE] == (va_of(g) | (u64)(task_of(g) + 1));
}

static int ch_head[NG], ch_next[NG];
static HOT void build_children(void)
{
    for (int g = 0; g < NG; g++)
        ch_head[g] = -1;
    for (int g = NG; g-- > 0;)
        if (sh[g].on && sh[g].parent >= 0) {
            ch_next[g] = ch_head[sh[g].parent];
            ch_head[sh[g].parent] = g;
        }
}

static int stack_[NG];
/* Calls fn on every descendant of g (not g), parents first. */
static HOT void for_desc(int g, void (*fn)(int, void *), void *arg)
{
    build_children();
    int sp = 0;
    for (int c = ch_head[g]; c >= 0; c = ch_next[c])
        stack_[sp++] = c;
    while (sp) {
        int n = stack_[--sp];
        for (int c = ch_head[n]; c >= 0; c = ch_next[c])
            stack_[sp++] = c;
        fn(n, arg);
    }
}

static int touched[2 * NG], ntouched; /* keys whose killed_by or revoked is set */
static void off_fn(int g, void *arg)
{
    sh[g].on = false;
    if (arg) {
        killed_by[g] = *(int *)arg;
        touched[ntouched++ % (2 * NG)] = g;
    }
}
static void sh_remove_desc(int g, int killer) { for_desc(g, off_fn, killer >= 0 ? &killer : NULL); }
static void sh_remove_tree(int g, int killer)
{
    if (g < 0 || !sh[g].on)
        return;
    sh_remove_desc(g, killer);
    sh[g].on = false;
    if (killer >= 0) {
        killed_by[g] = killer;
        touched[ntouched++ % (2 * NG)] = g;
    }
}
struct reduce_arg {
    u8 rights;
    bool note;
};
static void reduce_fn(int g, void *arg)
{
    struct reduce_arg *r = arg;
    sh[g].rights &= (u8)~r->rights;
    if (r->note) {
        revoked[g] |= r->rights;
        touched[ntouched++ % (2 * NG)] = g;
    }
}
static void sh_reduce_desc(int g, u8 rights, bool note)
{
    struct reduce_arg r = {rights, note};
    for_desc(g, reduce_fn, &r);
}
static HOT bool sh_is_ancestor(int a, int n)
{
    for (int p = sh[n].parent, i = 0; p >= 0 && i < NG; p = sh[p].parent, i++)
        if (p == a)
            return true;
    return false;
}
static HOT void sh_reparent(int from, int to)
{
    for (int n = 0; n < NG; n++)
        if (sh[n].on && sh[n].parent == from)
            sh[n].parent = to;
}

/* Events the kernel reports through the wrapped calls (removals that a
 * revocation, a lend or an orphan's release make), applied to the shadow
 * after the call that made them. */
enum { EV_TREE, EV_DESC, EV_REGION };
static struct ev {
    int kind, g;
    int task;
    u64 va, end;
} evs[4 * NG];
static int nev;
static bool ev_overflow;
static void ev_add(int kind, int g, int task, u64 va, u64 end)
{
    if (nev == (int)(sizeof evs / sizeof evs[0])) {
        ev_overflow = true;
        return;
    }
    evs[nev++] = (struct ev){kind, g, task, va, end};
}
static HOT void apply_events_keep(void)
{
    for (int i = 0; i < nev; i++) {
        struct ev *e = &evs[i];
        if ((e->kind == EV_TREE || e->kind == EV_DESC) && e->g < 0)
            FAIL("harness: an event for no page of the harness's");
        if (e->kind == EV_TREE)
            sh_remove_tree(e->g, -1);
        else if (e->kind == EV_DESC)
            sh_remove_desc(e->g, -1);
        else
            for (int g = e->task * NKEY; g < (e->task + 1) * NKEY; g++)
                if (sh[g].on && va_of(g) >= e->va && va_of(g) < e->end)
                    sh_remove_tree(g, -1);
    }
    if (ev_overflow)
        FAIL("harness: too many events");
}
static void apply_events(void)
{
    apply_events_keep();
    nev = 0;
}

int __real_mapdb_lend(struct task *t, u64 va, u64 *phys);
int __wrap_mapdb_lend(struct task *t, u64 va, u64 *phys)
{
    bool out = mapdb_nodes_out != 0;
    int r = __real_mapdb_lend(t, va, phys);
    st.lend_out += out && !r;
    if (!r)
        ev_add(EV_DESC, key_of((int)t->number - 1, va), 0, 0, 0);
    return r;
}

/* kfault_accept's lend (kernel/mapdb_lend.c, the lend in line there): lent
 * when *got went up. */
void __real_kmem_supply_lend(struct task *t, u64 req, struct task *lender, u64 va, u32 *got);
void __wrap_kmem_supply_lend(struct task *t, u64 req, struct task *lender, u64 va, u32 *got)
{
    bool out = mapdb_nodes_out != 0;
    u32 before = *got;
    __real_kmem_supply_lend(t, req, lender, va, got);
    st.lend_out += out && *got != before;
    if (*got != before)
        ev_add(EV_DESC, key_of((int)lender->number - 1, va), 0, 0, 0);
}

void __real_mapdb_drop_region(struct task *t, u64 va, u64 end);
void __wrap_mapdb_drop_region(struct task *t, u64 va, u64 end)
{
    ev_add(EV_REGION, -1, (int)t->number - 1, va, end);
    __real_mapdb_drop_region(t, va, end);
}

int __real_mapdb_reclaim_node_page(struct task *t, u64 phys);
int __wrap_mapdb_reclaim_node_page(struct task *t, u64 phys)
{
    struct mnode_page *pg = phys_to_virt(phys);
    if (pg->task == t && !pg->detached && pg->edges) {
        /* an edge page: its edges leave localised, their children stay
         * (detached), but one whose node is out too goes, with what
         * derives from it */
        struct medge *e = (struct medge *)page_nodes(pg);
        for (usize i = 0; i < NODES_PER_PAGE; i++) {
            struct mnode *c = e[i].child;
            if (!c || !mn_is_out(c))
                continue;
            int g = key_of((int)mn_name_task((u64)c) - 1, mn_name_va((u64)c));
            if (g < 0)
                FAIL("an edge page's edge leads to no page of the harness's");
            ev_add(EV_TREE, g, 0, 0, 0);
        }
    } else if (pg->task == t && !pg->detached) {
        /* a node page: a detached node in it goes (nothing else would
         * hold its parent's name), with what derives from it */
        struct mnode *n = page_nodes(pg);
        for (usize i = 0; i < NODES_PER_PAGE; i++)
            if (slot_is_node(&n[i]) && mn_is_out(n[i].up))
                ev_add(EV_TREE, key_of((int)t->number - 1, node_va(&n[i])), 0, 0, 0);
    }
    return __real_mapdb_reclaim_node_page(t, phys);
}

/* kmem_op_wait (kernel/kmem.c), called by mapdb_transfer.c's transfer: its waits
 * counted by where they are called from (file and line, found once per
 * call site by symbolizing the return address: transfer_pages' `again:`,
 * after a page stopped; pgtable.c's wait inside the destination's walk,
 * for each of its tables) and its early
 * -KM_ENOMEM (no op, an op without .wait, nothing missing) by which: what
 * FUZZ_STATS prints. */
void __sanitizer_symbolize_pc(void *pc, const char *fmt, char *out, size_t size) __attribute__((weak));
static struct {
    void *pc;
    int line;      /* mapdb_transfer.c's (FUZZ_FIND), 0: another file's */
    char site[48]; /* file:line */
    u64 n[4]; /* what was missing: the source's node table, the destination's, a node page, other */
} wait_pcs[8];
static int nwait_pcs;
/* FUZZ_FIND=LINE:KIND (a wait from mapdb_transfer.c:LINE for KIND, 0..3 as
 * below) or FUZZ_FIND=early:K (kmem_op_wait's early -KM_ENOMEM, K as
 * st.wait_early): the run stops (abort) the first time it happens, its
 * input saved by libFuzzer: how the seeds for these were found. */
static int find_line = 0, find_kind = -1;
static void found(const char *what)
{
    fprintf(stderr, FUZZ_NAME ": FUZZ_FIND: reached %s\n", what);
    abort();
}
static void wait_site_of(void *pc, const struct kmem_op *o)
{
    int t = km_ks_type(o->missing);
    int k = t == KMEM_NODETABLE ? (o->missing_src ? 0 : 1) : t == KMEM_MAPNODE ? 2 : 3;
    for (int i = 0; i < nwait_pcs; i++)
        if (wait_pcs[i].pc == pc) {
            wait_pcs[i].n[k]++;
            if (find_line > 0 && wait_pcs[i].line == find_line && k == find_kind)
                found("the wait");
            return;
        }
    char buf[256] = "";
    if (!(stats_on || find_line) || !__sanitizer_symbolize_pc)
        return;
    __sanitizer_symbolize_pc((char *)pc - 1, "%L", buf, sizeof buf); /* (the call's line) */
    const char *m = strstr(buf, "mapdb_transfer.c:"), *base = strrchr(buf, '/');
    if (nwait_pcs < 8) {
        wait_pcs[nwait_pcs] = (typeof(wait_pcs[0])){pc, m ? atoi(m + strlen("mapdb_transfer.c:")) : 0, "", {0}};
        snprintf(wait_pcs[nwait_pcs].site, sizeof wait_pcs[0].site, "%s", base ? base + 1 : buf);
        wait_pcs[nwait_pcs++].n[k]++;
        if (find_line > 0 && wait_pcs[nwait_pcs - 1].line == find_line && k == find_kind)
            found("the wait");
    }
}
i64 __real_kmem_op_wait(void);
i64 __wrap_kmem_op_wait(void)
{
    int e = !kmem_op ? 0 : !kmem_op->wait ? 1 : !kmem_op->missing_set ? 2 : -1;
    if (e >= 0) {
        st.wait_early[e]++;
        if (find_line < 0 && find_kind == e)
            found("the early -KM_ENOMEM");
    } else
        wait_site_of(__builtin_return_address(0), kmem_op);
    return __real_kmem_op_wait();
}

/* ---- tasks ------------------------------------------------------------------ */

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
 * clients, one per task, with the kpager; 6 (NESTED_SELF) below. */
#define NESTED_SELF (3 + NT)
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
    /* 6: another thread the kernel works for (task 2's), whose kernel
     * page faults are raised while thread 2's waits (a transfer waiting in
     * place: others run meanwhile) */
    struct thread *th = &thread_table[NESTED_SELF];
    th->number = NESTED_SELF;
    th->version = 1;
    th->state = TS_RUNNABLE;
    th->task = &tasks[1];
    th->kpager = KM_NILTHREAD;
    th->ext = &exts[1];
}

/* ---- frames the harness holds (the pool run dry) ------------------------------ */

static u64 hoard[NFRAMES];
static int nhoard;

static void hoard_take(u64 keep)
{
    while (frame_free_count() > keep && nhoard < (int)NFRAMES) {
        u64 f = frame_alloc();
        if (!f)
            break;
        hoard[nhoard++] = f;
    }
}

static void hoard_give(int n)
{
    while (n-- > 0 && nhoard)
        frame_free(hoard[--nhoard]);
}

/* ---- reading the kernel's mappings without changing anything ------------------ */

struct obs {
    bool on, present;
    u64 phys;
    u32 rights;
    int parent; /* key, -1 root, -2 unknown (its node is out, or its parent's is) */
};
static struct obs ob[NG];

static HOT void observe(void)
{
    for (int g = 0; g < NG; g++) {
        struct obs *o = &ob[g];
        struct task *t = &tasks[task_of(g)];
        struct mmu_slot s;
        *o = (struct obs){0};
        if (!t->number || !mmu_walk(t, va_of(g), MMU_FIND, &s) || !mmu_used(&s))
            continue;
        o->on = true;
        o->present = mmu_present(&s);
        o->phys = mmu_phys(&s);
        u32 kept = mmu_kept(&s);
        if (kept) {
            o->rights = kept & MN_RIGHTS;
            o->parent = kept & 0x40 ? -2 : -1; /* (mapdb_internal.h's KEPT_DERIVED) */
            continue;
        }
        struct mnode *n = s.node ? *s.node : s.nt_out ? nodetable_scan(t, va_of(g)) : NULL;
        if (!n || mn_is_out(n))
            FAIL("task %d page %lx: a PTE in use without a node", task_of(g) + 1, (unsigned long)va_of(g));
        o->rights = node_rights(n);
        if (!n->up)
            o->parent = -1;
        else if (mn_is_out(n->up)) /* detached: its up is its parent's name */
            o->parent = key_of((int)mn_name_task((u64)n->up) - 1, mn_name_va((u64)n->up));
        else if (mn_is_out(n->up->parent))
            o->parent = key_of((int)mn_name_task((u64)n->up->parent) - 1, mn_name_va((u64)n->up->parent));
        else
            o->parent = key_of((int)node_task(n->up->parent)->number - 1, node_va(n->up->parent));
    }
}

static char why[256];

/* Whether the kernel's mappings (ob) are the shadow's; why if not. */
static HOT bool matches(void)
{
    for (int g = 0; g < NG; g++) {
        const struct shn *m = &sh[g];
        const struct obs *o = &ob[g];
        int t = task_of(g) + 1;
        unsigned long va = (unsigned long)va_of(g);
        if (!m->on && !o->on)
            continue;
        if (!m->on) {
            if (killed_by[g] >= 0)
                snprintf(why, sizeof why,
                         "SECURITY: task %d page %lx, derived from task %d page %lx which was unmapped, survives",
                         t, va, task_of(killed_by[g]) + 1, (unsigned long)va_of(killed_by[g]));
            else
                snprintf(why, sizeof why, "task %d page %lx is mapped (frame %lx), the shadow has no mapping there", t,
                         va, (unsigned long)o->phys);
            return false;
        }
        if (!o->on) {
            snprintf(why, sizeof why, "task %d page %lx (frame %lx, rights %u, parent %d) is gone, the shadow keeps it",
                     t, va, (unsigned long)m->frame, m->rights, m->parent);
            return false;
        }
        if (o->phys != m->frame) {
            snprintf(why, sizeof why, "task %d page %lx maps frame %lx, the shadow %lx", t, va,
                     (unsigned long)o->phys, (unsigned long)m->frame);
            return false;
        }
        if (o->rights != m->rights) {
            snprintf(why, sizeof why, "%stask %d page %lx has rights %u, the shadow %u (revoked this step: %u)",
                     o->rights & revoked[g] ? "SECURITY: " : "", t, va, o->rights, m->rights, revoked[g]);
            return false;
        }
        if (o->parent != -2 && o->parent != m->parent) {
            snprintf(why, sizeof why, "task %d page %lx is derived from key %d, the shadow's from %d", t, va,
                     o->parent, m->parent);
            return false;
        }
    }
    return true;
}

/* ---- the checks ------------------------------------------------------------ */

static HOT bool all_zero(u64 phys)
{
    const u64 *w = phys_to_virt(phys);
    for (int i = 0; i < 512; i++)
        if (w[i])
            return false;
    return true;
}

/* Page phys holds a node table's export: only names of node pages. */
static HOT bool localised(u64 phys)
{
    const u64 *w = phys_to_virt(phys);
    for (int i = 0; i < 512; i++)
        if (w[i] && (w[i] < KM_KS_MN || w[i] >= KM_KS_ME))
            return false;
    return true;
}

/* The kpager's pages lent at the step's start: (va, frame, kobj, how to
 * check it once back). */
enum { CHECK_ZERO, CHECK_NAMES, CHECK_NODES, CHECK_EDGES, CHECK_NONE };

/* Page phys holds a node page's or an edge page's export of task ti
 * (abi/kspace.h): a count, then one word a record, nothing else.  A node
 * page's record is one of ti's mappings (page, rights, flags) as the
 * shadow has it (unless gone since); an edge page's the page of ti's a
 * mapping was derived from, with KM_R. */
static HOT const char *records(u64 phys, int ti, bool edges)
{
    const u64 *w = phys_to_virt(phys);
    u64 n = 0;
    if (w[0] > NODES_PER_PAGE || w[1] || w[2] || w[3] || w[4] || w[5])
        return "header";
    for (usize k = 0; k < NODES_PER_PAGE; k++) {
        const u64 *r = w + 6 + 4 * k;
        if (r[1] || r[2] || r[3])
            return "a record or free slot with more than one word"; /* (not whom, nor the rights) */
        if (!r[0])
            continue;
        n++;
        int g = (r[0] & MN_VA) < USER_TOP ? key_of(ti, r[0] & MN_VA) : -1;
        if (!(r[0] & KM_R) || (r[0] & ~(MN_VA | (edges ? (u64)KM_R : 0x1full))) || g < 0)
            return "a record's word, or a record for no page of the task's";
        if (edges || !sh[g].on)
            continue; /* (a node's removed since: an edge page revoked after) */
        if ((sh[g].rights & ~r[0] & KM_RWX) || !!(r[0] & MN_KERNEL_OWNED) != (sh[g].parent < 0) ||
            (r[0] & MN_LENT))
            return "a record differs from the shadow's mapping";
    }
    return n == w[0] ? NULL : "the count differs from the records";
}
static u64 lent_va[NKEY], lent_phys[NKEY], lent_kobj[NKEY];
static int lent_how[NKEY];
static int nlent;

static HOT void note_lent(void)
{
    nlent = 0;
    struct task *k = &tasks[KP];
    if (!k->number)
        return;
    for (int g = 0; g < NKEY; g++) {
        u64 v = va_of(g);
        struct mmu_slot s;
        if (mmu_walk(k, v, MMU_FIND, &s) && s.node && *s.node && !mn_is_out(*s.node) && !mmu_present(&s) &&
            frame_lend(mmu_phys(&s))->kobj) {
            u64 ph = mmu_phys(&s), kobj = frame_lend(ph)->kobj;
            struct task *owner = task_by_number((u32)(kobj & 0xfff));
            u64 ks = kobj & ~0xfffull;
            struct mmu_leaf l;
            u64 rva = ((ks - KM_KS_NT) >> 12) << 21;
            bool nt = km_ks_type(ks) == KMEM_NODETABLE;
            bool restore = false, supplied = false; /* supplied, unused yet */
            for (u32 j = 0; owner && j < owner->nsupply; j++)
                if (owner->supply[j].phys == ph) {
                    supplied = true;
                    restore |= KM_KREQ_REASON(owner->supply[j].req) == KM_KREASON_RESTORE;
                }
            lent_va[nlent] = v;
            lent_kobj[nlent] = kobj;
            lent_how[nlent] = restore                                                    ? CHECK_NONE
                              : supplied                                                 ? CHECK_ZERO
                              : nt && owner && mmu_leaf_of(owner, rva, &l) && l.nt == ph ? CHECK_NAMES
                              : ks >= KM_KS_MN && ks < KM_KS_ME                          ? CHECK_NODES
                              : ks >= KM_KS_ME && ks < KM_KS_TCB                         ? CHECK_EDGES
                                                                                         : CHECK_ZERO;
            lent_phys[nlent++] = ph;
        }
    }
}

/* Pages that came back to the kpager holding an export (for its answers:
 * a node table given back as exported imports as it was). */
static u64 back_va[8];

static int nback;

static HOT void check_mapdb(const char *what)
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
}

static HOT void check_pages(const char *what)
{
    /* a page back with the kpager is vacant, or an export */
    struct task *k = &tasks[KP];
    for (int i = 0; k->number && i < nlent; i++) {
        struct mmu_slot s;
        if (lent_how[i] == CHECK_NONE || !mmu_walk(k, lent_va[i], MMU_FIND, &s) || !mmu_used(&s) ||
            mmu_phys(&s) != lent_phys[i] || frame_lend(lent_phys[i])->kobj)
            continue;
        const char *err = NULL;
        if (lent_how[i] == CHECK_NAMES) {
            if (!localised(lent_phys[i]))
                err = "with more than names of node pages";
        } else if (lent_how[i] == CHECK_NODES) {
            err = records(lent_phys[i], (int)(lent_kobj[i] & 0xfff) - 1, false);
        } else if (lent_how[i] == CHECK_EDGES) {
            err = records(lent_phys[i], (int)(lent_kobj[i] & 0xfff) - 1, true);
        } else if (!all_zero(lent_phys[i])) {
            err = "not zeroed";
        }
        if (err)
            FAIL("after %s: page %lx (%lx) came back to the kpager: %s", what, (unsigned long)lent_va[i],
                 (unsigned long)lent_kobj[i], err);
        if (lent_how[i] != CHECK_ZERO) {
            back_va[nback % 8] = lent_va[i];
            nback++;
        }
    }
    /* nobody reaches a frame the kernel holds */
    for (int g = 0; g < NG; g++)
        if (ob[g].on && ob[g].present && frame_lend(ob[g].phys)->kobj)
            FAIL("after %s: task %d page %lx reaches kernel page %lx (%lx)", what, task_of(g) + 1,
                 (unsigned long)va_of(g), (unsigned long)ob[g].phys, (unsigned long)frame_lend(ob[g].phys)->kobj);
}

/* After a step or part of one whose shadow is up to date: everything. */
static void check(const char *what)
{
    apply_events();
    if (auto_kp)
        return; /* the prelude (deterministic): checked once, at its end */
    st.checks++;
    st.checks_out += mapdb_nodes_out != 0;
    st.checks_nt_out += (tasks[0].as.nt_out | tasks[1].as.nt_out | tasks[2].as.nt_out) != 0;
    st.checks_detached += mapdb_detached != 0;
    check_mapdb(what);
    observe();
    check_pages(what);
    if (!matches())
        FAIL("after %s: %s", what, why);
}

/* A new part of a step begins: what the shadow needs of the state before
 * (light: for a root, which removes nothing and lends nothing). */
static HOT void snap_light(void)
{
    if (ntouched > 2 * NG) {
        for (int g = 0; g < NG; g++) {
            killed_by[g] = -1;
            revoked[g] = 0;
        }
    } else {
        for (int i = 0; i < ntouched; i++) {
            killed_by[touched[i]] = -1;
            revoked[touched[i]] = 0;
        }
    }
    ntouched = 0;
    nev = 0;
    nlent = 0; /* (a root gives no page back: none to check) */
}

static HOT void snap(void)
{
    snap_light();
    for (u64 f = 1; f < NFRAMES; f++)
        lender_at[f] = frame_lend_records[f].lender;
    note_lent();
}

/* The kernel stopped an operation with -KM_ENOMEM after changing the
 * pages before some page i of its region (mapdb.h): the shadow takes the
 * first prefix (model(arg, i) applied to a copy) that matches. */
static struct shn saved[NG];
static void settle_prefix(const char *what, int npages, void (*model)(void *, int), void *arg)
{
    observe();
    memcpy(saved, sh, sizeof sh);
    for (int back = 0; back < 2; back++)
        for (int i = 0; i <= npages; i++) {
            memcpy(sh, saved, sizeof sh);
            back_sendable = back;
            model(arg, i);
            back_sendable = false;
            apply_events_keep(); /* (what the operation's end removed) */
            if (matches()) {
                nev = 0;
                st.prefix++;
                st.back_sent += back;
                return;
            }
        }
    memcpy(sh, saved, sizeof sh);
    model(arg, npages);
    apply_events_keep();
    matches();
    FAIL("after %s stopped for memory: no prefix of it matches: %s", what, why);
}

/* ---- kernel page faults --------------------------------------------------------- */

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

#ifdef FUZZ_EXCLUSIVE
/* Is frame phys mapped anywhere but (task, va)? */
static bool mapped_elsewhere(u64 phys, int task, u64 va)
{
    for (int g = 0; g < NG; g++)
        if (sh[g].on && sh[g].frame == phys && (task_of(g) != task || va_of(g) != va))
            return true;
    return false;
}
#endif

/* One of the kpager's pages to lend: b < 96, the b-th page it has mapped;
 * < 128, one with derived mappings; < 144, one that came back with an
 * export; else page_va(next byte). */
static HOT u64 kp_page(u8 b)
{
    int cand[NKEY], n = 0;
    if (b < 128) {
        bool has[NKEY] = {0};
        for (int g = 0; g < NG; g++)
            if (sh[g].on && sh[g].parent >= 0 && sh[g].parent < NKEY)
                has[sh[g].parent] = true;
        for (int g = 0; g < NKEY; g++)
            if (sh[g].on && (b < 96 || has[g]))
                cand[n++] = g;
        if (n)
            return va_of(cand[b % n]);
    } else if (b < 144 && nback) {
        return back_va[b % (nback < 8 ? nback : 8)];
    }
    return page_va(byte());
}

static bool in_meddle;      /* others run while a transfer waits */
static int meddles_pending; /* their number, when its kernel page fault is raised */
static void meddle_now(void);

i64 ipc(struct thread *self, km_tid to, km_tid from, u32 flags, u64 tag)
{
    (void)from, (void)flags, (void)tag;
    struct thread *kp = thread_lookup(to);
    struct thread_ext *x = self->ext;
    u32 n = (u32)x->fault[1];
    if (!kp || n < 1 || n > KM_KFAULT_MAX || !(self->flags & TF_KFAULT_IPC))
        FAIL("kernel page fault IPC malformed");
    for (u32 i = 0; tracing && i < n; i++)
        TR("        request %lx\n", (unsigned long)x->fault[2 + i]);
    if (meddles_pending && !in_meddle)
        meddle_now(); /* (the kernel page fault raised: others run while the kpager works) */
    for (u32 i = 0; i < n; i++) { /* hierarchy order, never the same twice */
        u64 a = KM_KREQ_ADDR(x->fault[2 + i]);
        if (km_ks_type(a) != (int)KM_KREQ_TYPE(x->fault[2 + i]) || (i && a <= KM_KREQ_ADDR(x->fault[1 + i]) &&
                                                                   a < KM_KS_MN))
            FAIL("request %u: %lx", i, (unsigned long)x->fault[2 + i]);
    }
    u8 ib = auto_kp ? 0 : byte();
    if (auto_kp || ib >= 250) {
        /* the prelude's kpager: each request, a page of its with nothing
         * derived; a cold kpager (the benchmark's): the first request
         * only, the one page asked (a region's tables then come one by
         * one: dest_tables' repeated wait) */
        bool has[NKEY] = {0};
        for (int g = 0; g < NG; g++)
            if (sh[g].on && sh[g].parent >= 0 && sh[g].parent < NKEY)
                has[sh[g].parent] = true;
        u32 i = 0, want = auto_kp ? n : 1;
        int skip = auto_kp ? 0 : ib - 250; /* (which of the good pages) */
        st.cold += !auto_kp;
        for (int g = 0; g < NKEY && i < want; g++)
            if (sh[g].on && (sh[g].rights & (KM_R | KM_W)) == (KM_R | KM_W) && !has[g] &&
                !frame_lend(sh[g].frame)->lender && skip-- <= 0) {
                if (!auto_kp)
                    TR("        item (cold) %lx %lx\n", (unsigned long)x->fault[2 + i], (unsigned long)va_of(g));
                kfault_accept(kp, self, KM_MAPITEM(KM_KREQ_ADDR(x->fault[2 + i]), 0), KM_FPAGE(va_of(g), 12, KM_R | KM_W));
                i++;
            }
        return 0;
    }
    int items = ib % 6;
    TR("      kfault task %lu, %u requests (first %lx): %d items\n", (unsigned long)KM_ID_NUMBER(x->fault[0]), n,
       (unsigned long)x->fault[2], items);
    for (int i = 0; i < items; i++) {
        u8 m = byte();
        u64 w0, w1;
        if (m < 160) { /* a requested page */
            w0 = KM_MAPITEM(KM_KREQ_ADDR(x->fault[2 + m % n]), 0);
            w1 = KM_FPAGE(kp_page(byte()), 12, KM_R | KM_W);
        } else if (m < 200) { /* lent ahead */
            w0 = KM_MAPITEM(KM_KS_RESERVE, 0);
            w1 = KM_FPAGE(kp_page(byte()), 12, KM_R | KM_W);
        } else if (m < 240) { /* a requested page, odd fpage and item bits */
            u8 b = byte();
            w0 = KM_KREQ_ADDR(x->fault[2 + m % n]) | (b & 0xf);
            w1 = kp_page(byte()) | (u64)(11 + (b >> 4) % 4) << 6 | (b >> 2 & 7);
        } else { /* raw words */
            w0 = word();
            w1 = word();
        }
        TR("        item %lx %lx\n", (unsigned long)w0, (unsigned long)w1);
#ifdef FUZZ_EXCLUSIVE
        u64 ph;
        int g = key_of(KP, KM_FPAGE_BASE(w1));
        if (g >= 0 && sh[g].on && mapped_elsewhere(sh[g].frame, KP, KM_FPAGE_BASE(w1)))
            continue; /* see the header */
        (void)ph;
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

static struct thread *self_thread(void) { return &thread_table[in_meddle ? NESTED_SELF : 2]; }

/* A kernel page fault for task ti (its client thread's kpager asked),
 * checked: its lends removed what derived from the pages lent. */
static i64 kfault_for(int ti, u64 missing, u64 va)
{
    snap();
    TR("      kernel page fault of task %d for %lx (page %lx)\n", ti + 1, (unsigned long)missing, (unsigned long)va);
    i64 k = kfault_raise(self_thread(), &thread_table[3 + ti], &tasks[ti], missing, va);
    check("kernel page fault");
    return k;
}

/* ---- the shadow's semantics of each operation ---------------------------------- */

struct xfer_m {
    int a, b;
    u64 src, dst, len;
    u32 rights;
    bool grant;
    i64 count;
    int from;   /* pages before it in the shadow already (a wait in place) */
    i64 count0; /* of count, theirs */
};

/* mapdb_transfer.c's plan(): the regions an item and window make; false: -KM_EINVAL. */
static bool plan_m(u64 word0, u64 word1, u64 acc, struct xfer_m *x)
{
    u64 fsize = 1ull << KM_FPAGE_LOG2(word1), wsize = 1ull << KM_FPAGE_LOG2(acc);
    u64 hot = KM_FPAGE_BASE(word0);
    if (fsize <= wsize) {
        x->src = KM_FPAGE_BASE(word1);
        x->dst = KM_FPAGE_BASE(acc) + ALIGN_DOWN(hot & (wsize - 1), fsize);
        x->len = fsize;
    } else {
        x->src = KM_FPAGE_BASE(word1) + ALIGN_DOWN(hot & (fsize - 1), wsize);
        x->dst = KM_FPAGE_BASE(acc);
        x->len = wsize;
    }
    x->rights = KM_FPAGE_RIGHTS(word1);
    x->grant = word0 & KM_ITEM_GRANT;
    return key_of(0, x->src) >= 0 && key_of(0, x->src + x->len - PAGE_SIZE) >= 0 && key_of(0, x->dst) >= 0 &&
           key_of(0, x->dst + x->len - PAGE_SIZE) >= 0;
}

/* Map or grant (mapdb.h), page by page, the pages before page `upto`. */
static HOT void xfer_model(void *arg, int upto)
{
    struct xfer_m *x = arg;
    x->count = x->count0;
    int i = 0;
    for (u64 va = x->src; va < x->src + x->len && i < upto; va += PAGE_SIZE, i++) {
        if (i < x->from)
            continue; /* (done before a wait in place: in the shadow) */
        int sg = key_of(x->a, va);
        u64 dva = x->dst + (va - x->src);
        int dg = key_of(x->b, dva);
        if (!sh[sg].on)
            continue;
        u32 given = frame_was_lent(sh[sg].frame) ? 0 : x->rights & sh[sg].rights;
        if (!(given & KM_R))
            continue;
        if (sg == dg) {
            x->count++;
            continue;
        }
        if (sh[dg].on && !was_lender(dg) && sh[dg].frame == sh[sg].frame) {
            if (!x->grant) { /* rights grow, never past the parent's */
                int p = sh[dg].parent;
                u8 cap = p >= 0 ? sh[p].rights : sh[dg].rights;
                sh[dg].rights |= (u8)(given & cap);
                x->count++;
                continue;
            }
            if (sh_is_ancestor(dg, sg)) { /* granted back: the sender's mapping dissolves */
                sh_reparent(sg, sh[sg].parent);
                sh[sg].on = false;
                x->count++;
                continue;
            }
        }
        if (sh[dg].on) {
            if (was_lender(dg))
                continue; /* a lent page stays */
            sh_remove_tree(dg, -1);
        }
        if (x->grant) {
            u8 lost = sh[sg].rights & (u8)~given;
            if (lost)
                sh_reduce_desc(sg, lost, false);
            sh[dg] = sh[sg];
            sh[dg].rights = (u8)given;
            sh_reparent(sg, dg);
            sh[sg].on = false;
        } else {
            sh[dg] = (struct shn){sh[sg].frame, sg, (u8)given, true};
        }
        x->count++;
    }
}

struct unmap_m {
    int t;
    u64 base, end;
    u32 rights;
    bool self;
    bool dry; /* the pool was dry: a reduction may have been a removal */
};

/* A partial unmap (W, X) in a kmem_op whose derived mappings include out
 * nodes asks for the node page and is redone: it never removes (this
 * harness found it did, before the kernel's fix; seed kmem-reduce-in-op). */
#define REDUCE_IN_OP_MAY_REMOVE false

/* Unmap (mapdb.h), the task's pages before its `upto`-th page in the region. */
static HOT void unmap_model(void *arg, int upto)
{
    struct unmap_m *u = arg;
    int i = 0;
    if (!u->rights)
        return;
    for (u64 va = u->base; va < u->end && i < upto; va += PAGE_SIZE) {
        int g = key_of(u->t, va);
        if (g < 0 || !sh[g].on)
            continue;
        i++;
        u32 rights = u->rights;
        if (!(rights & KM_R) && u->dry) {
            /* no frame to bring its out nodes in: a subtree whose top
             * could not come in is removed (mapdb_unmap.c's
             * tree_in_below_or_drop), at any depth; everything else is
             * reduced.  Those the kernel no longer has go from the shadow
             * (the harness cannot see which tops were out at the start:
             * with the pool dry it accepts either, node by node) */
            for (int n = 0; n < NG; n++)
                if (sh[n].on && sh_is_ancestor(g, n) && !(ob[n].on && ob[n].phys == sh[n].frame))
                    sh_remove_tree(n, g);
            if (u->self && !(ob[g].on && ob[g].phys == sh[g].frame))
                rights |= KM_R; /* (the mapping itself: a lent one, by name) */
        }
        if (rights & KM_R) {
            sh_remove_desc(g, g);
            if (u->self)
                sh_remove_tree(g, g);
        } else {
            sh_reduce_desc(g, (u8)rights, true);
            if (u->self && (sh[g].rights & rights)) {
                sh[g].rights &= (u8)~rights;
                revoked[g] |= (u8)rights;
                touched[ntouched++ % (2 * NG)] = g;
            }
        }
    }
}

/* ---- operations -------------------------------------------------------------- */

static const char *r_name(u32 r)
{
    static const char *n[8] = {"-", "X", "W", "WX", "R", "RX", "RW", "RWX"};
    return n[r & 7];
}

/* A root mapping of a fresh frame at task ti's page va (checked unless
 * more of a row follow: then after the row, and at each kernel page fault). */
static void root_at(int ti, u64 va, u32 rights, bool last)
{
    u64 f = frame_alloc();
    if (!f)
        return;
    memset(phys_to_virt(f), 0xa5, PAGE_SIZE);
    int g = key_of(ti, va);
    i64 r = -KM_EINVAL;
    for (int attempt = 0; attempt < 4; attempt++) {
        snap_light();
        bool was = sh[g].on;
        op = (struct kmem_op){.task = &tasks[ti]};
        kmem_op = ti == KP ? NULL : &op;
        r = mapdb_map_root(&tasks[ti], va, f, rights, true);
        kmem_op = NULL;
        if (r == 0) {
            if (was)
                FAIL("root: task %d page %lx mapped over an existing mapping", ti + 1, (unsigned long)va);
            sh[g] = (struct shn){f, -1, (u8)rights, true};
        } else if (r == -KM_EBUSY && !was) {
            FAIL("root: task %d page %lx busy, the shadow has no mapping there", ti + 1, (unsigned long)va);
        }
        if (last || r == -KM_ENOMEM)
            check("root");
        if (r != -KM_ENOMEM || !op.missing_set || ti == KP)
            break;
        if (kfault_for(ti, op.missing, op.va ? op.va : va) != -KM_ERESTART)
            break;
    }
    TR("    root task %d %lx %s: %ld\n", ti + 1, (unsigned long)va, r_name(rights), (long)r);
    if (r)
        frame_free(f);
}

/* Map or grant from task a to task b, as ipc.c's transfer_kmem runs it:
 * under a kmem_op for the receiver and the sender (each with a kpager,
 * the kpager's own task takes the pool's pages), redone after a kernel
 * page fault, a node table its kpager did not give back made again. */
static i64 last_xfer;
static i64 xfer_wait_hook(struct kmem_op *o);
static void meddle(struct xfer_m *x);

/* A transfer that waits in place (kernel/ipc.c xfer_wait: a fault reply's
 * transfer blocks in the kernel page fault where it stopped, the lock let
 * go, and goes on with the same page): the hook below stands in for
 * xfer_kfault.  While it "waits", the input picks operations of others
 * (meddle), each one checked as a step is; the shadow takes the pages the
 * transfer did before the wait first, and after it models the rest. */
static struct {
    struct xfer_m *x; /* the transfer waiting, or NULL */
    u64 word0, word1, acc;
    int from;   /* pages before it: in the shadow */
    bool ended; /* a partner destroyed: the wait ends the transfer */
} wx;
static struct shn wsaved[NG];

static void xfer_how(int a, int b, u64 word0, u64 word1, u64 acc, bool wait);
static void xfer(int a, int b, u64 word0, u64 word1, u64 acc) { xfer_how(a, b, word0, word1, acc, false); }
static void xfer_how(int a, int b, u64 word0, u64 word1, u64 acc, bool wait)
{
    struct xfer_m x = {.a = a, .b = b};
    struct kmem_op xo; /* (its own: operations while it waits have theirs) */
    bool ok = plan_m(word0, word1, acc, &x);
    bool rk = b != KP, sk = a != KP && a != b;
    st.xfer_out += mapdb_nodes_out != 0;
    TR("    %s task %d %lx (%lu pages, %s) -> task %d %lx\n", word0 & KM_ITEM_GRANT ? "grant" : "map", a + 1,
       (unsigned long)x.src, (unsigned long)(x.len / PAGE_SIZE), r_name(x.rights), b + 1, (unsigned long)x.dst);
    wait = wait && (rk || sk) && ok && !wx.x;
    for (int attempt = 0; attempt < 8; attempt++) {
        snap();
        xo = (struct kmem_op){.task = rk ? &tasks[b] : NULL, .src = sk ? &tasks[a] : NULL,
                              .wait = wait ? xfer_wait_hook : NULL};
        x.from = 0;
        x.count0 = 0;
        if (wait)
            wx = (typeof(wx)){.x = &x, .word0 = word0, .word1 = word1, .acc = acc};
        kmem_op = rk || sk ? &xo : NULL;
        i64 r = mapdb_transfer(&tasks[a], word0, word1, &tasks[b], acc);
        kmem_op = NULL;
        bool ended = wait && wx.ended;
        if (wait)
            wx.x = NULL;
        if (ended && r != -KM_ERESTART)
            FAIL("transfer: a partner destroyed while it waited, %ld", (long)r);
        TR("      -> %ld\n", (long)r);
        last_xfer = r;
        if (r == -KM_EINVAL) {
            if (ok)
                FAIL("transfer: -KM_EINVAL for a well-formed item");
            check("transfer refused");
            return;
        }
        if (!ok)
            FAIL("transfer: %ld for an item the harness did not expect to be valid", (long)r);
        if (r >= 0) {
            observe();
            memcpy(saved, sh, sizeof sh);
            xfer_model(&x, (int)(x.len / PAGE_SIZE));
            apply_events_keep();
            if (x.count != r || !matches()) { /* a frame given back on the way, sent after */
                memcpy(sh, saved, sizeof sh);
                back_sendable = true;
                xfer_model(&x, (int)(x.len / PAGE_SIZE));
                back_sendable = false;
                apply_events_keep();
                st.back_sent++;
            }
            nev = 0;
            if (x.count != r) {
                observe();
                matches();
                FAIL("transfer: %ld pages, the shadow %ld (%s)", (long)r, (long)x.count, why);
            }
        } else {
            settle_prefix(x.grant ? "grant" : "map", (int)(x.len / PAGE_SIZE), xfer_model, &x);
        }
        check(x.grant ? "grant" : "map");
        if (r != -KM_ENOMEM || !xo.missing_set)
            return;
        if (wait)
            FAIL("transfer: -KM_ENOMEM, a page missing, where it waits");
        int mt = xo.missing_src ? a : b;
        bool restore = tasks[mt].as.nt_out && km_ks_type(xo.missing) == KMEM_NODETABLE && mmu_nt_out(&tasks[mt], xo.va);
        i64 k = kfault_for(mt, xo.missing, xo.va ? xo.va : x.dst);
        if (k != -KM_ERESTART && restore) {
            snap();
            bool re = nodetable_rebuild(&tasks[mt], xo.va, xo.va + PAGE_SIZE); /* (xfer_kfault: op->va) */
            check("node table rebuilt");
            if (re)
                k = -KM_ERESTART;
        }
        if (k != -KM_ERESTART)
            return;
    }
}

/* xfer_kfault's stand-in (the kmem_op's wait): the transfer stopped at a
 * page it changed nothing of yet.  The shadow takes the pages before it
 * (the page kmem_op->va names, if that prefix is what the kernel did; else
 * the first prefix that is, and no meddling), the input's operations of
 * others run, then the kernel page fault is raised as xfer_kfault raises
 * it.  0: the transfer goes on (the pages came); else its error. */
static i64 xfer_wait_hook(struct kmem_op *o)
{
    struct xfer_m *x = wx.x;
    if (kmem_op)
        FAIL("wait: the kmem_op still set while the transfer waits");
    if (!x || !o->missing_set)
        FAIL("wait: no transfer waits, or nothing missing");
    st.waits++;
    int np = (int)(x->len / PAGE_SIZE), p = -1;
    bool exact = false;
    observe();
    memcpy(wsaved, sh, sizeof sh);
    x->from = wx.from;
    if (o->va >= x->dst && o->va < x->dst + x->len && (int)((o->va - x->dst) / PAGE_SIZE) >= wx.from) {
        p = (int)((o->va - x->dst) / PAGE_SIZE);
        xfer_model(x, p);
        apply_events_keep();
        exact = matches();
        if (!exact)
            p = -1;
    }
    for (int back = 0; back < 2 && !exact && p < 0; back++)
        for (int i = wx.from; i <= np; i++) {
            memcpy(sh, wsaved, sizeof sh);
            back_sendable = back;
            xfer_model(x, i);
            back_sendable = false;
            apply_events_keep();
            if (matches()) {
                p = i;
                break;
            }
        }
    if (p < 0)
        FAIL("wait: no prefix of the transfer is what the kernel did (%s)", why);
    nev = 0;
    /* the rest is modelled from p: the pages before are in the shadow
     * (the model went on from the wait before, counting those again: a
     * map after a wait past its first page "sent" them twice; this
     * harness found it, seed kmem-wait-model-from) */
    wx.from = x->from = p;
    x->count0 = x->count;
    TR("      wait at page %d for %lx (%s)%s\n", p, (unsigned long)o->missing, o->missing_src ? "sender" : "receiver",
       exact ? "" : ", the page not known: no meddling");
    check("the transfer stopped to wait");
    int a = x->a, b = x->b;
    meddles_pending = exact ? byte() % 4 : 0;
    st.waits_meddled += meddles_pending != 0;
    int mt = o->missing_src ? a : b;
    bool restore = tasks[mt].as.nt_out && km_ks_type(o->missing) == KMEM_NODETABLE && mmu_nt_out(&tasks[mt], o->va);
    i64 k = kfault_for(mt, o->missing, o->va ? o->va : x->dst); /* (meddle_now: from its IPC) */
    meddles_pending = 0;
    if (wx.ended) { /* (xfer_kfault: a partner changed, -KM_ERESTART) */
        st.waits_ended++;
        snap();
        return -KM_ERESTART;
    }
    if (k != -KM_ERESTART && restore) {
        snap();
        bool re = nodetable_rebuild(&tasks[mt], o->va, o->va + PAGE_SIZE);
        check("node table rebuilt");
        if (re)
            k = -KM_ERESTART;
    }
    snap(); /* the rest of the transfer: lends as they are now */
    return k == -KM_ERESTART ? 0 : k;
}

/* The operations of others while the waiting transfer's kernel page
 * fault is with the kpager (kfault_raise's IPC), each checked. */
static void meddle_now(void)
{
    int n = meddles_pending;
    meddles_pending = 0;
    in_meddle = true;
    for (int i = 0; i < n && !wx.ended; i++)
        meddle(wx.x);
    in_meddle = false;
}

/* One operation of others while a transfer waits (x: it), from the input:
 * the kpager takes back a page it lent (of a kind: node page, edge page,
 * node table, page table, supply: the ones just lent among them); the
 * source page unmapped, granted away or lent (a kernel page fault whose
 * kpager answers with any of its pages); a mapping landing at the
 * destination, or the destination unmapped; a partner destroyed. */
static void revoke_kind(u8 kind, u8 i, u8 m);
static void unmap(int ti, u64 fpage, bool self);
static int pick(int ti, u8 i, bool derived);
static const u32 unmap_rights[8];
static void meddle(struct xfer_m *x)
{
    u8 what = byte() % 8, c = byte();
    int a = x->a, b = x->b, other = c % NT;
    u64 sva = x->src + (u64)wx.from * PAGE_SIZE, dva = x->dst + (u64)wx.from * PAGE_SIZE;
    if (c & 0x80) { /* a page further on */
        sva += (u64)(c & 7) * PAGE_SIZE;
        dva += (u64)(c & 7) * PAGE_SIZE;
        if (sva >= x->src + x->len) {
            sva = x->src;
            dva = x->dst;
        }
    }
    st.meddles[what]++;
    TR("      meddle %d:\n", what);
    switch (what) {
    case 0:
    case 1: { /* the kpager takes back a page it lent */
        u8 kind = byte(), i = byte(), m = byte();
        revoke_kind(kind, i, m);
        break;
    }
    case 2: { /* the source unmapped (rights of the input's) */
        u8 m = byte();
        int log2 = 12 + m % 3;
        unmap(a, KM_FPAGE(ALIGN_DOWN(sva, 1ull << log2), log2, unmap_rights[(m >> 3) & 7]), m & 0x80);
        break;
    }
    case 3: /* the source granted (or mapped) away */
        xfer(a, other, KM_MAPITEM(0, c & 1 ? 0 : 1), KM_FPAGE(sva, 12, KM_RWX), KM_FPAGE(page_va(byte()), 12, 0));
        break;
    case 4: { /* pages lent: a kernel page fault for a task (the kpager's answer: the source among them maybe) */
        int t = 1 + c % (NT - 1);
        kfault_for(t, KM_KS_MN_OF(tasks[t].mn_next), page_va(byte()));
        break;
    }
    case 5: { /* a mapping lands at the destination */
        int g = pick(other, byte(), false);
        xfer(other, b, KM_MAPITEM(0, c & 1), KM_FPAGE(g >= 0 ? va_of(g) : page_va(c), 12, KM_RWX), KM_FPAGE(dva, 12, 0));
        break;
    }
    case 6: { /* the destination unmapped */
        u8 m = byte();
        int log2 = 12 + m % 3;
        unmap(b, KM_FPAGE(ALIGN_DOWN(dva, 1ull << log2), log2, unmap_rights[(m >> 3) & 7]), m & 0x80);
        break;
    }
    case 7: { /* a partner destroyed: the wait ends the transfer (xfer_kfault) */
        int d = c & 1 ? a : b;
        TR("    destroy task %d (while a transfer waits)\n", d + 1);
        snap();
        task_gone(d);
        for (int g = d * NKEY; g < (d + 1) * NKEY; g++)
            sh_remove_tree(g, g);
        check("destroy while a transfer waits");
        task_new(d);
        snap();
        check("recreate");
        wx.ended = true;
        break;
    }
    }
}

/* An unmap by task ti, as syscall.c's sys_unmap runs it: with node tables
 * or nodes out, under a kmem_op, redone after a kernel page fault; after
 * a few tries (syscall.c: 64), without (from the pool). */
static void unmap(int ti, u64 fpage, bool self)
{
    struct task *t = &tasks[ti];
    struct unmap_m u = {.t = ti, .base = KM_FPAGE_BASE(fpage), .rights = KM_FPAGE_RIGHTS(fpage), .self = self};
    u.end = u.base + (1ull << KM_FPAGE_LOG2(fpage));
    int npages = 0;
    for (u64 va = u.base; va < u.end; va += PAGE_SIZE)
        npages += key_of(ti, va) >= 0 && sh[key_of(ti, va)].on;
    TR("    unmap task %d %lx (%lu pages) %s%s\n", ti + 1, (unsigned long)u.base,
       (unsigned long)((u.end - u.base) / PAGE_SIZE), r_name(u.rights), self ? " self" : "");
    bool kp = ti != KP && (t->as.nt_out | t->mn_out);
    if (mapdb_nodes_out) {
        st.unmap_out++;
        st.unmap_partial_out += !(u.rights & KM_R);
    }
    st.dry_ops += nhoard != 0;
    for (int tries = 0;; tries++) {
        snap();
        op = (struct kmem_op){.task = t};
        kmem_op = kp && tries < 3 ? &op : NULL;
        u.dry = nhoard != 0 || (kmem_op && REDUCE_IN_OP_MAY_REMOVE);
        i64 r = mapdb_unmap(t, fpage, self);
        bool in_op = kmem_op != NULL;
        kmem_op = NULL;
        TR("      -> %ld\n", (long)r);
        if (r == -KM_EINVAL)
            FAIL("unmap: -KM_EINVAL");
        /* (what revocation removed first: the shadow's choice between a
         * reduction and a removal looks at what is left) */
        if (r >= 0) {
            apply_events();
            observe();
            unmap_model(&u, npages);
        } else {
            if (!in_op)
                FAIL("unmap: %ld without a kmem_op", (long)r);
            apply_events();
            settle_prefix("unmap", npages, unmap_model, &u);
        }
        check("unmap");
        if (r != -KM_ENOMEM || !op.missing_set)
            return;
        if (kfault_for(ti, op.missing, op.va) != -KM_ERESTART)
            kp = false;
    }
}

/* The i-th (mod their number) of task ti's mappings that pass filter, or -1. */
static HOT int pick(int ti, u8 i, bool derived)
{
    int n = 0, first = ti < 0 ? 0 : ti * NKEY, last = ti < 0 ? NG : (ti + 1) * NKEY;
    for (int g = first; g < last; g++)
        n += sh[g].on && (!derived || sh[g].parent >= 0);
    if (!n)
        return -1;
    int k = i % n;
    for (int g = first; g < last; g++)
        if (sh[g].on && (!derived || sh[g].parent >= 0) && k-- == 0)
            return g;
    return -1;
}

static const u32 unmap_rights[8] = {KM_RWX, KM_RWX, KM_R, KM_W, KM_W, KM_X, KM_W | KM_X, KM_R | KM_W};

enum {
    OP_ROOT,
    OP_ROOTS,
    OP_XFER_RAND,
    OP_XFER,
    OP_GRANT_UP,
    OP_UNMAP,
    OP_UNMAP_RAND,
    OP_REVOKE,
    OP_REVOKE_RAND,
    OP_RELEASE,
    OP_DESTROY,
    OP_HOARD,
    OP_UNHOARD,
    OP_KFAULT,
};
static const u8 op_of[32] = {
    OP_ROOT,   OP_ROOT,   OP_ROOTS,  OP_ROOTS,  OP_XFER_RAND, OP_DESTROY,   OP_XFER,        OP_XFER,
    OP_XFER,   OP_XFER,   OP_XFER,   OP_GRANT_UP, OP_GRANT_UP, OP_UNMAP,  OP_UNMAP,       OP_UNMAP,
    OP_UNMAP,  OP_UNMAP,  OP_UNMAP_RAND, OP_REVOKE, OP_REVOKE, OP_REVOKE,  OP_REVOKE,      OP_REVOKE,
    OP_REVOKE, OP_REVOKE_RAND, OP_RELEASE, OP_DESTROY, OP_HOARD, OP_UNHOARD, OP_KFAULT, OP_KFAULT,
};

/* What the runs reached (FUZZ_STATS=1: printed at exit, for tuning the mix). */
static void stats_print(void)
{
    static const char *names[] = {"root",   "roots",       "xfer-rand", "xfer",    "grant-up", "unmap",  "unmap-rand",
                                  "revoke", "revoke-rand", "release",   "destroy", "hoard",    "unhoard", "kfault"};
    for (int i = 0; i <= OP_KFAULT; i++)
        fprintf(stderr, "op %-12s %lu\n", names[i], (unsigned long)op_count[i]);
    fprintf(stderr,
            "revoked: node pages %lu, edge pages %lu, node tables %lu, other %lu\n"
            "checks %lu, with nodes out %lu, with node tables out %lu\n"
            "unmaps with nodes out %lu (partial rights %lu), transfers with nodes out %lu, destroys of a task "
            "with nodes out %lu, lends with nodes out %lu, ops with the pool dry %lu, prefixes settled %lu, grants "
            "back onto an ancestor done %lu, checks with nodes detached (edges out) %lu\n",
            (unsigned long)st.revoke_kind[0], (unsigned long)st.revoke_kind[1], (unsigned long)st.revoke_kind[2],
            (unsigned long)st.revoke_kind[3], (unsigned long)st.checks, (unsigned long)st.checks_out,
            (unsigned long)st.checks_nt_out, (unsigned long)st.unmap_out, (unsigned long)st.unmap_partial_out,
            (unsigned long)st.xfer_out, (unsigned long)st.destroy_out, (unsigned long)st.lend_out,
            (unsigned long)st.dry_ops, (unsigned long)st.prefix, (unsigned long)st.grant_up_done,
            (unsigned long)st.checks_detached);
    fprintf(stderr,
            "transfer waits in place %lu (meddled with %lu, ended by a partner destroyed %lu); meddles: revoke %lu, "
            "source unmapped %lu, source given away %lu, pages lent %lu, mapping at the destination %lu, "
            "destination unmapped %lu, partner destroyed %lu; frames given back and sent in one transfer "
            "(the model's second try) %lu\n",
            (unsigned long)st.waits, (unsigned long)st.waits_meddled, (unsigned long)st.waits_ended,
            (unsigned long)(st.meddles[0] + st.meddles[1]), (unsigned long)st.meddles[2],
            (unsigned long)st.meddles[3], (unsigned long)st.meddles[4], (unsigned long)st.meddles[5],
            (unsigned long)st.meddles[6], (unsigned long)st.meddles[7], (unsigned long)st.back_sent);
    fprintf(stderr,
            "kmem_op_wait: early -KM_ENOMEM with no op %lu, an op without .wait %lu, nothing missing %lu; "
            "cold kpager answers (the first request only) %lu\n",
            (unsigned long)st.wait_early[0], (unsigned long)st.wait_early[1], (unsigned long)st.wait_early[2],
            (unsigned long)st.cold);
    for (int i = 0; i < nwait_pcs; i++)
        fprintf(stderr,
                "kmem_op_wait: waits called from %s: for the source's node table %lu, the destination's "
                "node table %lu, a node page %lu, another page %lu\n",
                wait_pcs[i].site, (unsigned long)wait_pcs[i].n[0], (unsigned long)wait_pcs[i].n[1],
                (unsigned long)wait_pcs[i].n[2], (unsigned long)wait_pcs[i].n[3]);
}

/* The kpager takes back a page it lent, of a kind (kind % 5: node page,
 * edge page, node table, other, any). */
static void revoke_kind(u8 kind, u8 i, u8 m)
{
    snap();
    int c[NKEY], n = 0;
    for (int pass = 0; pass < 2 && !n; pass++)
        for (int j = 0; j < nlent; j++) {
            u64 ks = lent_kobj[j] & ~0xfffull;
            int k = ks >= KM_KS_MN && ks < KM_KS_ME ? 0 : ks >= KM_KS_ME && ks < KM_KS_TCB ? 1
                                                   : ks >= KM_KS_NT && ks < KM_KS_MN    ? 2
                                                                                         : 3;
            if (pass || k == kind % 5)
                c[n++] = j;
        }
    if (!n || !tasks[KP].number)
        return;
    int j = c[i % n];
    {
        u64 ks = lent_kobj[j] & ~0xfffull;
        st.revoke_kind[ks >= KM_KS_MN && ks < KM_KS_ME ? 0 : ks >= KM_KS_ME && ks < KM_KS_TCB ? 1
                      : ks >= KM_KS_NT && ks < KM_KS_MN                                    ? 2
                                                                                           : 3]++;
    }
    TR("    revoke %lx (kspace %lx)\n", (unsigned long)lent_va[j], (unsigned long)lent_kobj[j]);
    int log2 = m & 0x40 ? 12 + m % 4 : 12;
    unmap(KP, KM_FPAGE(ALIGN_DOWN(lent_va[j], 1ull << log2), log2, m & 0x20 ? KM_W : KM_RWX), m & 0x80);
}

/* A transfer waits in place (a fault reply's): the op byte's top bits all set. */
#define WAITS(o) (((o) & 0xe0) == 0xe0)

static void step(void)
{
    u8 o = byte();
    int a = byte() % NT, b = byte() % NT;
    int what = op_of[o % 32];
    op_count[what]++;
    switch (what) {
    case OP_ROOT: {
        u64 va = page_va(byte());
        root_at(a, va, KM_R | (byte() & 3), true);
        break;
    }
    case OP_ROOTS: {
        u8 s = byte(), n = 1 + byte() % 64, r = byte();
        for (int i = 0; i < n && (s & 63) + i < PPR; i++)
            root_at(a, page_va(s) + (u64)i * PAGE_SIZE, KM_R | ((r >> (i % 4 * 2)) & 3),
                    i + 1 == n || (s & 63) + i + 1 == PPR);
        break;
    }
    case OP_XFER_RAND:
    case OP_XFER: {
        u8 s = byte(), d = byte(), m = byte(), w = byte();
        int log2 = 12 + m % 7;
        u64 sva = page_va(s);
        if (what == OP_XFER) { /* from a page a has */
            int g = pick(a, s, false);
            if (g >= 0)
                sva = va_of(g);
        }
        u64 src = ALIGN_DOWN(sva, 1ull << log2);
        int wlog2 = w & 0x80 ? 12 + w % 7 : log2;
        u64 dst = ALIGN_DOWN(page_va(d), 1ull << wlog2);
        u32 rights = m & 0x80 ? (m >> 4) & 7 : KM_RWX;
        u64 hot = w & 0x80 ? (u64)(w & 0x3f) << 12 : 0;
        xfer_how(a, b, KM_MAPITEM(hot, m & 0x8), KM_FPAGE(src, log2, rights), KM_FPAGE(dst, wlog2, 0), WAITS(o));
        break;
    }
    case OP_GRANT_UP: { /* a derived mapping granted back onto an ancestor */
        int g = pick(-1, byte(), true);
        u8 up = byte();
        if (g < 0)
            break;
        int anc = sh[g].parent;
        for (int i = up % 4; i > 0 && sh[anc].parent >= 0; i--)
            anc = sh[anc].parent;
        xfer_how(task_of(g), task_of(anc), KM_MAPITEM(0, 1), KM_FPAGE(va_of(g), 12, up & 0x80 ? KM_R : KM_RWX),
                 KM_FPAGE(va_of(anc), 12, 0), WAITS(o));
        st.grant_up_done += last_xfer > 0;
        break;
    }
    case OP_UNMAP: { /* around one of a's mappings */
        int g = pick(a, byte(), false);
        u8 m = byte();
        if (g < 0)
            break;
        int log2 = 12 + m % 7;
        unmap(a, KM_FPAGE(ALIGN_DOWN(va_of(g), 1ull << log2), log2, unmap_rights[(m >> 3) & 7]), m & 0x80);
        break;
    }
    case OP_UNMAP_RAND: {
        u8 m = byte();
        int log2 = 12 + m % 7;
        u64 va = ALIGN_DOWN(page_va(byte()), 1ull << log2);
        unmap(a, KM_FPAGE(va, log2, (m >> 3) & 7), m & 0x80);
        break;
    }
    case OP_REVOKE: { /* the kpager takes back a page it lent, of a kind */
        u8 kind = byte(), i = byte(), m = byte();
        revoke_kind(kind, i, m);
        break;
    }
    case OP_REVOKE_RAND: {
        u8 m = byte();
        int log2 = 12 + m % 7;
        u64 va = ALIGN_DOWN(page_va(byte()), 1ull << log2);
        unmap(KP, KM_FPAGE(va, log2, (m >> 3) & 7), m & 0x80);
        break;
    }
    case OP_RELEASE:
        snap();
        kmem_supply_release(&tasks[a]);
        TR("    supply release task %d\n", a + 1);
        check("supply release");
        break;
    case OP_DESTROY: /* a task goes (the kpager too) and a new one takes its slot */
        TR("    destroy task %d (%lu nodes out, %lu node tables out)\n", a + 1, (unsigned long)tasks[a].mn_out,
           (unsigned long)tasks[a].as.nt_out);
        st.destroy_out += tasks[a].mn_out != 0 || (a == KP && mapdb_nodes_out);
        snap();
        task_gone(a);
        for (int g = a * NKEY; g < (a + 1) * NKEY; g++)
            sh_remove_tree(g, g);
        check("destroy");
        task_new(a);
        snap();
        check("recreate");
        break;
    case OP_HOARD: {
        static const u64 keep[4] = {0, 0, 1, 3};
        hoard_take(keep[byte() % 4]);
        TR("    hoard: %d frames held, %lu free\n", nhoard, (unsigned long)frame_free_count());
        break;
    }
    case OP_UNHOARD:
        hoard_give(byte() & 1 ? nhoard : nhoard / 2);
        TR("    unhoard: %d frames held\n", nhoard);
        break;
    case OP_KFAULT: { /* the kpager asked for a page of task a's */
        if (a == KP)
            a = 1 + b % (NT - 1);
        struct task *t = &tasks[a];
        u64 missing = KM_KS_MN_OF(t->mn_next), va = page_va(byte());
        u64 r = mmu_next_out(t, 0, USER_TOP);
        if (t->as.nt_out && r < USER_TOP && (b & 1)) {
            missing = KM_KS_NT_OF(r);
            va = r;
        }
        TR("    kfault task %d for %lx\n", a + 1, (unsigned long)missing);
        kfault_for(a, missing, va);
        break;
    }
    }
}

/* A world to begin with (unless the input's first byte is >= 192): the
 * kpager holds 48 pages to lend and 16 it maps on; task 2 holds 176
 * mappings (two node pages), roots and mappings derived from the
 * kpager's, task 3's and its own; task 3 holds 48, derived from task 2's,
 * and gives 48 back; trees three deep across all three tasks.  The
 * kpager answers kernel page faults by itself meanwhile. */
static void prelude(void)
{
    auto_kp = true;
    TR("prelude:\n");
    for (int i = 0; i < PPR; i++)
        root_at(KP, region[0] + (u64)i * PAGE_SIZE, i < 48 ? KM_R | KM_W : KM_RWX, i + 1 == PPR);
    for (int i = 0; i < 32; i++)
        root_at(1, region[1] + (u64)i * PAGE_SIZE, KM_RWX, i == 31);
    for (int i = 16; i < 48; i++)
        root_at(1, region[0] + (u64)i * PAGE_SIZE, i & 1 ? KM_RWX : KM_R | KM_W, i == 47);
    xfer(KP, 1, KM_MAPITEM(0, 0), KM_FPAGE(region[0] + 48 * PAGE_SIZE, 16, KM_RWX),
         KM_FPAGE(region[1] + 32 * PAGE_SIZE, 16, 0));
    xfer(1, 2, KM_MAPITEM(0, 0), KM_FPAGE(region[1], 18, KM_RWX), KM_FPAGE(region[2], 18, 0));
    xfer(2, 1, KM_MAPITEM(0, 0), KM_FPAGE(region[2], 18, KM_RWX), KM_FPAGE(region[3], 18, 0));
    xfer(1, 1, KM_MAPITEM(0, 0), KM_FPAGE(region[1], 16, KM_RWX), KM_FPAGE(region[0], 16, 0));
    auto_kp = false;
    snap();
    check("prelude");
}

static bool all_free(void)
{
    for (int g = 0; g < NG; g++)
        if (sh[g].on)
            return false;
    return true;
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
        tracing = getenv("FUZZ_TRACE") != NULL;
        stats_on = getenv("FUZZ_STATS") != NULL;
        const char *f = getenv("FUZZ_FIND");
        if (f && !strncmp(f, "early:", 6))
            find_line = -1, find_kind = atoi(f + 6);
        else if (f && strchr(f, ':'))
            find_line = atoi(f), find_kind = atoi(strchr(f, ':') + 1);
        if (stats_on)
            atexit(stats_print);
    }
    memset(host_phys_base, 0, ARENA);
    memset(bitmap, 0, frame_bitmap_bytes(ARENA));
    frame_init(ARENA, bitmap);
    frame_add_free(PAGE_SIZE, ARENA - PAGE_SIZE);
    u64 free0 = frame_free_count();
    memset(tasks, 0, sizeof tasks);
    memset(sh, 0, sizeof sh);
    ntouched = 2 * NG + 1; /* (the first snap resets every key) */
    snap_light();
    nhoard = nback = nev = 0;
    ev_overflow = false;
    for (int i = 0; i < NT; i++)
        task_new(i);
    threads();
    in = data;
    left = size;
    if (byte() < 192)
        prelude();
    for (int i = 0; i < STEPS && left; i++) {
        TR("step %d: %lu frames free, %lu pool pages used, %lu nodes out\n", i, (unsigned long)frame_free_count(),
           (unsigned long)kmem_pool_used(), (unsigned long)mapdb_nodes_out);
        step();
    }
    /* clients first, then the kpager: everything comes back */
    for (int i = NT; i-- > 0;) {
        snap();
        task_gone(i);
        for (int g = i * NKEY; g < (i + 1) * NKEY; g++)
            sh_remove_tree(g, g);
        check("teardown");
    }
    if (!all_free())
        FAIL("teardown: the shadow keeps mappings");
    hoard_give(nhoard);
    if (kmem_pool_used() || frame_free_count() != free0)
        FAIL("teardown: %lu pool pages, %lu frames not free", (unsigned long)kmem_pool_used(),
             (unsigned long)(free0 - frame_free_count()));
    return 0;
}
