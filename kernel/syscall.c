/* System calls.  Each handler checks every argument before its first side
 * effect and returns -KM_E* on bad input; none can panic on user input. */
#include <abi/syscall.h>
#include <arch/cpu.h>
#include <arch/current.h>
#include <arch/layout.h>
#include <arch/mmu.h>
#include <arch/syscall.h>
#include <kernel/bench_store.h>
#include <kernel/frame.h>
#include <kernel/ipc.h>
#include <kernel/options.h>
#include <kernel/kfault.h>
#include <kernel/kmem.h>
#include <kernel/klock.h>
#include <kernel/mapdb.h>
#include <kernel/sched.h>
#include <kernel/task.h>
#include <kernel/tcb_page.h>
#include <kernel/thread.h>
#include <kernel/printk.h>
#include <kernel/prog.h>
#include <kernel/string.h>
#include <kernel/sysinfo.h>
#include <kernel/trace.h>

/* Makes sure every page of [uva, uva+len) is mapped for the calling task
 * with the access needed, asking the thread's pager (a page-fault IPC, as
 * if the thread had touched the page itself) for pages that are not.  Once
 * the final check passes the kernel lock is held until the copy is done,
 * so no other thread can unmap the range in between. */
static bool user_ready_pages(struct thread *self, u64 uva, u64 len, bool write);

static bool user_ready(u64 uva, u64 len, bool write)
{
    struct thread *self = sched_current();
    struct task *t = self->task;
    if (!t)
        return false;
    /* The copy goes through CR3: this CPU may have been made to leave the
     * space while it waited for the lock (its top-level table was taken
     * back and made again meanwhile). */
    aspace_check(&t->as);
    if (aspace_user_ok(&t->as, uva, len, write))
        return true;
    if (len == 0 || uva >= USER_TOP || len > USER_TOP - uva)
        return false;
    /* Asking a pager blocks, and meanwhile pages checked before may be
     * unmapped: check the whole range again after each round. */
    for (int round = 0; round < 3; round++) {
        if (!user_ready_pages(self, uva, len, write))
            return false;
        if (aspace_user_ok(&t->as, uva, len, write))
            return true;
    }
    return false;
}

/* One round of user_ready: every page of the range mapped, asking the
 * pager once per missing page; false when a page stays missing. */
static bool user_ready_pages(struct thread *self, u64 uva, u64 len, bool write)
{
    struct task *t = self->task;
    for (u64 p = ALIGN_DOWN(uva, PAGE_SIZE); p < uva + len; p += PAGE_SIZE) {
        if (aspace_user_ok(&t->as, p, 1, write) ||
            (mapdb_soft_fault(t, p) && aspace_user_ok(&t->as, p, 1, write)) ||
            (thread_utcb_fault(self, p) && aspace_user_ok(&t->as, p, 1, write)))
            continue;
        /* Ask once: a pager that does not map it means a bad pointer. */
        struct thread *pager = thread_lookup(self->pager);
        u64 ip = ((struct syscall_frame *)self->ext->uframe)->rip;
        if (!pager || !pager->task || pager == self ||
            ipc_pagefault(self, pager, p, ip, (write ? KM_W : KM_R) | KM_FAULT_SYSCALL) < 0 ||
            !aspace_user_ok(&t->as, p, 1, write))
            return false;
    }
    return true;
}

static bool copy_from_user(void *dst, u64 uva, u64 len)
{
    if (!user_ready(uva, len, false))
        return false;
    memcpy(dst, (const void *)uva, len);
    return true;
}

static bool copy_to_user(u64 uva, const void *src, u64 len)
{
    if (!user_ready(uva, len, true))
        return false;
    memcpy((void *)uva, src, len);
    return true;
}

static i64 sys_null(const u64 *a)
{
    (void)a;
    return 0;
}

/* Ends the whole program the caller belongs to (the runner deletes its
 * tasks); the calling thread goes at once. */
static i64 sys_exit(const u64 *a)
{
    struct thread *self = sched_current();
    u64 status = (u64)(i64)(i32)a[0];
    /* In a task some program created, the end is its pager's business. */
    if (!(self->task->flags & TASK_F_PROGRAM) &&
        ipc_notify_pager(self, KM_TAG(KM_LABEL_EXIT, 1, 0), &status, 1) >= 0) {
        thread_delete(self);
        return 0;
    }
    prog_end(self->task, (i32)a[0]);
    thread_delete(self);
    return 0; /* not seen: the thread is dead, schedule() never returns to it */
}

