/* Internals of kernel/kmem.c that kernel/mapdb_lend.c's lend path inlines
 * (kmem_supply_lend: one function from the kpager's answer to the page in
 * the supply).  Only kmem.c and mapdb_lend.c include this.  Kernel lock held. */
#ifndef KERNEL_KMEM_SUPPLY_H
#define KERNEL_KMEM_SUPPLY_H

#include <abi/kspace.h>
#include <kernel/frame.h>
#include <kernel/kmem.h>
#include <kernel/task.h>

extern struct kmem_account kmem_kernel_account;

static inline struct kmem_account *kmem_account_of(struct task *t)
{
    return t ? &t->kmem : &kmem_kernel_account;
}

/* n pages of type more (or fewer) held for t; the peak follows. */
static inline void kmem_charge(struct task *t, enum kmem_type type, i64 n)
{
    struct kmem_account *a = kmem_account_of(t);
    a->pages[type] = (u64)((i64)a->pages[type] + n);
    if (a->pages[type] > a->peak[type])
        a->peak[type] = a->pages[type];
}

/* t's supply is packed: entries [0, t->nsupply) are in use. */
static inline struct kmem_supply *kmem_supply_find(struct task *t, u64 ksaddr)
{
    for (u32 i = 0; i < t->nsupply; i++)
        if (KM_KREQ_ADDR(t->supply[i].req) == ksaddr)
            return &t->supply[i];
    return NULL;
}

/* Whether t's supply takes a page for req: a free entry, and none for
 * its kspace address yet (lent ahead: any number).  (An empty supply, the
 * common case at a kernel page fault, in one test.) */
static inline __attribute__((always_inline)) int kmem_supply_room(struct task *t, u64 req)
{
    u32 n = t->nsupply;
    if (__builtin_expect(n != 0, 0)) {
        if (n == KMEM_SUPPLY)
            return -KM_ENOMEM;
        if (KM_KREQ_ADDR(req) != KM_KS_RESERVE && kmem_supply_find(t, KM_KREQ_ADDR(req)))
            return -KM_EBUSY;
    }
    return 0;
}

/* Binds lent frame phys to req in t's supply (kmem_supply_room said yes);
 * lender: the lender's page address | its task number.  rec: phys's loan
 * record (frame_lend(phys); a caller that took phys from a PTE may skip
 * frame_lend's checks). */
static inline __attribute__((always_inline)) void kmem_supply_put(struct task *t, u64 req, u64 phys,
                                                                  struct frame_lend *rec, u64 lender)
{
    u32 n = t->nsupply;
    *rec = (struct frame_lend){lender, KM_KREQ_ADDR(req) | t->number};
    kmem_lent_frames++;
    kmem_ever_lent = true;
    t->supply[n] = (struct kmem_supply){req, phys};
    t->nsupply = n + 1;
    kmem_charge(t, (enum kmem_type)KM_KREQ_TYPE(req), 1);
}

#endif
