/* Field offsets arch_switch (switch.S) reads; context.c checks each
 * against the C structures. */
#ifndef ARCH_SWITCH_OFFSETS_H
#define ARCH_SWITCH_OFFSETS_H

#define SW_THREAD_FLAGS 12   /* struct thread.flags */
#define SW_THREAD_TASK 16    /* struct thread.task */
#define SW_THREAD_EXT 72     /* struct thread.ext */
#define SW_EXT_KSP 0         /* struct thread_ext.ksp */
#define SW_EXT_UTCB_UVA 8    /* struct thread_ext.utcb_uva */
#define SW_EXT_UFRAME 32     /* struct thread_ext.uframe */
#define SW_EXT_IPC_RESULT 40 /* struct thread_ext.ipc_result */
#define SW_KLOCK_SERVING 4   /* struct ticket_lock.serving */
#define SW_TASK_PML4 8       /* struct task.as.pml4 */
#define SW_TASK_AS 8         /* struct task.as */
#define SW_PERCPU_RSP0 140   /* struct percpu.tss.rsp[0] */
#define SW_TF_KERNEL 1       /* TF_KERNEL: two stack pages, else one */
#define SW_PAGE_SHIFT 12
#define SW_MSR_FS_BASE 0xc0000100

#endif
