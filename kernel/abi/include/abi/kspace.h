/* Kernel spaces and kernel page faults: the kpager protocol (the paper's
 * §2-3; kernel option kmem=kpager).
 *
 * KSPACE.  Every task has a kernel space: a space of content identifiers,
 * one per 4 KiB page of kernel metadata the task uses.  An address names
 * what a page holds, never where it is; a kpager may ignore it (a generic
 * kpager) or read it (a specialised one: which type, which user region).
 *
 *   range (kspace address)           type             content of page
 *   0x0000000000                      PAGETABLE        the top-level table (PML4)
 *   0x0100000000 + (va >> 39) << 12   PAGETABLE        PDPT covering va
 *   0x0200000000 + (va >> 30) << 12   PAGETABLE        page directory covering va
 *   0x1000000000 + (va >> 21) << 12   PAGETABLE        leaf page table covering va
 *   0x5000000000 + (va >> 21) << 12   NODETABLE        node table beside that leaf
 *   0x9000000000 + n << 12            MAPNODE          the task's n-th node page (n mod 2^23):
 *                                                      nodes, the receiver-derived parts
 *   0x9800000000 + n << 12            MAPNODE          ... an edge page: edges, the
 *                                                      sender-derived parts
 *   0xa000000000 + (2 n) << 12        TCB              thread number n's TCB (kernel part)
 *   0xa000000000 + (2 n + 1) << 12    UTCB             thread number n's UTCB
 *   0xb000000000                      end of the kspace
 * va is a user address of the task; n counts up (wrapping after 2^24).
 *
 * KERNEL PAGE FAULT.  When the kernel needs pages for task T's metadata
 * on behalf of thread X (the thread whose operation needs them: a pager
 * mapping into T, a thread of T touching a new region through its pager),
 * X is blocked and the kernel calls X's client thread's kpager:
 *   tag  KM_TAG(KM_LABEL_KFAULT, 2 + n, 0)
 *   MR0  T's task id (whose kspace)
 *   MR1  n, 1..KM_KFAULT_MAX requests
 *   MR2+i  KM_KREQ(kspace address, type, reason), in hierarchy order
 * The kpager answers with up to n map items, each a 4 KiB fpage of its own
 * memory with read and write rights and send base = one requested kspace
 * address (KM_MAPITEM(ksaddr, 0)).  Answering only the first request is
 * correct (the kernel asks again for the rest); answering all at once
 * saves round trips.  An item that names no outstanding request, or whose
 * page is not the kpager's, writable and unlent, is ignored.  A reply that
 * supplies nothing fails the operation with -KM_ENOMEM.
 *
 * RESERVE.  A reply may also carry pages with send base KM_KS_RESERVE:
 * lent ahead of need, they are used (and from then on named by the kspace
 * address of what they hold) when a page is needed that was not supplied
 * for its own address, so that later operations need no kernel page fault
 * until the reserve is used up (never for a TCB or UTCB page: its export
 * is content the kpager keeps, so it is always lent for its own address);
 * a task holds at most 16 supplied and reserve pages together.  A kernel page fault is raised only when the
 * task's reserve is empty.  The reserve is revocable like any lent page.
 *
 * The kernel then takes the page away from user level: every mapping
 * derived from the kpager's is unmapped and the kpager's own mapping loses
 * access (its node stays: "lent").  The kpager takes it back with unmap on
 * its page (without KM_UNMAP_SELF the page returns to it; with it, its
 * mapping goes too): the kernel first exports the content in its safe form:
 *   PAGETABLE  vacant (all zero): the mappings of the region it covers go
 *              (a state T could have made by unmapping them), its pager
 *              makes them again on T's next faults; for the top-level
 *              table that is all of T's mappings, and T's threads run on
 *              the kernel's tables until their next touch faults it back
 *   NODETABLE  localised (the paper's §3.3): entry i (8 bytes, for the
 *              region's page i) is 0 or the kspace address of that page's
 *              mapping node (a MAPNODE page of T's + the node's offset in
 *              it: kernel/nodetable.c has the table).  The mappings stay,
 *              with everything derived from them; the table comes back,
 *              reason RESTORE, when a new mapping is made in its region.
 *              The kernel checks each entry against what it kept (the
 *              region's PTEs and T's nodes) and makes the table again from
 *              T's nodes if the page does not match, so any page handed
 *              back imports as the table exported (a kpager that lost it
 *              may answer with any page)
 *   MAPNODE    T's records of the mapping database, each mapping split
 *              in two as in the paper's §3.2, a map charging both sides:
 *              - a node page (KM_KS_MN_OF: nodes, the receiver-derived
 *                parts: T's own mappings) leaves localised, and its
 *                mappings stay, with everything derived from them:
 *                  OFFSET   SIZE  FIELD
 *                       0      8  n, the records below (at most 126)
 *                       8     40  0
 *                  48+32k      8  record k: page address | rights (KM_R
 *                                 4, KM_W 2, KM_X 1) | 8 if the frame is
 *                                 the kernel's (a loaded program's) | 16
 *                                 if T lent that page to the kernel; 0 if
 *                                 slot k was free
 *                  56+32k     24  0 (whom a mapping came from is not
 *                                 named: after a grant it is a task T
 *                                 never dealt with)
 *                The kernel keeps all it needs of those mappings (their
 *                PTEs, and the edges of the tasks they came from and went
 *                to) and never asks for the page back: a node is made
 *                again when an operation needs it, in a FRESH page from
 *                the kpager of the thread that asked, else the pool
 *                (within kmem.pool)
 *              - an edge page (KM_KS_ME_OF: edges, the sender-derived
 *                parts: that a mapping was derived from one of T's, T's
 *                side of a map it made) leaves localised too, and the
 *                mappings derived through its edges stay:
 *                  OFFSET   SIZE  FIELD
 *                       0      8  n, the records below (at most 126)
 *                       8     40  0
 *                  48+32k      8  record k: the address of T's page the
 *                                 mapping was derived from | KM_R; 0 if
 *                                 slot k was free
 *                  56+32k     24  0 (not whom it went to, nor its rights:
 *                                 another task's; that a record is there
 *                                 says the derived mapping still was)
 *                The kernel keeps the link in the derived mapping itself
 *                (it names its parent) until an operation needs the edge
 *                again, which it then makes in a FRESH page; a removal
 *                needs none.  Only a derived mapping whose own node is
 *                out as well has nothing left to hold the link: it is
 *                removed, with all derived from it (a state T could have
 *                made by unmapping it)
 *   TCB, UTCB  both pages of the thread, together: the UTCB as it is, the
 *              TCB as a continuation (struct km_tcb_export below); if the
 *              thread is not at a safe point (waiting in an IPC receive,
 *              or not started) the export waits until it is: the unmap
 *              counts the page, which stays without access till then
 * so an exported page never holds a physical address, a kernel pointer or
 * data of another task (a UTCB holds only what its thread wrote there).
 *
 * WHAT IS PAGEABLE, AND WHY SO.  Every page of a task's kernel memory
 * with kmem=kpager: page tables from the top-level one down, node tables,
 * mapping-node pages, TCBs and UTCBs; left in the kernel are the task's
 * table entry and the pinned part of each TCB (sys_kmem_info:
 * pinned_bytes, under 128 bytes a thread).  Page tables are exported
 * vacant, node pages and edge pages localised, and the kernel never
 * imports their content: a page it gets for them is zeroed before use,
 * whatever the kpager put in it, and their requests are reason FRESH.  This keeps
 * invariants 1 and 2 of DESIGN §4 trivially true for them (nothing
 * sensitive leaves, nothing is read back).  Page tables are redundant
 * (the pagers know the mappings); a node page's content is redundant with
 * what the kernel keeps anyway (each mapping's PTE, the edges of its
 * parent and its own), so its mappings stay and unmapping stays exact;
 * an edge page's too (each derived mapping names its parent while its
 * edge is out).  Node tables, TCBs and UTCBs are
 * imported (reason RESTORE): a node table as names of the task's own
 * nodes, a TCB as a continuation and user registers, each validated as
 * described here.
 *
 * HIERARCHY (fault ordering).  PML4 < PDPT < PD < leaf table < node table
 * < node page < TCB < UTCB: a page never needs one of a later kind to
 * exist, so the kernel requests them in this order and never raises a
 * kernel page fault while it handles one (a kfault IPC's reply is applied
 * without needing any kernel memory of the kpager's: a kpager's own page
 * whose node table is out is looked up through a table the kernel makes
 * again from the kpager's nodes, in a page of its pool).  A node table
 * that is out comes back when its region is used: from the task's kpager
 * (RESTORE) in an operation for the task (a mapping into it, a send from
 * it, its own unmap); otherwise the kernel makes it again from the task's
 * nodes in a page of its pool, charged to the task (as for a thread
 * without kpager), one pass over the nodes for a whole range.  Removals
 * through the derivation tree (another task's unmap reaching the task's
 * mappings) need no table: they clear the PTE.  A TCB's restore is
 * raised by the thread that needs the paged-out thread (never by the
 * paged-out thread itself, which cannot run), before its operation holds
 * anything; a thread waiting for a kernel page fault's answer is never at
 * a safe point, so the TCB of a thread in a kernel page fault stays in.
 *
 * DEADLOCK.  If the kpager is X itself, or X is what the kpager waits for
 * (directly or through a chain of threads each blocked on the next), the
 * operation is aborted: X gets -KM_EDEADLK, and the partner of X's IPC, if
 * any, gets -KM_EDEADLK in its receive phase (a faulting client is then
 * sent KM_LABEL_EXCEPTION with vector 14 and error KM_EDEADLK).  If the
 * kpager, serving the fault, faults itself and its pager is X (or raises
 * an exception X would get), the same: X's operation ends with
 * -KM_EDEADLK and so does the kpager's fault (an exception message to the
 * kpager's pager, abi/l4.h).  A kpager that simply never answers is not a
 * deadlock the kernel can see: X waits (only zero and infinite timeouts).
 *
 * POOL.  Threads with a nil kpager, and every thread with kmem=pool, get
 * kernel pages from the kernel's own pool (size: kernel option kmem.pool);
 * then no kernel page fault is ever sent.
 */
