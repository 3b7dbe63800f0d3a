/* TCB paging: export at safe points, restore with validation (see
 * kernel/tcb_page.h, abi/kspace.h). */
#include <abi/kspace.h>
#include <abi/syscall.h>
#include <arch/context.h>
#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/mmu.h>
#include <kernel/ipc.h>
#include <kernel/kfault.h>
#include <kernel/klock.h>
#include <kernel/kmem.h>
#include <kernel/sched.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/tcb_export.h>
#include <kernel/tcb_page.h>
#include <kernel/thread.h>
#include <kernel/trace.h>

u32 tcb_page_pending; /* threads marked TF_REVOKE */

static u32 tcb_page_drops; /* threads marked TF_DROP */
static i64 import(struct thread *th, u64 tcb, u64 utcb, bool in_completion);

/* The continuation a thread's kept state stands for (inactive: START;
 * waiting in a receive, or its IPC ended meanwhile: IPC_WAIT). */
static u32 cont_of(const struct thread *t)
{
    return t->state == TS_INACTIVE ? KM_KCONT_START : KM_KCONT_IPC_WAIT;
}

static bool safe_point(const struct thread *t)
{
    if (!t->ext || (t->flags & (TF_ON_CPU | TF_KERNEL | TF_OUT)))
        return false;
    if (t->state == TS_INACTIVE)
        return true;
    /* Receiving and not a kernel-made IPC: blocked in its IPC system call
     * (block() or the call hand-off in ipc.c), all user registers in its
     * syscall frame. */
    return t->state == TS_RECEIVING && t->ext->uframe_kind == UF_SYSCALL &&
           !(t->flags & (TF_KMSG | TF_FAULT_IPC | TF_KFAULT_IPC));
}

/* The thread whose TCB or UTCB page ksaddr names, if it is task t's and
 * in memory. */
static struct thread *owner(struct task *t, u64 ksaddr)
{
    u32 n = KM_KS_TCB_THREAD(ksaddr);
    if (n == 0 || n >= THREAD_MAX)
        return NULL;
    struct thread *th = &thread_table[n];
    if (th->task != t || !th->ext || th->state == TS_FREE)
        return NULL;
    return th;
}

static void unmark(struct thread *th)
{
    if (th->flags & TF_REVOKE) {
        th->flags &= ~TF_REVOKE;
        tcb_page_pending--;
    }
    if (th->flags & TF_DROP) {
        th->flags &= ~TF_DROP;
        tcb_page_drops--;
    }
}

/* Writes th's continuation over its TCB page and takes both pages away
 * from it.  Both pages are given back to their lenders with their
 * content, except `keep` (the page a revocation is letting go of: its
 * caller ends that loan). */
static void export(struct thread *th, u64 keep)
{
    u64 t0 = rdtsc();
    struct task *t = th->task;
    struct km_tcb_export e;
    tcb_export_make(&e, thread_id(th), cont_of(th),
                    th->state == TS_INACTIVE ? KM_NILTHREAD
                    : th->partner            ? thread_id(th->partner)
                                             : KM_ANYTHREAD);
    arch_tcb_regs_save(th, &e);
    u64 tcb = virt_to_phys(th->ext), utcb = th->ext->utcb_phys;
    mmu_unmap_fixed(t, th->ext->utcb_uva); /* TLBs flushed: the thread cannot touch it */
    void *page = th->ext;
    th->ext = NULL;
    th->flags |= TF_OUT;
    unmark(th);
    memset(page, 0, PAGE_SIZE); /* the kernel stack and IPC state go */
    memcpy(page, &e, sizeof e);
    if (tcb == keep)
        kmem_export_uncharge(t, KMEM_TCB);
    else
        kmem_export_give_back(t, KMEM_TCB, tcb, t0);
    if (utcb == keep)
        kmem_export_uncharge(t, KMEM_UTCB);
    else
        kmem_export_give_back(t, KMEM_UTCB, utcb, t0);
}

enum kmem_let tcb_page_revoked(struct task *t, u64 ksaddr, u64 phys, bool orphan)
{
    struct thread *th = owner(t, ksaddr);
    if (!th || (virt_to_phys(th->ext) != phys && th->ext->utcb_phys != phys))
        return KMEM_LET_DONE; /* nothing of a live thread (a dying one's) */
    u64 sibling = virt_to_phys(th->ext) == phys ? th->ext->utcb_phys : virt_to_phys(th->ext);
    if (orphan || kmem_is_orphan(sibling)) {
        /* Nowhere to export to: the thread goes with its memory, but not
         * here: this runs inside walks, IPCs and the orphan loop, and a
         * deletion runs IPC and task teardown (a thread may be the partner
         * of the IPC at hand; a task's end may free more orphans).  It is
         * deleted after the next switch (TF_DROP); until then its pages
         * stay the kernel's, and freeing them ends their loans. */
        if (!(th->flags & TF_DROP) && th->state != TS_DEAD) { /* (a dead one goes anyway) */
            th->flags |= TF_DROP;
            tcb_page_drops++;
            tcb_page_ready = true;
            if (th->flags & TF_ON_CPU)
                sched_kick(th); /* it goes at its next kernel exit (syscall, trap) */
        }
        return orphan ? KMEM_LET_KEPT : KMEM_LET_DEFERRED;
    }
    if (!safe_point(th)) {
        if (!(th->flags & TF_REVOKE)) {
            th->flags |= TF_REVOKE;
            tcb_page_pending++;
        }
        return KMEM_LET_DEFERRED;
    }
    export(th, phys);
    return KMEM_LET_EXPORTED;
}

