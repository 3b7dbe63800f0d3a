#!/usr/bin/env bash
# kmemlab compare on synthetic runs with known figures (tests/sh/data/
# synth_db.sh: fault_complex samples base + 10 * (i % 10) + OFFSET, p50 =
# base + 40 + OFFSET): rows, deltas and verdicts of two icount runs (one
# metric dropped from B, one added), the statistical verdicts of two kvm
# runs, mixed run modes refused unless --force, unknown runs and usage
# errors; and kmemlab regress's statistical mode (--baseline-run) on the
# same kvm runs (100 vs 100 samples, separated: U = 10000, p = 1.1e-34 by the
# tie-corrected normal approximation).  Prints TAP.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$KMEMLAB" ] || [ ! -x "$KMTRACE" ]; then echo "1..0 # SKIP tools not built (make host)"; exit 1; fi
T=$(mktemp -d "${TMPDIR:-/tmp}/kmemlab-compare.XXXXXX")
trap 'rm -rf "$T"' EXIT
DB=$T/runs.db
for args in "aaa 0" "bbb 30" "ccc 0 kvm" "ddd 300 kvm"; do
    tests/sh/data/synth_db.sh "$DB" $args >/dev/null 2>"$T/synth.err" || { not_ok "synth_db.sh $args" "$(cat "$T/synth.err")"; finish; }
done
# B (run 2) loses kmem_usage/sigma0/mn and gains extra/default/lat.
sqlite3 "$DB" "DELETE FROM results WHERE run_id = 2 AND variant = 'sigma0' AND metric = 'mn';
    INSERT INTO results (run_id, benchmark, variant, metric, unit, n, p50) VALUES (2, 'extra', 'default', 'lat', 'cycles', 1, 77)"

# row NAME PATTERN: the last output has exactly this table row
row() {
    if grep -qxF -- "$2" "$T/out"; then ok "$1"; else
        not_ok "$1" "want: $2" "got:  $(grep -F -- "$(echo "$2" | cut -d'|' -f2)" "$T/out" | head -1)"; fi
}

# ---- icount: exact deltas ----
"$KMEMLAB" compare 1 2 --db "$DB" --markdown "$T/md" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" = 0 ] && [ ! -s "$T/err" ]; then ok "icount runs 1 and 2: exit 0, nothing on stderr"; else not_ok "icount compare exit 0" "exit $rc" "$(cat "$T/err")"; fi
check "table header" grep -qx '| metric | unit | p50 A | p50 B | delta | delta % | verdict |' "$T/out"
row "pool_2m fault: 10040 -> 10070, +30, +0.30%, higher" '| fault_complex/pool_2m/fault | cycles | 10040 | 10070 | +30 | +0.30 | higher |'
row "kpager_1g fault: 16540 -> 16570, +0.18%" '| fault_complex/kpager_1g/fault | cycles | 16540 | 16570 | +30 | +0.18 | higher |'
row "kfaults unchanged: same" '| fault_complex/kpager_2m/kfaults | count | 3 | 3 | +0 | +0.00 | same |'
row "a metric only in A" '| kmem_usage/sigma0/mn | pages | 8 | - | - | - | only in run 1 |'
row "a metric only in B" '| extra/default/lat | cycles | - | 77 | - | - | only in run 2 |'
check "34 rows" test "$(grep -c '^| [a-z_]*/' "$T/out")" = 34
row "summary line" 'compare: run 1 vs run 2: 34 metrics; 6 higher, 0 lower, 26 same; 1 only in run 1, 1 only in run 2, 0 unit changes'
check "--markdown OUT holds the same text" cmp "$T/md" "$T/out"
"$KMEMLAB" compare 2 1 --db "$DB" >"$T/out" 2>&1
row "swapped: lower, negative delta" '| fault_complex/pool_2m/fault | cycles | 10070 | 10040 | -30 | -0.30 | lower |'

# ---- kvm: statistical verdicts ----
"$KMEMLAB" compare 3 4 --db "$DB" >"$T/out" 2>&1
rc=$?
check "kvm runs 3 and 4: exit 0" test "$rc" = 0
check "kvm: table with a p-value column" grep -qx '| metric | unit | p50 A | p50 B | delta | delta % | p (U test) | verdict |' "$T/out"
row "kvm pool_2m: +2.99%, separated sets: higher" '| fault_complex/pool_2m/fault | cycles | 10040 | 10340 | +300 | +2.99 | 1.1e-34 | higher |'
row "kvm kpager_1g: +1.81%: significant, within 2%" '| fault_complex/kpager_1g/fault | cycles | 16540 | 16840 | +300 | +1.81 | 1.1e-34 | significant, within 2% |'
row "kvm identical sets: no significant difference" '| fault_complex/pool_2m/kfaults | count | 1 | 1 | +0 | +0.00 | 1.000 | no significant difference |'
"$KMEMLAB" compare 3 3 --db "$DB" >"$T/out" 2>&1
row "a kvm run against itself: nothing higher or lower" 'compare: run 3 vs run 3: 33 metrics; 0 higher, 0 lower, 33 without a significant change over 2%; 0 only in run 3, 0 only in run 3, 0 unit changes'

