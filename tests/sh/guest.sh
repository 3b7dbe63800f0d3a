#!/usr/bin/env bash
# In-QEMU tests: syscall_check's own checks (every system call with good
# and bad arguments), then user exceptions that must kill only the program.
. "$(dirname "$0")/lib.sh"

U=build/user
SMP=2 boot guest "$U/syscall_check.elf" "$U/user_fault_ud2.elf" "$U/user_fault_pf.elf" "$U/smp_info.elf"
log=$BOOT_OUT/console.log

# syscall_check prints TAP lines on the console; carry them over.
guest_checks=$(grep -cE '^(not )?ok - ' "$log")
if [ "$guest_checks" -ge 60 ]; then ok "syscall_check ran ($guest_checks checks)"; else
    not_ok "syscall_check ran" "only $guest_checks checks on the console" "$(tail -5 "$log")"
fi
while IFS= read -r line; do
    case "$line" in
    "ok - "*) ok "guest: ${line#ok - }" ;;
    "not ok - "*) not_ok "guest: ${line#not ok - }" ;;
    esac
done < <(sed -n '/program 1 (syscall_check.elf) starts/,/program 1 (syscall_check.elf) exited/p' "$log")
if console_has "program 1 (syscall_check.elf) exited with status 0"; then
    ok "syscall_check exits 0"; else not_ok "syscall_check exits 0"; fi

if console_has "program 2 (user_fault_ud2.elf) killed: exception 6 (#UD invalid opcode)"; then
    ok "ud2 in user mode is reported as #UD"; else not_ok "ud2 in user mode is reported as #UD"; fi
if grep -qE "program 3 \(user_fault_pf.elf\) killed: exception 14 \(#PF page fault\), error 0x7, rip 0x[0-9a-f]+, address 0xffffffff80000000" "$log"; then
    ok "user write to a kernel address is reported as #PF with the address"
else not_ok "user write to a kernel address is reported as #PF with the address"; fi
if console_has "program 4 (smp_info.elf) exited with status 0"; then
    ok "the kernel goes on after user faults"; else not_ok "the kernel goes on after user faults"; fi
if ! grep -q "KERNEL" "$log"; then ok "no kernel exception or panic"; else
    not_ok "no kernel exception or panic" "$(grep -A3 KERNEL "$log")"; fi
if ! grep -q "(leak)" "$log"; then ok "every program's frames are freed at exit"; else
    not_ok "every program's frames are freed at exit" "$(grep '(leak)' "$log")"; fi
if [ "$BOOT_RC" = 1 ]; then ok "run status 1: a program failed (the faulting ones)"; else
    not_ok "run status 1: a program failed (the faulting ones)" "got $BOOT_RC"; fi
# User threads' kernel stacks share one page with their TCB state: the
# deepest any of them went must stay well inside it (3/4).
read -r peak size < <(sed -n 's/.*kernel stack peak \([0-9]*\) of \([0-9]*\) bytes.*/\1 \2/p' "$log" | tail -1)
if [ -n "$peak" ] && [ "$peak" -gt 0 ] && [ $((peak * 4)) -le $((size * 3)) ]; then
    ok "kernel stacks of user threads: peak $peak of $size bytes"
else not_ok "kernel stacks of user threads stay within 3/4 of their page" "peak '$peak' of '$size'"; fi
check "dump of a run with faults verifies" "$KMTRACE" verify "$BOOT_OUT/dump.bin"
faults=$("$KMTRACE" print "$BOOT_OUT/dump.bin" 2>/dev/null | grep -c ' user_fault ')
if [ "$faults" = 2 ]; then ok "both faults are in the trace"; else
    not_ok "both faults are in the trace" "user_fault events: $faults"; fi
finish
