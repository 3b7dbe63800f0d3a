/* Machine exit statuses: the kernel writes one to QEMU's isa-debug-exit
 * port; QEMU then exits with (status << 1) | 1, which scripts/run-qemu.sh
 * maps back.  Also printed on the console as "kmemlab: exit <status>". */
#ifndef ABI_EXIT_H
#define ABI_EXIT_H

#define KM_EXIT_OK 0           /* every program exited with status 0 */
#define KM_EXIT_PROG_FAILED 1  /* a program exited non-zero or faulted */
#define KM_EXIT_BAD_CMDLINE 2  /* unknown option or bad value */
#define KM_EXIT_PANIC 3        /* kernel panic (message on the console) */
#define KM_EXIT_BOOT 4         /* boot failed (no memory map, no modules...) */

#endif
