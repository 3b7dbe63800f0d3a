/* TCB paging: a thread's TCB page and UTCB page leave the kernel as a
 * continuation and come back validated (the paper's §3.4; the format and
 * the protocol are in abi/kspace.h).
 *
 * SAFE POINTS.  A TCB is exported only where the thread's kernel state is
 * fully described by a continuation, so that its kernel stack can be
 * thrown away and built again:
 *   START     inactive (never started): only where it will start;
 *   IPC_WAIT  blocked in the receive phase of an IPC system call, not on a
 *             CPU: its user registers are all in its syscall frame and the
 *             rest of the wait (partner, send queue links) is in the pinned
 *             part, so IPC keeps its exact semantics while it is out.
 *             (IPC's hand-offs use the same fact: a thread woken there
 *             with result 0 may return to user mode from its syscall frame
 *             without its stack's C frames: ipc.c, resumes_at_syscall.)
 * A revocation that finds the thread elsewhere (running, runnable, sending,
 * in a kernel-made IPC) is deferred: the thread is marked TF_REVOKE and
 * exported after the next switch that leaves it at a safe point; the
 * kpager's page stays lent (no access) until then.  A thread that never
 * reaches one keeps the page.
 *
 * WHILE OUT.  ext is NULL and TF_OUT is set; the thread is never on a run
 * queue, and on a send queue only as below.  An IPC that ends for it
 * meanwhile (its partner deleted) leaves it TS_RESUMING with the result in
 * the pinned part, and it must run: it asks its kpager for its TCB itself,
 * without a stack.  Its kernel page fault (RESTORE, its two pages) is a
 * kernel-made message whose words the kernel makes from the pinned part
 * (tcb_page_request), sent as a call (TF_KMSG | TF_KFAULT_IPC |
 * TF_OUT_REQ: queued at the kpager, or delivered at once if it waits);
 * the kpager's answer lends the pages, and its completion imports them
 * (tcb_page_request_done): the thread is back, runnable, and its IPC
 * returns the result.  So nobody waits for a paged-out thread's kpager
 * but the thread itself.  (A kpager that is paged out too is not asked:
 * the thread then waits until something needs it.)
 *
 * RESTORE.  Whatever needs an out thread (a message for it, exregs) first
 * calls tcb_page_restore: the calling thread raises a kernel page fault to
 * the out thread's kpager (reason RESTORE), then its operation is redone;
 * with both pages supplied the import validates the continuation, builds a
 * new kernel stack for it, and the thread is back where it was.  A page
 * that fails validation drops the thread (deleted, for its task only).
 *
 * ORPHANS.  If the lender's mapping of a TCB page goes while the kernel
 * uses it (an ancestor unmaps it, the kpager's task ends), there is nothing
 * to export to: the thread is deleted, and the frame is released with it.
 *
 * Locking: the kernel lock.
 */
#ifndef KERNEL_TCB_PAGE_H
#define KERNEL_TCB_PAGE_H

#include <abi/syscall.h>
#include <kernel/kmem.h>
#include <kernel/thread.h>

struct task;

/* Let go of task t's TCB or UTCB page phys (kspace ksaddr): called by
 * kmem's revocation; orphan: the lender's mapping is gone. */
enum kmem_let tcb_page_revoked(struct task *t, u64 ksaddr, u64 phys, bool orphan);

/* Makes out thread t present again for self's operation: 0 when it is
 * (restored now, or was), -KM_ERESTART after a kernel page fault (redo
 * the operation), -KM_ESRCH when its content was refused (t is deleted),
 * -KM_EBUSY when t is asking for it itself (TF_OUT_REQ: its kpager's answer
 * reaches it; anyone else finds it not receiving), -KM_EDEADLK when self
 * is that kpager and t's request waits for it (self must receive it
 * first), or the kernel page fault's error. */
i64 tcb_page_restore(struct thread *self, struct thread *t);
static inline i64 tcb_page_present(struct thread *self, struct thread *t)
{
    if (__builtin_expect(!(t->flags & TF_OUT), 1))
        return 0;
    return tcb_page_restore(self, t);
}

/* Ends out thread t's IPC with result (an IPC's complete() for it). */
void tcb_page_wake(struct thread *t, i64 result, u64 error_phase);
/* The words of out thread t's own restore request (w: at least 2 +
 * KM_KFAULT_MAX); returns its tag. */
u64 tcb_page_request(const struct thread *t, u64 *w);
/* The same in a buffer of the kernel's (valid until the next call; the
 * kernel lock protects it), *tag set: the message IPC delivers. */
const u64 *tcb_page_request_msg(const struct thread *t, u64 *tag);
/* t's own restore request ended (its kpager answered, or the IPC failed):
 * imported if both pages came; else t stays out, TS_RESUMING. */
void tcb_page_request_done(struct thread *t, i64 result);

/* Exports threads whose revocation waited for a safe point (called after
 * every switch: their stacks are not in use).  Only after a thread marked
 * TF_REVOKE may have reached one (tcb_page_may_be_safe): a thread that
 * never does costs nothing. */
void tcb_page_export_pending_slow(void);
/* The current thread, marked TF_DROP, leaves the kernel: deleted (its
 * CPU then switches away for good). */
void tcb_page_drop_current(struct thread *self);
extern bool tcb_page_ready;
static inline void tcb_page_export_pending(void)
{
    if (__builtin_expect(tcb_page_ready, 0))
        tcb_page_export_pending_slow();
}
/* t, marked or not, leaves its CPU or is about to wait in a receive
 * without leaving one (a sender moved on to its receive phase). */
static inline void tcb_page_may_be_safe(const struct thread *t)
{
    if (__builtin_expect(t->flags & TF_REVOKE, 0))
        tcb_page_ready = true;
}

/* t is being freed: it no longer waits for an export. */
void tcb_page_forget(struct thread *t);

/* The first run of a thread resumed at IPC_WAIT: the IPC's result, the
 * kernel lock released (called from arch code on its new stack). */
i64 tcb_page_resume_ipc(void);

#endif
