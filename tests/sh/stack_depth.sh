#!/usr/bin/env bash
# The worst-case depth of a user thread's kernel stack, statically
# (scripts/stack_depth.py on the kernel's -fcallgraph-info=su output and
# build/kernel.elf), against the stack's real size: a change that deepens a
# kernel path past it fails here instead of overflowing a stack at run time.
#
# Budget: the usable stack, from the source (THREAD_EXT_PAGES pages less
# sizeof(struct thread_ext), what main.c's "kernel stack peak ... of ...
# bytes" prints: 3,912 today), minus MARGIN for interrupt frames.  MARGIN is
# 0 because the tool counts them itself: the kernel runs with interrupts off
# (kernel/include/kernel/trace.h; irq_off.sh checks every sti) except in
# klock_wait's window, on a user thread's stack only at the start of
# syscall_dispatch and trap_dispatch (from_user), and the idle loop's hlt
# (a kernel thread); the tool adds a kernel-mode interrupt's whole depth
# (184 bytes pushed + trap_dispatch's kernel-mode path) on top of those
# windows.  NMI, #DF and #MC run on IST stacks; any other kernel-mode
# exception panics (the tool reports the panic paths apart, not checked).
#
# Then the tool itself: it fails with a budget one byte under its figure,
# and when a system call handler is added without its indirect table entry,
# and on small hand-made call graphs it refuses a recursion without a
# bound, an unresolved indirect call, a dynamic frame and an unknown
# callee, and counts bounded recursion, resolved indirect calls, tail calls
# (with the binary) and its exclusion tables as documented.
. "$(dirname "$0")/lib.sh"

TOOL=scripts/stack_depth.py
ELF=build/kernel.elf
MARGIN=0
OUT=build/test-runs/stack_depth
rm -rf "$OUT"
mkdir -p "$OUT"

# ---- the kernel --------------------------------------------------------
if [ -f "$ELF" ] && ls build/kernel/*.ci >/dev/null 2>&1; then
    ok "build/kernel.elf and the kernel's .ci call graphs exist"
else
    not_ok "build/kernel.elf and the kernel's .ci call graphs exist (make all; kernel/kernel.mk -fcallgraph-info=su)"
    finish
fi

# The usable stack, as the kernel computes it (kernel/main.c's print).
printf '#include <kernel/thread.h>\nunsigned long kstack_usable = THREAD_EXT_PAGES * PAGE_SIZE - sizeof(struct thread_ext);\n' |
    gcc -Ikernel/include -Ikernel/arch/x86_64/include -Ikernel/abi/include -Ikernel -Ibuild/kernel \
        -std=gnu11 -ffreestanding -fno-pic -mcmodel=kernel -S -o "$OUT/kstack.s" -x c - 2>"$OUT/kstack.err"
size=$(awk '/^kstack_usable:/ { getline; print $2 }' "$OUT/kstack.s" 2>/dev/null)
if [[ "$size" =~ ^[0-9]+$ ]] && [ "$size" -gt 1024 ]; then
    ok "usable kernel stack of a user thread: $size bytes (THREAD_EXT_PAGES pages less struct thread_ext)"
else
    not_ok "usable kernel stack of a user thread from kernel/include/kernel/thread.h" "$(head -3 "$OUT/kstack.err")"
    finish
fi
budget=$((size - MARGIN))

python3 "$TOOL" --elf "$ELF" --check "$budget" --top 5 >"$OUT/report.txt" 2>"$OUT/report.err"
rc=$?
worst=$(sed -n 's/^worst case: \([0-9,]*\) bytes.*/\1/p' "$OUT/report.txt" | tr -d ,)
while IFS= read -r l; do note "$l"; done < <(sed -n '1,/^interrupt taken/p' "$OUT/report.txt" | head -70)
if [ "$rc" = 0 ] && [ -n "$worst" ]; then
    ok "worst-case kernel stack $worst bytes <= budget $budget ($size less a margin of $MARGIN)"
