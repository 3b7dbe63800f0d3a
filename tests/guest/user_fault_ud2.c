/* user_fault_ud2: executes ud2 (#UD, vector 6).  The kernel must report
 * the fault, end this program and go on with the next one. */
#include <user/stdio.h>

int main(void)
{
    printf("user_fault_ud2: executing ud2; expect the kernel to report #UD (vector 6) and go on\n");
    __asm__ volatile("ud2");
    printf("not ok - user_fault_ud2: ud2 did not fault\n");
    return 1;
}