bool tcb_page_ready;

void tcb_page_export_pending_slow(void)
{
    tcb_page_ready = false;
    struct thread *self = sched_current();
    for (u32 i = 1; i < THREAD_MAX && (tcb_page_pending || tcb_page_drops); i++) {
        struct thread *th = &thread_table[i];
        if ((th->flags & TF_DROP) && th->state == TS_DEAD) {
            unmark(th); /* dying already */
        } else if ((th->flags & TF_DROP) && th != self) {
            unmark(th);
            thread_delete(th); /* refused content, or its pages lost their lender */
        } else if (th->flags & TF_DROP) {
            /* the thread just switched in: it goes at its return to user
             * (its CPU's need set again at each switch into it) */
            sched_kick(th);
            tcb_page_ready = true;
        } else if ((th->flags & TF_REVOKE) && safe_point(th)) {
            export(th, 0);
        }
    }
}

void tcb_page_forget(struct thread *th) { unmark(th); }

void tcb_page_drop_current(struct thread *self)
{
    unmark(self);
    thread_delete(self); /* it leaves the CPU now, for good */
}

/* Imports th if both its pages are in its task's supply: 0, -KM_ESRCH
 * (refused: th is gone), or -KM_ENOMEM (not both there). */
static i64 import_supplied(struct thread *th, bool in_completion)
{
    struct task *t = th->task;
    u64 ks = KM_KS_TCB_OF(th->number);
    if (!kmem_supplied(t, ks) || !kmem_supplied(t, ks + PAGE_SIZE))
        return -KM_ENOMEM;
    u64 tcb = kmem_supply_take(t, ks), utcb = kmem_supply_take(t, ks + PAGE_SIZE);
    return import(th, tcb, utcb, in_completion);
}

/* Pages of th's TCB and UTCB in its task's supply (0..2). */
static u32 supplied(const struct thread *th)
{
    u64 ks = KM_KS_TCB_OF(th->number);
    return kmem_supplied(th->task, ks) + kmem_supplied(th->task, ks + PAGE_SIZE);
}

u64 tcb_page_request(const struct thread *th, u64 *w)
{
    u64 ks = KM_KS_TCB_OF(th->number);
    u32 n = 0;
    w[0] = task_id(th->task);
    for (u64 a = ks; a <= ks + PAGE_SIZE; a += PAGE_SIZE)
        if (!kmem_supplied(th->task, a))
            w[2 + n++] = KM_KREQ(a, km_ks_type(a), KM_KREASON_RESTORE);
    w[1] = n;
    return KM_TAG(KM_LABEL_KFAULT, 2 + n, 0);
}

const u64 *tcb_page_request_msg(const struct thread *th, u64 *tag)
{
    static u64 msg[2 + KM_KFAULT_MAX]; /* the kernel lock protects it */
    *tag = tcb_page_request(th, msg);
    return msg;
}

/* th (out, TS_RESUMING) must run: it asks its kpager itself. */
static void request(struct thread *th)
{
    if (import_supplied(th, true) != -KM_ENOMEM)
        return; /* back already (or refused) */
    struct thread *kp = thread_lookup(th->kpager);
    if (!kfault_applies(th) || !kp || !kp->task || kp == th || (kp->flags & TF_OUT))
        return; /* stays out until something needs it */
    if (kmem_supply_free(th->task) < 2 - supplied(th))
        kmem_supply_release(th->task); /* pages of earlier tries nothing used */
    u64 w[2 + KM_KFAULT_MAX];
    trace(KFAULT, KM_KS_TCB_OF(th->number), KM_TAG_U(tcb_page_request(th, w)) - 2);
    th->flags |= TF_KMSG | TF_KFAULT_IPC | TF_OUT_REQ;
    ipc_post_kmsg(th, kp);
}

void tcb_page_wake(struct thread *th, i64 result, u64 error_phase)
{
    th->state = TS_RESUMING;
    th->partner = NULL;
    th->out_result = (i32)result;
    th->out_error = result < 0 ? (u32)error_phase : 0;
    request(th);
}

