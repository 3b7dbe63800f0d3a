/* Exported TCBs as data (see kernel/tcb_export.h, abi/kspace.h). */
#include <arch/layout.h>
#include <kernel/string.h>
#include <kernel/tcb_export.h>

void tcb_export_make(struct km_tcb_export *e, km_tid tid, u32 cont, km_tid from)
{
    memset(e, 0, sizeof *e);
    e->magic = KM_TCB_MAGIC;
    e->tid = tid;
    e->cont = cont;
    e->from = from;
}

enum tcb_export_verdict tcb_export_check(const struct km_tcb_export *e, km_tid tid, u32 want_cont,
                                         struct km_tcb_export *out)
{
    if (e->magic != KM_TCB_MAGIC)
        return TCB_BAD_MAGIC;
    if (e->tid != tid)
        return TCB_BAD_TID;
    if (e->cont != want_cont)
        return TCB_BAD_CONT;
    if (e->reserved != 0)
        return TCB_BAD_RESERVED;
    if (e->rip >= USER_TOP)
        return TCB_BAD_RIP;
    if (e->rsp >= USER_TOP)
        return TCB_BAD_RSP;
    *out = *e;
    out->rflags = (e->rflags & KM_TCB_RFLAGS_USER) | KM_TCB_RFLAGS_ON;
    return TCB_OK;
}

const char *tcb_export_verdict_name(enum tcb_export_verdict v)
{
    static const char *const names[] = {"ok", "magic", "tid", "continuation", "reserved", "rip", "rsp"};
    return (unsigned)v < sizeof names / sizeof names[0] ? names[v] : "?";
}
