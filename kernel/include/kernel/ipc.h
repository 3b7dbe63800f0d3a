/* Synchronous IPC (semantics in abi/l4.h).
 *
 * A blocked thread's whole IPC is finished by its partner: whoever wakes
 * it has already delivered the message (or the error) into its UTCB and
 * set ext->ipc_result, so the blocked thread only returns that.  A thread
 * blocked in the send phase of a call is moved straight to its receive
 * phase by the receiver, without running in between.
 * All under the kernel lock.
 */
#ifndef KERNEL_IPC_H
#define KERNEL_IPC_H

#include <kernel/thread.h>

/* sys_ipc for the current thread; arguments already checked for form
 * (tag within bounds). */
i64 ipc(struct thread *self, km_tid to, km_tid from, u32 flags, u64 tag);
/* ipc(self, a[0], a[1], a[2], a[3]) for a message without typed items:
 * a call or reply-and-wait to a waiting partner on this CPU goes straight
 * to it (ipc_once's direct path, without its general checks); anything
 * else is ipc().  a: sys_ipc's checked arguments, in self's syscall
 * frame. */
i64 ipc_short(struct thread *self, const u64 *a);
/* The way back to user mode of a thread whose IPC system call ended while
 * it waited in its receive (arch_switch_user, on its syscall frame, just
 * switched to, the kernel lock held): sched_reap when arch_switch would
 * call it, then what syscall_dispatch does at its end; returns the IPC's
 * result (for rax), the lock released. */
i64 ipc_resume_user(void);
/* ipc(self, a[0], a[1], a[2], a[3]) for a message with typed items
 * (sys_ipc): a kpager's reply to the kernel page fault of the thread
 * named by a[0] takes a direct path.  a: sys_ipc's checked arguments, in
 * self's syscall frame. */
i64 ipc_items(struct thread *self, const u64 *a);
/* The current thread's page fault as a call to its pager; 0 once a reply
 * came (the access is retried), < 0 when the pager is gone. */
i64 ipc_pagefault(struct thread *self, struct thread *pager, u64 addr, u64 ip, u32 access);
/* The current thread's kernel page fault (its words and tag set in
 * self->ext: 2 + n words, 1 <= n <= KM_KFAULT_MAX, no items; TF_KMSG |
 * TF_KFAULT_IPC set) as a call to kpager, a user thread other than self;
 * what ipc(self, kpager, kpager, 0, tag) returns. */
i64 ipc_kfault_call(struct thread *self, struct thread *kpager);
/* Sends the current thread's pager a message the kernel makes (program end
 * or exception; abi/l4.h), waiting until it is taken.  < 0: no pager. */
i64 ipc_notify_pager(struct thread *self, u64 tag, const u64 *words, u32 n);
/* t is being deleted or its IPC aborted: take it out of every queue and
 * fail the IPCs of threads waiting for it with -KM_ECANCELED. */
void ipc_cancel(struct thread *t);
/* s, which cannot run (a paged-out thread: tcb_page.h), sends its
 * kernel-made message to dst as a call: it is queued at dst, and delivered
 * at once if dst waits for it. */
void ipc_post_kmsg(struct thread *s, struct thread *dst);
/* Ends t's pending IPC (exregs): t returns -KM_ECANCELED. */
void ipc_abort(struct thread *t);

#endif
