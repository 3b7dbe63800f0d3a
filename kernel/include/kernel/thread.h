/* Threads.
 *
 * A TCB is split in two:
 *  - struct thread, the pinned part (< 128 bytes): identity, state, what is
 *    needed to find the rest, scheduling parameters, pager, kpager, and the
 *    queue links.  It stays in the kernel's thread table.
 *  - struct thread_ext, the pageable part: one page holding the IPC state,
 *    the saved kernel stack pointer and the kernel stack itself (with the
 *    user registers at its top); kernel threads have two pages.  Only the
 *    pinned part points to it; no other structure does, so it can be taken
 *    away and found again (kernel/tcb_page.h: paged out at safe points as
 *    a continuation, TF_OUT meanwhile, ext NULL).
 * Plus the UTCB: a page of the thread's task the thread may read and write,
 * paged with the TCB.
 *
 * Locking: everything here is protected by the kernel lock (klock.h).
 */
#ifndef KERNEL_THREAD_H
#define KERNEL_THREAD_H

#include <abi/l4.h>
#include <kernel/types.h>

#define THREAD_MAX 1024          /* thread table slots (number 0 unused) */
#define THREAD_EXT_PAGES 1  /* user threads: one page, kspace KM_KS_TCB_OF(n) */
#define KTHREAD_EXT_PAGES 2 /* kernel threads (they load programs, write dumps) */
#define THREAD_STACK_CANARY 0x6b7374636b656e64ull

enum thread_state {
    TS_FREE = 0,      /* slot unused */
    TS_INACTIVE,      /* created, not started */
    TS_RUNNABLE,      /* on a run queue, or running */
    TS_SENDING,       /* blocked in a send phase: on partner's send queue */
    TS_RECEIVING,     /* blocked in a receive phase */
    TS_WAITING,       /* kernel thread waiting for an event */
    TS_DEAD,          /* deleted; resources freed once off its CPU */
    TS_RESUMING,      /* TF_OUT: its IPC ended while paged out; runs once restored */
};

/* flags */
#define TF_KERNEL 0x1      /* kernel thread (idle, runner): no task, no UTCB */
#define TF_IDLE 0x2
#define TF_FAULT_IPC 0x4   /* the current IPC is a page-fault call */
#define TF_KMSG 0x20       /* the message sent is the kernel's (ext->kmsg) */
#define TF_ON_CPU 0x8      /* running now (its stack is in use) */
#define TF_MAIN 0x10       /* a boot program's main thread */
#define TF_KFAULT_IPC 0x40 /* the current IPC is a kernel page fault (kfault.h) */
#define TF_OUT 0x80        /* TCB and UTCB paged out (tcb_page.h): ext is NULL */
#define TF_REVOKE 0x100    /* its kpager took a TCB page back: export at the next safe point */
#define TF_RESTORING 0x200 /* restoring a paged-out kpager before a kernel page fault to it */
#define TF_OUT_REQ 0x400   /* TF_OUT, asking its kpager for its own TCB (tcb_page.h) */
#define TF_DROP 0x800      /* TF_OUT, its restored content refused: deleted after the next switch */
#define TF_RESUME_C 0x1000 /* debug.resume_in_c: never resumed straight from its syscall frame */

struct task;
struct thread_ext;

struct thread {
    u32 number, version;       /* the id; version 0 = free slot */
    u8 state;                  /* enum thread_state */
    u8 prio;                   /* 0..255, higher runs first */
    u16 cpu;                   /* CPU it runs on */
    u32 flags;                 /* TF_* */
    struct task *task;         /* NULL for kernel threads */
    km_tid pager, kpager;
    struct thread *q_next, *q_prev; /* run queue or partner's send queue */
    struct thread *send_head;  /* threads blocked sending to this one */
    struct thread *partner;    /* SENDING: receiver; RECEIVING: sender or NULL = any */
    struct thread_ext *ext;    /* the pageable part */
    u32 utcb_slot;             /* UTCB page index in the task's UTCB area */
    u32 ticks_left;            /* of the current time slice */
    i32 out_result;            /* TS_RESUMING: what its IPC returns */
    u32 out_error;             /* TS_RESUMING: its UTCB's error word then */
};
_Static_assert(sizeof(struct thread) <= 128, "the pinned TCB part stays under 128 bytes");

extern struct thread thread_table[THREAD_MAX];

/* How the thread last entered the kernel from user mode: where its user
 * registers are. */
enum uframe_kind { UF_NONE = 0, UF_SYSCALL, UF_TRAP };

