#!/usr/bin/env bash
# kmemlab report's charts and tables, kmemlab trend and kmemlab
# benchmarks-md on a database with known figures (tests/sh/data/synth_db.sh:
# fault_complex pool/kpager/kpager_batched x 2m/1g, kmem_usage, fault
# events with kernel faults): the files exist, are PNG/SVG, and report.md,
# trend.md and the generated blocks hold the derived numbers; bad run ids
# and missing data give clear errors and honest exit statuses.
. "$(dirname "$0")/lib.sh"

T=$ROOT/build/test-runs/report_charts
rm -rf "$T"
mkdir -p "$T"
db=$T/runs.db
for r in "aaaa111 0" "bbbb222 100" "cccc333 50"; do
    # shellcheck disable=SC2086
    tests/sh/data/synth_db.sh "$db" $r >>"$T/ids" 2>>"$T/synth.err" || not_ok "synth_db.sh $r" "$(cat "$T/synth.err")"
done
if [ "$(tr '\n' ' ' <"$T/ids")" = "1 2 3 " ]; then ok "three synthetic runs"; else not_ok "three synthetic runs" "$(cat "$T/ids")"; fi

# ---- report: charts ----
out=$T/r1
if "$KMEMLAB" report 1 --db "$db" --out "$out" --baseline none >/dev/null 2>"$T/report.err"; then ok "kmemlab report succeeds"; else
    not_ok "kmemlab report succeeds" "$(head -5 "$T/report.err")"; fi
for f in alloc_fault_complex cdf_fault_complex kmem_kmem_usage phases bench_fault_complex; do
    if [ "$(head -c 4 "$out/$f.png" 2>/dev/null | tail -c 3)" = PNG ] && grep -q '<svg' "$out/$f.svg" 2>/dev/null; then
        ok "report writes $f.png and $f.svg"
    else not_ok "report writes $f.png and $f.svg"; fi
done
md=$out/report.md
# titles carry the run mode; axes their units
for t in "fault_complex: in-kernel pool vs user-level kpager (run 1, run mode icount)" \
    "kmem_usage: kernel memory per task by type (run 1, run mode icount)" \
    "Fault phases from the trace (run 1, run mode icount)" "fault_complex: latency CDF by variant (run 1, run mode icount)" \
    "set ylabel 'fault (cycles)'" "set ylabel 'kfaults (count)'" "set ylabel 'kernel memory (pages of 4 kB)'"; do
    if grep -qF "$t" "$out/report.gp"; then ok "report.gp: $t"; else not_ok "report.gp: $t"; fi
done

# ---- report: the derived table (2m: pool 10040, kpager 13040, batched 11040;
# kfaults 1, 3, 2. 1g: 12040, 16540, 12540; kfaults 1, 4, 2) ----
row() { grep -F "| $1 |" "$md" | head -1; }
want2m='| 2m | 10040 | 13040 | 11040 | 1 | 3 | 2 | 1.299 | 1.100 | 1500 | 1000 |'
want1g='| 1g | 12040 | 16540 | 12540 | 1 | 4 | 2 | 1.374 | 1.042 | 1500 | 500 |'
if [ "$(row 2m)" = "$want2m" ]; then ok "2m row: ratios 1.299/1.100, 1500 and 1000 cycles per extra kernel fault"; else
    not_ok "2m row" "got:  $(row 2m)" "want: $want2m"; fi
if [ "$(row 1g)" = "$want1g" ]; then ok "1g row: ratios 1.374/1.042, 1500 and 500 cycles per extra kernel fault"; else
    not_ok "1g row" "got:  $(row 1g)" "want: $want1g"; fi
if grep -q "icount counts guest instructions: kernel crossings look cheaper and cache misses are invisible" "$md"; then
    ok "the icount caveat sits beside the ratios"; else not_ok "the icount caveat sits beside the ratios"; fi
