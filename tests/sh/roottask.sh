#!/usr/bin/env bash
# The root task (kernel options sigma0 roottask): a user-level program that
# loads the other boot programs into tasks of their own with memory from
# sigma0, pages them, and learns of their end from the kernel's exit and
# exception messages.  The guest tests must pass under it as they do when
# the kernel loads them.
. "$(dirname "$0")/lib.sh"

U=build/user
progs=(smp_info syscall_check user_fault_ud2 user_fault_pf ipc_check mem_check teardown_check)
mods=("$U/sigma0.elf" "$U/roottask.elf")
for p in "${progs[@]}"; do mods+=("$U/$p.elf"); done
SMP=2 TIMEOUT=180 CMDLINE="sigma0 sigma0.mib=64 roottask" boot roottask "${mods[@]}"
log=$BOOT_OUT/console.log

if console_has "roottask: ${#progs[@]} programs to run"; then ok "the root task got ${#progs[@]} programs from the kernel"; else
    not_ok "the root task got ${#progs[@]} programs from the kernel" "$(grep roottask "$log")"; fi
i=3
for p in "${progs[@]}"; do
    case $p in
    user_fault_ud2) want="program $i ($p.elf) killed: exception 6," ;;
    user_fault_pf) want="program $i ($p.elf) killed: page fault at 0xffffffff80000000" ;;
    *) want="program $i ($p.elf) exited with status 0" ;;
    esac
    if console_has "$want"; then ok "$p: $want"; else
        not_ok "$p: $want" "$(grep -F "program $i ($p.elf)" "$log" | tail -1)"; fi
    i=$((i + 1))
done
checks=$(grep -cE '^ok - ' "$log")
failed=$(grep -cE '^not ok - ' "$log")
if [ "$checks" -ge 240 ] && [ "$failed" = 0 ]; then ok "the guest tests' $checks checks pass under the root task"; else
    not_ok "the guest tests' checks pass under the root task" "$checks ok, $failed not ok" "$(grep -m3 '^not ok' "$log")"; fi
if ! grep -q "(leak)" "$log"; then ok "every program's kernel pages come back when its task goes"; else
    not_ok "every program's kernel pages come back when its task goes" "$(grep '(leak)' "$log")"; fi
if ! grep -q "KERNEL" "$log"; then ok "no kernel exception or panic"; else not_ok "no kernel exception or panic" "$(grep -A3 KERNEL "$log")"; fi
if [ "$BOOT_RC" = 1 ] && console_has "program 2 (roottask.elf) exited with status 1"; then
    ok "the root task ends with status 1 (two programs were meant to fault)"
else not_ok "the root task ends with status 1 (two programs were meant to fault)" "run-qemu.sh exit $BOOT_RC"; fi
check "its dump verifies" "$KMTRACE" verify "$BOOT_OUT/dump.bin"

# Without sigma0 the root task has no memory to give: it says so.
CMDLINE="roottask" boot roottask_nosigma0 "$U/roottask.elf" "$U/smp_info.elf"
if console_has "roottask: needs sigma0"; then ok "without sigma0 the root task says it needs it"; else
    not_ok "without sigma0 the root task says it needs it" "$(grep -i root "$BOOT_OUT/console.log")"; fi
finish
