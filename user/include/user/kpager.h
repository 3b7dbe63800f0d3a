/* The reference kpager: supplies kernel pages to its clients' kernel
 * spaces (protocol: abi/kspace.h) from a pool of its own pages, and takes
 * them back when told.
 *
 * A kpager thread answers kernel page faults (label KM_LABEL_KFAULT) with
 * up to `batch` pages of its pool: batch 1 answers only the first request,
 * so an operation that needs n pages costs n kernel page faults (the
 * paper's cold case); batch KM_KFAULT_MAX answers them all at once.  It
 * records for each lent page whose kspace and which address it holds (a
 * reserve page: KM_KS_RESERVE; what it holds later is the kernel's).
 *
 * Quota: with `quota` set, a task never holds more than that many of its
 * pages at once; a fault beyond it is answered with nothing, and the
 * operation that needed the memory fails (-KM_ENOMEM; a faulting client
 * gets an exception message): kernel memory per task is the kpager's to
 * control, the paper's resource principals.
 *
 * Revocation: a message KPAGER_LABEL_REVOKE (MR0 task id or 0 for all
 * tasks, MR1..MR2 the kspace range [lo, hi)) makes it unmap every lent
 * page of that task in the range; the kernel exports each (abi/kspace.h)
 * and the page comes back.  The reply: MR0 = pages taken back, or -KM_E*.
 * Other messages are answered with -KM_EINVAL.
 *  - page tables, node pages (and unused reserve pages) are exported
 *    vacant: the page returns to the pool (FREE);
 *  - a node table is exported localised (kernel/nodetable.c: its mappings
 *    stay): HELD, like a thread's pages;
 *  - a thread's TCB or UTCB page (km_ks_type TCB or UTCB): the kernel
 *    exports both pages of that thread (struct km_tcb_export and the UTCB
 *    as it is), so both become HELD: kept, with task and kspace address,
 *    never lent for anything else, and never read or written by the
 *    kpager (the kernel may defer the export until the thread waits in a
 *    receive; until then the pages stay inaccessible to the kpager).
 * Restore: a kernel page fault request of reason RESTORE is answered with
 * the HELD page for that task and kspace address, which is LENT again;
 * every RESTORE request of a fault is answered at once, whatever `batch`
 * (the pages are the thread's, none is taken from the pool).  A RESTORE
 * request for which no page is held is answered with nothing for a
 * thread's page (never a fresh page: the kernel then fails the operation
 * that needed the thread with -KM_ENOMEM and the thread stays paged out)
 * and with a pool page for a node table (the kernel makes the table again
 * from the task's nodes); `restore_missed` counts them both.  The quota bounds LENT pages only: HELD pages do not count, but a
 * restore that would take the task past its quota is refused like a fresh
 * page (`refused`, and the thread stays paged out).
 * A FRESH request for an address of which a page is recorded (held, or
 * lent for a thread since deleted: the kernel gave it back) means that
 * thread number is free again, or that the kernel forgot that node table
 * (its leaf table went): that page returns to the pool first.
 * HELD pages of a task that is gone return to the pool when the pool runs
 * dry (as lent ones do) and after a revocation for every task (task 0).
 * A restore finds its pages through an index of the HELD ones.
 * (The kernel never uses a reserve page for a TCB or UTCB: those are
 * always lent for their own kspace address, so a revoked one is known.)
 */
#ifndef USER_KPAGER_H
#define USER_KPAGER_H

#include <abi/kspace.h>
#include <user/l4.h>

#define KPAGER_MAX_PAGES 4096
#define KPAGER_LABEL_REVOKE 0x4b5052ull /* "KPR" */

/* FREE: in the pool; LENT: the kernel has it; HELD: a thread's exported
 * TCB or UTCB page, or an exported node table, kept for its restore (see
 * Revocation above). */
enum kpage_state { KPAGE_FREE = 0, KPAGE_LENT, KPAGE_HELD };

struct kpage {
    km_u64 ksaddr;      /* LENT, HELD: the kspace address it holds */
    km_taskid task;     /* LENT, HELD: whose kspace */
    unsigned char state;
};