#ifndef ABI_KSPACE_H
#define ABI_KSPACE_H

#include <abi/kmem.h>
#include <abi/types.h>

#define KM_KS_PML4 0x0000000000ull
#define KM_KS_PDPT 0x0100000000ull
#define KM_KS_PD 0x0200000000ull
#define KM_KS_PT 0x1000000000ull
#define KM_KS_NT 0x5000000000ull
#define KM_KS_MN 0x9000000000ull
#define KM_KS_ME 0x9800000000ull
#define KM_KS_TCB 0xa000000000ull
#define KM_KS_END 0xb000000000ull
/* Send base of a page lent ahead of need (see RESERVE above). */
#define KM_KS_RESERVE KM_KS_END

#define KM_KS_PDPT_OF(va) (KM_KS_PDPT + (((km_u64)(va) >> 39) << 12))
#define KM_KS_PD_OF(va) (KM_KS_PD + (((km_u64)(va) >> 30) << 12))
#define KM_KS_PT_OF(va) (KM_KS_PT + (((km_u64)(va) >> 21) << 12))
#define KM_KS_NT_OF(va) (KM_KS_NT + (((km_u64)(va) >> 21) << 12))
/* n counts up and wraps inside the range (names of node pages only tell
 * the type; two pages may share one after 2^23 node and edge pages). */