static i64 sys_puts(const u64 *a)
{
    /* Not on the stack: kernel stacks share a TCB page with the thread's
     * state (kernel/thread.h).  The kernel lock protects it. */
    static char buf[KM_PUTS_MAX];
    if (a[1] > KM_PUTS_MAX)
        return -KM_EINVAL;
    if (!copy_from_user(buf, a[0], a[1]))
        return -KM_EFAULT;
    console_write(buf, a[1]);
    return (i64)a[1];
}

static i64 sys_trace_marker(const u64 *a)
{
    trace(MARKER, a[0], a[1]);
    return 0;
}

static bool event_known(u64 id) { return id < 64 && (KM_TRACE_ALL_MASK >> id & 1); }

static i64 sys_trace_ctl(const u64 *a)
{
    u64 old = __atomic_load_n(&trace_mask, __ATOMIC_RELAXED);
    switch (a[0]) {
    case KM_TRACE_CTL_GET_MASK:
        return (i64)old;
    case KM_TRACE_CTL_SET_MASK:
        if (a[1] & ~KM_TRACE_ALL_MASK)
            return -KM_EINVAL;
        __atomic_store_n(&trace_mask, a[1], __ATOMIC_RELAXED);
        return (i64)old;
    case KM_TRACE_CTL_ENABLE:
    case KM_TRACE_CTL_DISABLE:
        if (!event_known(a[1]))
            return -KM_EINVAL;
        if (a[0] == KM_TRACE_CTL_ENABLE)
            __atomic_fetch_or(&trace_mask, 1ull << a[1], __ATOMIC_RELAXED);
        else
            __atomic_fetch_and(&trace_mask, ~(1ull << a[1]), __ATOMIC_RELAXED);
        return 0;
    default:
        return -KM_EINVAL;
    }
}

/* Ticks spent in exactly one trace point (with_probe = 1) or in nothing
 * (0): the difference is the trace point's cost, mask check included. */
static i64 sys_trace_probe(const u64 *a)
{
    static u64 seq;
    if (a[0] > 1)
        return -KM_EINVAL;
    u64 t0, t1;
    if (a[0]) {
        t0 = rdtsc();
        trace(PROBE, seq, 0);
        t1 = rdtsc();
        seq++;
    } else {
        t0 = rdtsc();
        t1 = rdtsc();
    }
    return (i64)(t1 - t0);
}

static i64 sys_bench_submit(const u64 *a)
{
    struct km_bench_desc d;
    u64 n = a[2];
    if (n == 0 || n > KM_BENCH_MAX_SAMPLES)
        return -KM_EINVAL;
    if (!copy_from_user(&d, a[0], sizeof d))
        return -KM_EFAULT;
    if (!bench_desc_valid(&d))
        return -KM_EINVAL;
    if (!user_ready(a[1], n * sizeof(i64), false))
        return -KM_EFAULT;
    i64 *dst = bench_store_reserve(n);
    if (!dst)
        return -KM_ENOMEM;
    memcpy(dst, (const void *)a[1], n * sizeof(i64));
    bench_store_commit(&d, dst, n, cpu_id());
    return (i64)n;
}

static i64 sys_sysinfo(const u64 *a)
{
    struct km_sysinfo si;
    sysinfo_fill(&si);
    si.cpu = cpu_id();
    si.prog = prog_index_of(sched_current()->task);
    return copy_to_user(a[0], &si, sizeof si) ? 0 : -KM_EFAULT;
}

/* ---- the L4 base ---- */

/* Bit 7 clear, t even (bit 8 clear), u + t words: in one compare, as
 * bits 0..8 (u, plus 128 or 256 when bit 7 or 8 is set, either more than
 * KM_MR_COUNT) plus t at most KM_MR_COUNT. */
static bool tag_ok(u64 tag)
{
    return (tag & 0x1ff) + KM_TAG_T(tag) <= KM_MR_COUNT;
}
_Static_assert(KM_TAG_T(1u << 8) == 1 && KM_TAG_U(0x7f) == 0x7f && KM_TAG_U(0x80) == 0 && KM_MR_COUNT < 0x80,
               "tag_ok: u is bits 0..6, bit 8 is t's lowest, bits 7 and 8 each exceed the count");

