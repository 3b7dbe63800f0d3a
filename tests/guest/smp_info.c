/* smp_info: prints what sys_sysinfo reports.  Also the KVM self-test of
 * scripts/run-qemu.sh: it makes a system call and exits 0 only if the
 * call succeeded. */
#include <user/stdio.h>
#include <user/sys.h>

int main(void)
{
    struct km_sysinfo si;
    long r = sys_sysinfo(&si);
    if (r < 0) {
        printf("smp_info: sys_sysinfo failed: %s\n", sys_errname(r));
        return 1;
    }
    printf("smp_info: ncpus=%u tsc_hz=%lu (%lu MHz) cpu=%u prog=%u/%u trace_mask=0x%lx "
           "trace_compiled=%u\n",
           si.ncpus, si.tsc_hz, si.tsc_hz / 1000000, si.cpu, si.prog, si.nprogs, si.trace_mask,
           si.trace_compiled);
    return 0;
}
