/* TAP output for in-QEMU test programs. */
#include <user/stdio.h>
#include <user/sys.h>
#include <user/tap.h>

static int tests, failed, todo_failed;

static int report(int cond, const char *todo, const char *fmt, va_list ap)
{
    char name[256];
    vsnprintf(name, sizeof name, fmt, ap);
    tests++;
    if (!cond) {
        if (todo)
            todo_failed++;
        else
            failed++;
    }
    if (todo && !cond)
        printf("not ok - %s # TODO %s\n", name, todo);
    else
        printf("%s - %s\n", cond ? "ok" : "not ok", name);
    return cond;
}

int tap_ok(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(cond, 0, fmt, ap);
    va_end(ap);
    return cond;
}

int tap_todo(int cond, const char *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(cond, why, fmt, ap);
    va_end(ap);
    return cond;
}

void tap_diag(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("# %s\n", line);
}

int tap_done(const char *prog)
{
    printf("1..%d\n", tests);
    /* Not "N passed, N failed": that shape is reserved for the test
     * runner's own closing line. */
    printf("# %s: %d checks, %d failures, %d TODO failures\n", prog, tests, failed, todo_failed);
    return failed ? 1 : 0;
}

int tap_is(long got, long want, const char *what)
{
    if (got != want)
        tap_diag("%s: got %ld (%s), want %ld (%s)", what, got, sys_errname(got), want,
                 sys_errname(want));
    return got == want;
}