void tcb_page_request_done(struct thread *th, i64 result)
{
    th->flags &= ~(TF_KMSG | TF_KFAULT_IPC | TF_OUT_REQ);
    th->state = TS_RESUMING; /* its own IPC's result is kept */
    th->partner = NULL;
    u32 got = supplied(th);
    trace(KFAULT_DONE, KM_KS_TCB_OF(th->number), result < 0 ? result : (i64)got);
    if (got == 2)
        import_supplied(th, true);
    else if (got == 1 && result >= 0)
        request(th); /* one page came: it asks again for the other */
    /* nothing came: it waits until something needs it */
}


/* Both pages supplied: back in memory, or refused (th deleted). */
static i64 import(struct thread *th, u64 tcb, u64 utcb, bool in_completion)
{
    u64 t0 = rdtsc();
    struct task *t = th->task;
    struct km_tcb_export page, e;
    memcpy(&page, phys_to_virt(tcb), sizeof page); /* read once: the kpager has no access now */
    if (tcb_export_check(&page, thread_id(th), cont_of(th), &e) != TCB_OK) {
        trace(KPAGE_IMPORT, KM_KS_TCB_OF(th->number) | t->number, (u64)-1);
        kmem_page_free(t, KMEM_TCB, tcb); /* back to their lenders, zeroed */
        kmem_page_free(t, KMEM_UTCB, utcb);
        if (in_completion) {
            /* Inside an IPC's completion its caller still holds th:
             * dropped after the next switch (tcb_page_export_pending). */
            th->flags |= TF_DROP;
            tcb_page_drops++;
            tcb_page_ready = true;
        } else {
            thread_delete(th);
        }
        return -KM_ESRCH;
    }
    memset(phys_to_virt(tcb), 0, PAGE_SIZE);
    th->ext = phys_to_virt(tcb);
    th->ext->canary = THREAD_STACK_CANARY;
    th->ext->utcb_uva = KM_UTCB_AREA + (u64)th->utcb_slot * PAGE_SIZE;
    th->ext->utcb_phys = utcb;
    thread_utcb_init(th); /* mapped again on its first touch (thread_utcb_fault) */
    th->flags &= ~TF_OUT;
    if (th->state == TS_INACTIVE) {
        arch_thread_init_user(th, e.rip, e.rsp);
    } else {
        arch_thread_init_resume(th, &e);
    }
    if (th->state == TS_RESUMING) {
        th->ext->ipc_result = th->out_result;
        thread_utcb(th)->error = th->out_error;
        sched_wake(th);
    }
    trace(KPAGE_IMPORT, KM_KS_TCB_OF(th->number) | t->number, rdtsc() - t0);
    return 0;
}

i64 tcb_page_restore(struct thread *self, struct thread *th)
{
    if (!(th->flags & TF_OUT))
        return 0;
    if (th->flags & TF_OUT_REQ) /* it asks its kpager itself */
        return th->state == TS_SENDING && th->partner == self ? -KM_EDEADLK : -KM_EBUSY;
    struct task *t = th->task;
    u64 ks = KM_KS_TCB_OF(th->number);
    i64 r = import_supplied(th, false);
    if (r != -KM_ENOMEM)
        return r;
    if (!kfault_applies(th))
        return -KM_ENOMEM; /* nobody to ask: its kpager went nil */
    if (self->flags & TF_KFAULT_IPC)
        return -KM_EDEADLK; /* never a kernel page fault inside one */
    /* A kernel-made message waiting to go (a page fault for an out pager)
     * keeps its words: the kernel page fault uses the same ones. */
    struct thread_ext *x = self->ext;
    u64 saved[ARRAY_SIZE(x->fault)], tag = x->kmsg_tag;
    u32 flags = self->flags & (TF_KMSG | TF_FAULT_IPC);
    memcpy(saved, x->fault, sizeof saved);
    self->flags &= ~flags;
    r = kfault_raise(self, th, t, ks, 0);
    self->flags |= flags;
    memcpy(x->fault, saved, sizeof saved);
    x->kmsg_tag = tag;
    return r;
}

i64 tcb_page_resume_ipc(void)
{
    struct thread *self = sched_current();
    sched_reap(); /* the thread we were switched from may have died */
    if (__builtin_expect(self->flags & TF_DROP, 0)) { /* its TCB lost its lender */
        tcb_page_drop_current(self);
        schedule(); /* never back */
    }
    i64 r = self->ext->ipc_result;
    struct km_utcb *u = thread_utcb(self);
    if (r < 0 && !u->error)
        u->error = KM_IPCERR_RECV;
    trace(SYSCALL_EXIT, KM_SYS_IPC, r);
    klock_release();
    return r;
}
