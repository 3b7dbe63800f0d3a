#!/usr/bin/env bash
# kmemlab export-perfetto: a fault_simple run (fault, IPC and syscall events
# traced) exported as Chrome/Perfetto trace JSON; checked with sqlite3's JSON
# functions: valid JSON, one instant per event row, page fault and syscall
# slices (complete "X" events), processes per CPU, thread tracks, phase
# slices from marker pairs; an unknown run is refused.
. "$(dirname "$0")/lib.sh"

CMDLINE="trace.mask=0x7ffff" boot perfetto build/user/fault_simple.elf
if [ "$BOOT_RC" = 0 ]; then ok "fault_simple run boots and succeeds"; else
    not_ok "fault_simple run boots and succeeds" "rc $BOOT_RC" "$(tail -4 "$BOOT_OUT/console.log")"; fi
db=$BOOT_OUT/runs.db
rm -f "$db"
id=$("$KMEMLAB" import "$BOOT_OUT/dump.bin" --meta "$BOOT_OUT/meta" --db "$db" 2>"$BOOT_OUT/import.err")
if [ "$id" = 1 ]; then ok "kmemlab import stores run 1"; else not_ok "kmemlab import stores run 1" "$(cat "$BOOT_OUT/import.err")"; fi

f=$BOOT_OUT/trace.json
if "$KMEMLAB" export-perfetto 1 "$f" --db "$db" 2>"$BOOT_OUT/export.err"; then ok "kmemlab export-perfetto succeeds"; else
    not_ok "kmemlab export-perfetto succeeds" "$(cat "$BOOT_OUT/export.err")"; fi
note "$(cat "$BOOT_OUT/export.err")"

j() { sqlite3 :memory: "$1"; }
ev="json_each(readfile('$f'), '\$.traceEvents')"
if [ "$(j "SELECT json_valid(readfile('$f'))")" = 1 ]; then ok "the file is valid JSON"; else not_ok "the file is valid JSON"; fi
rows=$(sqlite3 "$db" "SELECT count(*) FROM events WHERE run_id = 1")
inst=$(j "SELECT count(*) FROM $ev WHERE json_extract(value, '\$.ph') = 'i' AND json_extract(value, '\$.s') = 't'")
if [ "$inst" = "$rows" ] && [ "$rows" -gt 1000 ]; then ok "one instant per event row ($inst)"; else
    not_ok "one instant per event row" "instants $inst, events rows $rows"; fi
pf=$(sqlite3 "$db" "SELECT count(*) FROM events e JOIN event_types t ON t.id = e.event_id WHERE run_id = 1 AND t.name = 'pagefault'")
inst_pf=$(j "SELECT count(*) FROM $ev WHERE json_extract(value, '\$.ph') = 'i' AND json_extract(value, '\$.name') = 'pagefault'")
if [ "$inst_pf" = "$pf" ]; then ok "pagefault instants = pagefault rows ($pf)"; else not_ok "pagefault instants = pagefault rows" "$inst_pf vs $pf"; fi
nf=$(j "SELECT count(*) FROM $ev WHERE json_extract(value, '\$.ph') = 'X' AND json_extract(value, '\$.name') = 'page fault'")
fd=$(sqlite3 "$db" "SELECT count(*) FROM events e JOIN event_types t ON t.id = e.event_id WHERE run_id = 1 AND t.name = 'fault_done'")
if [ "$nf" -gt 0 ] && [ "$nf" -le "$fd" ] && [ "$nf" -ge $((fd - 4)) ]; then ok "page fault slices ($nf; fault_done rows $fd)"; else
    not_ok "page fault slices" "slices $nf, fault_done rows $fd"; fi
ns=$(j "SELECT count(*) FROM $ev WHERE json_extract(value, '\$.ph') = 'X' AND json_extract(value, '\$.name') LIKE 'syscall %'")
if [ "$ns" -gt 0 ]; then ok "syscall slices ($ns)"; else not_ok "syscall slices"; fi
bad=$(j "SELECT count(*) FROM $ev WHERE json_extract(value, '\$.ph') IN ('B', 'E') OR (json_extract(value, '\$.ph') = 'X' AND
         (json_type(value, '\$.dur') NOT IN ('integer', 'real') OR json_extract(value, '\$.dur') < 0))")
if [ "$bad" = 0 ]; then ok "slices are complete events with a duration (no B/E)"; else not_ok "slices are complete events" "$bad bad"; fi
nots=$(j "SELECT count(*) FROM $ev WHERE json_extract(value, '\$.ph') <> 'M' AND (json_type(value, '\$.ts') NOT IN ('integer', 'real')
          OR json_type(value, '\$.pid') <> 'integer' OR json_type(value, '\$.tid') <> 'integer')")
