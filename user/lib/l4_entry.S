/* l4_thread_entry: where threads started by l4_thread_start (user/lib/l4.c)
 * begin.  The kernel enters it in ring 3 with rsp = the sp given to
 * sys_exregs: 16-byte aligned, [rsp] = the thread's struct l4_thread. */
    .cfi_sections .debug_frame      /* for gdb; .eh_frame is discarded */
    .text
    .globl l4_thread_entry
    .type l4_thread_entry, @function
l4_thread_entry:
    .cfi_startproc
    .cfi_undefined rip          /* outermost frame: debuggers stop here */
    mov (%rsp), %rdi            /* struct l4_thread * (first argument) */
    xor %ebp, %ebp              /* end of the frame-pointer chain */
    call l4_thread_main         /* rsp % 16 == 0 at the call, as the ABI wants; does not return */
    ud2
    .cfi_endproc
    .size l4_thread_entry, . - l4_thread_entry

    .section .note.GNU-stack, "", @progbits
