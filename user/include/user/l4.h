/* L4 helpers for ring-3 programs (user/lib/l4.c), on the stubs of
 * <user/sys.h> and the semantics of <abi/l4.h>:
 *  - message tags, message registers, map and grant items, the acceptor;
 *  - IPC: send, receive (from one or any), call, reply, reply-and-wait,
 *    each blocking or with a zero timeout (_nowait);
 *  - threads of the own task running fn(arg) on a stack of their own;
 *  - a pager that serves page faults by mapping the caller's own pages at
 *    the same address (code, data, stacks), so that a function of the
 *    program can run in another address space;
 *  - tasks running a function of the program in an address space of
 *    their own.
 *
 * Every function returning long returns >= 0 on success or -KM_E*.  A
 * received message is in the UTCB: l4_sender(), l4_label(), l4_mr(i).
 */
#ifndef USER_L4_H
#define USER_L4_H

#include <user/sys.h>

/* ---- tags and message registers --------------------------------------- */

static inline km_u64 l4_tag(km_u64 label, unsigned u, unsigned t) { return KM_TAG(label, u, t); }
/* The last received message: tag, its label, its sender. */
static inline km_u64 l4_msgtag(void) { return utcb()->tag; }
static inline km_u64 l4_label(void) { return KM_TAG_LABEL(utcb()->tag); }
static inline km_tid l4_sender(void) { return utcb()->sender; }
static inline km_u64 l4_mr(unsigned i) { return utcb()->mr[i]; }
static inline void l4_set_mr(unsigned i, km_u64 v) { utcb()->mr[i] = v; }

/* Writes a map (grant) item at MR[i], MR[i+1]: fpage (KM_FPAGE) is what
 * the sender gives, with the rights given; send_base places it in the
 * receiver's acceptor window (abi/l4.h).  Returns i + 2, the next free MR.
 * The tag then counts the two words as typed: l4_tag(label, u, 2). */
static inline unsigned l4_put_map_item(unsigned i, km_u64 send_base, km_u64 fpage)
{
    struct km_utcb *u = utcb();
    u->mr[i] = KM_MAPITEM(send_base, 0);
    u->mr[i + 1] = fpage;
    return i + 2;
}

static inline unsigned l4_put_grant_item(unsigned i, km_u64 send_base, km_u64 fpage)
{
    struct km_utcb *u = utcb();
    u->mr[i] = KM_MAPITEM(send_base, 1);
    u->mr[i + 1] = fpage;
    return i + 2;
}

/* The acceptor window for incoming map and grant items (a flexpage of
 * this task; L4_ACCEPT_NONE refuses them).  Returns the previous one. */
#define L4_ACCEPT_ALL KM_FPAGE(0, KM_FPAGE_MAX_LOG2, KM_RWX)
#define L4_ACCEPT_NONE 0ull
static inline km_u64 l4_set_acceptor(km_u64 fpage)
{
    struct km_utcb *u = utcb();
    km_u64 old = u->acceptor;
    u->acceptor = fpage;
    return old;
}

/* ---- IPC ----------------------------------------------------------------
 * The message sent is `tag` plus MR[0 .. u+t-1] of the UTCB.  _nowait
 * variants fail with -KM_ETIMEOUT when the partner is not ready; the
 * others wait as long as it takes.  On failure utcb()->error says which
 * phase failed (KM_IPCERR_SEND: nothing was delivered). */

static inline long l4_ipc(km_tid to, km_tid from, unsigned long flags, km_u64 tag)
{
    return sys_ipc(to, from, flags, tag);
}

static inline long l4_send(km_tid to, km_u64 tag) { return sys_ipc(to, KM_NILTHREAD, 0, tag); }
static inline long l4_send_nowait(km_tid to, km_u64 tag)
{
    return sys_ipc(to, KM_NILTHREAD, KM_IPC_SEND_NOWAIT, tag);
}

/* From one thread, or from any (the sender is then l4_sender()). */
static inline long l4_receive(km_tid from) { return sys_ipc(KM_NILTHREAD, from, 0, 0); }
static inline long l4_receive_nowait(km_tid from)
{
    return sys_ipc(KM_NILTHREAD, from, KM_IPC_RECV_NOWAIT, 0);
}
static inline long l4_receive_any(void) { return sys_ipc(KM_NILTHREAD, KM_ANYTHREAD, 0, 0); }
static inline long l4_receive_any_nowait(void)
{
    return sys_ipc(KM_NILTHREAD, KM_ANYTHREAD, KM_IPC_RECV_NOWAIT, 0);
}

