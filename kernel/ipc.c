/* Synchronous IPC (see kernel/ipc.h). */
#include <abi/kspace.h>
#include <abi/syscall.h>
#include <kernel/ipc.h>
#include <kernel/kfault.h>
#include <kernel/nodetable.h>
#include <kernel/klock.h>
#include <kernel/kmem.h>
#include <kernel/options.h>
#include <kernel/mapdb.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/tcb_page.h>
#include <kernel/trace.h>

#define WHOLE_SPACE KM_FPAGE(0, KM_FPAGE_MAX_LOG2, KM_RWX)

/* The direct paths record IPC_SEND and IPC_RECV as ipc_once does, SWITCH
 * as the hand-off does and SYSCALL_EXIT as the receiver's system call's
 * end does, behind one test of the mask for all four: when any is on they
 * take their traced copy, which records the first two and hands off with
 * sched_handoff (which records SWITCH; the receiver goes back through its
 * syscall_dispatch, which records SYSCALL_EXIT); else sched_handoff_from
 * (sched_handoff_direct's), which do not test them again. */
#if CONFIG_TRACE
#define DIRECT_TRACED()                                                                                          \
    __builtin_expect((trace_mask & (1ull << KM_EV_IPC_SEND | 1ull << KM_EV_IPC_RECV | 1ull << KM_EV_SWITCH |    \
                                    1ull << KM_EV_SYSCALL_EXIT)) != 0,                                          \
                     0)
#define SWITCH_TRACED() __builtin_expect((trace_mask & 1ull << KM_EV_SWITCH) != 0, 0)
#else
#define DIRECT_TRACED() 0
#define SWITCH_TRACED() 0
#endif


static __attribute__((noinline, cold)) void trace_send_recv(km_tid to, u64 tag, km_tid from, u64 rtag)
{
    trace(IPC_SEND, to, tag);
    trace(IPC_RECV, from, rtag);
}

/* ---- send queues: threads blocked sending to `rcv`, FIFO ---- */
static void sendq_add(struct thread *rcv, struct thread *s)
{
    s->q_next = NULL;
    if (!rcv->send_head) {
        rcv->send_head = s;
        s->q_prev = s; /* the head's q_prev points at the tail */
        return;
    }
    struct thread *tail = rcv->send_head->q_prev;
    tail->q_next = s;
    s->q_prev = tail;
    rcv->send_head->q_prev = s;
}

static void sendq_remove(struct thread *rcv, struct thread *s)
{
    struct thread *head = rcv->send_head;
    if (s == head) {
        rcv->send_head = s->q_next;
        if (rcv->send_head)
            rcv->send_head->q_prev = s->q_prev == s ? rcv->send_head : s->q_prev;
    } else {
        s->q_prev->q_next = s->q_next;
        if (s->q_next)
            s->q_next->q_prev = s->q_prev;
        else
            head->q_prev = s->q_prev;
    }
    s->q_next = s->q_prev = NULL;
}

static struct thread *sendq_find(const struct thread *rcv, const struct thread *from)
{
    for (struct thread *s = rcv->send_head; s; s = s->q_next)
        if (!from || s == from)
            return s;
    return NULL;
}

/* ---- message transfer ---- */

/* Copies snd's message (tag and MRs, or its page-fault message) to rcv
 * and applies the typed items.  Returns 0 or -KM_E*. */
