#!/usr/bin/env bash
# The Linux baseline and PMU event names, on the host (no QEMU):
# build/host/fault_linux measures a short run (200 samples per shape), each
# sample confirmed as exactly one page fault and each shape's page-table
# growth checked; `kmemlab import-linux` stores it (system=linux) with the
# expected rows; corrupt samples files are rejected and leave the database
# byte-for-byte unchanged; scripts/linux_baseline.sh runs end to end;
# `kmemlab pmu-encode` encodes, and rejects bad names before printing.
. "$(dirname "$0")/lib.sh"

FL=build/host/fault_linux
N=200
T=$(mktemp -d "${TMPDIR:-/tmp}/kmemlab-linux.XXXXXX")
trap 'rm -rf "$T"' EXIT
for tool in "$FL" "$KMEMLAB"; do
    if [ ! -x "$tool" ]; then not_ok "$tool is built (make host)"; finish; fi
done
q() { sqlite3 "$T/runs.db" "$1"; }

# ---- measure ----
if "$FL" -n "$N" --warmup 50 --git-rev test-rev-1 -o "$T/s.txt" >"$T/fl.out" 2>"$T/fl.err" && [ -s "$T/s.txt" ]; then
    ok "fault_linux -n $N writes a samples file"
else not_ok "fault_linux -n $N writes a samples file" "$(head -3 "$T/fl.err")"; fi
sed 's/^/  /' "$T/fl.out" | while IFS= read -r l; do note "$l"; done
grep -q 'not counted' "$T/fl.err" && note "$(grep 'not counted' "$T/fl.err" | head -1)"
pmu=$(sed -n 's/^pmu=//p' "$T/s.txt")
result=$(sed -n 's/^result=//p' "$T/s.txt")

# page-table pages per fault (VmPTE growth / faults): ~0, 1, 2
for want in "pte_present 0" "new_pt 1" "new_pd 2"; do
    read -r shape pages <<<"$want"
    got=$(sed -n "s/.*page-table pages per fault:.* $shape \([0-9.]*\).*/\1/p" <<<"$result")
    if [ -n "$got" ] && awk -v g="$got" -v w="$pages" 'BEGIN{exit !(g >= w - 0.05 && g <= w + 0.05)}'; then
        ok "$shape: $got page-table pages per fault (want $pages)"
    else not_ok "$shape: $pages page-table pages per fault" "result line: $result"; fi
done

# ---- import ----
id=$("$KMEMLAB" import-linux "$T/s.txt" --db "$T/runs.db" 2>"$T/imp.err")
if [ "$id" = 1 ]; then ok "kmemlab import-linux stores run 1"; else not_ok "kmemlab import-linux stores run 1" "$(cat "$T/imp.err")"; fi

model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1 | cut -c1-48)
row=$(q "SELECT system || '|' || accel || '|' || cpu_model || '|' || host || '|' || pmu FROM runs WHERE id = 1")
if [ "$row" = "linux|host|$model|$(uname -n)|$pmu" ]; then ok "runs row: system, accel, CPU model, host, pmu ($row)"; else
    not_ok "runs row: system, accel, CPU model, host, pmu" "got '$row'" "want 'linux|host|$model|$(uname -n)|$pmu'"; fi
rev=$(q "SELECT git_rev || '|' || kernel_rev FROM runs WHERE id = 1")
if [ "$rev" = "test-rev-1|$(uname -r | cut -c1-48)" ]; then
    ok "runs row: git revision and Linux release ($rev)"
else not_ok "runs row: git revision and Linux release" "got '$rev'"; fi

for v in pte_present new_pt new_pd; do
    r=$(q "SELECT n || '|' || unit || '|' || p50 FROM results WHERE run_id = 1 AND benchmark = 'linux_fault' AND variant = '$v' AND metric = 'fault'")
    s=$(q "SELECT count(*) FROM samples WHERE run_id = 1 AND benchmark = 'linux_fault' AND variant = '$v' AND metric = 'fault'")
    IFS='|' read -r rn ru rp <<<"$r"
    if [ "$rn" = "$N" ] && [ "$ru" = cycles ] && [ "$s" = "$N" ] && [ "${rp:-0}" -gt 0 ]; then
        ok "linux_fault/$v/fault: n = $N samples, p50 $rp cycles"
    else not_ok "linux_fault/$v/fault: n = $N samples, p50 > 0" "results '$r', samples $s"; fi