#define KM_KS_MN_OF(n) (KM_KS_MN + (((km_u64)(n) & ((KM_KS_ME - KM_KS_MN) / 4096 - 1)) << 12))
#define KM_KS_ME_OF(n) (KM_KS_ME + (((km_u64)(n) & ((KM_KS_TCB - KM_KS_ME) / 4096 - 1)) << 12))
/* n: the thread's number, KM_ID_NUMBER of its id. */
#define KM_KS_TCB_OF(n) (KM_KS_TCB + ((km_u64)(n) << 13))
#define KM_KS_UTCB_OF(n) (KM_KS_TCB_OF(n) + 4096)
/* The thread number a TCB-range address names. */
#define KM_KS_TCB_THREAD(ksaddr) ((km_u32)(((ksaddr) - KM_KS_TCB) >> 13))

/* The type of kernel data a kspace address holds (KM_KMEM_*), or -1. */
static inline int km_ks_type(km_u64 ksaddr)
{
    if (ksaddr < KM_KS_NT)
        return KM_KMEM_PAGETABLE;
    if (ksaddr < KM_KS_MN)
        return KM_KMEM_NODETABLE;
    if (ksaddr < KM_KS_TCB)
        return KM_KMEM_MAPNODE;
    if (ksaddr < KM_KS_END)
        return (ksaddr >> 12) & 1 ? KM_KMEM_UTCB : KM_KMEM_TCB;
    if (ksaddr == KM_KS_RESERVE)
        return KM_KMEM_RESERVE;
    return -1;
}

