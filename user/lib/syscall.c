/* System call table checks: every ABI call has a stub in <user/sys.h>. */
#include <user/sys.h>

/* A call added to KM_SYSCALLS without a stub stops the build here with
 * "KM_USER_STUB_<NAME> undeclared"; a stub with the wrong number, with the
 * assertion message. */
#define KM_CHECK_STUB(nr, NAME, name, doc) \
    KM_STATIC_ASSERT(KM_USER_STUB_##NAME == (nr), "stub sys_" name " uses the wrong number");
KM_SYSCALLS(KM_CHECK_STUB)
#undef KM_CHECK_STUB

static const char *const sys_names[KM_SYS_COUNT] = {
#define KM_SYS_NAME(nr, NAME, name, doc) [nr] = name,
    KM_SYSCALLS(KM_SYS_NAME)
#undef KM_SYS_NAME
};

const char *sys_name(long nr)
{
    if (nr < 0 || nr >= KM_SYS_COUNT)
        return 0;
    return sys_names[nr];
}

/* Called by crt0 with main's result. */
void km_crt_exit(int status) __attribute__((noreturn));
void km_crt_exit(int status)
{
    sys_exit(status);
}

const char *sys_errname(long ret)
{
    switch (ret) {
    case -KM_EINVAL: return "-KM_EINVAL";
    case -KM_EFAULT: return "-KM_EFAULT";
    case -KM_ENOSYS: return "-KM_ENOSYS";
    case -KM_ENOMEM: return "-KM_ENOMEM";
    case -KM_ESRCH: return "-KM_ESRCH";
    case -KM_EPERM: return "-KM_EPERM";
    case -KM_ETIMEOUT: return "-KM_ETIMEOUT";
    case -KM_ECANCELED: return "-KM_ECANCELED";
    case -KM_EDEADLK: return "-KM_EDEADLK";
    case -KM_EBUSY: return "-KM_EBUSY";
    default: return ret >= 0 ? "ok" : "unknown error";
    }
}
