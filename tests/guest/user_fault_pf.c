/* user_fault_pf: writes to a kernel address (#PF, vector 14: kernel
 * mappings have no U bit).  The kernel must report the fault, end this
 * program and go on with the next one. */
#include <user/stdio.h>

#define TARGET 0xffffffff80000000ul /* -2 GiB: where a higher-half kernel image usually lives */

int main(void)
{
    printf("user_fault_pf: writing to %p; expect the kernel to report #PF (vector 14) and go on\n",
           (void *)TARGET);
    *(volatile unsigned long *)TARGET = 0x6b6d656d6c6162ul; /* "kmemlab" */
    printf("not ok - user_fault_pf: the write to a kernel address did not fault\n");
    return 1;
}