# p10-p90 whiskers from the samples: pool_2m 10000..10080
if grep -qx '1 10040 10000 10080' "$out/report.gp"; then ok "pool_2m bar: p50 10040, whisker p10 10000 to p90 10080"; else
    not_ok "pool_2m bar: p50 10040, whisker p10 10000 to p90 10080"; fi
if [ "$(row sigma0)" = "| sigma0 | 6 | 6 | 8 | 1 | 1 | 22 | 88 |" ]; then ok "kmem_usage table: sigma0 22 pages, 88 kB"; else
    not_ok "kmem_usage table: sigma0" "got $(row sigma0)"; fi
if grep -qx '"sigma0" 6 6 8 1 1 22 88 1' "$out/report.gp"; then ok "kmem chart data: sigma0 stacked 6+6+8+1+1"; else
    not_ok "kmem chart data: sigma0 stacked 6+6+8+1+1"; fi
# phases: phase 1 pool-like (100 + 1000 + 200), phase 2 with two kernel faults
for r in "| kernel entry (exception -> pagefault) | 100.0 | 100.0 |" \
    "| kpager handling (kfault -> kpage_import) | 0.0 | 500.0 |" "| import (kpage_import cycles) | 0.0 | 300.0 |" \
    "| map (kfault_done -> map) | 0.0 | 500.0 |" "| traced fault, median | 1300 | 2400 |" "| faults traced | 10 | 10 |"; do
    if grep -qF -- "$r" "$md"; then ok "phases: $r"; else not_ok "phases: $r" "$(grep -A14 '^| phase' "$md")"; fi
done
if ! grep -q "Regression check" "$md"; then ok "--baseline none: no regression section"; else not_ok "--baseline none: no regression section"; fi

# ---- report: regression section ----
"$KMEMLAB" baseline 1 --db "$db" >"$T/base.txt" 2>/dev/null
"$KMEMLAB" report 2 --db "$db" --out "$T/r2" --baseline "$T/base.txt" >/dev/null 2>"$T/r2.err"
if grep -qF "| fault_complex/pool_2m/fault | 10040 cycles | 10140 cycles | +1.00 | ok |" "$T/r2/report.md" &&
    grep -q "^regress: PASS" "$T/r2/report.md"; then ok "report 2 --baseline: the regress table (+1.00%) in report.md"; else
    not_ok "report 2 --baseline: the regress table in report.md" "$(cat "$T/r2.err")"; fi
sed 's/^# accel: icount$/# accel: kvm/' "$T/base.txt" >"$T/kvm.txt"
"$KMEMLAB" report 2 --db "$db" --out "$T/r2k" --baseline "$T/kvm.txt" >/dev/null 2>&1
if grep -q "Not compared with .*kvm baseline and this is a icount run" "$T/r2k/report.md"; then ok "a baseline of another run mode is not compared, and report.md says so"; else
    not_ok "a baseline of another run mode is not compared"; fi
echo junk >"$T/bad.txt"
"$KMEMLAB" report 2 --db "$db" --out "$T/r2b" --baseline "$T/bad.txt" >/dev/null 2>"$T/bad.err"
rc=$?
if [ "$rc" = 1 ] && grep -q "bad baseline" "$T/bad.err"; then ok "a corrupt baseline fails the report (exit 1)"; else not_ok "a corrupt baseline fails the report" "rc $rc"; fi

# ---- report without trace events: no phase chart, said once ----
"$KMTRACE" synth --events 200 --samples 10 "$T/plain.bin" && "$KMEMLAB" import "$T/plain.bin" --db "$T/plain.db" >/dev/null 2>&1
"$KMEMLAB" report 1 --db "$T/plain.db" --out "$T/plain" --baseline none >/dev/null 2>"$T/plain.err"
n=$(grep -c "No phase breakdown: this run traced no pagefault events" "$T/plain/report.md")
if [ "$n" = 1 ] && [ ! -e "$T/plain/phases.png" ] && [ ! -e "$T/plain/alloc_null_syscall.png" ]; then
    ok "no fault events: no phase chart, report.md says why once; no allocator chart"
