/* Threads: the table, creation, deletion, UTCBs (see kernel/thread.h). */
#include <arch/context.h>
#include <arch/layout.h>
#include <arch/mmu.h>
#include <kernel/ipc.h>
#include <kernel/klock.h>
#include <kernel/kmem.h>
#include <kernel/mapdb.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/thread.h>

struct thread thread_table[THREAD_MAX];
static u32 next_slot = 1;

static struct thread *slot_alloc(void)
{
    for (u32 i = 0; i < THREAD_MAX - 1; i++) {
        u32 n = 1 + (next_slot - 1 + i) % (THREAD_MAX - 1);
        struct thread *t = &thread_table[n];
        if (t->state == TS_FREE) {
            u32 version = t->version + 1;
            memset(t, 0, sizeof *t);
            t->number = n;
            t->version = version ? version : 1;
            next_slot = n + 1;
            return t;
        }
    }
    return NULL;
}

static bool ext_alloc(struct thread *t)
{
    u64 p = kmem_pages_alloc(t->task, KMEM_TCB, THREAD_EXT_PAGES);
    if (!p)
        return false;
    t->ext = phys_to_virt(p);
    return true;
}

/* One UTCB page per thread, in the task's UTCB area, outside the mapping
 * database (the kernel owns it; user level cannot map it on). */
static bool utcb_alloc(struct thread *t)
{
    struct task *task = t->task;
    u32 slot = TASK_MAX_THREADS;
    for (u32 i = 0; i < TASK_MAX_THREADS; i++)
        if (!(task->utcb_slots[i / 64] >> (i % 64) & 1)) {
            slot = i;
            break;
        }
    if (slot == TASK_MAX_THREADS)
        return false;
    u64 p = kmem_pages_alloc(task, KMEM_UTCB, 1); /* pinned: user-visible */
    if (!p)
        return false;
    u64 va = KM_UTCB_AREA + (u64)slot * PAGE_SIZE;
    if (mmu_map_fixed(task, va, p, KM_R | KM_W)) {
        kmem_page_free(task, KMEM_UTCB, p);
        return false;
    }
    task->utcb_slots[slot / 64] |= 1ull << (slot % 64);
    t->utcb_slot = slot;
    t->ext->utcb_uva = va;
    t->ext->utcb_phys = p;
    struct km_utcb *u = phys_to_virt(p);
    u->self = va;
    u->tid = thread_id(t);
    u->task = task_id(task);
    return true;
}

static void utcb_free(struct thread *t)
{
    struct task *task = t->task;
    mmu_unmap_fixed(task, t->ext->utcb_uva);
    kmem_page_free(task, KMEM_UTCB, t->ext->utcb_phys);
    task->utcb_slots[t->utcb_slot / 64] &= ~(1ull << (t->utcb_slot % 64));
}

struct thread *thread_create(struct task *task, km_tid pager, u8 prio, u16 cpu)
{
    struct thread *t = slot_alloc();
    if (!t)
        return NULL;
    t->task = task;
    if (!ext_alloc(t))
        goto fail;
    if (!utcb_alloc(t)) {
        kmem_pages_free(task, KMEM_TCB, virt_to_phys(t->ext), THREAD_EXT_PAGES);
        goto fail;
    }
    t->pager = pager;
    t->prio = prio;
    t->cpu = cpu;
    t->state = TS_INACTIVE;
    task->nthreads++;
    return t;
fail:
    t->state = TS_FREE;
    return NULL;
}

struct thread *thread_create_kernel(void (*fn)(void *), void *arg, u8 prio, u16 cpu)
{
    struct thread *t = slot_alloc();
    if (!t || !ext_alloc(t)) {
        if (t)
            t->state = TS_FREE;
        return NULL;
    }
    t->flags = TF_KERNEL;
    t->prio = prio;
    t->cpu = cpu;
    t->state = TS_INACTIVE;
    arch_thread_init_kernel(t, fn, arg);
    return t;
}

struct thread *thread_adopt_boot(u16 cpu, u8 prio, u32 flags)
{
    struct thread *t = slot_alloc();
    if (!t || !ext_alloc(t))
        panic("no memory for cpu %u's boot thread", cpu);
    t->flags = TF_KERNEL | flags;
    t->prio = prio;
    t->cpu = cpu;
    t->state = TS_RUNNABLE;
    return t;
}

void thread_set_user_regs(struct thread *t, u64 ip, u64 sp)
{
    if (t->state == TS_INACTIVE)
        arch_thread_init_user(t, ip, sp);
    else
        arch_uframe_set(t, ip, sp);
}

void thread_get_user_regs(const struct thread *t, u64 *ip, u64 *sp)
{
    arch_uframe_get(t, ip, sp);
}

void thread_delete(struct thread *t)
{
    ipc_cancel(t); /* out of IPC queues; partners get -KM_ECANCELED */
    sched_dequeue(t);
    t->state = TS_DEAD;
    if (!(t->flags & TF_ON_CPU))
        thread_reap(t);
    else if (t != sched_current())
        sched_kick(t); /* running elsewhere: make that CPU switch away */
    /* an on-CPU thread is freed by its CPU once it has switched away */
}

u64 thread_kstack_peak; /* most kernel stack a reaped user thread used, bytes */

/* The stack's high-water mark: its pages were zeroed when allocated and
 * the stack grows down towards the header, so the lowest non-zero word
 * above the header is as deep as it ever went. */
static void kstack_measure(const struct thread *t)
{
    const u64 *w = (const u64 *)(t->ext + 1);
    const u64 *top = (const u64 *)thread_kstack_top(t);
    while (w < top && *w == 0)
        w++;
    u64 used = (u64)((const char *)top - (const char *)w);
    if (used > thread_kstack_peak)
        thread_kstack_peak = used;
}

void thread_reap(struct thread *t)
{
    if (t->task)
        kstack_measure(t);
    if (t->task)
        utcb_free(t);
    kmem_pages_free(t->task, KMEM_TCB, virt_to_phys(t->ext), THREAD_EXT_PAGES);
    struct task *task = t->task;
    t->ext = NULL;
    t->task = NULL;
    t->state = TS_FREE; /* the version stays: the next user bumps it */
    if (task)
        task_thread_gone(task);
}

/* Called by a new user thread on its first switch (switch.S): the kernel
 * lock came with the switch; user mode must not hold it. */
void thread_first_run(void)
{
    sched_reap(); /* the thread we were switched from may have died */
    klock_release();
}
