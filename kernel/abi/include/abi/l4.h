/* The L4 base ABI: thread and task ids, message tags, flexpages, map
 * items, the UTCB, and the page-fault protocol.  Shared by the kernel, user
 * programs and host tools.
 *
 * Thread ids (km_tid) and task ids (km_taskid) are 64-bit:
 *   bits 63..32  number  slot in the kernel's thread (task) table, >= 1
 *   bits 31..0   version incremented each time the slot is reused, >= 1
 * An id whose version does not match the slot's current version is stale:
 * every system call rejects it with -KM_ESRCH.  0 is the nil id.
 */
#ifndef ABI_L4_H
#define ABI_L4_H

#include <abi/types.h>

typedef km_u64 km_tid;
typedef km_u64 km_taskid;

#define KM_NILTHREAD 0ull
#define KM_ANYTHREAD (~0ull) /* receive from any sender */
#define KM_ID_NUMBER(id) ((km_u32)((id) >> 32))
#define KM_ID_VERSION(id) ((km_u32)(id))
#define KM_ID(number, version) (((km_u64)(number) << 32) | (km_u32)(version))

/* ---- message tag --------------------------------------------------------
 * bits  6..0   u      untyped words: MR[0 .. u-1]
 * bits 13..8   t      typed words after them: MR[u .. u+t-1]; map and grant
 *                     items take two words each, so t is even
 * bits 63..16  label  the sender's; the kernel uses negative labels (top
 *                     bits set) for messages it synthesises (page faults)
 * u + t <= KM_MR_COUNT.
 */
#define KM_MR_COUNT 64
#define KM_TAG(label, u, t) (((km_u64)(label) << 16) | ((km_u64)(t) << 8) | (km_u64)(u))
#define KM_TAG_U(tag) ((km_u32)((tag)&0x7f))
#define KM_TAG_T(tag) ((km_u32)(((tag) >> 8) & 0x3f))
#define KM_TAG_LABEL(tag) ((km_u64)(tag) >> 16)

/* ---- flexpage -----------------------------------------------------------
 * A naturally aligned power-of-two region of an address space:
 * bits 63..12  base    (aligned to the size)
 * bits 11..6   log2 of the size, 12..47 (4 KiB .. 128 TiB)
 * bits 2..0    rights: KM_R | KM_W | KM_X
 * The whole user half is KM_FPAGE(0, 47, rights) (except the kernel-reserved
 * UTCB area, which map, grant and unmap never touch).
 */
#define KM_R 4u
#define KM_W 2u
#define KM_X 1u
#define KM_RWX 7u
#define KM_FPAGE(base, log2size, rights)                                                         \
    (((km_u64)(base) & ~0xfffull) | ((km_u64)(log2size) << 6) | ((km_u64)(rights)&7))
#define KM_FPAGE_BASE(f) ((f) & ~0xfffull)
#define KM_FPAGE_LOG2(f) ((km_u32)(((f) >> 6) & 0x3f))
#define KM_FPAGE_RIGHTS(f) ((km_u32)((f)&7))
#define KM_FPAGE_MIN_LOG2 12
#define KM_FPAGE_MAX_LOG2 47

/* ---- map and grant items (two typed words) ------------------------------
 * word 0: bits 63..12 send base (the "hot spot"), bit 1 grant (else map),
 *         bit 0 must be 0
 * word 1: the sender's flexpage (what is mapped, with the rights given;
 *         the receiver gets at most the rights the sender holds)
 * Placement (the receiver decides where): the receiver's acceptor window W
 * (UTCB field `acceptor`, a flexpage) and the item's fpage F:
 *   |F| <= |W|: F lands at W.base + (send_base mod |W|), rounded down to |F|.
 *   |F| >  |W|: only the |W|-sized, aligned part of F that contains
 *               send_base is mapped, and it lands on W.
 * A nil acceptor (0) accepts no mappings: items are then an error.
 */
#define KM_ITEM_GRANT 2ull
#define KM_MAPITEM(send_base, grant) (((km_u64)(send_base) & ~0xfffull) | ((grant) ? KM_ITEM_GRANT : 0))

