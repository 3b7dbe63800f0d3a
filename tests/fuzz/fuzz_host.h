/* What the fuzz harnesses stand in for, on the host, of what generic
 * kernel code takes from arch/ (tests/unit/host_support.c without cmocka):
 * the fake TSC, "this CPU", the physical-memory arena, the console, exit
 * (a kernel panic aborts the run).  FUZZ_NAME names the harness in what it
 * prints; FAIL(...) reports a failed check and aborts. */
#ifndef FUZZ_HOST_H
#define FUZZ_HOST_H

#include <stdio.h>
#include <stdlib.h>

#include <arch/current.h>
#include <arch/machine.h>
#include <kernel/types.h>

u64 host_fake_tsc;
__thread int host_irq_disabled;
__thread struct host_cpu host_cpu;
u8 *host_phys_base;

void arch_console_write(const char *s, usize len) { fwrite(s, 1, len, stderr); }
void machine_exit(u8 status)
{
    fprintf(stderr, FUZZ_NAME ": machine_exit(%u) (a kernel panic)\n", status);
    abort();
}
usize kstrlcpy(char *d, const char *s, usize size);
usize strlcpy(char *d, const char *s, usize size) { return kstrlcpy(d, s, size); }

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, FUZZ_NAME ": " __VA_ARGS__);                                               \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

#endif
