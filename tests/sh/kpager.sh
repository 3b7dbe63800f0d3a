#!/usr/bin/env bash
# Kernel memory from user-level kpagers (abi/kspace.h), in QEMU: the guest
# suite tests/guest/kpager_check.c booted twice, the same kernel binary:
#  - kmem=kpager: supply and exact accounting, revocation with the client
#    unaware (top-level tables and TCBs included), exported pages all zero
#    but TCBs (checked field by field), a malicious kpager (seeded rounds)
#    beside a sentinel task, TCB paging (exports, restores by send and
#    exregs, deferred exports, a paged-out thread restoring itself) and
#    malicious restores (seeded rounds), a top-level table taken from a
#    client on the other CPU, deadlocks, node tables revoked (localised,
#    held) under mappings made onward to another task and restored, also
#    corrupted, node pages revoked (localised, their mappings staying,
#    each record checked; what needs a node brings it back FRESH, removals
#    by name) (DESIGN §4, invariants 1-5); the trace holds kernel page
#    faults and exports;
#  - kmem=pool: the program's kpagers are never asked, and the trace holds
#    no kfault event at all (invariant 6).
# Each run's guest checks are carried over; then: it exits 0, no frame
# leaked, no kernel exception or panic.
. "$(dirname "$0")/lib.sh"

U=build/user
KMTRACE=build/host/kmtrace

# run MODE [OPTION]: boots kpager_check with kmem=MODE (and a kernel
# option) and carries its checks over.
run() {
    local mode=$1 tag="kpager_check (kmem=$1${2:+ $2})" log n
    CMDLINE="kmem=$mode${2:+ $2}" TIMEOUT=150 boot "kpager-$mode${2:+-${2#debug.}}" "$U/kpager_check.elf"
    log=$BOOT_OUT/console.log
    n=$(grep -cE '^(not )?ok - ' "$log")
    if [ "$n" -ge 3 ]; then ok "$tag ran ($n checks)"; else
        not_ok "$tag ran" "only $n checks (run-qemu.sh exit $BOOT_RC)" "$(tail -3 "$log")"; fi
    while IFS= read -r line; do
        case "$line" in
        "ok - "*) ok "$tag: ${line#ok - }" ;;
        "not ok - "*) not_ok "$tag: ${line#not ok - }" ;;
        "# "*) note "$tag: ${line#\# }" ;;
        esac
    done < <(sed -n '/program 1 (kpager_check.elf) starts/,/program 1 (kpager_check.elf) \(exited\|killed\)/p' "$log")
    if console_has "# mode: $mode"; then ok "$tag: the program saw kmem=$mode"; else
        not_ok "$tag: the program saw kmem=$mode" "$(grep '^# mode' "$log")"; fi
    if console_has "program 1 (kpager_check.elf) exited with status 0" && [ "$BOOT_RC" = 0 ]; then
        ok "$tag exits 0"
    else not_ok "$tag exits 0" "run-qemu.sh exit $BOOT_RC" "$(grep -F 'program 1 (kpager_check.elf)' "$log" | tail -1)"; fi
    if ! grep -q "(leak)" "$log"; then ok "$tag: every frame is freed at exit"; else
        not_ok "$tag: every frame is freed at exit" "$(grep '(leak)' "$log")"; fi
    if ! grep -q "KERNEL" "$log"; then ok "$tag: no kernel exception or panic"; else
        not_ok "$tag: no kernel exception or panic" "$(grep -A3 KERNEL "$log")"; fi
    "$KMTRACE" print "$BOOT_OUT/dump.bin" >"$BOOT_OUT/trace.txt" 2>"$BOOT_OUT/trace.err"
    KFAULTS=$(grep -c ' kfault ' "$BOOT_OUT/trace.txt")
    EXPORTS=$(grep -c ' kpage_export ' "$BOOT_OUT/trace.txt")
    IMPORTS=$(grep -c ' kpage_import ' "$BOOT_OUT/trace.txt")
}

run pool
if [ -s "$BOOT_OUT/trace.txt" ] && [ "$KFAULTS" = 0 ] && [ "$IMPORTS" = 0 ]; then
    ok "kmem=pool: the trace holds no kernel page fault and no import (inv. 6)"
else not_ok "kmem=pool: the trace holds no kernel page fault and no import (inv. 6)" \
    "kfault events: $KFAULTS, kpage_import: $IMPORTS" "$(head -2 "$BOOT_OUT/trace.err")"; fi

run kpager
if [ "$KFAULTS" -gt 10 ] && [ "$EXPORTS" -gt 100 ] && [ "$IMPORTS" -ge "$KFAULTS" ]; then
    ok "kmem=kpager: the trace records kernel page faults ($KFAULTS), imports ($IMPORTS) and exports ($EXPORTS)"
else not_ok "kmem=kpager: the trace records kernel page faults, imports and exports" \
    "kfault $KFAULTS, kpage_import $IMPORTS, kpage_export $EXPORTS"; fi
seed=$(sed -n 's/^# malicious kpager: [0-9]* rounds, seed \([0-9]*\)$/\1/p' "$BOOT_OUT/console.log")
if [ -n "$seed" ]; then ok "kmem=kpager: the malicious kpager's seed is printed ($seed)"; else
    not_ok "kmem=kpager: the malicious kpager's seed is printed"; fi
seed=$(sed -n 's/^# malicious restores: [0-9]* rounds, seed \([0-9]*\)$/\1/p' "$BOOT_OUT/console.log")
if [ -n "$seed" ]; then ok "kmem=kpager: the malicious restores' seed is printed ($seed)"; else
    not_ok "kmem=kpager: the malicious restores' seed is printed"; fi

# Again with every blocked thread resumed through its C frames (never
# straight from its syscall frame): the kpagers' replies switch away
# without saving their registers (arch_switch_frameless), and come back
# this way when the next message reaches them by another path than the
# direct one (another CPU, a lower priority, an abort).
run kpager debug.resume_in_c
finish