else
    not_ok "worst-case kernel stack within the budget of $budget bytes (stack_depth.py exit $rc)" \
        "$(cat "$OUT/report.err")" "$(sed -n 2,12p "$OUT/report.txt")"
fi
grep -q ' direct calls between functions all in the graph' "$OUT/report.txt" &&
    ok "every direct call in build/kernel.elf is in the call graph" ||
    not_ok "every direct call in build/kernel.elf is in the call graph" "$(cat "$OUT/report.err")"

# The check can fail: one byte under the figure.
if [ -n "$worst" ]; then
    python3 "$TOOL" --elf "$ELF" --check $((worst - 1)) >/dev/null 2>"$OUT/small.err"
    rc=$?
    if [ "$rc" = 1 ] && grep -q "exceeds the budget of" "$OUT/small.err"; then
        ok "a budget of $((worst - 1)) bytes fails (exit 1: $(head -1 "$OUT/small.err" | cut -c1-80))"
    else not_ok "a budget one byte under the worst case fails with exit 1" "exit $rc" "$(cat "$OUT/small.err")"; fi
fi
# The indirect table is checked against the code that sets the pointers: a
# system call handler added to handlers[] without its table entry is an error.
mkdir -p "$OUT/src" && cp -r kernel "$OUT/src/" &&
    echo 'static const syscall_fn more[] = {[KM_SYS_NULL] = unmap_restoring};' >>"$OUT/src/kernel/syscall.c"
python3 "$TOOL" --src "$OUT/src" >/dev/null 2>"$OUT/src.err"
rc=$?
[ "$rc" = 2 ] && grep -q 'syscall.c names unmap_restoring' "$OUT/src.err" &&
    ok "a system call handler missing from the indirect table is an error (exit 2)" ||
    not_ok "a system call handler missing from the indirect table is an error (exit 2)" "exit $rc" "$(cat "$OUT/src.err")"
# A call from C into assembly that GCC's graph does not see (inline asm)
# is counted through the inline_asm table: without the table's entry it is
# an error, and its assembly frame counts (a huge one shows in the figure).
python3 "$TOOL" --tables >"$OUT/tables.json"
python3 - "$OUT/tables.json" "$OUT" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
del t["inline_asm"]["kfault_reply_go"]
json.dump(t, open(sys.argv[2] + "/noinline.json", "w"))
t = json.load(open(sys.argv[1]))
t["asm"]["arch_switch_frameless"]["frame"] = 100000
json.dump(t, open(sys.argv[2] + "/bigframe.json", "w"))
PY
python3 "$TOOL" --elf "$ELF" --config "$OUT/noinline.json" >/dev/null 2>"$OUT/noinline.err"
rc=$?
[ "$rc" = 2 ] && grep -q 'C kfault_reply_go calling assembly arch_switch_frameless' "$OUT/noinline.err" &&
    ok "an inline-asm call into assembly missing from the inline_asm table is an error (exit 2)" ||
    not_ok "an inline-asm call into assembly missing from the inline_asm table is an error (exit 2)" "exit $rc" \
        "$(cat "$OUT/noinline.err")"
big=$(python3 "$TOOL" --elf "$ELF" --config "$OUT/bigframe.json" 2>/dev/null | sed -n 's/^worst case: \([0-9,]*\) bytes.*/\1/p' | tr -d ,)
[ -n "$big" ] && [ "$big" -gt 100000 ] &&
    ok "arch_switch_frameless's frame counts (100,000 bytes of it: worst case $big)" ||
    not_ok "arch_switch_frameless's frame counts" "worst case with a 100,000-byte frame: '$big'"
check "stack_depth.py --help" python3 "$TOOL" --help
check "stack_depth.py --tables prints JSON" bash -c "python3 $TOOL --tables | python3 -c 'import json,sys; json.load(sys.stdin)'"

