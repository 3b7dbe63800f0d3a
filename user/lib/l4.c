/* L4 helpers: stacks, threads, a same-address pager, tasks running a
 * function of the program (see <user/l4.h>). */
#include <user/l4.h>
#include <user/stdio.h>

/* The program image, from user/user.ld: what the pager serves. */
extern char __user_start[], __user_end[];

/* ---- stack pool --------------------------------------------------------- */

static unsigned char stack_pool[L4_STACK_POOL][L4_STACK_SIZE] __attribute__((aligned(4096)));
static km_u64 stack_used; /* bit i: stack_pool[i] is taken */

KM_STATIC_ASSERT(L4_STACK_POOL <= 64, "one bitmap word");
KM_STATIC_ASSERT(L4_STACK_SIZE % 16 == 0, "stacks keep 16-byte alignment");

void *l4_stack_alloc(void)
{
    km_u64 used = __atomic_load_n(&stack_used, __ATOMIC_RELAXED);
    for (;;) {
        if (L4_STACK_POOL == 64 ? used == ~0ull : used == (1ull << L4_STACK_POOL) - 1)
            return 0;
        unsigned i = (unsigned)__builtin_ctzll(~used);
        /* Taking the bit orders the caller's later writes to the stack
         * after any earlier owner's l4_stack_free (release). */
        if (__atomic_compare_exchange_n(&stack_used, &used, used | 1ull << i, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return stack_pool[i];
    }
}

void l4_stack_free(void *stack)
{
    unsigned long off = (unsigned long)((unsigned char *)stack - &stack_pool[0][0]);
    if ((unsigned char *)stack < &stack_pool[0][0] || off % L4_STACK_SIZE ||
        off / L4_STACK_SIZE >= L4_STACK_POOL) {
        printf("l4_stack_free: %p is not a pool stack\n", stack);
        return;
    }
    __atomic_fetch_and(&stack_used, ~(1ull << (off / L4_STACK_SIZE)), __ATOMIC_RELEASE);
}

/* ---- threads ------------------------------------------------------------ */

void l4_thread_main(struct l4_thread *t) __attribute__((noreturn));

/* Sets `done` and deletes the calling thread, touching no memory in
 * between (the stack may be reused as soon as `done` is seen). */
static __attribute__((noreturn)) void thread_exit(struct l4_thread *t)
{
    long r = KM_SYS_THREAD_DELETE;
    __asm__ volatile("movl $1, %[done]\n\t" /* from here on the stack is not ours */
                     "syscall"
                     : [done] "=m"(t->done), "+a"(r)
                     : "D"(t->tid)
                     : "rcx", "r11", "memory");
    printf("l4: thread %lx: sys_thread_delete(self) returned %ld (%s)\n", t->tid, r,
           sys_errname(r));
    __builtin_trap();
}

void l4_thread_main(struct l4_thread *t)
{
    t->fn(t->arg);
    thread_exit(t);
}

long l4_thread_start(struct l4_thread *t, const struct l4_thread_attr *a, void (*fn)(void *),
                     void *arg)
{
    static const struct l4_thread_attr defaults = L4_THREAD_ATTR_INIT;
    if (!a)
        a = &defaults;
    t->fn = fn;
    t->arg = arg;
    t->done = 0;
    t->tid = KM_NILTHREAD;
    t->pooled = !a->stack;
    t->stack = a->stack ? a->stack : l4_stack_alloc();
    t->stack_size = a->stack ? a->stack_size : L4_STACK_SIZE;
    if (!t->stack)
        return -KM_ENOMEM;

    long r = sys_thread_create(a->task, a->pager);
    if (r < 0)
        goto fail;
    t->tid = (km_tid)r;
    if (a->cpu >= 0 && (r = sys_thread_control(t->tid, KM_TCTL_SET_CPU, (unsigned long)a->cpu)) < 0)
        goto fail;
    if (a->prio >= 0 &&
        (r = sys_thread_control(t->tid, KM_TCTL_SET_PRIORITY, (unsigned long)a->prio)) < 0)
        goto fail;

    /* [sp] = t, [sp + 8] = 0; sp 16-byte aligned (l4_entry.S). */
    unsigned long top = ((unsigned long)t->stack + t->stack_size) & ~15ul;
    unsigned long sp = top - 16;
    ((void **)sp)[0] = t;
    ((void **)sp)[1] = 0;
    r = sys_exregs(t->tid, KM_EXREGS_START, (unsigned long)l4_thread_entry, sp);
    if (r < 0)
        goto fail;
    return 0;

fail:
    if (t->tid != KM_NILTHREAD)
        sys_thread_delete(t->tid);
    if (t->pooled)
        l4_stack_free(t->stack);
    t->stack = 0;
    t->done = 1; /* nothing runs: l4_thread_join returns at once */
    return r;
}

void l4_thread_join(struct l4_thread *t)
{
    while (!t->done)
        sys_yield();
    if (t->pooled && t->stack)
        l4_stack_free(t->stack);
    t->stack = 0;
}

long l4_thread_kill(struct l4_thread *t)
{
    long r = sys_thread_delete(t->tid);
    /* -KM_ESRCH: already gone (it may have ended by itself). */
    if ((r >= 0 || r == -KM_ESRCH) && t->pooled && t->stack) {
        l4_stack_free(t->stack);
        t->stack = 0;
    }
    return r;
}

long l4_thread_state(km_tid tid)
{
    long r = sys_exregs(tid, KM_EXREGS_READ, 0, 0);
    return r < 0 ? r : (long)utcb()->mr[1];
}

int l4_wait_state(km_tid tid, long state, unsigned long max_yields)
{
    for (unsigned long i = 0;; i++) {
        long s = l4_thread_state(tid);
        if (s == state)
            return 1;
        if (s < 0 || i >= max_yields)
            return 0;
        sys_yield();
    }
}

/* ---- pager -------------------------------------------------------------- */

void l4_pager_init(struct l4_pager *p, km_tid from, unsigned rights)
{
    p->from = from;
    p->rights = rights & KM_RWX;
    p->lo = (km_u64)__user_start & ~0xfffull;
    p->hi = ((km_u64)__user_end + 0xfff) & ~0xfffull;
    p->faults = 0;
    p->faulter = KM_NILTHREAD;
    p->addr = p->ip = 0;
    p->access = 0;
}

long l4_pager_answer(struct l4_pager *p)
{
    struct km_utcb *u = utcb();
    p->faulter = u->sender;
    p->addr = u->mr[0];
    p->ip = u->mr[1];
    p->access = (unsigned)u->mr[2];
    km_u64 page = p->addr & ~0xfffull;
    if (page < p->lo || page >= p->hi)
        return -KM_EFAULT;
    /* The faulting task accepts mappings anywhere (abi/l4.h), so the send
     * base is the page itself: it lands at the same address. */
    u->mr[0] = KM_MAPITEM(page, 0);
    u->mr[1] = KM_FPAGE(page, 12, p->rights);
    p->faults++;
    return (long)KM_TAG(0, 0, 2);
}

long l4_pager_serve(struct l4_pager *p)
{
    long r = l4_receive(p->from);
    for (;;) {
        if (r < 0)
            return r;
        if (!l4_is_pagefault())
            return 0;
        long tag = l4_pager_answer(p);
        if (tag < 0)
            return tag;
        r = sys_ipc(p->faulter, p->from, KM_IPC_SEND_NOWAIT, (km_u64)tag);
        if (r < 0 && utcb()->error == KM_IPCERR_SEND) /* the faulter is gone: wait again */
            r = l4_receive(p->from);
    }
}

static void pager_thread(void *arg)
{
    struct l4_pager *p = arg;
    for (;;) {
        long r = l4_pager_serve(p);
        if (r < 0 && r != -KM_EFAULT) {
            printf("l4: pager thread %lx: %s; it stops\n", sys_myself(), sys_errname(r));
            return;
        }
    }
}

long l4_pager_thread_start(struct l4_thread *t, const struct l4_thread_attr *a,
                           struct l4_pager *p)
{
    return l4_thread_start(t, a, pager_thread, p);
}

void l4_window_pager_init(struct l4_window_pager *w, km_u64 lo, km_u64 hi,
                          km_u64 (*page_for)(km_u64 addr, void *arg), void *arg)
{
    l4_pager_init(&w->image, KM_ANYTHREAD, KM_RWX);
    w->lo = lo;
    w->hi = hi;
    w->page_for = page_for;
    w->arg = arg;
    w->faults = 0;
}

static void window_pager_thread(void *arg)
{
    struct l4_window_pager *w = arg;
    long r = l4_receive_any();
    for (;;) {
        if (r < 0 || !l4_is_pagefault()) {
            r = l4_receive_any();
            continue;
        }
        km_tid from = l4_sender();
        km_u64 page = l4_mr(0) & ~0xfffull;
        long tag = l4_pager_answer(&w->image);
        if (tag < 0 && page >= w->lo && page < w->hi) {
            l4_put_map_item(0, page, KM_FPAGE(w->page_for(page, w->arg), 12, KM_R | KM_W));
            tag = (long)KM_TAG(0, 0, 2);
        }
        if (tag < 0) { /* not ours: the faulter stays blocked */
            r = l4_receive_any();
            continue;
        }
        w->faults++;
        r = l4_reply_and_wait(from, (km_u64)tag);
    }
}

long l4_window_pager_start(struct l4_thread *t, const struct l4_thread_attr *a,
                           struct l4_window_pager *w)
{
    return l4_thread_start(t, a, window_pager_thread, w);
}

/* ---- tasks -------------------------------------------------------------- */

static void task_main(void *arg)
{
    struct l4_task *t = arg;
    long r = t->fn(t->arg);
    t->result = r;
    t->done = 1;
    if (t->notify != KM_NILTHREAD) {
        l4_set_mr(0, (km_u64)r);
        l4_send(t->notify, KM_TAG(L4_LABEL_DONE, 1, 0));
    }
}

long l4_task_start(struct l4_task *t, const struct l4_thread_attr *a, km_tid notify,
                   long (*fn)(void *), void *arg)
{
    t->fn = fn;
    t->arg = arg;
    t->notify = notify;
    t->result = 0;
    t->done = 0;
    long r = sys_task_create();
    if (r < 0)
        return r;
    t->id = (km_taskid)r;
    struct l4_thread_attr ta = *a;
    ta.task = t->id;
    r = l4_thread_start(&t->main, &ta, task_main, t);
    if (r < 0) {
        sys_task_delete(t->id);
        t->id = 0;
    }
    return r;
}

long l4_task_delete(struct l4_task *t)
{
    long r = sys_task_delete(t->id);
    if (r >= 0 && t->main.pooled && t->main.stack) {
        l4_stack_free(t->main.stack);
        t->main.stack = 0;
    }
    return r;
}

/* l4_task_run's tasks: the child reads its struct, so it lives in the
 * image, not on the caller's stack. */
#define RUN_SLOTS 8
static struct l4_task run_tasks[RUN_SLOTS];
static int run_used[RUN_SLOTS];

long l4_task_run(long (*fn)(void *), void *arg, long *result)
{
    int slot = 0;
    while (slot < RUN_SLOTS && __atomic_exchange_n(&run_used[slot], 1, __ATOMIC_ACQUIRE))
        slot++;
    if (slot == RUN_SLOTS)
        return -KM_ENOMEM;
    struct l4_task *t = &run_tasks[slot];
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    struct l4_pager p;
    km_tid me = sys_myself();

    a.pager = me;
    l4_pager_init(&p, KM_ANYTHREAD, KM_RWX);
    long r = l4_task_start(t, &a, me, fn, arg);
    if (r >= 0) {
        for (;;) {
            r = l4_pager_serve(&p);
            if (r < 0) {
                if (r == -KM_EFAULT)
                    printf("l4_task_run: thread %lx faulted at %lx (ip %lx, access %u), outside "
                           "the image\n",
                           p.faulter, p.addr, p.ip, p.access);
                break;
            }
            if (l4_label() == L4_LABEL_DONE && l4_sender() == t->main.tid) {
                *result = (long)l4_mr(0);
                break;
            }
            /* anything else: dropped */
        }
        long d = l4_task_delete(t);
        if (r >= 0 && d < 0)
            r = d;
    }
    __atomic_store_n(&run_used[slot], 0, __ATOMIC_RELEASE);
    return r;
}