/* Called by syscall_dispatch directly (the hot system call: no table, the
 * current thread passed), so not through handlers[]. */
static inline __attribute__((always_inline)) i64 sys_ipc(struct thread *self, const u64 *a)
{
    if (a[2] & ~(u64)(KM_IPC_SEND_NOWAIT | KM_IPC_RECV_NOWAIT) || !tag_ok(a[3]))
        return -KM_EINVAL;
    if (a[0] == KM_ANYTHREAD) /* one can receive from anyone, not send to */
        return -KM_EINVAL;
    if (__builtin_expect(KM_TAG_T(a[3]) != 0, 0))
        return ipc_items(self, a); /* (a pager's reply, a kpager's answer) */
    return ipc_short(self, a);
}

/* A thread the caller may control: one of its own task's or of a task it
 * owns.  Sets *err to what to return when NULL. */
static struct thread *controlled_thread(u64 id, i64 *err)
{
    struct thread *t = thread_lookup(id);
    if (!t || !t->task) {
        *err = -KM_ESRCH;
        return NULL;
    }
    if (!task_controls(sched_current()->task, t->task)) {
        *err = -KM_EPERM;
        return NULL;
    }
    return t;
}

/* A pager is nil (faults end the program) or a live user thread. */
static bool pager_ok(km_tid pager)
{
    struct thread *p = thread_lookup(pager);
    return pager == KM_NILTHREAD || (p && p->task);
}

static i64 sys_thread_create(const u64 *a)
{
    struct task *t = a[0] == 0 ? sched_current()->task : task_lookup(a[0]);
    if (!t)
        return -KM_ESRCH;
    if (!task_controls(sched_current()->task, t))
        return -KM_EPERM;
    if (!pager_ok(a[1]))
        return -KM_ESRCH;
    struct thread *self = sched_current();
    km_tid pager = a[1] != KM_NILTHREAD ? a[1] : self->pager; /* nil: the creator's */
    km_taskid tid = task_id(t);
    for (;;) {
        /* The new thread's TCB and UTCB come from the creator's kpager
         * (the thread's own from now on), or from the pool. */
        struct kmem_op op = {.task = t};
        bool kp = kfault_applies(self);
        kmem_op = kp ? &op : NULL;
        struct thread *n = thread_create(t, pager, MIN(self->prio, (u8)KM_PRIO_DEFAULT), self->cpu);
        kmem_op = NULL;
        if (n) {
            n->kpager = self->kpager;
            return (i64)thread_id(n);
        }
        if (!kp || !op.missing_set)
            return -KM_ENOMEM;
        i64 r = kfault_raise(self, self, t, op.missing, 0);
        if (r != -KM_ERESTART)
            return r;
        if (!(t = task_lookup(tid)) || (a[1] != KM_NILTHREAD && !pager_ok(pager)))
            return -KM_ESRCH; /* gone while the kpager answered */
    }
}

static i64 sys_thread_delete(const u64 *a)
{
    i64 err;
    struct thread *t = controlled_thread(a[0], &err);
    if (!t)
        return err;
    if (t->flags & TF_MAIN)
        prog_end(t->task, 0); /* a program whose main thread goes ends */
    thread_delete(t);
    return 0;
}

static i64 sys_thread_control(const u64 *a)
{
    i64 err;
    struct thread *t = controlled_thread(a[0], &err);
    if (!t)
        return err;
    struct thread *self = sched_current();
    switch (a[1]) {
    case KM_TCTL_SET_PAGER:
        if (!pager_ok(a[2]))
            return -KM_ESRCH;
        t->pager = a[2];
        return 0;
    case KM_TCTL_SET_KPAGER:
        if (!pager_ok(a[2]))
            return -KM_ESRCH;
        t->kpager = a[2];
        return 0;
    case KM_TCTL_SET_PRIORITY:
        if (a[2] > KM_PRIO_MAX || a[2] > self->prio)
            return a[2] > KM_PRIO_MAX ? -KM_EINVAL : -KM_EPERM;
        sched_dequeue(t);
        t->prio = (u8)a[2];
        if (t->state == TS_RUNNABLE && t != self)
            sched_wake(t);
        return 0;
    case KM_TCTL_SET_CPU:
        if (a[2] >= sched_ncpus())
            return -KM_EINVAL;
        if (t == self)
            return -KM_EBUSY; /* migrate another thread, not the running one */
        if (t->flags & TF_ON_CPU)
            return -KM_EBUSY;
        sched_dequeue(t);
        t->cpu = (u16)a[2];
        if (t->state == TS_RUNNABLE)
            sched_wake(t);
        return 0;
    default:
        return -KM_EINVAL;
    }
}

