#!/usr/bin/env bash
# The kernel runs with interrupts off but in two windows (kernel/trace.h's
# contract: trace_write relies on it, and does not touch the flag).  It is
# entered through interrupt gates and SYSCALL (SFMASK clears IF) and boots
# with them off; these checks, on the sources and on build/kernel.elf, find
# every instruction that turns them on and require it to be one of:
#   - klock_wait's "sti; nop; pause; nop; cli" (waiting for the lock),
#   - the idle loop's "sti; hlt",
#   - irq_restore's conditional sti, skipped by a jump when the flags saved
#     by irq_save (pushf, in the same function) had them off;
# and no popf (which could set IF from anything).
. "$(dirname "$0")/lib.sh"

ELF=build/kernel.elf
[ -f "$ELF" ] || { not_ok "build/kernel.elf exists (make all)"; finish; }

# ---- sources: where sti is written, and who calls those ----
src=$(grep -rn --include='*.c' --include='*.h' --include='*.S' -E '(^|[^a-z_])sti([^a-z_]|$)' \
    kernel | grep -v '^[^:]*:[0-9]*: *\(/\*\|\*\)' |
    grep -vE '^kernel/arch/x86_64/include/arch/cpu.h:|^kernel/include/kernel/klock.h:')
[ -z "$src" ] && ok "sti is written only in arch/cpu.h and kernel/klock.h" ||
    not_ok "sti is written only in arch/cpu.h and kernel/klock.h" "$src"
calls=$(grep -rnE --include='*.c' --include='*.h' '\birq_enable(_and_halt)? *\(' kernel |
    grep -vE 'static inline void irq_enable' | grep -vE '^kernel/sched.c:[0-9]+: *irq_enable_and_halt\(\);')
[ -z "$calls" ] && ok "irq_enable is called nowhere, irq_enable_and_halt only by the idle loop" ||
    not_ok "irq_enable is called nowhere, irq_enable_and_halt only by the idle loop" "$calls"

# ---- the binary: every sti's shape ----
bad=$(objdump -d --no-show-raw-insn -j .text "$ELF" | awk '
    function shape(i) {
        if (op[i + 1] == "hlt") return "idle"
        if (op[i + 1] == "nop" && op[i + 2] == "pause") return "klock"
        # irq_restore: a conditional jump to the instruction after the sti,
        # in a function that saved the flags (pushf)
        if (op[i - 1] ~ /^j(e|ne|z|nz)$/ && arg[i - 1] ~ ("^" addr[i + 1] " ") && pushf[fn[i]]) return "restore"
        return ""
    }
    /^[0-9a-f]+ <.*>:$/ { cur = $2; next }
    /^ *[0-9a-f]+:\t/ {
        n++
        a = $1; sub(/:$/, "", a); addr[n] = a
        split($0, f, "\t"); split(f[2], w, " ")
        op[n] = w[1]; arg[n] = w[2] " " w[3]; fn[n] = cur
        if (op[n] ~ /^pushf/) pushf[cur] = 1
        if (op[n] ~ /^popf/) print "popf at " a " " cur
    }
    END {
        for (i = 1; i <= n; i++)
            if (op[i] == "sti") {
                s = shape(i)
                if (s == "") print "sti at " addr[i] " " fn[i]
                else count[s]++
            }
        printf "#shapes idle %d klock %d restore %d\n", count["idle"], count["klock"], count["restore"]
    }')
shapes=$(echo "$bad" | grep '^#shapes' | sed 's/^#//')
bad=$(echo "$bad" | grep -v '^#shapes')
note "$shapes"
[ -z "$bad" ] && ok "every sti in the kernel is the idle loop's, klock_wait's or irq_restore's; no popf" ||
    not_ok "every sti in the kernel is the idle loop's, klock_wait's or irq_restore's; no popf" "$bad"
echo "$shapes" | grep -q 'idle [1-9].*klock [1-9]' && ok "the check sees the idle loop's and klock_wait's sti" ||
    not_ok "the check sees the idle loop's and klock_wait's sti" "$shapes"

# trace_write itself leaves the flag alone (the contract's point)
tw=$(objdump -d --no-show-raw-insn -j .text "$ELF" |
    awk '/^[0-9a-f]+ <trace_write(_since)?>:$/ { on = 1; next } /^$/ { on = 0 } on && /\t(sti|cli|pushf)/')
[ -z "$tw" ] && ok "trace_write and trace_write_since do not touch the interrupt flag" ||
    not_ok "trace_write and trace_write_since do not touch the interrupt flag" "$tw"
finish
