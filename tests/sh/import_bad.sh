#!/usr/bin/env bash
# Bad input through the CLIs: kmtrace and kmemlab reject every kind of bad
# dump (and bad meta file) with a non-zero exit and a message on stderr
# naming the problem and its byte offset, and the database file stays
# byte-for-byte as it was.  Also checks usage errors and exit statuses.
# Prints TAP.  Run from the repository root after `make all` (or `make host`).
set -u
KMTRACE=${KMTRACE:-build/host/kmtrace}
KMEMLAB=${KMEMLAB:-build/host/kmemlab}
n=0 failed=0
T=$(mktemp -d "${TMPDIR:-/tmp}/kmemlab-bad.XXXXXX")
trap 'rm -rf "$T"' EXIT
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

for tool in "$KMTRACE" "$KMEMLAB"; do
    if [ ! -x "$tool" ]; then echo "1..0 # SKIP $tool not built (make host)"; exit 1; fi
done

# expect NAME STATUS WORDS COMMAND...: the command exits with STATUS and its
# stderr contains WORDS (stdout is kept out of the TAP stream).
expect() {
    local name=$1 want=$2 words=$3; shift 3
    "$@" >"$T/out" 2>"$T/err"
    local got=$?
    if [ $got -eq "$want" ] && { [ -z "$words" ] || grep -qF -- "$words" "$T/err"; }; then ok "$name"
    else not_ok "$name" "exit $got (want $want); stderr: $(head -2 "$T/err")" "want stderr containing: $words"; fi
}