static i64 sys_task_create(const u64 *a)
{
    (void)a;
    struct task *t = task_create(sched_current()->task);
    return t ? (i64)task_id(t) : -KM_ENOMEM;
}

static i64 sys_task_delete(const u64 *a)
{
    struct task *self = sched_current()->task;
    struct task *t = task_lookup(a[0]);
    if (!t)
        return -KM_ESRCH;
    if (t == self || !task_controls(self, t))
        return t == self ? -KM_EDEADLK : -KM_EPERM; /* sys_exit ends one's own */
    task_delete(t);
    return 0;
}

static bool fpage_ok(u64 f)
{
    u32 l = KM_FPAGE_LOG2(f);
    return l >= KM_FPAGE_MIN_LOG2 && l <= KM_FPAGE_MAX_LOG2 &&
           (KM_FPAGE_BASE(f) & ((1ull << l) - 1)) == 0 && (f & 0x38) == 0 &&
           KM_FPAGE_BASE(f) < (1ull << KM_FPAGE_MAX_LOG2);
}

/* An unmap by a task with node tables or nodes out: those of the region
 * come back from the thread's kpager (kernel/nodetable.h; a node into a
 * FRESH node page: kernel/mapdb_out.c); if it cannot give them, the kernel
 * makes them from what it kept, in the pool: an unmap never fails for
 * memory. */
static __attribute__((noinline)) i64 unmap_restoring(struct thread *self, const u64 *a)
{
    bool self_only = a[1] & KM_UNMAP_SELF, kp = kfault_applies(self);
    for (int tries = 0;; tries++) {
        struct kmem_op op = {.task = self->task};
        kmem_op = kp && tries < 64 ? &op : NULL; /* (one table a fault: then the pool) */
        i64 r = mapdb_unmap(self->task, a[0], self_only);
        kmem_op = NULL;
        if (r != -KM_ENOMEM || !op.missing_set)
            return r;
        if (kfault_raise(self, self, self->task, op.missing, op.va) != -KM_ERESTART)
            kp = false;
    }
}

static i64 sys_unmap(const u64 *a)
{
    if (!fpage_ok(a[0]) || (a[1] & ~(u64)KM_UNMAP_SELF))
        return -KM_EINVAL;
    struct thread *self = sched_current();
    if (__builtin_expect((self->task->as.nt_out | self->task->mn_out) != 0, 0))
        return unmap_restoring(self, a);
    return mapdb_unmap(self->task, a[0], a[1] & KM_UNMAP_SELF);
}

static i64 sys_exregs(const u64 *a)
{
    i64 err;
    struct thread *t;
    for (;;) { /* its registers may be paged out: restored first */
        if (!(t = controlled_thread(a[0], &err)))
            return err;
        err = tcb_page_present(sched_current(), t);
        if (err == 0)
            break;
        if (err != -KM_ERESTART)
            return err;
    }
    u64 ip, sp;
    switch (a[1]) {
    case KM_EXREGS_START:
        if (t->state != TS_INACTIVE)
            return -KM_EBUSY;
        if (a[2] >= USER_TOP || a[3] >= USER_TOP)
            return -KM_EINVAL;
        thread_set_user_regs(t, a[2], a[3]);
        sched_wake(t);
        return 0;
    case KM_EXREGS_SET:
        /* Not the caller, not one not yet started, and not one running on
         * another CPU right now (its saved frame is not current). */
        if (t == sched_current() || t->state == TS_INACTIVE || (t->flags & TF_ON_CPU))
            return -KM_EBUSY;
        if (a[2] >= USER_TOP || a[3] >= USER_TOP)
            return -KM_EINVAL;
        ipc_abort(t);
        thread_set_user_regs(t, a[2], a[3]);
        return 0;
    case KM_EXREGS_READ:
        thread_get_user_regs(t, &ip, &sp);
        if (sched_current()->task) {
            struct km_utcb *u = thread_utcb(sched_current());
            u->mr[0] = sp;
            u->mr[1] = t->state == TS_INACTIVE    ? KM_TSTATE_INACTIVE
                       : t->state == TS_SENDING   ? KM_TSTATE_SENDING
                       : t->state == TS_RECEIVING ? KM_TSTATE_RECEIVING
                                                  : KM_TSTATE_RUNNABLE;
        }
        return (i64)ip;
    default:
        return -KM_EINVAL;
    }
}

