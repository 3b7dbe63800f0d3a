/* Kernel page faults: the kernel asks a kpager for pages of a task's
 * metadata (the protocol: abi/kspace.h).
 *
 * An operation that needs kernel pages of task t on behalf of thread
 * `client` (a receiver of map items) runs with a struct kmem_op set
 * (kmem.h); when a page is missing it stops with -KM_ENOMEM and notes the
 * first missing kspace address.  kfault_raise then blocks the running
 * thread in a call to the client's kpager, which answers with map items
 * into t's kspace; after that the operation is redone from its start
 * (-KM_ERESTART): the kernel lock was released meanwhile, so nothing
 * checked before may be trusted.  Since an operation changes nothing
 * before it stops for a page but whole pages it has done (map is
 * idempotent), redoing it is safe.  An operation may instead wait where
 * it stopped (kmem_op_wait, kmem.h) when it holds nothing there and looks
 * everything up again after, or holds only what it can check is still
 * good: a fault reply's transfer does (kernel/ipc.c).  Its destination's
 * walk waits for each missing table and goes on from the table it stopped
 * at when no table of any space went meanwhile (mmu_walk_wait); the
 * sender's page is then read again from the slot found before the wait
 * if that slot's node table is still its own (mapdb_transfer.c source_again), and
 * otherwise the page is looked at again from the start.
 *
 * Locking: the kernel lock (released while the kpager runs).
 */
#ifndef KERNEL_KFAULT_H
#define KERNEL_KFAULT_H

#include <kernel/types.h>

/* Internal result (never seen by user level): redo the operation. */
#define KM_ERESTART 512

struct thread;
struct task;

/* Whether operations on behalf of client take kernel pages from its
 * kpager (kmem=kpager and client has one). */
bool kfault_applies(const struct thread *client);

/* Raises a kernel page fault for task t (whose first missing kspace
 * address is `missing`, while working on user page va) on behalf of client, from the running thread
 * self; returns -KM_ERESTART when the kpager supplied pages, -KM_EDEADLK
 * when the kpager waits for self (directly or through a chain of blocked
 * threads), -KM_ENOMEM when it supplied nothing, or the IPC's error. */
i64 kfault_raise(struct thread *self, struct thread *client, struct task *t, u64 missing, u64 va);

/* Applies one map item of a kpager's reply to self's kernel page fault
 * (called by IPC transfer); ignores items that do not fit. */
void kfault_accept(struct thread *kpager, struct thread *self, u64 word0, u64 word1);
/* kfault_accept where the caller has checked that self is in memory
 * (not TF_OUT) and kpager has a task (ipc_kfault_reply's direct case):
 * the same without those two tests. */
void kfault_accept_in(struct thread *kpager, struct thread *self, u64 word0, u64 word1);

#endif