# flip BIT of byte OFFSET of FILE in place
flip() {
    local f=$1 off=$2 bit=$3 byte
    byte=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
    printf "$(printf '\\%03o' $((byte ^ (1 << bit))))" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

"$KMTRACE" synth --cpus 2 --events 3000 --samples 200 "$T/good.dump"
size=$(stat -c %s "$T/good.dump")
id=$("$KMEMLAB" import "$T/good.dump" --db "$T/runs.db")
if [ "$id" = 1 ]; then ok "good dump imports as run 1"; else not_ok "good dump imports as run 1" "got '$id'"; fi
sum=$(sha256sum <"$T/runs.db")

# Frame layout of a synth dump with 2 CPUs: RUN 0..535, CPU 536..607,
# CPU 608..679, EVENTS from 680 (24-byte header, then payload), ...
head -c 1000 "$T/good.dump" >"$T/truncated.dump"
head -c 536 "$T/good.dump" >"$T/noend-early.dump"
head -c $((size - 56)) "$T/good.dump" >"$T/noend.dump"      # without the END frame
: >"$T/empty.dump"
cp "$T/good.dump" "$T/magic.dump"; printf 'XMTF' | dd of="$T/magic.dump" bs=1 seek=0 conv=notrunc status=none
cp "$T/good.dump" "$T/hdrflip.dump"; flip "$T/hdrflip.dump" 548 3        # CPU frame 1's len field
cp "$T/good.dump" "$T/payflip.dump"; flip "$T/payflip.dump" 2000 0      # inside the first EVENTS payload
cp "$T/good.dump" "$T/garbage.dump"; printf 'login: ' >>"$T/garbage.dump"
echo "not a dump" >"$T/text.dump"

bad() { # bad NAME FILE WORDS
    expect "kmtrace verify rejects $1" 1 "$3" "$KMTRACE" verify "$2"
    expect "kmemlab import rejects $1" 1 "$3" "$KMEMLAB" import "$2" --db "$T/runs.db"
    if [ ! -s "$T/out" ]; then ok "no run id printed for $1"; else not_ok "no run id printed for $1" "stdout: $(head -1 "$T/out")"; fi
    if [ "$(sha256sum <"$T/runs.db")" = "$sum" ]; then ok "database unchanged after $1"
    else not_ok "database unchanged after $1"; fi
}
bad "a truncated dump" "$T/truncated.dump" "truncated dump: frame 3 at byte 680"
bad "a dump cut after RUN" "$T/noend-early.dump" "truncated dump (no END frame): frame 1 at byte 536"
bad "a dump without END" "$T/noend.dump" "truncated dump (no END frame)"
bad "an empty file" "$T/empty.dump" "empty dump"
bad "a wrong magic" "$T/magic.dump" "bad magic: frame 0 at byte 0"
bad "a flipped header bit" "$T/hdrflip.dump" "header CRC mismatch: frame 1 at byte 536"
bad "a flipped payload bit" "$T/payflip.dump" "payload CRC mismatch: frame 3 at byte 680"
bad "garbage after END" "$T/garbage.dump" "data after END frame"
bad "a text file" "$T/text.dump" "bad magic: frame 0 at byte 0"
bad "a missing file" "$T/nonexistent.dump" "No such file"

printf 'accel=icount\nwarp_factor=9\n' >"$T/bad.meta"
expect "kmemlab import rejects an unknown meta key" 1 "bad.meta:2: unknown key" \
    "$KMEMLAB" import "$T/good.dump" --meta "$T/bad.meta" --db "$T/runs.db"
printf 'accel=warp\n' >"$T/bad2.meta"
expect "kmemlab import rejects a bad accel" 1 "accel must be icount, tcg, kvm or bare" \
    "$KMEMLAB" import "$T/good.dump" --meta "$T/bad2.meta" --db "$T/runs.db"
if [ "$(sha256sum <"$T/runs.db")" = "$sum" ]; then ok "database unchanged after bad meta files"
else not_ok "database unchanged after bad meta files"; fi

expect "kmemlab import of a bad dump creates no database" 1 "truncated dump" \
    "$KMEMLAB" import "$T/truncated.dump" --db "$T/new/runs.db"
if [ ! -e "$T/new/runs.db" ]; then ok "no database file appeared"; else not_ok "no database file appeared"; fi

# usage errors exit 2, lookups of things that are not there exit 1
expect "kmemlab without a command: usage error" 2 "no command given" "$KMEMLAB"
expect "kmemlab import without a dump: usage error" 2 "missing argument" "$KMEMLAB" import
expect "kmemlab unknown option: usage error" 2 "unknown option --frobnicate" "$KMEMLAB" list --frobnicate
expect "kmemlab show with a bad id: usage error" 2 "is not a run id" "$KMEMLAB" show one --db "$T/runs.db"
expect "kmtrace unknown command: usage error" 2 "unknown command" "$KMTRACE" frobnicate
expect "kmemlab show of a missing run" 1 "no run 99" "$KMEMLAB" show 99 --db "$T/runs.db"
expect "kmemlab report of a missing run" 1 "no run 99" "$KMEMLAB" report 99 --db "$T/runs.db" --out "$T/r99"
expect "kmemlab list without a database" 1 "no database at $T/none.db" "$KMEMLAB" list --db "$T/none.db"
DB="$T/runs.db" expect "kmemlab list honours \$DB" 0 "" "$KMEMLAB" list
for cmd in import list show report; do
    expect "kmemlab $cmd --help" 0 "" "$KMEMLAB" $cmd --help
    if grep -q "^usage: kmemlab $cmd" "$T/out"; then ok "kmemlab $cmd --help prints its usage"
    else not_ok "kmemlab $cmd --help prints its usage"; fi
done
expect "kmtrace --help" 0 "" "$KMTRACE" --help

# the good run still reports, from the database alone
rm "$T/good.dump"
expect "kmemlab report of the good run" 0 "" "$KMEMLAB" report 1 --db "$T/runs.db" --out "$T/report"
for f in report.md report.gp timeline.png timeline.svg bench_null_syscall.png bench_trace_overhead.svg; do
    if [ -s "$T/report/$f" ]; then ok "report has $f"; else not_ok "report has $f"; fi
done
if [ "$(head -c 4 "$T/report/timeline.png" | od -An -c | tr -d ' ')" = '211PNG' ]; then ok "timeline.png is a PNG"
else not_ok "timeline.png is a PNG"; fi
if grep -q "guest instructions" "$T/report/report.md" && grep -q "| null_syscall *| enabled *| roundtrip *| cycles *| *200 |" "$T/report/report.md"
then ok "report.md has the results table and the icount note"; else not_ok "report.md has the results table and the icount note"; fi
# a report without a working gnuplot fails, and says why
mkdir -p "$T/bin"
printf '#!/bin/sh\necho "gnuplot: simulated failure" >&2\nexit 3\n' >"$T/bin/gnuplot"
chmod +x "$T/bin/gnuplot"
PATH="$T/bin:$PATH" expect "kmemlab report fails when gnuplot fails" 1 "gnuplot failed on $T/r2/report.gp (exit status 3" \
    "$KMEMLAB" report 1 --db "$T/runs.db" --out "$T/r2"
expect "kmemlab report fails without gnuplot" 1 "cannot run gnuplot" \
    env PATH=/nonexistent "$KMEMLAB" report 1 --db "$T/runs.db" --out "$T/r3"
if [ "$(sha256sum <"$T/runs.db")" = "$sum" ]; then ok "report leaves the database unchanged"
else not_ok "report leaves the database unchanged"; fi

echo "1..$n"
[ $failed -eq 0 ]
