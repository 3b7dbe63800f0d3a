#!/usr/bin/env bash
# The kernel's performance-counter path where there is no PMU (QEMU TCG:
# CPUID leaf 0xA reports version 0, and rdpmc or a PMU MSR would fault):
# pmu= is accepted, nothing is programmed, the run completes and records
# pmu = none, reports leave the counter columns out and say so once.  A
# malformed pmu= stops the boot (status 2); PMU_EVENTS with an unknown name
# fails before anything boots.
. "$(dirname "$0")/lib.sh"

U=build/user
T=$ROOT/build/test-runs/pmu_kernel
rm -rf "$T"
mkdir -p "$T"
q() { sqlite3 "$T/runs.db" "$1"; }

# Every event enabled, pmu_fault (24) included: even asked for, a run
# without a PMU must not execute one rdpmc.
all_mask=$(printf '0x%x' $(((1 << 25) - 1)))
CMDLINE="pmu=0x53003c,0x5300c0 trace.mask=$all_mask" boot pmu_none "$U/fault_simple.elf"
log=$BOOT_OUT/console.log
if [ "$BOOT_RC" = 0 ] && console_has "fault_simple/default fault: n=10240"; then
    ok "pmu=0x53003c,0x5300c0 without a PMU: the run completes (fault_simple)"
else not_ok "pmu=0x53003c,0x5300c0 without a PMU: the run completes (fault_simple)" "rc $BOOT_RC" "$(tail -3 "$log")"; fi
if console_has "pmu: none (CPUID leaf 0xA reports no architectural PMU); pmu= given: nothing programmed" &&
    [ "$(grep -c '^pmu: ' "$log")" = 1 ]; then
    ok "the console says once that there is no PMU and nothing was programmed"
else not_ok "the console says once that there is no PMU and nothing was programmed" "$(grep '^pmu' "$log")"; fi
if ! grep -qE 'KERNEL EXCEPTION|KERNEL PANIC|killed' "$log"; then ok "no kernel exception, no program killed"
else not_ok "no kernel exception, no program killed" "$(grep -E 'KERNEL|killed' "$log" | head -3)"; fi

