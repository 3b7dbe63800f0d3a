/* Scheduler (see kernel/sched.h).
 *
 * Per CPU: a run queue per priority (doubly linked through q_next/q_prev,
 * FIFO), a bitmap of non-empty priorities, the running thread and the idle
 * thread.  The running thread is not on its queue.  Everything is
 * protected by the kernel lock; each CPU only switches its own threads,
 * other CPUs may enqueue onto its queues and then kick it with an IPI.
 */
#include <arch/context.h>
#include <arch/cpu.h>
#include <arch/current.h>
#include <kernel/klock.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/task.h>
#include <kernel/tcb_page.h>
#include <kernel/trace.h>

struct sched_cpu {
    struct thread *idle;
    struct thread *reap;        /* dead threads that switched away, linked
                                   through q_next: whoever runs next frees them */
    u64 bitmap[4];              /* bit p: queue[p] not empty */
    struct thread *head[256], *tail[256];
};

struct ticket_lock klock; /* the kernel lock (klock.h) */

static struct sched_cpu cpus[MAX_CPUS];
static u32 ncpus; /* CPUs that run the scheduler */

u32 sched_ncpus(void) { return ncpus; }
u32 sched_ncpus_ready(void) { return __atomic_load_n(&ncpus, __ATOMIC_ACQUIRE); }

struct sched_hot sched_hot[MAX_CPUS];
u32 sched_reap_pending;

static u32 cpu_of(const struct sched_cpu *c) { return (u32)(c - cpus); }
static struct sched_cpu *here(void) { return &cpus[cpu_id()]; }

static void enqueue(struct sched_cpu *c, struct thread *t)
{
    u8 p = t->prio;
    t->q_next = NULL;
    t->q_prev = c->tail[p];
    if (c->tail[p])
        c->tail[p]->q_next = t;
    else
        c->head[p] = t;
    c->tail[p] = t;
    c->bitmap[p / 64] |= 1ull << (p % 64);
}

static void unlink(struct sched_cpu *c, struct thread *t)
{
    u8 p = t->prio;
    if (t->q_prev)
        t->q_prev->q_next = t->q_next;
    else
        c->head[p] = t->q_next;
    if (t->q_next)
        t->q_next->q_prev = t->q_prev;
    else
        c->tail[p] = t->q_prev;
    t->q_next = t->q_prev = NULL;
    if (!c->head[p])
        c->bitmap[p / 64] &= ~(1ull << (p % 64));
}

/* On c's run queue.  The links also serve IPC send queues (a thread is on
 * one kind of queue at a time), so only a runnable thread can be here. */
static bool queued(const struct sched_cpu *c, const struct thread *t)
{
    return t->state == TS_RUNNABLE && (t->q_prev || c->head[t->prio] == t);
}

static struct thread *best(struct sched_cpu *c)
{
    for (int w = 3; w >= 0; w--)
        if (c->bitmap[w])
            return c->head[w * 64 + 63 - __builtin_clzll(c->bitmap[w])];
    return NULL;
}

void sched_init_cpu(struct thread *running, struct thread *idle)
{
    struct sched_cpu *c = here();
    c->idle = idle;
    cpu_set_sched_hot(&sched_hot[cpu_of(c)]);
    sched_hot[cpu_of(c)].current = running;
    running->flags |= TF_ON_CPU;
    running->state = TS_RUNNABLE;
    idle->state = TS_RUNNABLE;
    trace_set_thread(running->number);
    __atomic_store_n(&ncpus, ncpus + 1, __ATOMIC_RELEASE); /* last: this CPU is ready */
}

void sched_wake(struct thread *t)
{
    if (__builtin_expect(t->flags & TF_OUT, 0))
        return; /* paged out: it runs once restored (tcb_page.h) */
    struct sched_cpu *c = &cpus[t->cpu];
    t->state = TS_RUNNABLE;
    struct sched_hot *h = &sched_hot[t->cpu];
    if (t == h->current || queued(c, t))
        return;
    enqueue(c, t);
    if (!h->current || t->prio > h->current->prio || h->current == c->idle) {
        h->need_resched = true;
        if (t->cpu != cpu_id())
            arch_kick_cpu(t->cpu);
    }
}

void sched_kick(struct thread *t)
{
    sched_hot[t->cpu].need_resched = true;
    if (t->cpu != cpu_id())
        arch_kick_cpu(t->cpu);
}

void sched_dequeue(struct thread *t)
{
    struct sched_cpu *c = &cpus[t->cpu];
    if (t != sched_hot[cpu_of(c)].current && queued(c, t))
        unlink(c, t);
}

/* Whether switch_to records SWITCH (sched_handoff's fast path does not). */
static inline bool trace_on_switch(void)
{
#if CONFIG_TRACE
    return (trace_mask & 1ull << KM_EV_SWITCH) != 0;
#else
    return false;
#endif
}

/* Inline in schedule() and sched_handoff(): the hand-off path pays for no
 * calls but arch_switch.  c and h are this CPU's (passed, not recomputed
 * from c: that is a division). */
