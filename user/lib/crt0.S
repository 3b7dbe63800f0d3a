/* crt0: program entry.  The kernel enters _start in ring 3 with rsp
 * 16-byte aligned on a mapped stack and no arguments. */
    .cfi_sections .debug_frame      /* for gdb; .eh_frame is discarded */
    .section .text.entry, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .cfi_startproc
    .cfi_undefined rip          /* outermost frame: debuggers stop here */
    xor %ebp, %ebp              /* end of the frame-pointer chain */
    and $-16, %rsp              /* ABI: rsp % 16 == 0 before a call (kernel promises it; cheap to be sure) */
    call main                   /* int main(void) */
    mov %eax, %edi              /* exit status = main's result */
    call km_crt_exit            /* sys_exit(status); does not return */
    ud2
    .cfi_endproc
    .size _start, . - _start

    .section .note.GNU-stack, "", @progbits
