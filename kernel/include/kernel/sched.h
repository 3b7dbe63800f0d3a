/* Scheduler: fixed priorities, round robin within a priority, one run
 * queue per CPU; the LAPIC timer ends time slices.  All under the kernel
 * lock; schedule() is entered and left with it held. */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include <kernel/thread.h>

#define SCHED_SLICE_TICKS 2 /* timer ticks per time slice */

/* The thread running on this CPU. */
struct thread *sched_current(void);
/* Starts scheduling on this CPU with `idle` as its idle thread. */
void sched_init_cpu(struct thread *idle);
/* Makes t runnable on its CPU (kicks that CPU if t should run now). */
void sched_wake(struct thread *t);
/* Takes t off its run queue (it is about to block or die). */
void sched_dequeue(struct thread *t);
/* Gives up the CPU: the current thread, if still runnable, goes to the
 * tail of its priority's queue; the best runnable thread runs. */
void schedule(void);
/* Switches to `next` (runnable, on this CPU) at once: IPC hand-off. */
void sched_switch_to(struct thread *next);
/* Timer tick on this CPU (kernel lock held): ends slices. */
void sched_tick(void);
/* true when a higher-priority thread became runnable on this CPU. */
bool sched_need_resched(void);
/* Idle loop of this CPU: runs when nothing else is runnable. */
__attribute__((noreturn)) void sched_idle_loop(void);

#endif