id=$("$KMEMLAB" import "$BOOT_OUT/dump.bin" --meta "$BOOT_OUT/meta" --db "$T/runs.db" 2>"$T/import.err")
if [ "$id" = 1 ]; then ok "the run imports"; else not_ok "the run imports" "$(cat "$T/import.err")"; fi
row=$(q "SELECT pmu || '|' || (cmdline LIKE '%pmu=0x53003c,0x5300c0%') FROM runs WHERE id = 1")
if [ "$row" = "none|1" ]; then ok "the imported run records pmu = none (and the pmu= it was given)"
else not_ok "the imported run records pmu = none (and the pmu= it was given)" "got '$row'"; fi
ev=$(q "SELECT (SELECT count(*) FROM events WHERE run_id = 1 AND event_id = 24) || '|' ||
        (SELECT count(*) FROM events WHERE run_id = 1 AND event_id = 15) || '|' ||
        (SELECT count(*) FROM events WHERE run_id = 1 AND (event_id = 7 OR (event_id = 6 AND a0 <> 14)))")
IFS='|' read -r npmu npf nbad <<<"$ev"
if [ "$npmu" = 0 ] && [ "$npf" -gt 1000 ] && [ "$nbad" = 0 ]; then
    ok "event 24 enabled yet no pmu_fault record; $npf pagefaults traced; no exception but #PF"
else not_ok "event 24 enabled yet no pmu_fault record; pagefaults traced; no exception but #PF" "pmu_fault $npmu, pagefault $npf, others $nbad"; fi
q "SELECT name FROM event_types WHERE id = 24" | grep -qx pmu_fault &&
    ok "event type 24 is pmu_fault in the database" || not_ok "event type 24 is pmu_fault in the database"

"$KMEMLAB" show 1 --db "$T/runs.db" >"$T/show.txt" 2>&1
if grep -qE '^  pmu +none$' "$T/show.txt"; then ok "kmemlab show prints pmu none"
else not_ok "kmemlab show prints pmu none" "$(grep pmu "$T/show.txt")"; fi
if "$KMEMLAB" report 1 --db "$T/runs.db" --out "$T/report" >/dev/null 2>"$T/report.err" &&
    [ "$(grep -c 'pmu = none' "$T/report/report.md")" = 1 ] && ! grep -q 'counter 0' "$T/report/report.md"; then
    ok "the report says pmu = none once and has no counter columns"
else not_ok "the report says pmu = none once and has no counter columns" "$(cat "$T/report.err")" \
    "$(grep -n 'pmu\|counter' "$T/report/report.md" 2>/dev/null | head -5)"; fi

# A malformed pmu= is a command-line error: status 2, nothing runs.
for bad in pmu=cycles pmu=0x53003c, pmu=1,2,3,4,5 pmu=0x100000000 pmu=0 pmu; do
    CMDLINE="$bad" boot pmu_bad "$U/smp_info.elf"
    if [ "$BOOT_RC" = 2 ] && console_has "cmdline: option 'pmu'" && ! console_has "program 1"; then
        ok "'$bad' is rejected at boot with status 2"
    else not_ok "'$bad' is rejected at boot with status 2" "rc $BOOT_RC" "$(grep cmdline: "$BOOT_OUT/console.log")"; fi
done

# PMU_EVENTS: an unknown name fails before anything boots ...
before=$(find build/runs -maxdepth 1 -name 'bench-*' 2>/dev/null | wc -l)
PMU_EVENTS=cycles,NO_SUCH_EVENT_Z ACCEL=icount DB=$T/bench.db RESULTS=$T/results \
    scripts/bench.sh "$U/fault_simple.elf" >"$T/bad.out" 2>"$T/bad.err"
rc=$?
after=$(find build/runs -maxdepth 1 -name 'bench-*' 2>/dev/null | wc -l)
if [ $rc = 2 ] && grep -q "NO_SUCH_EVENT_Z" "$T/bad.err" && grep -q "nothing booted" "$T/bad.err" &&
    [ "$before" = "$after" ] && [ ! -e "$T/bench.db" ] && ! grep -q booting "$T/bad.out"; then
    ok "PMU_EVENTS with an unknown name: exit 2 naming it, nothing booted"
else not_ok "PMU_EVENTS with an unknown name: exit 2 naming it, nothing booted" "rc $rc" "$(cat "$T/bad.err")"; fi
PMU_EVENTS=cycles,instructions,branches,branch-misses,ref-cycles ACCEL=icount DB=$T/bench.db \
    scripts/bench.sh "$U/fault_simple.elf" >/dev/null 2>"$T/many.err"
if [ $? = 2 ] && grep -q "at most 4" "$T/many.err" && [ ! -e "$T/bench.db" ]; then
    ok "PMU_EVENTS with 5 events: exit 2 before booting (the kernel programs 4)"
else not_ok "PMU_EVENTS with 5 events: exit 2 before booting" "$(cat "$T/many.err")"; fi

# ... and known names reach the kernel as pmu=<raw>; without a PMU, two
# runs (pool and kpager) say so once.
PMU_EVENTS=cycles,instructions ACCEL=icount DB=$T/bench.db RESULTS=$T/results KPAGER_PROGS="$U/fault_simple.elf" \
    scripts/bench.sh "$U/fault_simple.elf" >"$T/good.out" 2>"$T/good.err"
rc=$?
cmdlines=$(sqlite3 "$T/bench.db" "SELECT group_concat(pmu || ':' || (cmdline LIKE '%pmu=0x53003c,0x5300c0%'), ' ') FROM runs")
if [ $rc = 0 ] && [ "$cmdlines" = "none:1 none:1" ] &&
    [ "$(grep -c 'no performance counters (pmu = none)' "$T/good.out")" = 1 ]; then
    ok "PMU_EVENTS=cycles,instructions: pmu=0x53003c,0x5300c0 on both runs' command lines, pmu = none said once"
else not_ok "PMU_EVENTS=cycles,instructions: pmu=0x53003c,0x5300c0 on both runs, pmu = none said once" "rc $rc" \
    "runs: $cmdlines" "$(tail -3 "$T/good.err")"; fi
finish