# ---- hand-made call graphs ----------------------------------------------
# ci DIR FILE LINES...: a .ci file; node lines "N name BYTES [QUAL]", edge
# lines "E from to".
ci() {
    local dir=$1 f=$2
    shift 2
    mkdir -p "$dir"
    {
        echo "graph: { title: \"$f\""
        for l in "$@"; do
            # shellcheck disable=SC2086 # (split on purpose)
            set -- $l
            if [ "$1" = N ]; then
                echo "node: { title: \"$2\" label: \"$2\\n$f:1:1\\n$3 bytes (${4:-static})\" }"
            else
                echo "edge: { sourcename: \"$2\" targetname: \"$3\" label: \"$f:2:1\" }"
            fi
        done
        echo "}"
    } >"$dir/$f.ci"
}
# run_tool NAME CONFIG-JSON [ARGS...]: runs the tool on $OUT/NAME; sets RC, R (stdout), E (stderr)
run_tool() {
    local name=$1 cfg=$2
    shift 2
    echo "$cfg" >"$OUT/$name.json"
    python3 "$TOOL" --objdir "$OUT/$name" --config "$OUT/$name.json" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
    RC=$?
    R=$(cat "$OUT/$name.out")
    E=$(cat "$OUT/$name.err")
}
worst_of() { sed -n 's/^worst case: \([0-9,]*\) bytes.*/\1/p' "$OUT/$1.out" | tr -d ,; }
ENTRY='"entries": {"e": {"base": 100, "calls": ["top"]}}'

# recursion: top -> rec -> rec (a cycle)
ci "$OUT/rec" t "N top 32" "N rec 48" "N leaf 16" "E top rec" "E rec rec" "E rec leaf"
run_tool rec "{$ENTRY}"
[ "$RC" = 2 ] && grep -q 'recursion without a bound: rec -> rec' <<<"$E" &&
    ok "hand-made graph: a recursion without a bound is an error (exit 2)" ||
    not_ok "hand-made graph: a recursion without a bound is an error (exit 2)" "exit $RC" "$E"
run_tool rec "{$ENTRY, \"recursion\": {\"rec\": {\"bound\": 3, \"why\": \"test\"}}}"
# 100 + 32 + 3 x 48 + 16
[ "$RC" = 0 ] && [ "$(worst_of rec)" = 292 ] &&
    ok "hand-made graph: rec bounded to 3 activations: 100 + 32 + 3 x 48 + 16 = 292" ||
    not_ok "hand-made graph: bounded recursion counts bound x frame" "exit $RC, worst $(worst_of rec)" "$E"
# a two-function cycle needs one bounded function on it
ci "$OUT/rec2" t "N top 32" "N a 40" "N b 24" "E top a" "E a b" "E b a"
run_tool rec2 "{$ENTRY}"
[ "$RC" = 2 ] && grep -q 'recursion without a bound' <<<"$E" &&
    ok "hand-made graph: a two-function cycle without a bound is an error" ||
    not_ok "hand-made graph: a two-function cycle without a bound is an error" "exit $RC" "$E"
run_tool rec2 "{$ENTRY, \"recursion\": {\"a\": {\"bound\": 2, \"why\": \"test\"}}}"
# top a b a b: 100 + 32 + 40 + 24 + 40 + 24
[ "$RC" = 0 ] && [ "$(worst_of rec2)" = 260 ] &&
    ok "hand-made graph: a -> b -> a with a bounded to 2: 260 bytes" ||
    not_ok "hand-made graph: a -> b -> a with a bounded to 2: 260 bytes" "exit $RC, worst $(worst_of rec2)" "$E"

# indirect call: top calls through a pointer
ci "$OUT/ind" t "N top 32" "N cb1 200" "N cb2 64" "E top __indirect_call"
run_tool ind "{$ENTRY}"
[ "$RC" = 2 ] && grep -q 'unresolved indirect call in top' <<<"$E" &&
    ok "hand-made graph: an unresolved indirect call is an error (exit 2)" ||
    not_ok "hand-made graph: an unresolved indirect call is an error (exit 2)" "exit $RC" "$E"