/* Send to `to`, then receive its answer, atomically: the reply cannot
 * arrive before the caller is waiting for it.  _nowait: the send phase
 * fails unless `to` is receiving; the wait for the reply is unbounded. */
static inline long l4_call(km_tid to, km_u64 tag) { return sys_ipc(to, to, 0, tag); }
static inline long l4_call_nowait(km_tid to, km_u64 tag)
{
    return sys_ipc(to, to, KM_IPC_SEND_NOWAIT, tag);
}

/* A server's reply: to a client waiting in a call, so with a zero send
 * timeout (a server never blocks on a client that stopped waiting).
 * reply_and_wait then receives the next request from any thread. */
static inline long l4_reply(km_tid to, km_u64 tag)
{
    return sys_ipc(to, KM_NILTHREAD, KM_IPC_SEND_NOWAIT, tag);
}
static inline long l4_reply_and_wait(km_tid to, km_u64 tag)
{
    return sys_ipc(to, KM_ANYTHREAD, KM_IPC_SEND_NOWAIT, tag);
}
/* Same with a zero timeout for the receive phase as well. */
static inline long l4_reply_and_wait_nowait(km_tid to, km_u64 tag)
{
    return sys_ipc(to, KM_ANYTHREAD, KM_IPC_SEND_NOWAIT | KM_IPC_RECV_NOWAIT, tag);
}

/* ---- threads ------------------------------------------------------------
 * l4_thread_start creates a thread, places it (CPU, priority) and starts
 * it at an entry stub (user/lib/l4_entry.S) with a pointer to its struct
 * l4_thread on top of its stack; the stub calls fn(arg) with the stack
 * aligned as after a call (rsp + 8 a multiple of 16).  When fn returns the
 * thread sets `done` and deletes itself; the stack is not touched after
 * `done` is set, so it may be reused at once. */

#define L4_STACK_SIZE 16384 /* bytes per pool stack */
#define L4_STACK_POOL 64    /* stacks in the pool */

/* Where every thread started by l4_thread_start begins (its first
 * instruction; in a new task, its first page fault). */
void l4_thread_entry(void);

/* A 16-byte aligned L4_STACK_SIZE stack from a static pool (safe from
 * several threads at once), or NULL when all are taken. */
void *l4_stack_alloc(void);
/* Returns a pool stack (once the thread using it is done or deleted). */
void l4_stack_free(void *stack);

struct l4_thread_attr {
    km_taskid task;            /* 0: the caller's task */
    km_tid pager;              /* nil: a page fault kills the program */
    long cpu;                  /* -1: where the kernel puts it */
    long prio;                 /* -1: the kernel's default */
    void *stack;               /* NULL: one from the pool */
    unsigned long stack_size;  /* bytes at stack (ignored for pool stacks) */
};
#define L4_THREAD_ATTR_INIT { .task = 0, .pager = KM_NILTHREAD, .cpu = -1, .prio = -1 }

struct l4_thread {
    km_tid tid;          /* valid once l4_thread_start succeeded */
    void (*fn)(void *);
    void *arg;
    void *stack;         /* lowest address of the stack */
    unsigned long stack_size;
    volatile int done;   /* 1: fn returned, the thread is deleting itself */
    int pooled;          /* the stack came from the pool */
};

/* Starts fn(arg) in a new thread described by *a (NULL: defaults).  *t
 * must stay valid while the thread runs (the thread reads it at the end).
 * On failure nothing is left: no thread, the pool stack returned, and
 * t->done set (so that a join does not wait). */
long l4_thread_start(struct l4_thread *t, const struct l4_thread_attr *a, void (*fn)(void *),
                     void *arg);
/* Waits (yielding) until t's fn has returned; returns a pool stack. */
void l4_thread_join(struct l4_thread *t);
/* Deletes t wherever it is (blocked, running elsewhere) and returns a
 * pool stack; the result of sys_thread_delete. */
long l4_thread_kill(struct l4_thread *t);

/* A thread's state (KM_TSTATE_*, from sys_exregs READ; overwrites MR0
 * and MR1), or -KM_E*. */
long l4_thread_state(km_tid tid);
/* Yields until tid is in `state`, at most max_yields times; returns 1 if
 * it got there, 0 if not (or the thread is gone). */
int l4_wait_state(km_tid tid, long state, unsigned long max_yields);

/* ---- pager --------------------------------------------------------------
 * Serves page faults (label KM_LABEL_PAGEFAULT: MR0 address, MR1 ip, MR2
 * access) by mapping the pager's own page at the faulting address, with at
 * most `rights` (the client gets rights & what the pager holds).  Faults
 * outside [lo, hi) are not answered. */