/* ---- UTCB: one per thread, in its task at a kernel-chosen address ------
 * The thread finds its own at %fs:0 (FS base points at it).  User level
 * may read and write every field; the kernel validates what it reads.
 * OFFSET SIZE FIELD      MEANING
 *      0    8 self       this UTCB's own address (so %fs:0 yields it)
 *      8    8 tid        the thread's id (kernel-written)
 *     16    8 task       the thread's task id (kernel-written)
 *     24    8 sender     who sent the last message received (kernel-written)
 *     32    8 tag        tag of the last message received (kernel-written)
 *     40    8 acceptor   flexpage window for incoming map/grant items
 *     48    8 error      detail of the last IPC error (KM_IPCERR_*)
 *     56    8 user       free for the program
 *     64  512 mr         message registers MR[0..63]
 *    576  448 reserved
 */
struct km_utcb {
    km_u64 self;
    km_tid tid;
    km_taskid task;
    km_tid sender;
    km_u64 tag;
    km_u64 acceptor;
    km_u64 error;
    km_u64 user;
    km_u64 mr[KM_MR_COUNT];
    km_u8 reserved[448];
};
KM_STATIC_ASSERT(sizeof(struct km_utcb) == 1024, "UTCB is 1 KiB");
KM_STATIC_ASSERT(__builtin_offsetof(struct km_utcb, mr) == 64, "MRs at 64");

/* Where UTCBs live in every task: a 4 MiB area below the stack top, one
 * 1 KiB slot per thread of the task; no mapping may be made there. */
#define KM_UTCB_AREA 0x00007fff00000000ull
#define KM_UTCB_AREA_SIZE 0x400000ull

/* ---- IPC ----------------------------------------------------------------
 * sys_ipc(to, from, flags, tag): a send phase (when to != nil) then a
 * receive phase (when from != nil), atomically: call = (X, X), reply and
 * wait = (X, ANY), send = (X, nil), receive = (nil, X or ANY).
 * flags: KM_IPC_SEND_NOWAIT / KM_IPC_RECV_NOWAIT make that phase's timeout
 * zero (fail with -KM_ETIMEOUT unless the partner is ready); otherwise the
 * timeout is infinite.  The message is tag + MR[0..u+t-1] of the sender's
 * UTCB; the receiver gets MRs, `sender` and `tag` in its UTCB.
 * Result: 0, or -KM_E*; UTCB.error then says which phase failed.
 */
#define KM_IPC_SEND_NOWAIT 1u
#define KM_IPC_RECV_NOWAIT 2u
#define KM_IPCERR_SEND 1u /* failed in the send phase (nothing delivered) */
#define KM_IPCERR_RECV 2u /* failed in the receive phase (the send, if any, was done) */

/* ---- page faults --------------------------------------------------------
 * A user page fault becomes a call from the faulting thread to its pager:
 * tag = KM_TAG(KM_LABEL_PAGEFAULT, 3, 0), MR[0] = fault address, MR[1] =
 * fault IP, MR[2] = access (KM_R, KM_W or KM_X).  The receive phase accepts
 * mappings anywhere in the faulting task (acceptor = whole space); a reply
 * with a map item resolves the fault and the thread retries the access.  A
 * reply without one lets it fault again.
 */
#define KM_LABEL_PAGEFAULT 0xfffffffffffeull /* -2 in 48 bits */
/* Or'ed into MR[2] when the kernel itself needs the page: a system call's
 * buffer the thread has not touched yet.  A reply without a map item then
 * makes that call fail with -KM_EFAULT (the thread is not stopped). */
#define KM_FAULT_SYSCALL 8u

/* ---- sigma0 protocol -----------------------------------------------------
 * With kernel option `sigma0`, boot module 1 is sigma0: it owns a block of
 * physical memory (sysinfo: sigma0, sigma0_mem), mapped at the same virtual
 * addresses in its space, and hands pages out on request:
 *   request: tag KM_TAG(KM_LABEL_SIGMA0, 1, 0), MR[0] = KM_FPAGE(base,
 *            log2size, rights): base 0 = any free block of that size, else
 *            that physical block (if sigma0 still has it).
 *   reply:   tag KM_TAG(0, 0, 2) with a map item of the block (the caller's
 *            acceptor decides where it lands), or KM_TAG(0, 1, 0) with
 *            MR[0] = -KM_ENOMEM (none left) or -KM_EINVAL (bad request).
 * A block is given once; sigma0 keeps its own mapping (it may revoke). */