struct kpager {
    km_u64 pool;               /* first page of the pool (page aligned, mapped RW) */
    unsigned npages;           /* pool pages, at most KPAGER_MAX_PAGES */
    unsigned batch;            /* pages per kernel page fault, 1..KM_KFAULT_MAX */
    unsigned reserve;          /* pages lent ahead of need per fault (KM_KS_RESERVE) */
    unsigned quota;            /* most pages lent to one task at a time (0: no limit):
                                  beyond it a fault gets nothing (-KM_ENOMEM there) */
    unsigned long refused;     /* faults refused for the quota */
    unsigned long kfaults;     /* kernel page faults answered */
    unsigned long supplied;    /* pages handed to the kernel */
    unsigned long revoked;     /* pages taken back (a TCB or UTCB page: both of its thread) */
    unsigned long restores;    /* kernel page faults with RESTORE requests answered
                                  with at least one held page */
    unsigned long restored;    /* held pages lent again for RESTORE requests */
    unsigned long restore_missed; /* RESTORE requests for which no page was held */
    unsigned long requested;   /* request words seen */
    unsigned long exhausted;   /* faults it could not serve: pool empty */
    unsigned long bad;         /* malformed kernel page faults */
    km_u64 last_req[KM_KFAULT_MAX]; /* the last fault's requests (tests) */
    unsigned last_n;
    unsigned nfree;            /* free pool pages: indices free[0 .. nfree) */
    unsigned short free[KPAGER_MAX_PAGES];
    unsigned nheld;            /* held pages: indices held[0 .. nheld) */
    unsigned short held[KPAGER_MAX_PAGES];
    struct kpage page[KPAGER_MAX_PAGES];
};

/* pool: npages writable pages of the caller's task (touched here so that
 * they are mapped); batch as above; reserve: pages it adds to each answer
 * with send base KM_KS_RESERVE (the kernel uses them for later needs: a
 * fault means the task's reserve is empty), 0..KPAGER_MAX_RESERVE. */
#define KPAGER_MAX_RESERVE 8
void kpager_init(struct kpager *k, void *pool, unsigned npages, unsigned batch,
                 unsigned reserve);
/* Serves kernel page faults and revocation requests for ever. */
void kpager_serve(struct kpager *k);
/* Starts a thread running kpager_serve(k). */
long kpager_thread_start(struct l4_thread *t, const struct l4_thread_attr *a, struct kpager *k);
/* Asks kpager thread kp to take back task's pages in kspace [lo, hi)
 * (task 0: every task's); returns how many, or -KM_E*. */
long kpager_revoke(km_tid kp, km_taskid task, km_u64 lo, km_u64 hi);
/* Pages of k lent now; pages of k held now (exported TCB and UTCB pages). */
unsigned kpager_lent(const struct kpager *k);
unsigned kpager_held(const struct kpager *k);
/* For another thread of the kpager's task while the kpager thread waits
 * (benchmarks, tests): the pool index of the page lent for task's kspace
 * address ksaddr (-1: none), its address, and marking it taken back after
 * that thread unmapped it (sys_unmap without KM_UNMAP_SELF, which counted
 * it): free again, or, a TCB or UTCB page, held with its thread's other
 * page, as revocation does. */
int kpager_find(const struct kpager *k, km_taskid task, km_u64 ksaddr);
km_u64 kpager_page(const struct kpager *k, unsigned i);
void kpager_returned(struct kpager *k, unsigned i);
/* Tests of the kernel's restore path (a malicious kpager on purpose):
 * the pool index of the page held for task's kspace address ksaddr (-1:
 * none), and its address (0: none).  The caller may change the page's
 * bytes before the kpager gives it back (a RESTORE request), but only once
 * the export is done: when sys_kmem_info shows the thread's pages gone
 * from the task's TCB and UTCB counts (a deferred export leaves the page
 * inaccessible until then).  It may also exchange what two held pages
 * stand for with kpager_held_swap (the kpager then restores one page in
 * place of the other: another thread's, another type's); 0, or -1 when
 * either is not held. */
int kpager_find_held(const struct kpager *k, km_taskid task, km_u64 ksaddr);
km_u64 kpager_held_page(const struct kpager *k, km_taskid task, km_u64 ksaddr);
int kpager_held_swap(struct kpager *k, km_taskid task_a, km_u64 ksaddr_a, km_taskid task_b,
                     km_u64 ksaddr_b);

#endif
