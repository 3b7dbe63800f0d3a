#!/usr/bin/env bash
# In-QEMU tests of the L4 base (tests/guest/*.c, TAP lines on the console):
# IPC (1, 2 and 4 CPUs), pagers and map/grant/unmap, a system call fuzzer,
# task teardown.  One boot per program, so that one that hangs or dies
# does not hide the others.  Each program's checks are carried over as
# "PROG: ...", then: it exits 0, the kernel found no frame leak, no
# kernel exception or panic.
. "$(dirname "$0")/lib.sh"

U=build/user

# run NAME SMP TIMEOUT: boots NAME.elf alone and carries its checks over.
run() {
    local name=$1 smp=$2 limit=$3 tag="$1 (smp=$2)" log n last
    SMP=$smp TIMEOUT=$limit boot "l4-$name-smp$smp" "$U/$name.elf"
    log=$BOOT_OUT/console.log
    mapfile -t last < <(tail -5 "$log")
    n=$(grep -cE '^(not )?ok - ' "$log")
    if [ "$n" -ge 2 ]; then ok "$tag ran ($n checks)"; else
        not_ok "$tag ran" "only $n checks on the console (run-qemu.sh exit $BOOT_RC)" "${last[@]}"
    fi
    while IFS= read -r line; do
        case "$line" in
        "ok - "*) ok "$tag: ${line#ok - }" ;;
        "not ok - "*) not_ok "$tag: ${line#not ok - }" ;;
        "# "*) note "$tag: ${line#\# }" ;;
        esac
    done < <(sed -n "/program 1 ($name.elf) starts/,/program 1 ($name.elf) \(exited\|killed\)/p" "$log")
    if console_has "program 1 ($name.elf) exited with status 0" && [ "$BOOT_RC" = 0 ]; then
        ok "$tag exits 0"
    else
        not_ok "$tag exits 0" "run-qemu.sh exit $BOOT_RC ($([ "$BOOT_RC" = 124 ] && echo "hung, killed at ${limit}s" || echo "see $log"))" \
            "$(grep -F "program 1 ($name.elf)" "$log" | tail -1)"
    fi
    if ! grep -q "(leak)" "$log"; then ok "$tag: every frame is freed at exit"; else
        not_ok "$tag: every frame is freed at exit" "$(grep '(leak)' "$log")"
    fi
    if ! grep -q "KERNEL" "$log"; then ok "$tag: no kernel exception or panic"; else
        not_ok "$tag: no kernel exception or panic" "$(grep -A3 KERNEL "$log")"
    fi
}

run ipc_check 1 120
run ipc_check 2 120
run ipc_check 4 180
run mem_check 2 120
run syscall_fuzz 2 180
run teardown_check 2 120
run sched_check 2 60
finish
