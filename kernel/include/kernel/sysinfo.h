/* System facts the kernel hands to user programs (sys_sysinfo). */
#ifndef KERNEL_SYSINFO_H
#define KERNEL_SYSINFO_H

#include <abi/syscall.h>

/* Fills the system-wide fields (not cpu/prog). */
void sysinfo_fill(struct km_sysinfo *si);

#endif