# ---- refusals and errors ----
"$KMEMLAB" compare 1 3 --db "$DB" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" = 1 ] && [ ! -s "$T/out" ] && grep -q '^kmemlab: compare: refusing to compare: run 1 is a icount run, run 3 a kvm run (figures of different run modes are not comparable' "$T/err" && grep -q -- '--force' "$T/err"; then
    ok "icount vs kvm refused (exit 1), says why and names --force"
else not_ok "icount vs kvm refused" "exit $rc" "$(cat "$T/err")"; fi
"$KMEMLAB" compare 1 3 --force --db "$DB" >"$T/out" 2>&1
rc=$?
if [ "$rc" = 0 ] && grep -q '^Different run modes (compared with --force)' "$T/out"; then ok "--force compares them (exit 0)"; else
    not_ok "--force compares them" "exit $rc"; fi
"$KMEMLAB" compare 1 99 --db "$DB" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" = 1 ] && [ ! -s "$T/out" ] && grep -qx 'kmemlab: compare: no run 99 in the database' "$T/err"; then
    ok "unknown run: exit 1, 'no run 99 in the database'"
else not_ok "unknown run: exit 1 with a clear message" "exit $rc" "$(cat "$T/err")"; fi
"$KMEMLAB" compare 1 2 --db "$T/nothing.db" >/dev/null 2>"$T/err"
rc=$?
if [ "$rc" = 1 ] && grep -q 'no database at' "$T/err"; then ok "missing database: exit 1"; else not_ok "missing database: exit 1" "exit $rc" "$(cat "$T/err")"; fi
for bad in "1" "1 x" "1 2 3" "1 2 --bogus v"; do
    "$KMEMLAB" compare $bad --db "$DB" >/dev/null 2>"$T/err"
    rc=$?
    if [ "$rc" = 2 ] && grep -q 'kmemlab compare --help' "$T/err"; then ok "usage error for 'compare $bad' (exit 2)"; else
        not_ok "usage error for 'compare $bad' (exit 2)" "exit $rc" "$(cat "$T/err")"; fi
done
check "compare --help" bash -c "'$KMEMLAB' compare --help | grep -q '^usage: kmemlab compare A B'"

# ---- regress, statistical mode (--baseline-run) ----
"$KMEMLAB" regress 4 --baseline-run 3 --db "$DB" >"$T/out" 2>&1
rc=$?
flagged=$(grep -E '\| REGRESSION \|$' "$T/out" | cut -d'|' -f2 | tr -d ' ' | sort | tr '\n' ' ')
want="fault_complex/kpager_2m/fault fault_complex/kpager_batched_1g/fault fault_complex/kpager_batched_2m/fault fault_complex/pool_1g/fault fault_complex/pool_2m/fault "
if [ "$rc" = 1 ] && [ "$flagged" = "$want" ]; then ok "regress --baseline-run (kvm): exit 1, the five fault latencies over 2% flagged"; else
    not_ok "regress --baseline-run (kvm): the five fault latencies over 2%" "exit $rc" "flagged: $flagged"; fi
row "regress: kpager_1g +1.81% is significant but under 2%: ok" '| fault_complex/kpager_1g/fault | 16540 cycles | 16840 cycles | +1.81 | 1.1e-34 | ok |'
"$KMEMLAB" regress 4 --baseline-run 3 --threshold 1.5 --db "$DB" >"$T/out" 2>&1
check "regress --threshold 1.5 (statistical): kpager_1g flagged too" grep -q '^| fault_complex/kpager_1g/fault .* | REGRESSION |$' "$T/out"
"$KMEMLAB" regress 3 --baseline-run 3 --db "$DB" >"$T/out" 2>&1
rc=$?
if [ "$rc" = 0 ] && tail -n 1 "$T/out" | grep -q '^regress: PASS: 0 regressions'; then ok "regress: a kvm run against itself passes"; else
    not_ok "regress: a kvm run against itself passes" "exit $rc" "$(tail -n 1 "$T/out")"; fi
"$KMEMLAB" baseline 3 --db "$DB" >"$T/kvm.txt" 2>/dev/null
"$KMEMLAB" regress 4 --baseline "$T/kvm.txt" --db "$DB" >"$T/out" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q 'give --baseline-run ID' "$T/out" && ! grep -q 'p (U test)' "$T/out"; then
    ok "regress against a kvm baseline file: p50 rule, a note points to --baseline-run"
else not_ok "regress against a kvm baseline file: p50 rule with a note" "exit $rc"; fi
"$KMEMLAB" regress 4 --baseline-run 1 --db "$DB" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" = 2 ] && grep -q 'refusing to compare: run 4 is a kvm run, the baseline run 1 is from a icount run' "$T/err"; then
    ok "regress --baseline-run of another run mode refused (exit 2)"
else not_ok "regress --baseline-run of another run mode refused (exit 2)" "exit $rc" "$(cat "$T/err")"; fi
"$KMEMLAB" regress 4 --baseline "$T/kvm.txt" --baseline-run 3 --db "$DB" >/dev/null 2>"$T/err"
rc=$?
if [ "$rc" = 2 ] && grep -q 'give one of --baseline FILE and --baseline-run ID' "$T/err"; then ok "regress: both baselines given: usage error"; else
    not_ok "regress: both baselines given: usage error" "exit $rc"; fi
finish