else not_ok "no fault events: no phase chart, said once" "count $n" "$(cat "$T/plain.err")"; fi

# ---- errors ----
out=$("$KMEMLAB" report 99 --db "$db" --out "$T/none" 2>&1)
rc=$?
if [ "$rc" = 1 ] && [[ "$out" == *"no run 99 in the database"* ]]; then ok "report: unknown run: clear error, exit 1"; else
    not_ok "report: unknown run: clear error, exit 1" "rc $rc: $out"; fi
"$KMEMLAB" report abc --db "$db" >/dev/null 2>&1
rc=$?
if [ "$rc" = 2 ]; then ok "report: a bad run id is a usage error (exit 2)"; else not_ok "report: a bad run id is a usage error" "rc $rc"; fi

# ---- trend ----
if "$KMEMLAB" trend --db "$db" --out "$T/trend" >/dev/null 2>"$T/trend.err"; then ok "kmemlab trend succeeds"; else
    not_ok "kmemlab trend succeeds" "$(cat "$T/trend.err")"; fi
for f in trend_fault_complex_fault trend_fault_complex_kfaults trend_kmem_usage_total_kb; do
    if [ "$(head -c 4 "$T/trend/$f.png" 2>/dev/null | tail -c 3)" = PNG ] && [ -s "$T/trend/$f.svg" ]; then ok "trend writes $f.png/.svg"; else
        not_ok "trend writes $f.png/.svg"; fi
done
if grep -qxF "| 2 | bbbb222 | 16640 | 13140 | 12640 | 11140 | 12140 | 10140 |" "$T/trend/trend.md"; then ok "trend.md: run 2's p50s with its git revision"; else
    not_ok "trend.md: run 2's p50s with its git revision" "$(grep -A6 'fault_complex fault' "$T/trend/trend.md")"; fi
if grep -qF '"3\ncccc333" 2' "$T/trend/trend.gp"; then ok "trend x axis: run id and git revision"; else not_ok "trend x axis: run id and git revision"; fi
out=$("$KMEMLAB" trend --db "$db" --benchmark nosuch --out "$T/trend2" 2>&1)
rc=$?
if [ "$rc" = 1 ] && [[ "$out" == *"no results of kmemlab runs in run mode icount for benchmark nosuch"* ]] && [ ! -e "$T/trend2/trend.md" ]; then
    ok "trend: unknown benchmark: clear error, exit 1, nothing written"; else not_ok "trend: unknown benchmark" "rc $rc: $out"; fi
"$KMEMLAB" trend --db "$db" --accel kvm --out "$T/trend3" >/dev/null 2>&1
rc=$?
if [ "$rc" = 1 ]; then ok "trend: no runs of that run mode: exit 1"; else not_ok "trend: no runs of that run mode: exit 1" "rc $rc"; fi

# ---- benchmarks-md ----
bm=$T/bm.md
if "$KMEMLAB" benchmarks-md --db "$db" --run 1 >"$bm" 2>"$T/bm.err"; then ok "benchmarks-md succeeds"; else not_ok "benchmarks-md succeeds" "$(cat "$T/bm.err")"; fi
for r in "| complex fault, in-kernel pool (2m) | 18,091 | 10,040 |" "| complex fault, user-level kpager (2m) | 21,454 | 13,040 |" \
    "| kpager / pool (2m) | 1.19 | 1.30 |" "| kpager_batched / pool (2m) | - | 1.10 |" \
    "| cycles per kernel page fault, kpager (2m) | about 1,700 | 1,500 |" "| cycles per kernel page fault, kpager (1g) | - | 1,500 |" \
    "| kernel memory per typical task | 40-60 kB | 56-88 kB (3 tasks) |" "| pinned overhead of the scheme per task | 1.5 frames | not measured |" \
    "| fault_complex | pool_2m | fault | cycles | 100 | 10,000 | 10,040 | 10,090 | 10,090 |" \
    "| IPC call | 720 |" "| fault round trip | 1,592 | not measured |" \
    "No system=linux run in the database: not measured" "icount counts guest instructions: kernel crossings look cheaper"; do
    if grep -qF -- "$r" "$bm"; then ok "benchmarks-md: $r"; else not_ok "benchmarks-md: $r"; fi