done

# one page fault per sample (the software page-faults event)
if grep -q '^series .* metric=page_faults ' "$T/s.txt"; then
    pf=$(q "SELECT group_concat(variant || ':' || n || ':' || min || ':' || max, ' ') FROM
            (SELECT * FROM results WHERE run_id = 1 AND metric = 'page_faults' ORDER BY variant)")
    if [ "$pf" = "new_pd:$N:1:1 new_pt:$N:1:1 pte_present:$N:1:1" ]; then
        ok "page-faults event: exactly one fault in each of the $((3 * N)) samples"
    else not_ok "page-faults event: exactly one fault per sample" "got '$pf'" "$(grep 'did not see' "$T/fl.err" | head -3)"; fi
    if grep -qF "$((3 * N)) of $((3 * N)) samples saw exactly one fault" <<<"$result"; then
        ok "the run's result line records the confirmation"
    else not_ok "the run's result line records the confirmation" "$result"; fi
else
    not_ok "page-faults event available" "$(grep page-faults "$T/fl.err")"
fi
if [ "$pmu" = none ]; then
    note "this host counts no hardware events: pmu=none (say so once: $(grep -c 'not counted' "$T/fl.err") line)"
    [ "$(grep -c 'not counted' "$T/fl.err")" = 1 ] && ok "no PMU: reported once, pmu=none recorded" ||
        not_ok "no PMU: reported once" "$(cat "$T/fl.err")"
else
    m=$(q "SELECT count(*) FROM results WHERE run_id = 1 AND metric NOT IN ('fault', 'page_faults')")
    [ "$m" -gt 0 ] && ok "PMU events counted: $pmu ($m series)" || not_ok "PMU events counted: $pmu" "no series"
fi
if "$KMEMLAB" show 1 --brief --db "$T/runs.db" >"$T/show" && grep -q '^linux_fault  *new_pd  *fault  *cycles' "$T/show" &&
    grep -q '^run 1: linux' "$T/show"; then ok "kmemlab show --brief lists the Linux run"
else not_ok "kmemlab show --brief lists the Linux run" "$(head -5 "$T/show")"; fi

# ---- bad input leaves the database unchanged ----
sum=$(sha256sum <"$T/runs.db")
size=$(stat -c %s "$T/s.txt")
head -c $((size / 2)) "$T/s.txt" >"$T/truncated.txt"
head -n -1 "$T/s.txt" >"$T/noend.txt"
sed '40s/^\([0-9]\)/9\1/' "$T/s.txt" >"$T/digit.txt"      # one sample changed
sed 's/^kmemlab-linux-samples 1$/kmemlab-linux-samples 9/' "$T/s.txt" >"$T/magic.txt"
{ cat "$T/s.txt"; echo trailing; } >"$T/trailing.txt"
: >"$T/empty.txt"
# expect NAME WORDS FILE: import-linux exits 1, stderr has WORDS, DB unchanged
expect() {
    "$KMEMLAB" import-linux "$3" --db "$T/runs.db" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ $rc = 1 ] && [ ! -s "$T/out" ] && grep -qF -- "$2" "$T/err" && [ "$(sha256sum <"$T/runs.db")" = "$sum" ]; then
        ok "$1 is rejected, database unchanged ($(sed "s|^kmemlab: import-linux: $T/||" "$T/err" | head -c 80))"
    else not_ok "$1 is rejected, database unchanged" "exit $rc; stderr: $(head -2 "$T/err")" "want: $2"; fi
}
expect "a truncated file" "truncated" "$T/truncated.txt"
expect "a file without its end line" "no end line" "$T/noend.txt"
expect "a changed sample" "CRC mismatch" "$T/digit.txt"
expect "a wrong magic line" "not a Linux samples file" "$T/magic.txt"
expect "bytes after the end line" "after the end line" "$T/trailing.txt"
expect "an empty file" "empty file" "$T/empty.txt"
expect "a missing file" "No such file" "$T/missing.txt"
# Errors behind the CRC: edit, then write a correct end line again.
recrc() { # FILE: rewrites the end line's crc32 for the file's contents
    local body
    body=$(head -n -1 "$1" | gzip -c | tail -c 8 | head -c 4 | od -An -tx4 | tr -d ' ')
    { head -n -1 "$1"; tail -n 1 "$1" | sed "s/crc32=.*/crc32=$body/"; } >"$1.new" && mv "$1.new" "$1"
}
grep -v '^tsc_hz=' "$T/s.txt" >"$T/nokey.txt"; recrc "$T/nokey.txt"
expect "a file without tsc_hz (CRC right)" "key tsc_hz missing" "$T/nokey.txt"
sed '0,/ n='"$N"'$/s// n=5/' "$T/s.txt" >"$T/count.txt"; recrc "$T/count.txt"
expect "a series count that disagrees (CRC right)" "expected a series line or the end line" "$T/count.txt"
sed 's/^pmu=.*/pmu=bad pmu/' "$T/s.txt" >"$T/pmu.txt"; recrc "$T/pmu.txt"
expect "a bad pmu value (CRC right)" "pmu 'bad pmu'" "$T/pmu.txt"
if [ "$(q "SELECT count(*) FROM runs")" = 1 ]; then ok "still one run in the database"; else not_ok "still one run in the database"; fi
"$KMEMLAB" import-linux --db "$T/runs.db" >/dev/null 2>&1
[ $? = 2 ] && ok "import-linux without a file is a usage error (exit 2)" || not_ok "import-linux without a file is a usage error (exit 2)"

