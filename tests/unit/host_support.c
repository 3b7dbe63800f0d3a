/* Host stand-ins for what generic kernel code takes from arch/: the fake
 * TSC, "this CPU", the physical-memory arena, the console and exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host_support.h"
#include <kernel/kmem.h>
#include <kernel/tcb_page.h>
#include <abi/syscall.h>

u64 host_fake_tsc;
__thread int host_irq_disabled;
__thread struct host_cpu host_cpu;
u8 *host_phys_base;

char host_console[HOST_CONSOLE_MAX];
size_t host_console_len;

void arch_console_write(const char *s, usize len)
{
    size_t room = sizeof host_console - 1 - host_console_len;
    size_t n = len < room ? len : room;
    memcpy(host_console + host_console_len, s, n);
    host_console_len += n;
    host_console[host_console_len] = 0;
}

void host_console_clear(void)
{
    host_console_len = 0;
    host_console[0] = 0;
}

/* panic() ends here: a test expecting it wraps the call in
 * expect_assert_failure(); anywhere else the test fails. */
void machine_exit(u8 status)
{
    char msg[64];
    snprintf(msg, sizeof msg, "machine_exit(%u)", status);
    mock_assert(0, msg, __FILE__, __LINE__);
    abort(); /* not reached */
}

/* The kernel's strlcpy (kernel/lib/string.c is built renamed, k*). */
usize kstrlcpy(char *d, const char *s, usize size);
usize strlcpy(char *d, const char *s, usize size) { return kstrlcpy(d, s, size); }

/* The task table is kernel/task.c's, which unit tests do not link: tests
 * with tasks link host_world.c; others have none. */
__attribute__((weak)) struct task *task_by_number(u32 n)
{
    (void)n;
    return NULL;
}

/* Host worlds hold no threads, so no TCB or UTCB page is ever lent in
 * them: kmem's revocation reaching the TCB code is a test failure. */
enum kmem_let tcb_page_revoked(struct task *t, u64 ksaddr, u64 phys, bool orphan)
{
    (void)t, (void)phys, (void)orphan;
    fail_msg("a TCB-range page (%llx) was lent in a host world", (unsigned long long)ksaddr);
    return KMEM_LET_DONE;
}

/* No thread of a host world is ever paged out (no TCB page is lent). */
const u64 *tcb_page_request_msg(const struct thread *t, u64 *tag)
{
    (void)t, (void)tag;
    fail_msg("a paged-out thread in a host world");
    return NULL;
}

u64 tcb_page_request(const struct thread *t, u64 *w)
{
    (void)t, (void)w;
    fail_msg("a paged-out thread in a host world");
    return 0;
}

i64 tcb_page_restore(struct thread *self, struct thread *t)
{
    (void)self, (void)t;
    fail_msg("a paged-out thread in a host world");
    return -KM_ENOMEM;
}