struct thread_ext {
    u64 ksp;            /* saved kernel stack pointer while switched out */
    u64 utcb_uva;       /* the UTCB's user address (FS base) */
    u64 utcb_phys;      /* its frame */
    u32 uframe_kind;    /* enum uframe_kind */
    u32 pad;
    void *uframe;       /* struct syscall_frame or trap_frame, at stack top */
    i64 ipc_result;     /* what a blocked IPC returns when woken */
    u64 send_tag;       /* TS_SENDING: the tag of the message to deliver */
    km_tid recv_spec;   /* TS_SENDING: the receive phase that follows (nil: none) */
    u64 kmsg_tag;       /* TF_KMSG: tag of the kernel-made message */
    u64 fault[10];      /* TF_KMSG: its words (page fault: address, ip, access) */
    struct task *kfault_task; /* TF_KFAULT_IPC: whose kspace the reply fills, */
    u32 kfault_got;     /* TF_KFAULT_IPC: pages the reply supplied */
    u32 kfault_version; /* ... while kfault_task has this version (alive, not dying) */
    u64 waiting_for;    /* TS_WAITING: what for (kernel threads) */
    u64 canary;         /* THREAD_STACK_CANARY: the stack never reached here */
    /* the kernel stack fills the rest, growing down from the end */
};

/* KM_ID(number, version): the two adjacent words read as one and rotated
 * (little endian: number is the low half), two instructions on hot paths. */
_Static_assert(__builtin_offsetof(struct thread, version) == __builtin_offsetof(struct thread, number) + 4,
               "thread_id reads number and version as one word");
static inline km_tid thread_id(const struct thread *t)
{
    u64 w;
    __builtin_memcpy(&w, &t->number, sizeof w);
    return w << 32 | w >> 32;
}
static inline u64 thread_ext_pages(const struct thread *t)
{
    return t->flags & TF_KERNEL ? KTHREAD_EXT_PAGES : THREAD_EXT_PAGES;
}
static inline u64 thread_kstack_top(const struct thread *t)
{
    return (u64)t->ext + thread_ext_pages(t) * PAGE_SIZE;
}
static inline struct km_utcb *thread_utcb(const struct thread *t);

/* The live thread named by id (nil, out of range, stale or dead: NULL).
 * Inline: every IPC looks up its partner. */
static inline struct thread *thread_lookup(km_tid id)
{
    u32 n = KM_ID_NUMBER(id), v = KM_ID_VERSION(id);
    /* n 0 or past the table: one unsigned compare.  Version 0 needs no
     * test: a slot with version 0 was never used, so it is TS_FREE. */
    if (n - 1 >= THREAD_MAX - 1)
        return NULL;
    struct thread *t = &thread_table[n];
    /* (free or dead: one bit test) */
    if (t->version != v || ((1u << t->state) & (1u << TS_FREE | 1u << TS_DEAD)))
        return NULL;
    return t;
}
/* A new inactive user thread in task with the given pager; NULL when out
 * of memory or slots. */
struct thread *thread_create(struct task *task, km_tid pager, u8 prio, u16 cpu);
/* A kernel thread that will run fn(arg), entered with the kernel lock
 * held; not yet runnable (sched_wake it, or make it a CPU's idle thread). */
struct thread *thread_create_kernel(void (*fn)(void *), void *arg, u8 prio, u16 cpu);
/* Wraps the running boot context of this CPU into a kernel thread. */
struct thread *thread_adopt_boot(u16 cpu, u8 prio, u32 flags);
/* Maps t's UTCB page (t->ext->utcb_phys) at its address (utcb_uva), and
 * fills in the kernel's fields of it. */
int thread_utcb_map(struct thread *t);
void thread_utcb_init(struct thread *t);
/* A user page fault at va in the UTCB area: maps the UTCB there (its
 * tables taken away, or never made: TCBs from a kpager are mapped on
 * first touch).  false: no UTCB of self's task is there. */
bool thread_utcb_fault(struct thread *self, u64 va);
/* Sets ip and sp of a not yet started (or to be restarted) thread. */
void thread_set_user_regs(struct thread *t, u64 ip, u64 sp);
/* Reads a user thread's ip and sp (from its saved user frame). */
void thread_get_user_regs(const struct thread *t, u64 *ip, u64 *sp);
/* Ends t: out of every queue, partners told (-KM_ECANCELED); its memory is
 * freed now, or once it has left its CPU when it runs somewhere. */
void thread_delete(struct thread *t);
/* Most kernel stack a reaped thread used (bytes): how close stacks came
 * to the header below them. */
extern u64 thread_kstack_peak;
/* Frees a dead thread's memory (called once it is off every CPU). */
void thread_reap(struct thread *t);

#include <arch/layout.h>
static inline struct km_utcb *thread_utcb(const struct thread *t)
{
    return (struct km_utcb *)phys_to_virt(t->ext->utcb_phys);
}

#endif
