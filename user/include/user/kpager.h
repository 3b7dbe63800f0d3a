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
 * page of that task in the range; the kernel exports each (abi/kspace.h:
 * vacant) and the page returns to the pool.  The reply: MR0 = pages taken
 * back, or -KM_E*.  Other messages are answered with -KM_EINVAL.
 */
#ifndef USER_KPAGER_H
#define USER_KPAGER_H

#include <abi/kspace.h>
#include <user/l4.h>

#define KPAGER_MAX_PAGES 4096
#define KPAGER_LABEL_REVOKE 0x4b5052ull /* "KPR" */

enum kpage_state { KPAGE_FREE = 0, KPAGE_LENT };

struct kpage {
    km_u64 ksaddr;      /* LENT: the kspace address it holds */
    km_taskid task;     /* LENT: whose kspace */
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
    unsigned long revoked;     /* pages taken back */
    unsigned long requested;   /* request words seen */
    unsigned long exhausted;   /* faults it could not serve: pool empty */
    unsigned long bad;         /* malformed kernel page faults */
    km_u64 last_req[KM_KFAULT_MAX]; /* the last fault's requests (tests) */
    unsigned last_n;
    unsigned nfree;            /* free pool pages: indices free[0 .. nfree) */
    unsigned short free[KPAGER_MAX_PAGES];
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
/* Pages of k lent now. */
unsigned kpager_lent(const struct kpager *k);
/* For another thread of the kpager's task while the kpager thread waits
 * (benchmarks, tests): the pool index of the page lent for task's kspace
 * address ksaddr (-1: none), its address, and marking it free again after
 * that thread unmapped it (sys_unmap without KM_UNMAP_SELF). */
int kpager_find(const struct kpager *k, km_taskid task, km_u64 ksaddr);
km_u64 kpager_page(const struct kpager *k, unsigned i);
void kpager_returned(struct kpager *k, unsigned i);

#endif