static inline __attribute__((always_inline)) i64 transfer(struct thread *snd, struct thread *rcv, u64 tag)
{
    const u64 *src;
    if (snd->flags & TF_KMSG) {
        if (__builtin_expect(snd->flags & TF_OUT, 0)) { /* a paged-out thread's own restore */
            src = tcb_page_request_msg(snd, &tag);
        } else {
            tag = snd->ext->kmsg_tag;
            src = snd->ext->fault;
        }
    } else {
        src = thread_utcb(snd)->mr;
    }
    u32 u = KM_TAG_U(tag), t = KM_TAG_T(tag);
    bool kfault_reply = rcv->flags & TF_KFAULT_IPC;
    bool fault_reply = rcv->flags & (TF_FAULT_IPC | TF_KFAULT_IPC);
    /* (A fault reply's receiver may be paged out: its UTCB is not used.) */
    struct km_utcb *ru = fault_reply ? NULL : thread_utcb(rcv);
    trace(IPC_RECV, thread_id(snd), tag);
    if (!fault_reply) {
        /* Word by word from UTCB to UTCB: each word is read once, so a
         * sender's other threads changing MRs meanwhile only change what
         * arrives, never the kernel's view of the message. */
        for (u32 i = 0; i < u + t; i++)
            ru->mr[i] = src[i];
        ru->sender = thread_id(snd);
        ru->tag = tag;
    }
    if (t && snd->task && rcv->task) {
        u64 acceptor = fault_reply ? WHOLE_SPACE : ru->acceptor;
        for (u32 i = 0; i < t; i += 2) {
            /* The item words come from the receiver's copy when there is
             * one, so what is applied is what the receiver sees. */
            const u64 *item = fault_reply ? &src[u + i] : &ru->mr[u + i];
            if (kfault_reply) { /* pages for the kernel, not the receiver */
                kfault_accept(snd, rcv, item[0], item[1]);
                continue;
            }
            i64 r = mapdb_transfer(snd->task, item[0], item[1], rcv->task, acceptor);
            trace(MAP, item[1], r);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/* A transfer with pages from kpagers (transfer_kmem): its kmem_op and
 * what the kernel page faults it raises must find unchanged after. */
struct xfer_kmem {
    struct kmem_op op; /* first: kmem_op_wait hands it back */
    struct thread *cur, *snd, *rcv;
    u32 version, sversion;
    u8 state, sstate;
};

/* Raises the kernel page fault x's transfer stopped for (cur blocks in
 * it).  0: cur sends a fault reply to a faulting thread that still waits
 * for it, so the transfer goes on from where it stopped (kfault_accept
 * took the pages); else -KM_ERESTART (redo the IPC: the lock was let go,
 * and a receiver may have moved on to another receive, a blocked
 * sender's message may have changed) or the kernel page fault's error. */
static i64 xfer_kfault(struct kmem_op *op)
{
    struct xfer_kmem *x = (struct xfer_kmem *)op; /* (op is its first member) */
    struct thread *cur = x->cur, *snd = x->snd, *rcv = x->rcv;
    struct thread *client = op->missing_src ? snd : rcv; /* whose kpager is asked */
    struct task *mt = client->task;
    bool restore = mt->as.nt_out && km_ks_type(op->missing) == KMEM_NODETABLE && mmu_nt_out(mt, op->va);
    u64 va = op->va;
    i64 r = kfault_raise(cur, client, mt, op->missing, va);
    /* The lock was let go: a partner that changed (deleted, freed,
     * gone on) must not be completed with this result: look again. */
    if (rcv->version != x->version || rcv->state != x->state || snd->version != x->sversion ||
        snd->state != x->sstate)
        return -KM_ERESTART;
    if (r != -KM_ERESTART && restore && nodetable_rebuild(mt, va, va + PAGE_SIZE))
        r = -KM_ERESTART; /* a node table its kpager did not give back (refused, gone, a
                             deadlock): made from the task's nodes, the send tried again */
    if (r != -KM_ERESTART)
        return r;
    /* Only a faulting thread still waiting for this reply is sure to be
     * in the same receive (it cannot start another without it). */
    if (cur != snd || !(rcv->flags & TF_FAULT_IPC) || rcv->partner != cur || !task_alive(rcv->task))
        return -KM_ERESTART;
    return 0;
}

/* transfer() run by thread cur.  When the receiver's kernel pages come
 * from its kpager, a missing one stops the transfer and becomes a kernel
 * page fault raised by cur (xfer_kfault).  In a fault reply the transfer
 * waits for it where it stopped (mapdb_transfer) and goes on; elsewhere
 * it returns first, and is tried again at once or the IPC redone
 * (-KM_ERESTART; pages transferred so far stay, map being idempotent). */
static __attribute__((noinline)) i64 transfer_kmem(struct thread *cur, struct thread *snd,
                                                   struct thread *rcv, u64 tag)
{
    /* Pages for the receiver's task come from the receiver's kpager; the
     * sender's from its own: node pages for the edges of what it maps
     * (kernel/mnode.h), and its node tables that are out (a send from a
     * region whose table its kpager took: kernel/nodetable.h). */
    bool rk = !(rcv->flags & TF_KFAULT_IPC) && kfault_applies(rcv);
    bool sk = !(rcv->flags & TF_KFAULT_IPC) && snd->task && kfault_applies(snd) && snd->task != rcv->task;
    if (!rk && !sk)
        return transfer(snd, rcv, tag);
    struct xfer_kmem x = {.cur = cur, .snd = snd, .rcv = rcv, .version = rcv->version,
                          .sversion = snd->version, .state = rcv->state, .sstate = snd->state};
    bool in_place = cur == snd && (rcv->flags & TF_FAULT_IPC);
    for (;;) {
        x.op = (struct kmem_op){.task = rk ? rcv->task : NULL, .src = sk ? snd->task : NULL,
                                .wait = in_place ? xfer_kfault : NULL};
        kmem_op = &x.op;
        i64 r = transfer(snd, rcv, tag);
        kmem_op = NULL;
        if (r != -KM_ENOMEM || !x.op.missing_set)
            return r;
        if ((r = xfer_kfault(&x.op)) != 0) /* (a step that could not wait) */
            return r;
    }
}

/* Inline: messages without items (most of them) pay one test. */
static inline __attribute__((always_inline)) i64 transfer_op(struct thread *cur, struct thread *snd,
                                                             struct thread *rcv, u64 tag)
{
    if (__builtin_expect(opt.kmem == KMEM_MODE_POOL || !KM_TAG_T(tag) || (snd->flags & TF_KMSG), 1))
        return transfer(snd, rcv, tag); /* kernel-made messages carry no items */
    return transfer_kmem(cur, snd, rcv, tag);
}

/* Ends t's blocked IPC with result; the caller makes t run. */
static __attribute__((noinline)) void complete_out(struct thread *t, i64 result, u64 error_phase)
{
    if (t->flags & TF_OUT_REQ)
        tcb_page_request_done(t, result); /* its kpager answered */
    else
        tcb_page_wake(t, result, error_phase); /* runs once restored */
}

static inline __attribute__((always_inline)) void complete(struct thread *t, i64 result, u64 error_phase)
{
    if (__builtin_expect(t->flags & TF_OUT, 0)) {
        complete_out(t, result, error_phase);
        return;
    }
    t->ext->ipc_result = result;
    if (result < 0 && t->task)
        thread_utcb(t)->error = error_phase;
    t->partner = NULL;
}

static void finish(struct thread *t, i64 result, u64 error_phase)
{
    complete(t, result, error_phase);
    if (!(t->flags & TF_OUT))
        sched_wake(t);
}

/* Blocks the current thread until its partner finishes the IPC.  Blocked
 * here receiving in its own IPC system call, a thread is at a safe point
 * (tcb_page.h): its TCB may be paged out until the IPC completes. */
static i64 block(struct thread *self)
{
    schedule();
    return self->ext->ipc_result;
}

/* Delivers from a thread blocked sending to self; moves a caller on to its
 * receive phase instead of waking it. */
static i64 receive_from_blocked(struct thread *self, struct thread *s)
{
    bool out = s->flags & TF_OUT; /* a paged-out thread's own restore: a call */
    i64 r = transfer_op(self, s, self, out ? 0 : s->ext->send_tag);
    if (r == -KM_ERESTART)
        return r; /* s may be gone or elsewhere by now: look again */
    sendq_remove(self, s);
    if (r < 0) {
        finish(s, r, KM_IPCERR_SEND);
        return r;
    }
    km_tid spec = out ? thread_id(self) : s->ext->recv_spec;
    if (spec != KM_NILTHREAD) {
        tcb_page_may_be_safe(s);
        s->state = TS_RECEIVING;
        s->partner = spec == KM_ANYTHREAD ? NULL : self;
        return 0;
    }
    finish(s, 0, 0);
    return 0;
}

/* One try of a receive phase; -KM_ERESTART: try again (kfault.h). */
static inline __attribute__((always_inline)) i64 recv_once(struct thread *self, km_tid from, u32 flags)
{
    struct thread *want = NULL;
    if (from != KM_ANYTHREAD) {
        want = thread_lookup(from);
        if (!want || (!want->task && !(self->flags & TF_KERNEL)))
            return -KM_ESRCH;
        if (want == self)
            return -KM_EDEADLK; /* nobody could ever send it */
    }
    struct thread *s = sendq_find(self, want);
    if (s)
        return receive_from_blocked(self, s);
    if (flags & KM_IPC_RECV_NOWAIT)
        return -KM_ETIMEOUT;
    self->state = TS_RECEIVING;
    self->partner = want;
    return block(self);
}

static inline __attribute__((always_inline)) i64 recv_phase(struct thread *self, km_tid from, u32 flags)
{
    i64 r;
    do
        r = recv_once(self, from, flags);
    while (r == -KM_ERESTART);
    return r;
}

/* One try of an IPC; -KM_ERESTART: try again (a kernel page fault was
 * handled before anything was delivered). */
static inline __attribute__((always_inline)) i64 ipc_once(struct thread *self, km_tid to, km_tid from, u32 flags, u64 tag)
{
    struct km_utcb *u = self->task ? thread_utcb(self) : NULL;
    if (u)
        u->error = 0;
    if (to != KM_NILTHREAD) {
        trace(IPC_SEND, to, tag);
        struct thread *dst = thread_lookup(to);
        if (!dst || dst == self || (!dst->task && !(self->flags & TF_KERNEL))) {
            if (u)
                u->error = KM_IPCERR_SEND;
            return dst == self ? -KM_EDEADLK : -KM_ESRCH;
        }
        /* Paged out: restore first.  (-KM_EBUSY: it asks its kpager for
         * its TCB itself; its state says what it takes: its kpager's
         * answer, which complete() imports, or else it stays out, which
         * sched_wake and sched_handoff know.) */
        i64 pr = tcb_page_present(self, dst);
        if (pr < 0 && pr != -KM_EBUSY) {
            if (u && pr != -KM_ERESTART)
                u->error = KM_IPCERR_SEND;
            return pr;
        }
        if (dst->state == TS_RECEIVING && (!dst->partner || dst->partner == self)) {
            i64 r = transfer_op(self, self, dst, tag);
            if (r == -KM_ERESTART)
                return r;
            complete(dst, r, KM_IPCERR_RECV);
            struct thread *want = from == KM_ANYTHREAD ? NULL : thread_lookup(from);
            /* Call or reply-and-wait that will block: hand the CPU to the
             * partner directly (no run-queue round trip). */
            if (r >= 0 && from != KM_NILTHREAD && (from == KM_ANYTHREAD || want) &&
                !(flags & KM_IPC_RECV_NOWAIT) && !sendq_find(self, want) &&
                dst->cpu == self->cpu && dst->prio >= self->prio) {
                self->state = TS_RECEIVING;
                self->partner = want;
                /* (a safe point too, like block()) dst still in memory and in
                 * its receive, as complete() leaves one that was: the direct
                 * hand-off's case; else (complete_out ended its restore) the
                 * general one */
                if (dst->state == TS_RECEIVING && !(dst->flags & TF_OUT) && !SWITCH_TRACED())
                    sched_handoff_direct(dst);
                else
                    sched_handoff(dst);
                i64 rr = self->ext->ipc_result;
                if (rr < 0 && u && !u->error)
                    u->error = KM_IPCERR_RECV;
                return rr;
            }
            sched_wake(dst);
            if (r < 0) {
                if (u)
                    u->error = KM_IPCERR_SEND;
                return r;
            }
            if (from == KM_NILTHREAD)
                return 0;
            i64 rr = recv_phase(self, from, flags);
            if (rr < 0 && u && !u->error)
                u->error = KM_IPCERR_RECV;
            return rr;
        }
        if (flags & KM_IPC_SEND_NOWAIT) {
            if (u)
                u->error = KM_IPCERR_SEND;
            return -KM_ETIMEOUT;
        }
        self->state = TS_SENDING;
        self->partner = dst;
        self->ext->send_tag = tag;
        self->ext->recv_spec = from;
        sendq_add(dst, self);
        return block(self); /* the receiver finished both phases for us */
    }
    i64 r = recv_phase(self, from, flags);
    if (r < 0 && u)
        u->error = KM_IPCERR_RECV;
    return r;
}

i64 ipc(struct thread *self, km_tid to, km_tid from, u32 flags, u64 tag)
{
    i64 r;
    do
        r = ipc_once(self, to, from, flags, tag);
    while (r == -KM_ERESTART);
    return r;
}

/* Whether dst, a user thread in memory that waits in a receive which
 * the caller's message completes with 0, may return from its system call
 * straight from its syscall frame (sched_handoff_from, user): it waits where TCB
 * paging could export it (tcb_page.c's safe_point: blocked in the receive
 * of its IPC system call, no kernel-made IPC of its own), so nothing on its
 * kernel stack is needed; after such a receive ends with 0, all that is
 * left is what ipc_resume_user does.  Not when it is marked for an export
 * or a drop (the paths of before see to those). */
static inline __attribute__((always_inline)) bool resumes_at_syscall(const struct thread *dst)
{
    return dst->ext->uframe_kind == UF_SYSCALL &&
           !(dst->flags &
             (TF_KERNEL | TF_KMSG | TF_FAULT_IPC | TF_KFAULT_IPC | TF_OUT | TF_REVOKE | TF_DROP | TF_RESUME_C));
}

/* The direct paths' hand-off to dst (see DIRECT_TRACED; user: dst may
 * resume straight at its syscall frame); returns self's result. */
static inline __attribute__((always_inline)) i64 direct_handoff(struct thread *self, struct thread *dst,
                                                                 bool traced, bool user)
{
    if (traced)
        return sched_handoff(dst);
    if (user && resumes_at_syscall(dst))
        return sched_handoff_from(self, dst, true);
    return sched_handoff_from(self, dst, false);
}

i64 ipc_resume_user(void)
{
    if (tcb_page_ready || sched_reap_pending)
        sched_reap(); /* (what arch_switch does on the way back) */
    struct thread *self = sched_current();
    i64 r = self->ext->ipc_result; /* 0 (resumes_at_syscall) */
    /* syscall_dispatch's end */
    if (self->state == TS_DEAD || sched_need_resched()) {
        if (__builtin_expect(self->flags & TF_DROP, 0) && self->state != TS_DEAD)
            tcb_page_drop_current(self);
        schedule(); /* a dead thread never comes back from here */
    }
    klock_release();
    trace(SYSCALL_EXIT, KM_SYS_IPC, r);
    return r;
}

/* The direct paths' word copy: each word read once (as transfer() does),
 * two a round. */
static inline __attribute__((always_inline)) void copy_words(u64 *dst, const u64 *src, u32 n)
{
    u32 i = 0;
    for (; i + 2 <= n; i += 2) {
        u64 a = src[i], b = src[i + 1];
        dst[i] = a;
        dst[i + 1] = b;
    }
    if (i < n)
        dst[i] = src[i];
}

/* The end of a direct path whose receive failed (rr < 0), as ipc_once
 * ends it: the error word says the receive phase unless something set it
 * already; -KM_ERESTART redoes the whole IPC (ipc() loops so too).  Out of
 * line: the fast paths test rr once. */
static __attribute__((noinline)) i64 direct_failed(struct thread *self, i64 rr, km_tid to, km_tid from, u32 flags,
                                                   u64 tag)
{
    if (self->task && !thread_utcb(self)->error)
        thread_utcb(self)->error = KM_IPCERR_RECV;
    return rr == -KM_ERESTART ? ipc(self, to, from, flags, tag) : rr;
}

/* Whether ipc(self, to, from, flags, tag) for a user thread's message
 * without typed items takes ipc_once's direct path: dst (to's thread), a
 * user thread in memory and not self, waits in a receive self's message
 * completes (from anyone, or from self) and is in no fault IPC of its own
 * (a fault reply's receiver gets no words); self then receives (from
 * anyone, or from want, from's live thread) without a timeout, no thread
 * it would receive from is queued to send to it (its receive blocks), and
 * dst runs on self's CPU at self's priority or above. */
static inline __attribute__((always_inline)) bool short_direct(const struct thread *self,
                                                               const struct thread *dst,
                                                               const struct thread *want, km_tid from,
                                                               u32 flags)
{
    /* (the CPU first: a partner on another CPU costs ipc() little more) */
    return dst && dst->cpu == self->cpu && dst->state == TS_RECEIVING && (!dst->partner || dst->partner == self) &&
           dst != self && dst->task && !(dst->flags & (TF_OUT | TF_FAULT_IPC | TF_KFAULT_IPC)) && self->task &&
           !(self->flags & TF_KMSG) && from != KM_NILTHREAD && (from == KM_ANYTHREAD || want) &&
           !(flags & KM_IPC_RECV_NOWAIT) && dst->prio >= self->prio && !sendq_find(self, want);
}

/* ipc_short's direct path (out of line, short_go and its traced copy:
 * the test before it needs no saved registers, so the other cases reach
 * ipc() at little cost). */
static inline __attribute__((always_inline)) i64 short_body(struct thread *self, struct thread *dst,
                                                            struct thread *want, const u64 *a, bool traced)
{
    u64 tag = a[3];
    struct km_utcb *u = thread_utcb(self);
    u->error = 0;
    if (traced)
        trace_send_recv(a[0], tag, thread_id(self), tag);
    /* transfer(): word by word from UTCB to UTCB (each word read once) */
    struct km_utcb *ru = thread_utcb(dst);
    copy_words(ru->mr, u->mr, KM_TAG_U(tag));
    ru->sender = thread_id(self);
    ru->tag = tag;
    /* complete(dst, 0, ...) and the hand-off */
    dst->ext->ipc_result = 0;
    dst->partner = NULL;
    self->state = TS_RECEIVING;
    self->partner = want;
    i64 rr = direct_handoff(self, dst, traced, true);
    if (__builtin_expect(rr < 0, 0))
        return direct_failed(self, rr, a[0], a[1], (u32)a[2], a[3]);
    return rr;
}

static __attribute__((noinline)) i64 short_go(struct thread *self, struct thread *dst, struct thread *want,
                                              const u64 *a)
{
    return short_body(self, dst, want, a, false);
}

static __attribute__((noinline, cold)) i64 short_go_traced(struct thread *self, struct thread *dst,
                                                           struct thread *want, const u64 *a)
{
    return short_body(self, dst, want, a, true);
}

i64 ipc_short(struct thread *self, const u64 *a)
{
    km_tid to = a[0], from = a[1];
    struct thread *dst = thread_lookup(to);
    struct thread *want = from == KM_ANYTHREAD ? NULL : from == to ? dst : thread_lookup(from);
    if (!short_direct(self, dst, want, from, (u32)a[2]))
        return ipc(self, to, from, (u32)a[2], a[3]);
    if (DIRECT_TRACED())
        return short_go_traced(self, dst, want, a);
    return short_go(self, dst, want, a);
}

/* Whether ipc(self, dst, dst, 0, tag) for a kernel-made message of self's
 * (TF_KMSG, no typed items) takes the direct path of ipc_once: dst, a
 * user thread in memory and not self, waits in a receive that self's
 * message completes (from anyone, or from self), is in no fault IPC of its
 * own (a fault reply's receiver gets no words), runs on self's CPU at
 * self's priority or above, and no thread of dst's is queued to send to
 * self (self's receive from dst would take it instead of blocking). */
static inline __attribute__((always_inline)) bool kmsg_direct(const struct thread *self, struct thread *dst,
                                                              u64 tag)
{
    return dst->state == TS_RECEIVING && (!dst->partner || dst->partner == self) && dst != self && dst->task &&
           !(dst->flags & (TF_OUT | TF_FAULT_IPC | TF_KFAULT_IPC)) && !(self->flags & TF_OUT) &&
           KM_TAG_T(tag) == 0 && KM_TAG_U(tag) <= ARRAY_SIZE(self->ext->fault) && dst->cpu == self->cpu &&
           dst->prio >= self->prio && !sendq_find(self, dst);
}

/* The direct path of self's kernel-made call to dst (kmsg_call,
 * ipc_kfault_call) once its test passed: step for step what ipc_once
 * does there: the words straight into dst's UTCB (kfault: task and n,
 * then the requests), dst's receive completed, the CPU handed to dst
 * with self receiving from it.  Inline: nothing but the hand-off is
 * called, as the last step, so the callers keep nothing in registers.
 * The hand-off returns self's result.  A failure needs nothing of
 * direct_failed: self, receiving in a kernel-made message (never
 * exported: tcb_page.c's safe points), is only ever completed by
 * complete() in memory, which sets the error word for a result < 0
 * (KM_IPCERR_RECV, as direct_failed would), and never with -KM_ERESTART
 * (ipc_once and receive_from_blocked return that before completing
 * anyone). */
static inline __attribute__((always_inline)) i64 kmsg_go_to(struct thread *self, struct thread *dst, u64 tag,
                                                             bool kfault, bool traced, bool user)
{
    if (self->task)
        thread_utcb(self)->error = 0;
    /* transfer(): the kernel's words of self, no items (each read once):
     * at least 3 (a page fault: address, ip, access; a kernel page fault:
     * task, n and n >= 1 requests), the first 3 without a loop */
    struct km_utcb *ru = thread_utcb(dst);
    const u64 *src = self->ext->fault;
    ru->mr[0] = src[0];
    ru->mr[1] = src[1];
    ru->mr[2] = src[2];
    if (kfault)
        for (u32 i = 3, u = KM_TAG_U(tag); i < u; i++)
            ru->mr[i] = src[i];
    ru->sender = thread_id(self);
    ru->tag = tag;
    /* complete(dst, 0, ...) and the hand-off */
    dst->ext->ipc_result = 0;
    dst->partner = NULL;
    self->state = TS_RECEIVING;
    self->partner = dst;
    if (traced)
        return sched_handoff(dst);
    return sched_handoff_from(self, dst, user);
}

/* (Where dst resumes is known before the copy: a copy of the path for
 * each case, so that nothing is kept across the copy to tell them.) */
static inline __attribute__((always_inline)) i64 kmsg_go(struct thread *self, struct thread *dst, u64 tag,
                                                          bool kfault, bool traced)
{
    if (!traced && resumes_at_syscall(dst))
        return kmsg_go_to(self, dst, tag, kfault, false, true);
    return kmsg_go_to(self, dst, tag, kfault, traced, false);
}

/* kmsg_go's traced copy (DIRECT_TRACED). */
static __attribute__((noinline, cold)) i64 kmsg_go_traced(struct thread *self, struct thread *dst, u64 tag,
                                                          bool kfault)
{
    trace_send_recv(thread_id(dst), tag, thread_id(self), tag);
    return kmsg_go(self, dst, tag, kfault, true);
}

/* ipc(self, dst, dst, 0, tag) for self's kernel-made message (its page
 * fault: ipc_kfault_call has its own; tag, its ext->kmsg_tag): a call.
 * Fast path for the case kmsg_direct() names (kmsg_go); anything else:
 * ipc(). */
static i64 kmsg_call(struct thread *self, struct thread *dst)
{
    u64 tag = self->ext->kmsg_tag; /* (ipc_pagefault's: 3 words) */
    if (!kmsg_direct(self, dst, tag))
        return ipc(self, thread_id(dst), thread_id(dst), 0, tag);
    if (DIRECT_TRACED())
        return kmsg_go_traced(self, dst, tag, false);
    return kmsg_go(self, dst, tag, false, false);
}

/* A kernel-made message (a page fault, an exception) from self to dst,
 * which waits for self's answer to its kernel page fault: self is a
 * kpager that faulted while serving dst, and each waits for the other.
 * Neither message is delivered: dst's kernel page fault ends with
 * -KM_EDEADLK, and so does self's message (true).  (When self's message
 * comes first, the kernel page fault finds the cycle: kfault.c.) */
static bool kmsg_deadlock(struct thread *self, struct thread *dst)
{
    if (dst->state != TS_RECEIVING || dst->partner != self || !(dst->flags & TF_KFAULT_IPC))
        return false;
    trace(KDEADLOCK, thread_id(self), thread_id(dst));
    finish(dst, -KM_EDEADLK, KM_IPCERR_RECV);
    return true;
}

i64 ipc_pagefault(struct thread *self, struct thread *pager, u64 addr, u64 ip, u32 access)
{
    if (kmsg_deadlock(self, pager))
        return -KM_EDEADLK;
    self->ext->fault[0] = addr;
    self->ext->fault[1] = ip;
    self->ext->fault[2] = access;
    self->ext->kmsg_tag = KM_TAG(KM_LABEL_PAGEFAULT, 3, 0); /* (kmsg_go copies 3 words) */
    self->flags |= TF_FAULT_IPC | TF_KMSG;
    trace(PAGEFAULT, addr, ip);
    i64 r = kmsg_call(self, pager); /* (its kmsg_tag, set above) */
    self->flags &= ~(TF_FAULT_IPC | TF_KMSG);
    trace(FAULT_DONE, addr, r);
    return r;
}

i64 ipc_notify_pager(struct thread *self, u64 tag, const u64 *words, u32 n)
{
    struct thread *pager = thread_lookup(self->pager);
    if (!pager || !pager->task || pager == self)
        return -KM_ESRCH;
    if (kmsg_deadlock(self, pager))
        return -KM_EDEADLK;
    for (u32 i = 0; i < n && i < ARRAY_SIZE(self->ext->fault); i++)
        self->ext->fault[i] = words[i];
    self->ext->kmsg_tag = tag;
    self->flags |= TF_KMSG;
    i64 r = ipc(self, thread_id(pager), KM_NILTHREAD, 0, tag);
    self->flags &= ~TF_KMSG;
    return r;
}

/* The thread a message with items goes to when that is a kpager's reply
 * that ipc_once completes and hands off directly (kfault_reply_direct),
 * else NULL: to's thread, waiting in its kernel page fault (TS_RECEIVING,
 * which also says its slot is live: neither free nor dead) for self, a
 * user thread in memory other than self on self's CPU at self's
 * priority or above; self then receives from anyone without a timeout,
 * and no thread waits to send to it (its receive blocks).  self, in its
 * IPC system call, is a user thread (it has a task) in no kernel-made
 * message of its own (TF_KMSG) but for a bug: tested all the same. */
static inline __attribute__((always_inline)) struct thread *kfault_reply_direct(const struct thread *self,
                                                                                km_tid to, km_tid from,
                                                                                u32 flags)
{
    u32 n = KM_ID_NUMBER(to);
    if (n - 1 >= THREAD_MAX - 1) /* (n == 0 too: slot 0 names no thread) */
        return NULL;
    struct thread *dst = &thread_table[n];
    __asm__("" : "+r"(dst)); /* (kept in a register: not computed again from n for each field) */
    /* (the flags first: a pager's reply to a page fault fails there) */
    if ((dst->flags & (TF_KFAULT_IPC | TF_OUT)) == TF_KFAULT_IPC && dst->version == KM_ID_VERSION(to) &&
        dst->state == TS_RECEIVING && dst->partner == self && dst->cpu == self->cpu && dst->prio >= self->prio &&
        dst != self && dst->task && from == KM_ANYTHREAD && !((flags & KM_IPC_RECV_NOWAIT) | (self->flags & TF_KMSG)) &&
        !self->send_head)
        return dst;
    return NULL;
}

/* ipc_items's direct path: ipc(self, a[0], a[1], a[2], a[3]) for a message with items; a =
 * {to, from, flags, tag}, sys_ipc's checked arguments in self's syscall
 * frame (there until self returns: read again after the hand-off instead
 * of kept across it).  A kpager's reply to the kernel page fault of dst,
 * to's thread, in kfault_reply_direct's case, is what ipc_once does
 * there, step for step: transfer() copies no words (a fault reply's
 * receiver gets none) and gives each item to kfault_accept (pages for
 * the kernel: transfer_kmem takes none for either task); dst's receive
 * is completed and the CPU handed to it, self receiving from anyone. */
static inline __attribute__((always_inline)) i64 kfault_reply_body(struct thread *self, struct thread *dst,
                                                                   const u64 *a, bool traced)
{
    u64 tag = a[3];
    struct km_utcb *u = thread_utcb(self);
    u->error = 0;
    if (traced)
        trace_send_recv(a[0], tag, thread_id(self), tag);
    const u64 *item = &u->mr[KM_TAG_U(tag)], *end = item + KM_TAG_T(tag);
    do /* (t >= 2: sys_ipc came here for t != 0, and t is even; dst is in
        * memory and self, in its system call, has a task) */
        kfault_accept_in(self, dst, item[0], item[1]);
    while ((item += 2) < end);
    dst->ext->ipc_result = 0;
    dst->partner = NULL;
    self->state = TS_RECEIVING;
    self->partner = NULL;
    /* (dst is in a kernel page fault: not resumed at its syscall frame.)
     * A failure needs nothing of direct_failed, as in kmsg_go: self waits
     * in memory in the receive of its IPC system call (exported there, it
     * comes back through tcb_page_resume_ipc, never here), completed only
     * by complete(), which sets the error word for a result < 0 and never
     * passes -KM_ERESTART.  Not a tail call: self mostly never comes back
     * here (arch_switch_user throws this stack away), so restoring its
     * registers before the switch would only cost; for the same reason
     * the switch saves none (arch_switch_clobbering). */
    i64 rr = traced ? sched_handoff(dst) : sched_handoff_from_clobbering(self, dst);
    __asm__("" : "+r"(rr));
    return rr;
}

static __attribute__((noinline)) i64 kfault_reply_go(struct thread *self, struct thread *dst, const u64 *a)
{
    return kfault_reply_body(self, dst, a, false);
}

static __attribute__((noinline, cold)) i64 kfault_reply_go_traced(struct thread *self, struct thread *dst,
                                                                  const u64 *a)
{
    return kfault_reply_body(self, dst, a, true);
}

/* ipc() with sys_ipc's arguments a (ipc_items's other messages: out of
 * line, so that the test loads only what it reads). */
static __attribute__((noinline)) i64 ipc_a(struct thread *self, const u64 *a)
{
    return ipc(self, a[0], a[1], (u32)a[2], a[3]);
}

/* (The test inline, the direct path out of line: pagers' replies, the
 * other messages with items, reach ipc() at little cost; with
 * kmem=pool no thread waits in a kernel page fault.) */
i64 ipc_items(struct thread *self, const u64 *a)
{
    struct thread *dst;
    if (opt.kmem != KMEM_MODE_KPAGER || !(dst = kfault_reply_direct(self, a[0], a[1], (u32)a[2])))
        return ipc_a(self, a);
    if (DIRECT_TRACED())
        return kfault_reply_go_traced(self, dst, a);
    return kfault_reply_go(self, dst, a);
}

/* kmsg_direct's case for kfault_raise's call, less what kfault_raise has
 * made sure of (ipc.h): dst, the kpager, is a user thread (it has a
 * task) and not self (self does not wait for it); self runs (it is in
 * memory); its message has no items and fits its fault words. */
static inline __attribute__((always_inline)) bool kfault_call_direct(const struct thread *self,
                                                                     const struct thread *dst)
{
    return dst->state == TS_RECEIVING && (!dst->partner || dst->partner == self) &&
           !(dst->flags & (TF_OUT | TF_FAULT_IPC | TF_KFAULT_IPC)) && dst->cpu == self->cpu &&
           dst->prio >= self->prio && !sendq_find(self, dst);
}
_Static_assert(2 + KM_KFAULT_MAX <= ARRAY_SIZE(((struct thread_ext *)0)->fault), "a kernel page fault's words fit");

/* kmsg_call for a kernel page fault, whose message kfault_raise made
 * (words fault[0 .. 2 + n), 1 <= n, tag KM_TAG(KM_LABEL_KFAULT, 2 + n, 0)): the
 * same steps, with kfault_call_direct's shorter test. */
i64 ipc_kfault_call(struct thread *self, struct thread *dst)
{
    u64 tag = self->ext->kmsg_tag;
    if (!kfault_call_direct(self, dst))
        return ipc(self, thread_id(dst), thread_id(dst), 0, tag);
    if (DIRECT_TRACED())
        return kmsg_go_traced(self, dst, tag, true);
    return kmsg_go(self, dst, tag, true, false);
}

void ipc_abort(struct thread *t)
{
    if (t->state == TS_SENDING && t->partner)
        sendq_remove(t->partner, t);
    if (t->state == TS_SENDING || t->state == TS_RECEIVING)
        finish(t, -KM_ECANCELED, t->state == TS_SENDING ? KM_IPCERR_SEND : KM_IPCERR_RECV);
}

void ipc_cancel(struct thread *t)
{
    if (t->state == TS_SENDING && t->partner)
        sendq_remove(t->partner, t);
    /* Receivers first, until none is left: one that is paged out may ask
     * its kpager (maybe t) for its TCB at once, and so join t's send queue
     * (emptied below) or, delivered, wait for t again (finished again: its
     * request then ends without a new one). */
    for (bool again = true; again;) {
        again = false;
        for (u32 i = 1; i < THREAD_MAX; i++) {
            struct thread *w = &thread_table[i];
            if (w->state == TS_RECEIVING && w->partner == t) {
                finish(w, -KM_ECANCELED, KM_IPCERR_RECV);
                again = true;
            }
        }
    }
    while (t->send_head) {
        struct thread *s = t->send_head;
        sendq_remove(t, s);
        finish(s, -KM_ECANCELED, KM_IPCERR_SEND);
    }
}

void ipc_post_kmsg(struct thread *s, struct thread *dst)
{
    s->state = TS_SENDING;
    s->partner = dst;
    sendq_add(dst, s);
    if (dst->state == TS_RECEIVING && (!dst->partner || dst->partner == s) && !(dst->flags & TF_OUT) &&
        receive_from_blocked(dst, s) == 0)
        finish(dst, 0, 0); /* its receive got s's message */
}
