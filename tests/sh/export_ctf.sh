#!/usr/bin/env bash
# kmemlab export-ctf: a stored run written as CTF from the database alone
# (runs, cpus, events tables through trace/ctf_write.c) and read back by
# babeltrace2: the same event count as the database holds for the run, and
# the same text babeltrace2 prints for `kmtrace ctf` of the dump the run came
# from (lossless, overwrite-mode and stop-mode losses); a run with rows the
# kernel does not write (tests/sh/data/synth_db.sh); errors.  Prints TAP.
. "$(dirname "$0")/lib.sh"

for tool in "$KMTRACE" "$KMEMLAB"; do
    if [ ! -x "$tool" ]; then echo "1..0 # SKIP $tool not built (make host)"; exit 1; fi
done
if ! command -v babeltrace2 >/dev/null; then echo "1..0 # SKIP babeltrace2 not installed"; exit 1; fi
T=$(mktemp -d "${TMPDIR:-/tmp}/kmemlab-exctf.XXXXXX")
trap 'rm -rf "$T"' EXIT

norm() { sed -E 's/ \(UUID: [0-9a-f-]+\)//; s|within stream "[^"]*/stream_|within stream "stream_|' "$1"; }

# same_as_dump NAME SYNTH-ARGS...: synth a dump, import it, export it; the
# babeltrace2 text of both CTF directories must be identical.
same_as_dump() {
    local name=$1 id bt db
    shift
    "$KMTRACE" synth "$@" "$T/$name.dump" >/dev/null 2>&1 && "$KMTRACE" ctf "$T/$name.dump" "$T/$name.dctf" >/dev/null 2>&1
    id=$("$KMEMLAB" import "$T/$name.dump" --db "$T/runs.db" 2>/dev/null)
    if "$KMEMLAB" export-ctf "$id" "$T/$name.ctf" --db "$T/runs.db" 2>"$T/$name.err"; then ok "$name: export-ctf run $id"
    else not_ok "$name: export-ctf run $id" "$(cat "$T/$name.err")"; fi
    babeltrace2 "$T/$name.ctf" >"$T/$name.bt" 2>"$T/$name.bterr"
    babeltrace2 "$T/$name.dctf" >"$T/$name.dbt" 2>"$T/$name.dbterr"
    bt=$(wc -l <"$T/$name.bt")
    db=$(sqlite3 "$T/runs.db" "SELECT count(*) FROM events WHERE run_id = $id")
    if [ "$bt" = "$db" ] && [ "$db" -gt 0 ]; then ok "$name: babeltrace2 prints $bt events = $db in the database"
    else not_ok "$name: babeltrace2 event count" "babeltrace2 $bt, database $db" "$(head -3 "$T/$name.bterr")"; fi
    # warnings name the directory and the trace UUID (derived from what each
    # input holds: the dump's RUN record has PMU fields the database keeps as text)
    norm "$T/$name.bterr" >"$T/$name.bterr.n"
    norm "$T/$name.dbterr" >"$T/$name.dbterr.n"
    if cmp -s "$T/$name.bt" "$T/$name.dbt" && cmp -s "$T/$name.bterr.n" "$T/$name.dbterr.n"; then
        ok "$name: babeltrace2 prints the same as for kmtrace ctf of the dump"
    else not_ok "$name: babeltrace2 prints the same as for kmtrace ctf of the dump" \
        "$(diff "$T/$name.bt" "$T/$name.dbt" | head -4)" "$(diff "$T/$name.bterr.n" "$T/$name.dbterr.n" | head -4)"; fi
}

same_as_dump lossless --cpus 4 --events 20003 --samples 100 --seed 5
if [ ! -s "$T/lossless.bterr" ]; then ok "lossless: no babeltrace2 warnings"; else
    not_ok "lossless: no babeltrace2 warnings" "$(head -3 "$T/lossless.bterr")"; fi
check "lossless: metadata and one stream per CPU" test -s "$T/lossless.ctf/metadata" -a -s "$T/lossless.ctf/stream_3" -a ! -e "$T/lossless.ctf/stream_4"
same_as_dump stop --cpus 2 --events 5000 --lost 9 --seed 3
same_as_dump overwrite --cpus 2 --events 5000 --lost 9 --overwrite --seed 4
for m in stop overwrite; do
    check "$m: 9 discarded events reported per CPU" test "$(grep -c 'Tracer discarded 9 events' "$T/$m.bterr")" = 2
done
check "export-ctf is deterministic" bash -c "'$KMEMLAB' export-ctf 1 '$T/again' --db '$T/runs.db' 2>/dev/null && diff -r '$T/lossless.ctf' '$T/again'"

# A run with events the importer did not write (synth_db.sh's fault phases).
sid=$(tests/sh/data/synth_db.sh "$T/synth.db" abc 0 2>/dev/null)
"$KMEMLAB" export-ctf "$sid" "$T/synth.ctf" --db "$T/synth.db" 2>/dev/null
bt=$(babeltrace2 "$T/synth.ctf" 2>/dev/null | wc -l)
db=$(sqlite3 "$T/synth.db" "SELECT count(*) FROM events WHERE run_id = $sid")
if [ "$bt" = "$db" ] && [ "$db" -gt 400 ]; then ok "synth_db run: babeltrace2 prints all $db events"; else
    not_ok "synth_db run: babeltrace2 prints all events" "babeltrace2 $bt, database $db"; fi
check "synth_db run: the kernel fault phase events are there" bash -c "babeltrace2 '$T/synth.ctf' | grep -c 'kpage_import: ' | grep -qx 20"

# Errors: exit 1 with the reason, nothing written; usage: exit 2.
"$KMEMLAB" export-ctf 99 "$T/none" --db "$T/runs.db" 2>"$T/e.err"
rc=$?
if [ "$rc" = 1 ] && grep -qx 'kmemlab: export-ctf: no run 99 in the database' "$T/e.err" && [ ! -e "$T/none" ]; then
    ok "unknown run: exit 1, 'no run 99 in the database', nothing written"
else not_ok "unknown run: exit 1 with a clear message" "exit $rc" "$(cat "$T/e.err")"; fi
sqlite3 "$T/runs.db" "INSERT INTO runs (id, system, ncpus, tsc_hz, pmu) VALUES (50, 'linux', 1, 1000, 'none')"
"$KMEMLAB" export-ctf 50 "$T/linux" --db "$T/runs.db" 2>"$T/l.err"
rc=$?
if [ "$rc" = 1 ] && grep -q 'run 50 has no trace' "$T/l.err"; then ok "a run without a trace: exit 1, says so"; else
    not_ok "a run without a trace: exit 1, says so" "exit $rc" "$(cat "$T/l.err")"; fi
"$KMEMLAB" export-ctf 1 --db "$T/runs.db" 2>"$T/u.err"
rc=$?
if [ "$rc" = 2 ] && grep -q 'missing argument (ID OUTDIR)' "$T/u.err"; then ok "missing OUTDIR: usage error (exit 2)"; else
    not_ok "missing OUTDIR: usage error (exit 2)" "exit $rc" "$(cat "$T/u.err")"; fi
check "export-ctf --help" bash -c "'$KMEMLAB' export-ctf --help | grep -q '^usage: kmemlab export-ctf ID OUTDIR'"
finish
