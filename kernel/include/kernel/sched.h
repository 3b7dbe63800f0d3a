/* Scheduler: fixed priorities, round robin within a priority, one run
 * queue per CPU; the LAPIC timer ends time slices.  All under the kernel
 * lock; schedule() is entered and left with it held. */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include <arch/context.h>
#include <arch/current.h>
#include <kernel/thread.h>
#include <kernel/trace.h>

#define SCHED_SLICE_TICKS 2 /* timer ticks per time slice */

/* CPUs that run the scheduler (the online ones). */
u32 sched_ncpus(void);
/* The same, read without the kernel lock (boot waits on it). */
u32 sched_ncpus_ready(void);
/* What hot paths read about this CPU: the running thread and whether a
 * better one waits.  Written only by the scheduler, under the kernel lock. */
struct sched_hot {
    struct thread *current;
    bool need_resched;
} __attribute__((aligned(16)));
extern struct sched_hot sched_hot[MAX_CPUS];

/* The thread running on this CPU. */
static inline struct thread *sched_current(void) { return sched_hot[cpu_index()].current; }
/* The same where this CPU schedules already (a system call: it comes from
 * a thread the scheduler runs), through its percpu record: one load less. */
static inline struct thread *sched_self(void) { return ((struct sched_hot *)cpu_sched_hot())->current; }
/* Starts scheduling on this CPU: `running` is the context running now,
 * `idle` the thread to run when nothing else can (they may be the same). */
void sched_init_cpu(struct thread *running, struct thread *idle);
/* Makes t runnable on its CPU (kicks that CPU if t should run now). */
void sched_wake(struct thread *t);
/* t, running on its CPU, must stop soon (it was deleted): that CPU
 * reschedules at its next kernel entry, which an IPI forces. */
void sched_kick(struct thread *t);
/* Frees the threads that died on this CPU and have switched away (and
 * exports TCBs marked meanwhile: tcb_page_export_pending). */
void sched_reap(void);
/* Dead threads waiting on any CPU for sched_reap.  With tcb_page_ready,
 * what arch_switch tests on the way back into a thread: sched_reap runs
 * after a switch only when either is set. */
extern u32 sched_reap_pending;
/* Takes t off its run queue (it is about to block or die). */
void sched_dequeue(struct thread *t);
/* Gives up the CPU: the current thread, if still runnable, goes to the
 * tail of its priority's queue; the best runnable thread runs. */
void schedule(void);
/* IPC hand-off: the current thread has just blocked and `next`, on this
 * CPU and not on any queue (an IPC partner, never the idle thread), runs
 * at once (made runnable here).  Returns once the current thread runs
 * again, with its ext->ipc_result (its IPC's result) as it is then. */
i64 sched_handoff(struct thread *next);
/* sched_handoff where, besides, next is in memory (not TF_OUT) and still
 * waits in its receive (TS_RECEIVING: on no run queue; not the current
 * thread), the current thread has just set itself TS_RECEIVING (so it
 * is not dead), and SWITCH is not traced (trace_mask: the caller tested
 * it, so that the event is not missed): the direct IPC paths, which
 * tested all of that. */
i64 sched_handoff_direct(struct thread *next);
/* sched_handoff's general case (next paged out, prev marked or dead, next
 * on a run queue, SWITCH traced): the path of before, unchanged. */
i64 sched_handoff_slow(struct thread *next);
/* sched_handoff_direct for a caller that has prev, the current thread, at
 * hand; inline, so that the direct IPC paths pay for no call but
 * arch_switch (what leaving() and switch_to() do, straight: next made
 * runnable and current, its slice renewed once used up).  user: next is
 * a user thread whose IPC system call has ended with 0 in the receive it
 * blocked in (a safe point, tcb_page.h) and returns to user mode straight
 * from its syscall frame (arch_switch_user; ipc.c: resumes_at_syscall
 * says when), so SYSCALL_EXIT must not be traced either (the caller
 * tested it); on the slow path next goes back through its C frames, its
 * stack left as it was: right too. */
enum { SCHED_TO_KERNEL, SCHED_TO_USER, SCHED_TO_KERNEL_CLOBBERING };
static inline __attribute__((always_inline)) i64 sched_handoff_how(struct thread *prev, struct thread *next,
                                                                   int how)
{
    struct sched_hot *h = cpu_sched_hot(); /* (this CPU schedules: set) */
    if (__builtin_expect(prev->flags & TF_REVOKE, 0)) /* (its export: leaving()) */
        return sched_handoff_slow(next);
    h->current = next;
    h->need_resched = false;
    prev->flags &= ~TF_ON_CPU;
    next->state = TS_RUNNABLE;
    next->flags |= TF_ON_CPU;
    if (!next->ticks_left) /* (as switch_to) */
        next->ticks_left = SCHED_SLICE_TICKS;
    trace_set_thread(next->number);
    if (how == SCHED_TO_USER)
        return arch_switch_user(next, prev);
    if (how == SCHED_TO_KERNEL_CLOBBERING)
        return arch_switch_clobbering(next, prev);
    return arch_switch(next, prev);
}
static inline __attribute__((always_inline)) i64 sched_handoff_from(struct thread *prev, struct thread *next,
                                                                    bool user)
{
    return sched_handoff_how(prev, next, user ? SCHED_TO_USER : SCHED_TO_KERNEL);
}
/* sched_handoff_from (not user) by a caller that keeps nothing in
 * callee-saved registers across it (arch_switch_clobbering; built without
 * frame pointers): for a prev mostly resumed at its syscall frame. */
static inline __attribute__((always_inline)) i64 sched_handoff_from_clobbering(struct thread *prev,
                                                                               struct thread *next)
{
    return sched_handoff_how(prev, next, SCHED_TO_KERNEL_CLOBBERING);
}
/* Timer tick on this CPU (kernel lock held): ends slices. */
void sched_tick(void);
/* true when a higher-priority thread became runnable on this CPU. */
static inline bool sched_need_resched(void) { return sched_hot[cpu_index()].need_resched; }
/* Idle loop of this CPU: runs when nothing else is runnable. */
__attribute__((noreturn)) void sched_idle_loop(void);

#endif