done
for b in ours paper linux sel4; do
    if grep -qx "<!-- BEGIN kmemlab benchmarks-md $b -->" "$bm" && grep -qx "<!-- END kmemlab benchmarks-md $b -->" "$bm"; then
        ok "benchmarks-md block $b between markers"; else not_ok "benchmarks-md block $b between markers"; fi
done
# an empty database: everything "not measured", nothing fails
sqlite3 "$T/empty.db" "$(sqlite3 "$db" .schema)" 2>/dev/null
sqlite3 "$T/empty.db" "PRAGMA user_version = $(sqlite3 "$db" 'PRAGMA user_version')"
if "$KMEMLAB" benchmarks-md --db "$T/empty.db" >"$T/empty.md" 2>"$T/empty.err" &&
    grep -q "No kmemlab icount run in the database: not measured" "$T/empty.md" &&
    grep -qF "| complex fault, in-kernel pool (2m) | 18,091 | not measured |" "$T/empty.md"; then
    ok "benchmarks-md on an empty database: 'not measured', exit 0"
else not_ok "benchmarks-md on an empty database" "$(cat "$T/empty.err")"; fi
# --update replaces the blocks in place and keeps the prose
printf '# B\n\nprose before\n<!-- BEGIN kmemlab benchmarks-md ours -->\nold\n<!-- END kmemlab benchmarks-md ours -->\nprose between\n' >"$T/B.md"
for b in paper linux sel4; do printf '<!-- BEGIN kmemlab benchmarks-md %s -->\n<!-- END kmemlab benchmarks-md %s -->\n' $b $b >>"$T/B.md"; done
echo "prose after" >>"$T/B.md"
if "$KMEMLAB" benchmarks-md --db "$db" --run 1 --update "$T/B.md" >/dev/null 2>"$T/upd.err" && ! grep -qx old "$T/B.md" &&
    grep -qx "prose between" "$T/B.md" && grep -qx "prose after" "$T/B.md" &&
    diff <(grep -v '^prose\|^# B\|^$' "$T/B.md") <(grep -v '^$' "$bm") >/dev/null; then
    ok "benchmarks-md --update: blocks replaced, prose kept"
else not_ok "benchmarks-md --update: blocks replaced, prose kept" "$(cat "$T/upd.err")"; fi
cp "$T/B.md" "$T/B2.md"
sed -i '/benchmarks-md sel4/d' "$T/B2.md"
cp "$T/B2.md" "$T/B2.orig"
out=$("$KMEMLAB" benchmarks-md --db "$db" --update "$T/B2.md" 2>&1)
rc=$?
if [ "$rc" = 1 ] && [[ "$out" == *"has no block 'sel4'"* ]] && cmp -s "$T/B2.md" "$T/B2.orig"; then
    ok "benchmarks-md --update: a missing block is an error, the file untouched"; else not_ok "benchmarks-md --update: a missing block" "rc $rc: $out"; fi
out=$("$KMEMLAB" benchmarks-md --db "$db" --run 42 2>&1)
rc=$?
if [ "$rc" = 1 ] && [[ "$out" == *"no run 42 in the database"* ]]; then ok "benchmarks-md: unknown run: clear error, exit 1"; else
    not_ok "benchmarks-md: unknown run: clear error, exit 1" "rc $rc: $out"; fi
for c in report trend benchmarks-md; do
    if "$KMEMLAB" "$c" --help | grep -q "usage: kmemlab $c"; then ok "$c --help"; else not_ok "$c --help"; fi
done
finish