static i64 sys_yield(const u64 *a)
{
    (void)a;
    schedule();
    return 0;
}

static i64 sys_kmem_info(const u64 *a)
{
    struct task *t = a[0] == 0 ? sched_current()->task : task_lookup(a[0]);
    if (!t)
        return -KM_ESRCH;
    if (!task_controls(sched_current()->task, t))
        return -KM_EPERM;
    struct km_kmem_info info;
    memset(&info, 0, sizeof info);
    for (int k = 0; k < KMEM_NTYPES; k++) {
        info.pages[k] = t->kmem.pages[k];
        info.peak[k] = t->kmem.peak[k];
    }
    info.free_frames = frame_free_count();
    info.pinned_bytes = sizeof *t + (u64)t->nthreads * sizeof(struct thread);
    info.pinned_pages = t->kmem.pool;
    return copy_to_user(a[1], &info, sizeof info) ? 0 : -KM_EFAULT;
}

static i64 sys_myself(const u64 *a)
{
    (void)a;
    return (i64)thread_id(sched_current());
}

typedef i64 (*syscall_fn)(const u64 *args);
static const syscall_fn handlers[KM_SYS_COUNT] = {
    [KM_SYS_NULL] = sys_null,
    [KM_SYS_EXIT] = sys_exit,
    [KM_SYS_PUTS] = sys_puts,
    [KM_SYS_TRACE_MARKER] = sys_trace_marker,
    [KM_SYS_TRACE_CTL] = sys_trace_ctl,
    [KM_SYS_TRACE_PROBE] = sys_trace_probe,
    [KM_SYS_BENCH_SUBMIT] = sys_bench_submit,
    [KM_SYS_SYSINFO] = sys_sysinfo,
    [KM_SYS_IPC] = NULL, /* sys_ipc: syscall_dispatch calls it itself */
    [KM_SYS_THREAD_CREATE] = sys_thread_create,
    [KM_SYS_THREAD_DELETE] = sys_thread_delete,
    [KM_SYS_THREAD_CONTROL] = sys_thread_control,
    [KM_SYS_TASK_CREATE] = sys_task_create,
    [KM_SYS_TASK_DELETE] = sys_task_delete,
    [KM_SYS_UNMAP] = sys_unmap,
    [KM_SYS_EXREGS] = sys_exregs,
    [KM_SYS_YIELD] = sys_yield,
    [KM_SYS_MYSELF] = sys_myself,
    [KM_SYS_KMEM_INFO] = sys_kmem_info,
};

/* Entry from syscall_entry (entry.S), interrupts off.  The kernel lock is
 * taken here and released before the return to user mode; a handler that
 * blocks switches threads with the lock held (klock.h). */
i64 syscall_dispatch(struct syscall_frame *f)
{
    u64 nr = f->nr;
    trace(SYSCALL_ENTER, nr, f->arg[0]);
    klock_acquire();
    struct thread *self = sched_self();
    self->ext->uframe = f;
    self->ext->uframe_kind = UF_SYSCALL;
    /* A thread deleted while it ran on another CPU does nothing more. */
    i64 r = self->state == TS_DEAD                     ? -KM_ECANCELED
            : nr == KM_SYS_IPC                  ? sys_ipc(self, f->arg)
            : nr < KM_SYS_COUNT && handlers[nr] ? handlers[nr](f->arg)
                                                : -KM_ENOSYS;
    if (self->state == TS_DEAD || sched_need_resched()) {
        /* (a marked current thread's CPU has need_resched: tcb_page.c) */
        if (__builtin_expect(self->flags & TF_DROP, 0) && self->state != TS_DEAD)
            tcb_page_drop_current(self); /* its TCB lost its lender: it goes here */
        schedule(); /* a dead thread never comes back from here */
    }
    klock_release();
    if (nr == KM_SYS_YIELD)
        cpu_relax(); /* a yield loop is a spin-wait: pause, so that under
                        icount the other virtual CPUs get their turn */
    trace(SYSCALL_EXIT, nr, r);
    return r;
}
