#!/usr/bin/env bash
# sigma0 (boot module 1, kernel option sigma0) hands out its memory; a
# pager serves anonymous memory from it to a task.
. "$(dirname "$0")/lib.sh"

U=build/user
SMP=2 CMDLINE="sigma0 sigma0.mib=8" boot sigma0 "$U/sigma0.elf" "$U/sigma0_check.elf"
log=$BOOT_OUT/console.log
if console_has "kmemlab: sigma0 owns 8 MiB" && console_has "sigma0: serving 2048 pages"; then
    ok "sigma0 starts as a server owning 8 MiB"
else not_ok "sigma0 starts as a server owning 8 MiB" "$(head -20 "$log" | grep -i sigma0)"; fi
n=0
while IFS= read -r line; do
    case "$line" in
    "ok - "*) ok "sigma0_check: ${line#ok - }"; n=$((n + 1)) ;;
    "not ok - "*) not_ok "sigma0_check: ${line#not ok - }"; n=$((n + 1)) ;;
    esac
done < <(sed -n '/program 2 (sigma0_check.elf) starts/,/program 2 (sigma0_check.elf) \(exited\|killed\)/p' "$log")
if [ "$n" -ge 10 ]; then ok "sigma0_check ran ($n checks)"; else not_ok "sigma0_check ran" "$(tail -5 "$log")"; fi
if console_has "program 2 (sigma0_check.elf) exited with status 0"; then ok "sigma0_check exits 0"; else
    not_ok "sigma0_check exits 0" "$(grep 'program 2' "$log" | tail -1)"; fi
if ! grep -q "KERNEL" "$log"; then ok "no kernel exception or panic"; else not_ok "no kernel exception or panic" "$(grep -A3 KERNEL "$log")"; fi

# Without the option, module 1 is an ordinary program: sigma0 says why it stops.
boot sigma0_off "$U/sigma0.elf"
if console_has "sigma0: not started as sigma0" && console_has "program 1 (sigma0.elf) exited with status 1"; then
    ok "sigma0 without the kernel option refuses to run"
else not_ok "sigma0 without the kernel option refuses to run"; fi
finish
