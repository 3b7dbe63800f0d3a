/* libFuzzer harness of the node-table import check (kernel/nodetable.c,
 * the format at its top): the input edits the export of a real node table
 * before it is imported, as a kpager may.
 *
 * The world (made once): task 1 with about 200 mappings scattered over one
 * 2 MiB region R, their nodes spread over several node pages by mappings
 * made in between in other regions, plus task 2 with mappings of its own
 * (nodes of another task).  Each input: R's table is exported, the input's
 * edits are applied to the page (an edit: a slot, then one of: zero it,
 * copy another slot's entry, add a small delta, name task 2's node page,
 * a raw word), the page is imported.
 *
 * Checked on every input: the table imported is exactly the one exported
 * (every slot points to the node it pointed to, whatever the page held);
 * the kpager's entries were taken (import returns true) exactly when every
 * slot of a page in use still held its own entry; mapdb_check passes.
 *
 * Build: make fuzz-nodetable (FUZZ_TIME=seconds); a brief deterministic run
 * is part of make test (tests/sh/fuzz_kmem.sh). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <abi/kspace.h>
#include <arch/current.h>
#include <arch/layout.h>
#include <arch/machine.h>
#include <arch/mmu.h>
#include <kernel/frame.h>
#include <kernel/kmem.h>
#include <kernel/mapdb.h>
#include <kernel/mnode.h>
#include <kernel/nodetable.h>
#include <kernel/options.h>
#include <kernel/task.h>
#include <kernel/tcb_page.h>

/* ---- host stand-ins ------------------------------------------------------ */

#define FUZZ_NAME "fuzz_nodetable"
#include "fuzz_host.h"

enum kmem_let tcb_page_revoked(struct task *t, u64 ksaddr, u64 phys, bool orphan)
{
    (void)t, (void)ksaddr, (void)phys, (void)orphan;
    abort(); /* nothing is lent here */
}

/* ---- the world ------------------------------------------------------------- */

#define ARENA (8ull << 20)
#define R 0x40000000ull /* the region whose table is exported */
#define OTHER 0x80000000ull

static struct task tasks[2];
struct task *task_by_number(u32 n) { return n >= 1 && n <= 2 && tasks[n - 1].number ? &tasks[n - 1] : NULL; }
struct task *task_lookup(km_taskid id)
{
    struct task *t = task_by_number(KM_ID_NUMBER(id));
    return t && t->version == KM_ID_VERSION(id) ? t : NULL;
}

static void *before[MMU_LEAF_PAGES]; /* R's table as made */
static u64 nt_phys, other_ks;         /* R's node table; a node page of task 2 */

static void map(struct task *t, u64 va)
{
    u64 f = frame_alloc();
    if (!f || mapdb_map_root(t, va, f, KM_R | KM_W, true))
        FAIL("world: mapping %lx", (unsigned long)va);
}

static void world(void)
{
    host_phys_base = aligned_alloc(PAGE_SIZE, ARENA);
    memset(host_phys_base, 0, ARENA);
    frame_init(ARENA, calloc(1, frame_bitmap_bytes(ARENA)));
    frame_add_free(PAGE_SIZE, ARENA - PAGE_SIZE);
    opt.kmem = KMEM_MODE_POOL;
    for (int i = 0; i < 2; i++) {
        tasks[i].number = (u32)i + 1;
        tasks[i].version = 1;
        if (!aspace_create(&tasks[i]) || mapdb_task_init(&tasks[i]))
            FAIL("world: task");
    }
    u64 x = 12345, o = 0;
    for (u32 i = 0; i < MMU_LEAF_PAGES; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        if ((x >> 60) < 6) /* 6 in 16: about 190 pages */
            map(&tasks[0], R + (u64)i * PAGE_SIZE);
        if ((x >> 56 & 15) < 5) /* nodes elsewhere in between: R's spread over pages */
            map(&tasks[0], OTHER + (o++) * PAGE_SIZE);
    }
    for (u64 i = 0; i < 130; i++)
        map(&tasks[1], R + i * PAGE_SIZE);
    other_ks = ((struct mnode_page *)tasks[1].mapdb)->ks;
    struct mmu_leaf l;
    if (!mmu_leaf_of(&tasks[0], R, &l) || !l.nt)
        FAIL("world: no node table");
    nt_phys = l.nt;
    memcpy(before, phys_to_virt(nt_phys), sizeof before);
    const char *err = mapdb_check(&tasks[0]);
    if (err)
        FAIL("world: %s", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool once;
    if (!once) {
        once = true;
        world();
    }
    struct task *t = &tasks[0];
    if (!nodetable_export(t, KM_KS_NT_OF(R), nt_phys))
        FAIL("export refused");
    u64 *e = phys_to_virt(nt_phys), exported[MMU_LEAF_PAGES];
    memcpy(exported, e, sizeof exported);
    for (size_t i = 0; i + 3 <= size; i += 3) {
        u32 slot = (data[i] | (u32)data[i + 1] << 8) % MMU_LEAF_PAGES;
        u8 v = data[i + 2];
        switch (v & 7) {
        case 0: e[slot] = 0; break;
        case 1: e[slot] = exported[v >> 3 ^ slot]; break;           /* another slot's name */
        case 2: e[slot] += (u64)(v >> 3) - 16; break;               /* near it */
        case 3: e[slot] = other_ks + (e[slot] & 0xfff); break;      /* task 2's node page */
        case 4: e[slot] = (u64)(uptr)before[(v >> 3) % MMU_LEAF_PAGES]; break; /* a kernel pointer */
        case 5: e[slot] ^= 1ull << (v >> 3 & 63); break;            /* one bit */
        case 6: e[slot] = KM_KS_MN_OF(v >> 3) + 48 + 32 * (u64)(slot % 126); break;
        default: { /* a raw word from the input */
            u64 w = 0;
            for (size_t k = 0; k < 8 && i + 3 + k < size; k++)
                w = w << 8 | data[i + 3 + k];
            e[slot] = w;
            i += 8;
        }
        }
    }
    bool same = true;
    for (u32 i = 0; i < MMU_LEAF_PAGES; i++)
        same &= !before[i] || e[i] == exported[i];
    struct mmu_leaf l;
    if (!mmu_leaf_of(t, R, &l) || l.nt != MMU_NT_OUT)
        FAIL("the table is not out after its export");
    bool fast = nodetable_import(t, R, &l, nt_phys);
    if (fast != same)
        FAIL("import took the kpager's entries: %d, every page in use named right: %d", fast, same);
    if (memcmp(phys_to_virt(nt_phys), before, sizeof before))
        FAIL("the table imported is not the one exported");
    const char *err = mapdb_check(t);
    if (err)
        FAIL("after the import: %s", err);
    return 0;
}
