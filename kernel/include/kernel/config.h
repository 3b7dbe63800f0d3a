/* Compile-time configuration. */
#ifndef KERNEL_CONFIG_H
#define KERNEL_CONFIG_H

#define MAX_CPUS 64 /* CPUs the kernel starts at most (dump format limit) */

/* CONFIG_TRACE=0 (make TRACE=0) removes every trace point from the code. */
#ifndef CONFIG_TRACE
#define CONFIG_TRACE 1
#endif

#define PAGE_SIZE 4096ul
#define PAGE_SHIFT 12

#endif
