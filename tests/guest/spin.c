/* spin: never returns and never makes a system call.  The QEMU runner must
 * kill the hung guest at its timeout and report it as a failure. */
#include <user/stdio.h>

int main(void)
{
    printf("spin: looping forever\n");
    for (;;)
        __asm__ volatile("" ::: "memory");
}
