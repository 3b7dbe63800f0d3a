/* Threads: the table, creation, deletion, UTCBs (see kernel/thread.h). */
#include <abi/kspace.h>
#include <abi/syscall.h>
#include <arch/context.h>
#include <arch/layout.h>
#include <arch/mmu.h>
#include <kernel/ipc.h>
#include <kernel/kfault.h>
#include <kernel/klock.h>
#include <kernel/kmem.h>
#include <kernel/options.h>
#include <kernel/mapdb.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/tcb_page.h>
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

/* TCB memory of a user thread: from the pool, or (in a kmem_op for its
 * task: the creator has a kpager) the pages the kpager supplied for the
 * thread's kspace addresses, both or none. */
static bool user_pages_alloc(struct thread *t, u64 *ext, u64 *utcb)
{
    u64 ks[2] = {KM_KS_TCB_OF(t->number), KM_KS_UTCB_OF(t->number)};
    if (kmem_op && kmem_op->task == t->task && !kmem_op_available(t->task, ks, 2))
        return false;
    *ext = kmem_page_alloc(t->task, KMEM_TCB, ks[0]);
    if (!*ext)
        return false;
    *utcb = kmem_page_alloc(t->task, KMEM_UTCB, ks[1]);
    if (!*utcb) {
        kmem_page_free(t->task, KMEM_TCB, *ext);
        return false;
    }
    return true;
}

static void ext_init(struct thread *t, u64 phys)
{
    t->ext = phys_to_virt(phys);
    t->ext->canary = THREAD_STACK_CANARY;
}

static bool ext_alloc_kernel(struct thread *t)
{
    u64 p = kmem_pages_alloc(NULL, KMEM_TCB, KTHREAD_EXT_PAGES);
    if (p)
        ext_init(t, p);
    return p != 0;
}

/* Maps t's UTCB page (its frame in t->ext) into its task's UTCB area,
 * outside the mapping database (the kernel owns it; user level cannot map
 * it on).  The tables above come from where the current operation takes
 * pages (a kpager's, in a kmem_op): when they are taken away, the next
 * touch maps it again (thread_utcb_fault). */
int thread_utcb_map(struct thread *t)
{
    return mmu_map_fixed(t->task, t->ext->utcb_uva, t->ext->utcb_phys, KM_R | KM_W);
}

/* The thread of task whose UTCB is at address va, if in memory. */
static struct thread *utcb_owner(struct thread *self, u64 va)
{
    u32 slot = (u32)((va - KM_UTCB_AREA) / PAGE_SIZE);
    if (self->utcb_slot == slot)
        return self; /* nearly always: a thread touches its own */
    for (u32 i = 1; i < THREAD_MAX; i++) {
        struct thread *t = &thread_table[i];
        if (t->task == self->task && t->utcb_slot == slot && t->ext && t->state != TS_FREE &&
            t->state != TS_DEAD)
            return t;
    }
    return NULL;
}

bool thread_utcb_fault(struct thread *self, u64 va)
{
    if (va < KM_UTCB_AREA || va >= KM_UTCB_AREA + KM_UTCB_AREA_SIZE)
        return false;
    for (;;) {
        struct thread *t = utcb_owner(self, va);
        if (!t)
            return false; /* no UTCB there (or paged out): a fault like any */
        struct kmem_op op = {.task = self->task, .va = t->ext->utcb_uva};
        bool kp = kfault_applies(self);
        kmem_op = kp ? &op : NULL;
        int r = thread_utcb_map(t);
        kmem_op = NULL;
        if (r == 0 || r == -KM_EBUSY)
            return true; /* mapped: the access is retried */
        if (!kp || !op.missing_set)
            return false;
        if (kfault_raise(self, self, self->task, op.missing, op.va) != -KM_ERESTART)
            return false;
    }
}

static bool utcb_slot_alloc(struct thread *t)
{
    struct task *task = t->task;
    for (u32 i = 0; i < TASK_MAX_THREADS; i++)
        if (!(task->utcb_slots[i / 64] >> (i % 64) & 1)) {
            task->utcb_slots[i / 64] |= 1ull << (i % 64);
            t->utcb_slot = i;
            return true;
        }
    return false;
}

