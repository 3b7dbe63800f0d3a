#!/usr/bin/env bash
# icount is our ruler: two runs with the same programs and command line must
# give byte-identical dumps and console output.
. "$(dirname "$0")/lib.sh"

U=build/user
boot det1 "$U/null_syscall.elf" "$U/trace_overhead.elf"
rc1=$BOOT_RC
boot det2 "$U/null_syscall.elf" "$U/trace_overhead.elf"
rc2=$BOOT_RC
if [ "$rc1" = 0 ] && [ "$rc2" = 0 ]; then ok "both icount runs succeed"; else
    not_ok "both icount runs succeed" "rc $rc1 / $rc2"; fi
d1=build/test-runs/det1
d2=build/test-runs/det2
if cmp -s "$d1/dump.bin" "$d2/dump.bin"; then
    ok "dumps are byte-identical ($(stat -c %s "$d1/dump.bin") bytes)"
else not_ok "dumps are byte-identical" "$(cmp "$d1/dump.bin" "$d2/dump.bin" 2>&1 | head -1)"; fi
if cmp -s "$d1/console.log" "$d2/console.log"; then ok "console logs are identical"; else
    not_ok "console logs are identical" "$(diff "$d1/console.log" "$d2/console.log" | head -4)"; fi
for k in accel qemu_cpu icount rtc seed; do
    if grep -q "^$k=." "$d1/meta"; then ok "run metadata records $k"; else not_ok "run metadata records $k"; fi
done
finish