struct l4_pager {
    km_tid from;           /* whose messages: a thread or KM_ANYTHREAD */
    unsigned rights;       /* KM_R|KM_W|KM_X mask of the rights given */
    km_u64 lo, hi;         /* addresses served */
    unsigned long faults;  /* faults answered so far */
    km_tid faulter;        /* the last fault seen: who, where, what access */
    km_u64 addr, ip;
    unsigned access;
};

/* from, rights; [lo, hi) = the program image (code, data, bss and the
 * stack pool: everything the program's own functions touch). */
void l4_pager_init(struct l4_pager *p, km_tid from, unsigned rights);

/* 1 when the message in the UTCB is a page fault. */
static inline int l4_is_pagefault(void)
{
    km_u64 tag = utcb()->tag;
    return KM_TAG_LABEL(tag) == KM_LABEL_PAGEFAULT && KM_TAG_U(tag) == 3 && KM_TAG_T(tag) == 0;
}

/* For the page fault in the UTCB: records it in *p and writes the reply
 * (a map item of the pager's page) into the MRs; returns the reply tag, or
 * -KM_EFAULT when the address is outside [lo, hi) (nothing written). */
long l4_pager_answer(struct l4_pager *p);

/* Receives from p->from and answers page faults until another message
 * arrives: returns 0 with that message in the UTCB.  -KM_EFAULT: a fault
 * outside [lo, hi) (p->faulter, addr, ip, access say which; the faulter
 * stays blocked).  Other results: the failed IPC's error. */
long l4_pager_serve(struct l4_pager *p);

/* Starts a thread (attributes *a, NULL: defaults) that serves page faults
 * for ever: l4_pager_serve in a loop, other messages dropped, faults it
 * cannot answer left blocked.  Its tid is the pager to give clients. */
long l4_pager_thread_start(struct l4_thread *t, const struct l4_thread_attr *a,
                           struct l4_pager *p);

/* A pager for programs whose clients touch memory outside the image: a
 * fault in the program image gets the program's own page (as above); one
 * in [lo, hi) gets the page page_for(address, arg) returns (a page of this
 * task, mapped read-write); others are not answered.  `faults` counts the
 * faults answered. */
struct l4_window_pager {
    struct l4_pager image;
    km_u64 lo, hi;
    km_u64 (*page_for)(km_u64 addr, void *arg);
    void *arg;
    volatile unsigned long faults;
};
void l4_window_pager_init(struct l4_window_pager *w, km_u64 lo, km_u64 hi,
                          km_u64 (*page_for)(km_u64 addr, void *arg), void *arg);
/* Starts a thread serving faults from any thread for ever. */
long l4_window_pager_start(struct l4_thread *t, const struct l4_thread_attr *a,
                           struct l4_window_pager *w);

/* ---- tasks --------------------------------------------------------------
 * A function of this program running in a new task: its first thread
 * starts at the entry stub in this program's code and faults its way in;
 * the pager maps it this program's pages at the same addresses, so code,
 * globals and the stack pool are shared frames: the same memory seen from
 * another address space.  System calls there must not be given buffers
 * that were never touched (the kernel does not fault them in).
 * When fn returns: result and done are set, a message with label
 * L4_LABEL_DONE and MR0 = result goes to `notify` (unless nil), and the
 * thread deletes itself; the task stays until l4_task_delete. */

#define L4_LABEL_DONE 0x444f4e45ull /* "DONE" */

struct l4_task {
    km_taskid id;
    struct l4_thread main;   /* its first thread */
    long (*fn)(void *);
    void *arg;
    km_tid notify;
    volatile long result;
    volatile int done;
};

/* Creates the task and starts fn(arg) there; a->pager must be a thread
 * serving this program's pages (l4_pager_thread_start, or the caller in
 * l4_pager_serve); a->task is ignored.  *t and what arg points to are
 * read by the new task: they must be in the image (globals, statics, pool
 * stacks), not on the main thread's stack.  On failure nothing is left. */
long l4_task_start(struct l4_task *t, const struct l4_thread_attr *a, km_tid notify,
                   long (*fn)(void *), void *arg);
/* Deletes the task (with its threads and mappings); returns its stack. */
long l4_task_delete(struct l4_task *t);

/* All of the above, synchronously: the caller is the pager and is
 * notified; serves faults (from any thread, other messages are dropped)
 * until fn returns, then deletes the task.  Returns 0 with fn's result in
 * *result, or -KM_E* (a fault outside the image: -KM_EFAULT, the task is
 * deleted). */
long l4_task_run(long (*fn)(void *), void *arg, long *result);

#endif
