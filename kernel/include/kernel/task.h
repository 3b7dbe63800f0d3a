/* Tasks: address spaces and resource principals.
 *
 * A task owns an address space (arch page tables plus the mapping
 * database's node tables), its threads, and every kernel page used on its
 * behalf (kmem).  Tasks are created by tasks (sys_task_create) and owned by
 * their creator; deleting a task deletes the tasks it owns, its threads and
 * its mappings (with everything derived from them).
 *
 * Locking: all fields are protected by the kernel lock.
 */
#ifndef KERNEL_TASK_H
#define KERNEL_TASK_H

#include <abi/l4.h>
#include <arch/mmu.h>
#include <kernel/kmem.h>
#include <kernel/types.h>

#define TASK_MAX 256        /* task table slots (number 0 unused) */
#define TASK_MAX_THREADS 1024 /* threads per task: one UTCB page each */

struct thread;

struct task {
    u32 number;          /* slot in the task table, >= 1 */
    u32 version;         /* bumped on each reuse of the slot; 0 = free */
    struct aspace as;    /* page tables (arch) */
    struct task *owner;  /* creator; NULL for tasks the kernel started */
    u32 nthreads;        /* threads not yet reaped (their pages still held) */
    u32 flags;           /* TASK_F_* */
    u64 utcb_slots[TASK_MAX_THREADS / 64]; /* bitmap of UTCB pages in use */
    struct kmem_account kmem;
    struct kmem_supply supply[KMEM_SUPPLY]; /* kpager pages not used yet */
    u32 nsupply;         /* supply entries in use: [0, nsupply) */
    u64 mn_next;         /* kspace index of the next mapping-node page */
    void *mapdb;         /* the mapping database's node pages (kernel/mapdb.c) */
    void *mapdb_edges;   /* ... and edge pages */
    u64 mn_slots;        /* slots in use in them */
    void *mn_kept[2];    /* the node page, edge page kept when it emptied, or NULL */
    u64 mn_out;          /* its nodes paged out (kernel/mapdb_out.c) */
};

#define TASK_F_SIGMA0 0x1 /* owns all free memory (root mappings) */
#define TASK_F_PROGRAM 0x2 /* a boot program started by the kernel */
#define TASK_F_DYING 0x4   /* deleted; destroyed when its last thread is reaped */

/* A new empty task owned by `owner` (NULL: the kernel).  NULL when memory
 * or table slots are short. */
struct task *task_create(struct task *owner);
/* Deletes t, the tasks it owns (recursively), their threads and mappings. */
void task_delete(struct task *t);
/* The live task named by id, or NULL (nil, out of range, stale). */
struct task *task_lookup(km_taskid id);
/* The task in table slot n, live or dying (not yet destroyed), or NULL. */
struct task *task_by_number(u32 n);
static inline km_taskid task_id(const struct task *t) { return KM_ID(t->number, t->version); }
/* false once t has been destroyed (its slot is free). */
static inline bool task_alive(const struct task *t) { return t->number != 0; }
/* A thread of t was reaped: destroys a dying t when it was the last. */
void task_thread_gone(struct task *t);
/* true when `a` is t or owns t (directly or through its owned tasks). */
bool task_controls(const struct task *a, const struct task *t);

#endif