run_tool ind "{$ENTRY, \"indirect\": {\"top\": {\"targets\": [\"cb1\", \"cb2\"], \"why\": \"test\"}}}"
[ "$RC" = 0 ] && [ "$(worst_of ind)" = 332 ] &&
    ok "hand-made graph: the indirect call resolved through the table: 100 + 32 + 200 = 332" ||
    not_ok "hand-made graph: the indirect call resolved through the table" "exit $RC, worst $(worst_of ind)" "$E"
run_tool ind "{$ENTRY, \"indirect\": {\"top\": {\"targets\": [\"cb1\", \"nosuch\"], \"why\": \"test\"}}}"
[ "$RC" = 2 ] && grep -q 'nosuch: no such function' <<<"$E" &&
    ok "hand-made graph: an indirect target that does not exist is an error" ||
    not_ok "hand-made graph: an indirect target that does not exist is an error" "exit $RC" "$E"
run_tool ind "{$ENTRY, \"indirect\": {\"top\": {\"targets\": [\"cb1\", \"cb2\"], \"why\": \"test\"}}}" --check 331
[ "$RC" = 1 ] && ok "hand-made graph: --check 331 with a worst case of 332 exits 1" ||
    not_ok "hand-made graph: --check 331 with a worst case of 332 exits 1" "exit $RC" "$E"

# dynamic frame, unknown callee
ci "$OUT/dyn" t "N top 32" "N vla 64 dynamic" "E top vla"
run_tool dyn "{$ENTRY}"
[ "$RC" = 2 ] && grep -q 'dynamic stack without a bound: vla' <<<"$E" &&
    ok "hand-made graph: a dynamic frame without a bound is an error" ||
    not_ok "hand-made graph: a dynamic frame without a bound is an error" "exit $RC" "$E"
run_tool dyn "{$ENTRY, \"dynamic\": {\"vla\": 500}}"
[ "$RC" = 0 ] && [ "$(worst_of dyn)" = 632 ] &&
    ok "hand-made graph: a dynamic frame bounded in the table counts its bound (632)" ||
    not_ok "hand-made graph: a dynamic frame bounded in the table counts its bound" "exit $RC, worst $(worst_of dyn)" "$E"
ci "$OUT/ext" t "N top 32" "E top elsewhere"
run_tool ext "{$ENTRY}"
[ "$RC" = 2 ] && grep -q 'to elsewhere: no frame known' <<<"$E" &&
    ok "hand-made graph: a call to a function with no frame is an error" ||
    not_ok "hand-made graph: a call to a function with no frame is an error" "exit $RC" "$E"

# flags and excluded chains: top -> a -> deep is ruled out, top -> b -> deep
# only with a flag b sets for its callees... but b clears it
ci "$OUT/ctx" t "N top 32" "N a 16" "N b 8" "N deep 1000" "N shallow 8" "E top a" "E top b" "E a deep" \
    "E b deep" "E a shallow"
run_tool ctx "{$ENTRY, \"excluded\": [{\"chain\": [\"top\", \"a\", \"deep\"], \"why\": \"test\"}],
    \"flags\": {\"F\": {\"set\": [\"top\"], \"clear\": [], \"forbids\": [\"b->deep\"], \"why\": \"test\"}}}"
# top a shallow: 100 + 32 + 16 + 8
[ "$RC" = 0 ] && [ "$(worst_of ctx)" = 156 ] &&
    ok "hand-made graph: an excluded chain and a flag's forbidden call are not counted (156)" ||
    not_ok "hand-made graph: excluded chains and flags" "exit $RC, worst $(worst_of ctx)" "$E"
run_tool ctx "{$ENTRY, \"excluded\": [{\"chain\": [\"top\", \"a\", \"deep\"], \"why\": \"test\",
    \"callers\": {\"deep\": [\"a\"]}}]}"
[ "$RC" = 2 ] && grep -q 'deep has callers the tables. reasoning does not know: b' <<<"$E" &&
    ok "hand-made graph: a caller an exclusion's reasoning does not know is an error" ||
    not_ok "hand-made graph: a caller an exclusion's reasoning does not know is an error" "exit $RC" "$E"
finish
