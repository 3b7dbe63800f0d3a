#!/usr/bin/env bash
# CTF output read back by babeltrace2: synthetic dump -> kmtrace ctf ->
# babeltrace2, whose event count must equal the records in the dump and the
# rows kmemlab imports; no warnings for a lossless trace, an honest
# "discarded events" warning for a lossy one.  Prints TAP.
# Run from the repository root after `make all` (or `make host`).
set -u
KMTRACE=${KMTRACE:-build/host/kmtrace}
KMEMLAB=${KMEMLAB:-build/host/kmemlab}
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { # check NAME COMMAND...: ok if the command succeeds (its output is kept out of TAP)
    local name=$1; shift
    if "$@" >"$T/check.out" 2>&1; then ok "$name"; else not_ok "$name" "command: $*" "$(head -3 "$T/check.out")"; fi
}

T=$(mktemp -d "${TMPDIR:-/tmp}/kmemlab-ctf.XXXXXX")
trap 'rm -rf "$T"' EXIT

for tool in "$KMTRACE" "$KMEMLAB"; do
    if [ ! -x "$tool" ]; then echo "1..0 # SKIP $tool not built (make host)"; exit 1; fi
done
if ! command -v babeltrace2 >/dev/null; then echo "1..0 # SKIP babeltrace2 not installed"; exit 1; fi

# --- lossless: 4 CPUs, several packets per CPU ---
check "synth dump" "$KMTRACE" synth --cpus 4 --events 20003 --samples 100 --seed 5 "$T/a.dump"
check "kmtrace verify accepts it" "$KMTRACE" verify "$T/a.dump"
check "kmtrace ctf writes the trace" "$KMTRACE" ctf "$T/a.dump" "$T/ctf"
check "metadata and one stream per CPU" test -s "$T/ctf/metadata" -a -s "$T/ctf/stream_0" -a -s "$T/ctf/stream_3" -a ! -e "$T/ctf/stream_4"

if babeltrace2 "$T/ctf" >"$T/bt.out" 2>"$T/bt.err"; then ok "babeltrace2 reads it"; else not_ok "babeltrace2 reads it" "$(head -5 "$T/bt.err")"; fi
if [ ! -s "$T/bt.err" ]; then ok "babeltrace2 prints no warnings"; else not_ok "babeltrace2 prints no warnings" "$(head -3 "$T/bt.err")"; fi

id=$("$KMEMLAB" import "$T/a.dump" --db "$T/runs.db" 2>"$T/import.err")
check "kmemlab import" test "$id" = 1
bt=$(wc -l <"$T/bt.out")
db=$(sqlite3 "$T/runs.db" "SELECT count(*) FROM events WHERE run_id = $id")
check "babeltrace2 events ($bt) = imported events ($db) = 20003" test "$bt" = "$db" -a "$db" = 20003

# per event type and per CPU, babeltrace2 agrees with the database
sed -E 's/^\[[^]]*\] \([^)]*\) ([a-z_0-9]+): \{ cpu_id = ([0-9]+) \}.*/\2 \1/' "$T/bt.out" | sort | uniq -c |
    awk '{print $2, $3, $1}' >"$T/bt.types"
sqlite3 -separator ' ' "$T/runs.db" "SELECT e.cpu, t.name, count(*) FROM events e JOIN event_types t ON t.id = e.event_id
    WHERE e.run_id = $id GROUP BY e.cpu, t.name" | sort >"$T/db.types"
if diff "$T/bt.types" "$T/db.types" >"$T/types.diff"; then ok "counts per CPU and event type agree"
else not_ok "counts per CPU and event type agree" "$(head -5 "$T/types.diff")"; fi

# field names come from the X-macro list
check "event fields named from trace_events.h" grep -q 'syscall_enter: { cpu_id = [0-9]* }, { thread = [0-9]*, nr = [0-9]*, arg0 = ' "$T/bt.out"

# time: babeltrace2 orders all CPUs on one clock, like kmtrace print
"$KMTRACE" print "$T/a.dump" >"$T/print.out"
check "kmtrace print: one line per event" test "$(wc -l <"$T/print.out")" = 20003
check "kmtrace print is time-sorted" bash -c "awk '{print \$1}' '$T/print.out' | sort -n -c"
check "babeltrace2 merges the CPUs in time order" bash -c "cut -c2-19 '$T/bt.out' | sort -c"

# converting twice gives identical bytes
check "kmtrace ctf is deterministic" bash -c "'$KMTRACE' ctf '$T/a.dump' '$T/ctf2' 2>/dev/null && diff -r '$T/ctf' '$T/ctf2'"

# --- lossy: stop mode (newest lost) and overwrite mode (oldest lost) ---
for mode in stop overwrite; do
    flag=; [ $mode = overwrite ] && flag=--overwrite
    check "$mode mode: synth and convert a dump with 9 records lost per CPU" \
        bash -c "'$KMTRACE' synth --cpus 2 --events 5000 --lost 9 $flag '$T/$mode.dump' && '$KMTRACE' ctf '$T/$mode.dump' '$T/ctf-$mode'"
    if babeltrace2 "$T/ctf-$mode" >"$T/bt.out" 2>"$T/bt.err"; then ok "$mode mode: babeltrace2 reads it"
    else not_ok "$mode mode: babeltrace2 reads it" "$(head -3 "$T/bt.err")"; fi
    check "$mode mode: all 5000 records" test "$(wc -l <"$T/bt.out")" = 5000
    check "$mode mode: 9 discarded events reported per CPU" test "$(grep -c 'Tracer discarded 9 events' "$T/bt.err")" = 2
    check "$mode mode: no other warnings" test "$(grep -v 'Tracer discarded 9 events' "$T/bt.err" | grep -c .)" = 0
done

echo "1..$n"
[ $failed -eq 0 ]