# ---- the script, end to end ----
if DB=$T/e2e.db scripts/linux_baseline.sh -n "$N" -o "$T/e2e.txt" >"$T/e2e.out" 2>&1 && grep -q '^linux_fault  *pte_present  *fault' "$T/e2e.out" &&
    [ "$(sqlite3 "$T/e2e.db" "SELECT system FROM runs")" = linux ]; then
    ok "scripts/linux_baseline.sh -n $N measures, imports and prints the table"
else not_ok "scripts/linux_baseline.sh -n $N measures, imports and prints the table" "$(tail -5 "$T/e2e.out")"; fi

# ---- fault_linux usage ----
"$FL" -n 10 --events NO_SUCH_EVENT_Y -o "$T/x.txt" >/dev/null 2>"$T/err"
if [ $? = 2 ] && grep -q NO_SUCH_EVENT_Y "$T/err" && [ ! -e "$T/x.txt" ]; then ok "fault_linux rejects an unknown event before measuring"
else not_ok "fault_linux rejects an unknown event before measuring" "$(cat "$T/err")"; fi

# ---- kmemlab pmu-encode ----
out=$(LIBPFM_FORCE_PMU=skl "$KMEMLAB" pmu-encode UNHALTED_CORE_CYCLES,INSTRUCTION_RETIRED,cycles 2>&1)
if [ "$(awk '{print $1, $2, $3}' <<<"$out" | tr '\n' ';')" = "UNHALTED_CORE_CYCLES 0x53003c skl;INSTRUCTION_RETIRED 0x5300c0 skl;cycles 0x53003c skl;" ]; then
    ok "pmu-encode (skl): name, raw encoding, PMU per line"
else not_ok "pmu-encode (skl): name, raw encoding, PMU per line" "$out"; fi
LIBPFM_FORCE_PMU=skl "$KMEMLAB" pmu-encode cycles,NO_SUCH_EVENT_Z >"$T/out" 2>"$T/err"
if [ $? = 1 ] && [ ! -s "$T/out" ] && grep -q "NO_SUCH_EVENT_Z" "$T/err"; then ok "pmu-encode: an unknown event exits 1, named, nothing on stdout"
else not_ok "pmu-encode: an unknown event exits 1, named, nothing on stdout" "$(cat "$T/out" "$T/err")"; fi
"$KMEMLAB" pmu-encode "" >"$T/out" 2>"$T/err"
[ $? = 1 ] && grep -q "empty event list" "$T/err" && ok "pmu-encode: an empty list exits 1" || not_ok "pmu-encode: an empty list exits 1" "$(cat "$T/err")"
LIBPFM_FORCE_PMU=no_such_pmu "$KMEMLAB" pmu-encode cycles >"$T/out" 2>"$T/err"
[ $? = 1 ] && grep -q "no_such_pmu" "$T/err" && ok "pmu-encode: an unknown LIBPFM_FORCE_PMU exits 1, named" ||
    not_ok "pmu-encode: an unknown LIBPFM_FORCE_PMU exits 1, named" "$(cat "$T/err")"
if "$KMEMLAB" pmu-encode cycles >"$T/out" 2>"$T/err"; then note "this host: $(cat "$T/out")"; else note "this host: $(cat "$T/err")"; fi
finish
