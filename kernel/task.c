/* Tasks (see kernel/task.h).  Deletion is in two steps: task_delete kills
 * the threads (and the owned tasks) at once; the address space goes when
 * the last thread has been reaped, since a thread running on another CPU
 * may still be on the task's page tables until it switches away. */
#include <arch/mmu.h>
#include <kernel/klock.h>
#include <kernel/mapdb.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/thread.h>

static struct task task_table[TASK_MAX];

struct task *task_lookup(km_taskid id)
{
    u32 n = KM_ID_NUMBER(id), v = KM_ID_VERSION(id);
    if (n == 0 || n >= TASK_MAX || v == 0)
        return NULL;
    struct task *t = &task_table[n];
    if (t->version != v || !t->number || (t->flags & TASK_F_DYING))
        return NULL;
    return t;
}

struct task *task_by_number(u32 n)
{
    if (n == 0 || n >= TASK_MAX || !task_table[n].number)
        return NULL;
    return &task_table[n];
}

struct task *task_create(struct task *owner)
{
    for (u32 n = 1; n < TASK_MAX; n++) {
        struct task *t = &task_table[n];
        if (t->number)
            continue;
        u32 version = t->version + 1;
        memset(t, 0, sizeof *t);
        t->number = n;
        t->version = version ? version : 1;
        t->owner = owner;
        if (!aspace_create(t)) {
            t->number = 0;
            return NULL;
        }
        if (mapdb_task_init(t)) {
            aspace_destroy(t);
            t->number = 0;
            return NULL;
        }
        return t;
    }
    return NULL;
}

bool task_controls(const struct task *a, const struct task *t)
{
    for (; t; t = t->owner)
        if (t == a)
            return true;
    return false;
}

/* Wakes kernel threads waiting for t to be gone (the program runner). */
static void wake_waiters(const struct task *t)
{
    for (u32 i = 1; i < THREAD_MAX; i++) {
        struct thread *w = &thread_table[i];
        if (w->state == TS_WAITING && w->ext && w->ext->waiting_for == (u64)t)
            sched_wake(w);
    }
}

static void destroy(struct task *t)
{
    kmem_supply_release(t);
    mapdb_task_destroy(t);
    aspace_destroy(t);
    for (int k = 0; k < KMEM_NTYPES; k++)
        if (t->kmem.pages[k])
            printk("task %u: %lu pages of kernel memory type %d still held at destruction\n",
                   t->number, t->kmem.pages[k], k);
    wake_waiters(t);
    t->number = 0; /* the version stays: the next user bumps it */
}

void task_thread_gone(struct task *t)
{
    if (--t->nthreads == 0 && (t->flags & TASK_F_DYING))
        destroy(t);
}

/* Marks t and every task it owns, directly or not, as dying; iterative,
 * so a deep chain of owned tasks cannot overflow the kernel stack. */
static void mark_dying(struct task *t)
{
    t->flags |= TASK_F_DYING;
    for (bool more = true; more;) {
        more = false;
        for (u32 n = 1; n < TASK_MAX; n++) {
            struct task *c = &task_table[n];
            if (c->number && !(c->flags & TASK_F_DYING) && c->owner &&
                (c->owner->flags & TASK_F_DYING)) {
                c->flags |= TASK_F_DYING;
                more = true;
            }
        }
    }
}

void task_delete(struct task *t)
{
    if (t->flags & TASK_F_DYING)
        return;
    mark_dying(t);
    for (u32 i = 1; i < THREAD_MAX; i++) {
        struct thread *th = &thread_table[i];
        if (th->task && (th->task->flags & TASK_F_DYING) && th->state != TS_FREE &&
            th->state != TS_DEAD)
            thread_delete(th);
    }
    for (u32 n = 1; n < TASK_MAX; n++) {
        struct task *c = &task_table[n];
        if (c->number && (c->flags & TASK_F_DYING) && c->nthreads == 0)
            destroy(c);
    }
}