#define KM_LABEL_SIGMA0 0xfffffffffff0ull /* -16 in 48 bits */

/* ---- program end and exceptions as messages to the pager ----------------
 * In a task that is not a boot program (one a root task or any program
 * created), sys_exit(status) sends the thread's pager
 *   KM_TAG(KM_LABEL_EXIT, 1, 0), MR[0] = status
 * and a CPU exception other than a page fault sends
 *   KM_TAG(KM_LABEL_EXCEPTION, 4, 0), MR[0] = vector, MR[1] = error code,
 *   MR[2] = ip, MR[3] = address (CR2 for #PF, else the ip)
 * (a page fault whose pager is nil or gone, or whose fault IPC failed,
 * sends the latter with vector 14 and the IPC's KM_E* code in bits 63..32
 * of MR[1]: KM_EDEADLK, KM_ENOMEM when the kernel memory for the mapping
 * could not be had from the thread's kpager, abi/kspace.h);
 * the thread is gone once the message is delivered, and the pager decides
 * what becomes of its task.  Without a pager the task is deleted. */
#define KM_LABEL_EXIT 0xfffffffffff1ull      /* -15 in 48 bits */
#define KM_LABEL_EXCEPTION 0xfffffffffff2ull /* -14 in 48 bits */

/* ---- root task ------------------------------------------------------------
 * With kernel option `roottask`, the kernel runs one boot module as the root
 * task (the one after sigma0 with option sigma0, else the first) and hands
 * it the remaining modules to start: each image is mapped read-only into
 * the root task at KM_BOOTMOD_AREA (one after the other, page aligned), and
 * a read-only page at KM_BOOTINFO lists them (struct km_bootinfo). */
#define KM_BOOTINFO 0x00007ffd00000000ull
#define KM_BOOTMOD_AREA 0x00007e0000000000ull
#define KM_BOOTINFO_MAX 32

struct km_bootmod {
    char name[48]; /* the module's command line (path and arguments) */
    km_u64 va;     /* where its image is in the root task */
    km_u64 size;   /* bytes */
};
struct km_bootinfo {
    km_u32 nmodules;
    km_u32 first_index; /* program number of mod[0] (boot module order, 1-based) */
    struct km_bootmod mod[KM_BOOTINFO_MAX];
};
KM_STATIC_ASSERT(sizeof(struct km_bootinfo) <= 4096, "boot info fits a page");

/* ---- thread control -----------------------------------------------------
 * sys_thread_control(tid, op, arg) */
#define KM_TCTL_SET_PAGER 1    /* arg: pager's tid (or nil: faults kill) */
#define KM_TCTL_SET_KPAGER 2   /* arg: kpager's tid (kept; used by kmem=kpager) */
#define KM_TCTL_SET_PRIORITY 3 /* arg: 0..KM_PRIO_MAX (may not exceed the caller's) */
#define KM_TCTL_SET_CPU 4      /* arg: CPU number < ncpus */
#define KM_PRIO_MAX 255
#define KM_PRIO_DEFAULT 100

/* sys_exregs(tid, op, ip, sp) */
#define KM_EXREGS_START 1 /* set ip and sp, make an inactive thread runnable */
#define KM_EXREGS_SET 2   /* set ip and sp of a stopped or blocked thread */
#define KM_EXREGS_READ 3  /* returns ip; writes sp to the caller's MR[0] */

/* Thread states reported by sys_exregs READ in MR[1] */
#define KM_TSTATE_INACTIVE 0
#define KM_TSTATE_RUNNABLE 1
#define KM_TSTATE_SENDING 2
#define KM_TSTATE_RECEIVING 3
#define KM_TSTATE_DEAD 4

#endif