#define KM_LABEL_KFAULT 0xffffffffffe0ull /* -32 in 48 bits */
#define KM_KFAULT_MAX 8 /* requests per kernel page fault */

#define KM_KREASON_FRESH 0u   /* a new, empty page */
#define KM_KREASON_RESTORE 1u /* a page exported before, to be given back */

/* A request word: kspace address (page aligned) | type << 4 | reason. */
#define KM_KREQ(ksaddr, type, reason) (((km_u64)(ksaddr) & ~0xfffull) | ((km_u64)(type) << 4) | (reason))
#define KM_KREQ_ADDR(w) ((w) & ~0xfffull)
#define KM_KREQ_TYPE(w) ((unsigned)((w) >> 4) & 0xf)
#define KM_KREQ_REASON(w) ((unsigned)(w) & 0xf)

/* A TCB page as a kpager sees it after the kernel exported it (revocation
 * of the TCB or UTCB page of a thread; both go out together).  The UTCB
 * page is exported as it is (it holds only what the thread itself may
 * read and write).  The kernel part is a continuation: which of a few
 * safe points the thread's kernel state was at, plus its user registers;
 * no kernel pointer, no physical address, nothing of another task.
 *
 * OFFSET SIZE FIELD    MEANING
 *      0    8 magic    KM_TCB_MAGIC
 *      8    8 tid      the thread's id
 *     16    4 cont     KM_KCONT_*: where the thread stood
 *     20    4 reserved 0
 *     24    8 from     KM_KCONT_IPC_WAIT: whom it receives from (a thread
 *                      id, KM_ANYTHREAD); informative (the kernel keeps it)
 *     32    8 rip      user registers: where the thread goes on in user
 *     40    8 rsp      mode (START: where it will start)
 *     48    8 rflags
 *     56  120 gpr      rax rbx rcx rdx rsi rdi rbp r8 r9 r10 r11 r12 r13
 *                      r14 r15 (IPC_WAIT: rax is replaced by the IPC's
 *                      result when it completes)
 *    176 3920 (zero)
 *
 * RESTORE.  When the kernel needs a paged-out TCB (a message for the
 * thread, exregs, thread control on it), the thread whose operation needs
 * it raises a kernel page fault to the paged-out thread's kpager with two
 * requests of reason RESTORE: its TCB and its UTCB address.  The kernel
 * then checks the TCB page: magic, tid, a continuation that matches what
 * the kernel kept of the thread (inactive: START, waiting in a receive:
 * IPC_WAIT), reserved 0, rip and rsp in user space; rflags keeps only the
 * flags user code may set (KM_TCB_RFLAGS_USER).  A page that fails is refused: the thread is deleted (the
 * client loses that thread, nothing else).  Registers and UTCB contents
 * are taken as they come: whatever they hold, the thread could have put
 * there itself.
 */
#define KM_TCB_MAGIC 0x3176424354424b4dull /* "MKBTCBv1" little-endian */
/* rflags of an imported TCB: only what user code may set itself (popf
 * at CPL 3: CF PF AF ZF SF TF DF OF AC ID), IF and bit 1 always on; never
 * IOPL, NT, RF, VM, VIF, VIP. */
#define KM_TCB_RFLAGS_USER 0x240dd5ull
#define KM_TCB_RFLAGS_ON 0x202ull
#define KM_KCONT_START 1u    /* not started yet (inactive) */
#define KM_KCONT_IPC_WAIT 2u /* blocked in the receive phase of an IPC syscall */

struct km_tcb_export {
    km_u64 magic;
    km_u64 tid;
    km_u32 cont;
    km_u32 reserved;
    km_u64 from;
    km_u64 rip, rsp, rflags;
    km_u64 rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
};
KM_STATIC_ASSERT(sizeof(struct km_tcb_export) == 176, "exported TCB header is 176 bytes");

#endif
