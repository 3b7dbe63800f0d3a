#!/usr/bin/env bash
# Boots the kernel with 1, 2 and 4 CPUs (icount): every CPU must come up,
# trace, and appear in a dump the host decoder accepts.
. "$(dirname "$0")/lib.sh"

for n in 1 2 4; do
    SMP=$n boot "smp$n" build/user/smp_info.elf
    if [ "$BOOT_RC" = 0 ]; then ok "smp=$n: boots and exits with success"; else
        not_ok "smp=$n: boots and exits with success" "run-qemu.sh exit $BOOT_RC" \
            "$(tail -5 "$BOOT_OUT/console.log" 2>/dev/null)"
    fi
    if console_has "smp: $n CPU"; then ok "smp=$n: console reports $n CPUs online"; else
        not_ok "smp=$n: console reports $n CPUs online" "$(grep smp: "$BOOT_OUT/console.log")"
    fi
    if console_has "smp_info: ncpus=$n "; then ok "smp=$n: sys_sysinfo reports $n CPUs"; else
        not_ok "smp=$n: sys_sysinfo reports $n CPUs"
    fi
    check "smp=$n: dump verifies" "$KMTRACE" verify "$BOOT_OUT/dump.bin"
    "$KMTRACE" print "$BOOT_OUT/dump.bin" >"$BOOT_OUT/events.txt" 2>/dev/null
    for ((c = 0; c < n; c++)); do
        online=$(grep -cE " cpu $c seq [0-9]+ cpu_online " "$BOOT_OUT/events.txt")
        stop=$(grep -cE " cpu $c seq [0-9]+ trace_stop " "$BOOT_OUT/events.txt")
        if [ "$online" = 1 ] && [ "$stop" = 1 ]; then
            ok "smp=$n: cpu $c traced cpu_online and trace_stop"
        else
            not_ok "smp=$n: cpu $c traced cpu_online and trace_stop" "cpu_online $online, trace_stop $stop"
        fi
    done
done
finish