if [ "$nots" = 0 ]; then ok "every event has a numeric ts, pid, tid"; else not_ok "every event has a numeric ts, pid, tid" "$nots without"; fi
neg=$(j "SELECT count(*) FROM $ev WHERE json_extract(value, '\$.ts') < 0")
if [ "$neg" = 0 ]; then ok "timestamps start at boot (none negative)"; else not_ok "timestamps start at boot" "$neg negative"; fi
procs=$(j "SELECT group_concat(n, ',') FROM (SELECT json_extract(value, '\$.args.name') AS n FROM $ev
           WHERE json_extract(value, '\$.name') = 'process_name' ORDER BY 1)")
if [ "$procs" = "cpu 0,cpu 1" ]; then ok "one process per CPU ($procs)"; else not_ok "one process per CPU" "got '$procs'"; fi
thr=$(sqlite3 "$db" "SELECT count(*) FROM (SELECT DISTINCT cpu, thread FROM events WHERE run_id = 1)")
tn=$(j "SELECT count(*) FROM $ev WHERE json_extract(value, '\$.name') = 'thread_name'")
if [ "$tn" = "$thr" ]; then ok "a named track per CPU and thread ($tn)"; else not_ok "a named track per CPU and thread" "$tn vs $thr"; fi
args=$(j "SELECT json_extract(value, '\$.args.addr') || ' ' || json_extract(value, '\$.args.ip') FROM $ev
          WHERE json_extract(value, '\$.name') = 'pagefault' LIMIT 1")
a=$(sqlite3 "$db" "SELECT e.a0 || ' ' || e.a1 FROM events e JOIN event_types t ON t.id = e.event_id WHERE run_id = 1
                   AND t.name = 'pagefault' ORDER BY e.tsc LIMIT 1")
if [ -n "$a" ] && [ "$args" = "$a" ]; then ok "instant args named after event_types.a0/a1 ($args)"; else
    not_ok "instant args named after event_types.a0/a1" "json '$args', database '$a'"; fi

# phase slices: add a marker pair to a copy of the run (the real run's end
# marker may be lost when the trace ring fills up): begin, then end 4 µs later
cp "$db" "$BOOT_OUT/phase.db"
sqlite3 "$BOOT_OUT/phase.db" "
  INSERT INTO events SELECT 1, 0, s + 1, t + 1000, (SELECT id FROM event_types WHERE name = 'marker'), 4, 1, 7
    FROM (SELECT max(seq) AS s, max(tsc) AS t FROM events WHERE run_id = 1 AND cpu = 0);
  INSERT INTO events SELECT 1, 0, s + 1, t + 4000, (SELECT id FROM event_types WHERE name = 'marker'), 4, 2, 7
    FROM (SELECT max(seq) AS s, max(tsc) AS t FROM events WHERE run_id = 1 AND cpu = 0);"
f2=$BOOT_OUT/phase.json
"$KMEMLAB" export-perfetto 1 "$f2" --db "$BOOT_OUT/phase.db" 2>/dev/null
ph=$(j "SELECT group_concat(json_extract(value, '\$.ph'), '') FROM json_each(readfile('$f2'), '\$.traceEvents')
        WHERE json_extract(value, '\$.name') = 'phase 7'")
dur=$(j "SELECT max(json_extract(value, '\$.ts')) - min(json_extract(value, '\$.ts')) FROM json_each(readfile('$f2'), '\$.traceEvents')
         WHERE json_extract(value, '\$.name') = 'phase 7'")
if [ "$ph" = be ] && [ "$(j "SELECT $dur BETWEEN 3.99 AND 4.01")" = 1 ]; then ok "marker pair gives a 'phase 7' slice (b/e, ${dur} µs)"; else
    not_ok "marker pair gives a 'phase 7' slice" "phases '$ph', duration '$dur'"; fi

# errors
rm -f "$BOOT_OUT/none.json"
out=$("$KMEMLAB" export-perfetto 99 "$BOOT_OUT/none.json" --db "$db" 2>&1)
rc=$?
if [ "$rc" = 1 ] && [[ "$out" == *"no run 99"* ]] && [ ! -e "$BOOT_OUT/none.json" ]; then ok "unknown run: clear error, exit 1, no file"; else
    not_ok "unknown run: clear error, exit 1, no file" "rc $rc: $out"; fi
"$KMEMLAB" export-perfetto x "$BOOT_OUT/none.json" --db "$db" >/dev/null 2>&1
rc=$?
if [ "$rc" = 2 ]; then ok "a bad run id is a usage error (exit 2)"; else not_ok "a bad run id is a usage error" "rc $rc"; fi
"$KMEMLAB" export-perfetto 1 --db "$db" >/dev/null 2>&1
rc=$?
if [ "$rc" = 2 ]; then ok "a missing output path is a usage error (exit 2)"; else not_ok "a missing output path is a usage error" "rc $rc"; fi
if "$KMEMLAB" export-perfetto --help | grep -q "usage: kmemlab export-perfetto"; then ok "export-perfetto --help"; else
    not_ok "export-perfetto --help"; fi
finish