static void utcb_slot_free(struct thread *t)
{
    t->task->utcb_slots[t->utcb_slot / 64] &= ~(1ull << (t->utcb_slot % 64));
}

void thread_utcb_init(struct thread *t)
{
    struct km_utcb *u = thread_utcb(t);
    u->self = t->ext->utcb_uva;
    u->tid = thread_id(t);
    u->task = task_id(t->task);
}

static void user_pages_free(struct thread *t)
{
    mmu_unmap_fixed(t->task, t->ext->utcb_uva);
    kmem_page_free(t->task, KMEM_UTCB, t->ext->utcb_phys);
    kmem_page_free(t->task, KMEM_TCB, virt_to_phys(t->ext));
    t->ext = NULL;
}

struct thread *thread_create(struct task *task, km_tid pager, u8 prio, u16 cpu)
{
    struct thread *t = slot_alloc();
    if (!t)
        return NULL;
    t->task = task;
    u64 ext, utcb;
    if (!utcb_slot_alloc(t))
        goto fail;
    if (!user_pages_alloc(t, &ext, &utcb)) {
        utcb_slot_free(t);
        goto fail;
    }
    ext_init(t, ext);
    t->ext->utcb_uva = KM_UTCB_AREA + (u64)t->utcb_slot * PAGE_SIZE;
    t->ext->utcb_phys = utcb;
    /* Pages from a kpager: its first touch maps it (thread_utcb_fault),
     * with the tables from the kpager too. */
    if (!kmem_op && thread_utcb_map(t)) {
        user_pages_free(t);
        utcb_slot_free(t);
        goto fail;
    }
    thread_utcb_init(t);
    t->pager = pager;
    t->prio = prio;
    t->cpu = cpu;
    if (opt.resume_in_c)
        t->flags |= TF_RESUME_C; /* (a flag in resumes_at_syscall's one test: no cost when off) */
    t->state = TS_INACTIVE;
    task->nthreads++;
    return t;
fail:
    /* The same slot next time (an operation redone after a kernel page
     * fault asks for the same kspace addresses). */
    t->state = TS_FREE;
    t->task = NULL;
    next_slot = t->number;
    return NULL;
}

struct thread *thread_create_kernel(void (*fn)(void *), void *arg, u8 prio, u16 cpu)
{
    struct thread *t = slot_alloc();
    if (!t)
        return NULL;
    t->flags = TF_KERNEL;
    if (!ext_alloc_kernel(t)) {
        t->state = TS_FREE;
        return NULL;
    }
    t->prio = prio;
    t->cpu = cpu;
    t->state = TS_INACTIVE;
    arch_thread_init_kernel(t, fn, arg);
    return t;
}

struct thread *thread_adopt_boot(u16 cpu, u8 prio, u32 flags)
{
    struct thread *t = slot_alloc();
    if (!t)
        panic("no thread slot for cpu %u's boot thread", cpu);
    t->flags = TF_KERNEL | flags;
    if (!ext_alloc_kernel(t))
        panic("no memory for cpu %u's boot thread", cpu);
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
    if (t->ext->canary != THREAD_STACK_CANARY)
        panic("thread %u overran its kernel stack", t->number);
    if (used > thread_kstack_peak)
        thread_kstack_peak = used;
}

void thread_reap(struct thread *t)
{
    struct task *task = t->task;
    tcb_page_forget(t);
    if (t->ext && task) {
        kstack_measure(t);
        user_pages_free(t);
    } else if (t->ext) {
        kmem_pages_free(NULL, KMEM_TCB, virt_to_phys(t->ext), KTHREAD_EXT_PAGES);
    }
    if (task)
        utcb_slot_free(t);
    t->ext = NULL;
    t->task = NULL;
    t->flags = 0;
    t->state = TS_FREE; /* the version stays: the next user bumps it */
    if (task)
        task_thread_gone(task);
}

/* Called by a new user thread on its first switch (switch.S): the kernel
 * lock came with the switch; user mode must not hold it. */
void thread_first_run(void)
{
    sched_reap(); /* the thread we were switched from may have died */
    struct thread *self = sched_current();
    if (__builtin_expect(self->flags & TF_DROP, 0)) { /* its TCB lost its lender */
        tcb_page_drop_current(self);
        schedule(); /* never back */
    }
    klock_release();
}