static inline __attribute__((always_inline)) void switch_to(struct sched_cpu *c, struct sched_hot *h,
                                                            struct thread *next, bool may_be_idle)
{
    struct thread *prev = h->current;
    h->need_resched = false;
    if (next == prev)
        return;
    if ((!may_be_idle || next != c->idle) && queued(c, next))
        unlink(c, next);
    /* A fresh slice only once the last one is used up: a thread that
     * blocks and is woken (an IPC partner) goes on with what it had left,
     * so two threads calling each other cannot keep the CPU from others
     * of their priority. */
    if (!next->ticks_left)
        next->ticks_left = SCHED_SLICE_TICKS;
    h->current = next;
    next->flags |= TF_ON_CPU;
    trace(SWITCH, next->number, next->prio);
    trace_set_thread(next->number);
    /* Last (a tail call): back on prev's stack, maybe much later, arch_switch
     * itself frees dead predecessors (sched_reap_pending). */
    arch_switch(next, prev);
}

void sched_reap(void)
{
    struct sched_cpu *c = here();
    tcb_page_export_pending(); /* the thread we left may be at a safe point */
    while (c->reap) {
        struct thread *dead = c->reap;
        c->reap = dead->q_next;
        dead->q_next = NULL;
        sched_reap_pending--;
        thread_reap(dead);
    }
}

/* Clears the on-CPU mark of the thread we just left; a dead one is freed
 * by whoever runs next (its stack was in use until the switch). */
static void leaving(struct sched_cpu *c, struct thread *prev)
{
    tcb_page_may_be_safe(prev); /* exported after the switch, if it is */
    prev->flags &= ~TF_ON_CPU;
    if (prev->state == TS_DEAD) {
        prev->q_next = c->reap;
        c->reap = prev;
        sched_reap_pending++;
    }
}

void schedule(void)
{
    u32 cpu = cpu_id();
    struct sched_cpu *c = &cpus[cpu];
    struct sched_hot *h = &sched_hot[cpu];
    struct thread *prev = h->current;
    if (prev != c->idle && prev->state == TS_RUNNABLE)
        enqueue(c, prev); /* round robin: to the tail of its priority */
    struct thread *next = best(c);
    if (!next)
        next = c->idle;
    if (next == prev) {
        if (queued(c, prev))
            unlink(c, prev);
        /* a thread marked to go (kernel/tcb_page.c) keeps its CPU's need:
         * its return to user mode deletes it */
        h->need_resched = (prev->flags & TF_DROP) != 0;
        return;
    }
    leaving(c, prev);
    switch_to(c, h, next, true);
}

/* sched_handoff in general: next paged out, prev marked or dead, next
 * on a run queue, the SWITCH event on (the path of before, unchanged). */
i64 sched_handoff_slow(struct thread *next)
{
    if (next->flags & TF_OUT) {
        schedule(); /* it cannot run: just block */
    } else {
        u32 cpu = cpu_id();
        struct sched_cpu *c = &cpus[cpu];
        struct sched_hot *h = &sched_hot[cpu];
        next->state = TS_RUNNABLE;
        leaving(c, h->current);
        switch_to(c, h, next, false); /* (an IPC partner: never the idle thread, which never receives) */
    }
    return sched_current()->ext->ipc_result; /* (as arch_switch's) */
}

/* When none of sched_handoff_slow's cases holds (nor next == prev, which
 * an IPC partner never is), what leaving() and switch_to() do, straight
 * (sched_handoff_from, sched.h: prev marked for an export goes the slow
 * way there): nothing to call but arch_switch (a tail call), so no
 * registers to save.  The direct hand-offs spare these tests. */
i64 sched_handoff(struct thread *next)
{
    u64 cpu = cpu_index();
    struct sched_cpu *c = &cpus[cpu];
    struct thread *prev = sched_hot[cpu].current;
    if (__builtin_expect((next->flags & TF_OUT) || next == prev || prev->state == TS_DEAD || next->q_prev ||
                             c->head[next->prio] == next || trace_on_switch(),
                         0))
        return sched_handoff_slow(next);
    return sched_handoff_from(prev, next, false);
}

i64 sched_handoff_direct(struct thread *next) { return sched_handoff_from(sched_current(), next, false); }


void sched_tick(void)
{
    struct sched_cpu *c = here();
    struct thread *t = sched_hot[cpu_of(c)].current;
    /* threads marked to go while off their CPU, when no switch comes (a
     * thread polling with yields): at least once a tick */
    tcb_page_export_pending();
    if (t == c->idle)
        return;
    if (t->ticks_left)
        t->ticks_left--;
    if (!t->ticks_left) {
        struct thread *b = best(c);
        if (b && b->prio >= t->prio)
            sched_hot[cpu_of(c)].need_resched = true;
        else
            t->ticks_left = SCHED_SLICE_TICKS;
    }
}

void sched_idle_loop(void)
{
    struct sched_cpu *c = here();
    for (;;) {
        klock_acquire();
        if (best(c))
            schedule();
        sched_reap(); /* threads that died and switched to idle */
        klock_release();
        /* sti takes effect after the next instruction: no wake-up is lost
         * between the check above and the hlt. */
        irq_enable_and_halt();
        irq_disable();
    }
}
