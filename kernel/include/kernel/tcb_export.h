/* The exported TCB (struct km_tcb_export, abi/kspace.h) as data: making
 * its header and checking one a kpager gave back.  Pure functions, so the
 * host unit tests and the fuzz harness run them as the kernel does
 * (kernel/tcb_page.c does the rest: registers, stacks, pages). */
#ifndef KERNEL_TCB_EXPORT_H
#define KERNEL_TCB_EXPORT_H

#include <abi/kspace.h>
#include <abi/l4.h>
#include <kernel/types.h>

/* Why a page was refused (0: accepted). */
enum tcb_export_verdict {
    TCB_OK = 0,
    TCB_BAD_MAGIC,    /* not an exported TCB (a fresh page, another type's) */
    TCB_BAD_TID,      /* another thread's, or an older one's of this slot */
    TCB_BAD_CONT,     /* not the safe point the kernel kept for the thread */
    TCB_BAD_RESERVED, /* the reserved word is not 0 */
    TCB_BAD_RIP,      /* rip outside user space */
    TCB_BAD_RSP,      /* rsp outside user space */
};

/* The header of thread tid's export at continuation cont (the registers
 * are the arch's to fill in); every other byte 0. */
void tcb_export_make(struct km_tcb_export *e, km_tid tid, u32 cont, km_tid from);

/* Checks export e (read once, by the caller, out of the kpager's reach)
 * for thread tid, whose kept state makes continuation want_cont; on
 * TCB_OK, *out is what the kernel uses: e with rflags as user code could
 * have set them (KM_TCB_RFLAGS_USER, IF on). */
enum tcb_export_verdict tcb_export_check(const struct km_tcb_export *e, km_tid tid, u32 want_cont,
                                         struct km_tcb_export *out);

/* The verdict's name, for traces and test messages. */
const char *tcb_export_verdict_name(enum tcb_export_verdict v);

#endif
