/* Talking to sigma0 (protocol in abi/l4.h), and a pager serving anonymous
 * memory from pages it gets there. */
#ifndef USER_SIGMA0_H
#define USER_SIGMA0_H

#include <user/sys.h>

/* sigma0's thread id, or nil when this run has no sigma0. */
km_tid sigma0_tid(void);

/* Asks sigma0 for a block of 2^log2 bytes (phys 0: any free one, else that
 * physical block) with rights, mapped into the caller's space at `where`
 * (aligned to the block size).  Returns 0, or -KM_E* (-KM_ENOMEM: sigma0
 * has none left; -KM_ESRCH: no sigma0). */
long sigma0_get(unsigned log2, unsigned rights, km_u64 phys, km_u64 where);

/* ---- the anonymous-memory pager -----------------------------------------
 * Serves page faults of client threads: a fault in [anon_lo, anon_hi) gets
 * a zeroed page of its own (from sigma0, kept in the pager's pool window
 * and mapped on, so later faults on the same page get the same frame); any
 * other fault gets the pager task's own page at the same address (program
 * image and stacks), like l4_pager_serve. */
#define ANON_MAX_PAGES 1024

struct anon_pager {
    km_u64 anon_lo, anon_hi; /* the anonymous region (page aligned), at most
                                ANON_MAX_PAGES pages */
    km_u64 pool;             /* where the pager keeps its sigma0 pages */
    unsigned long pages;     /* anonymous pages handed out */
    unsigned long faults;    /* faults served */
    long error;              /* first error met (0: none) */
    volatile int stop;       /* set by the owner; the loop ends at the next message */
    unsigned char have[ANON_MAX_PAGES]; /* pool slot filled */
};

/* Serves faults (and nothing else) from any thread until `stop` is set and
 * a message arrives (any message ends it then). */
void anon_pager_serve(struct anon_pager *p);

#endif
