#!/usr/bin/env bash
# The whole pipeline on a real run: boot (2 CPUs, icount) -> dump -> CTF
# read by babeltrace2 -> import into SQLite -> report and charts.  The
# event counts babeltrace2 reports must equal what we import, per CPU.
. "$(dirname "$0")/lib.sh"

U=build/user
SMP=2 CMDLINE="timer_hz=1000" boot pipeline "$U/null_syscall.elf" "$U/trace_overhead.elf"
if [ "$BOOT_RC" = 0 ]; then ok "benchmark run boots and succeeds"; else
    not_ok "benchmark run boots and succeeds" "rc $BOOT_RC" "$(tail -4 "$BOOT_OUT/console.log")"; fi
dump=$BOOT_OUT/dump.bin
check "dump verifies" "$KMTRACE" verify "$dump"

ctf=$BOOT_OUT/ctf
check "kmtrace ctf writes a trace directory" "$KMTRACE" ctf "$dump" "$ctf"
if babeltrace2 "$ctf" >"$BOOT_OUT/bt.out" 2>"$BOOT_OUT/bt.err" && [ ! -s "$BOOT_OUT/bt.err" ]; then
    ok "babeltrace2 reads the trace without warnings"
else not_ok "babeltrace2 reads the trace without warnings" "$(head -3 "$BOOT_OUT/bt.err")"; fi

db=$BOOT_OUT/runs.db
rm -f "$db"
id=$("$KMEMLAB" import "$dump" --meta "$BOOT_OUT/meta" --db "$db" 2>"$BOOT_OUT/import.err")
if [ "$id" = 1 ]; then ok "kmemlab import stores run 1"; else not_ok "kmemlab import stores run 1" "$(cat "$BOOT_OUT/import.err")"; fi

bt=$(wc -l <"$BOOT_OUT/bt.out")
n=$(sqlite3 "$db" "SELECT count(*) FROM events WHERE run_id = 1")
if [ "$bt" = "$n" ] && [ "$n" -gt 10000 ]; then ok "babeltrace2 events ($bt) = imported events ($n)"; else
    not_ok "babeltrace2 events = imported events" "babeltrace2 $bt, database $n"; fi
for c in 0 1; do
    b=$(grep -c "{ cpu_id = $c }" "$BOOT_OUT/bt.out")
    d=$(sqlite3 "$db" "SELECT count(*) FROM events WHERE run_id = 1 AND cpu = $c")
    if [ "$b" = "$d" ] && [ "$d" -gt 0 ]; then ok "cpu $c: babeltrace2 $b = database $d"; else
        not_ok "cpu $c: babeltrace2 = database" "babeltrace2 $b, database $d"; fi
done
timers=$(grep -c ' timer: ' "$BOOT_OUT/bt.out")
if [ "$timers" -gt 0 ]; then ok "LAPIC timer interrupts are traced ($timers)"; else not_ok "LAPIC timer interrupts are traced"; fi

q() { sqlite3 "$db" "$1"; }
[ "$(q "SELECT accel || ' ' || ncpus || ' ' || system || ' ' || kmem_mode FROM runs WHERE id = 1")" = "icount 2 kmemlab pool" ] &&
    ok "runs row records accel, CPUs, system, kmem mode" || not_ok "runs row records accel, CPUs, system, kmem mode"
for m in "null_syscall default roundtrip" "trace_overhead enabled event_cost" "trace_overhead masked event_cost"; do
    read -r b v mt <<<"$m"
    row=$(q "SELECT n, min, p50 FROM results WHERE run_id = 1 AND benchmark = '$b' AND variant = '$v' AND metric = '$mt'")
    if [ -n "$row" ] && [ "${row%%|*}" = 10000 ]; then ok "results row $b/$v/$mt (n|min|p50 = $row)"; else
        not_ok "results row $b/$v/$mt" "got '$row'"; fi
done
te=$(q "SELECT p50 FROM results WHERE run_id = 1 AND benchmark = 'trace_overhead' AND variant = 'enabled'")
tm=$(q "SELECT p50 FROM results WHERE run_id = 1 AND benchmark = 'trace_overhead' AND variant = 'masked'")
if [ "${te%.*}" -gt "${tm%.*}" ]; then ok "an enabled trace point costs more than a masked one ($te > $tm)"; else
    not_ok "an enabled trace point costs more than a masked one" "$te vs $tm"; fi

out=$BOOT_OUT/report
if "$KMEMLAB" report 1 --db "$db" --out "$out" >/dev/null 2>"$BOOT_OUT/report.err"; then ok "kmemlab report succeeds"; else
    not_ok "kmemlab report succeeds" "$(head -3 "$BOOT_OUT/report.err")"; fi
for f in report.md timeline.png timeline.svg bench_null_syscall.png bench_null_syscall.svg \
    bench_trace_overhead.png bench_trace_overhead.svg; do
    if [ -s "$out/$f" ]; then ok "report writes $f"; else not_ok "report writes $f"; fi
done
if [ "$(head -c 4 "$out/timeline.png" | tail -c 3)" = PNG ]; then ok "timeline.png is a PNG"; else not_ok "timeline.png is a PNG"; fi
if grep -q "| null_syscall" "$out/report.md" && grep -q "icount" "$out/report.md"; then
    ok "report.md has the results table and the run mode"
else not_ok "report.md has the results table and the run mode"; fi
# With the system call events on, every IPC system call records its exit
# however it returns (a hand-off may end a blocked thread's system call
# straight from its syscall frame: kernel/ipc.c, resumes_at_syscall): per
# thread, as many exits as entries, or one fewer (still blocked at the end).
# ipc_balance: TOTAL (IPC exits) and BAD (threads off) of the last boot.
ipc_balance() {
    "$KMTRACE" print "$BOOT_OUT/dump.bin" >"$BOOT_OUT/events.txt" 2>"$BOOT_OUT/print.err"
    local counts
    counts=$(awk '($8 == "syscall_enter" || $8 == "syscall_exit") && $10 == "nr=8" { c[$9 " " $8]++; t[$9] = 1 }
        END { for (x in t) printf "%s %d %d\n", x, c[x " syscall_enter"], c[x " syscall_exit"] }' "$BOOT_OUT/events.txt")
    BAD=$(awk '{ d = $2 - $3; if (d != 0 && d != 1) print }' <<<"$counts")
    TOTAL=$(awk '{ n += $3 } END { print n + 0 }' <<<"$counts")
}
SMP=1 CMDLINE="trace.mask=0x18" boot pipeline_ipc "$U/ipc_roundtrip.elf"
ipc_balance
if [ "$BOOT_RC" = 0 ] && [ -z "$BAD" ] && [ "$TOTAL" -gt 20000 ]; then
    ok "IPC system calls traced: every thread's exits match its entries ($TOTAL exits)"
else not_ok "IPC system calls traced: every thread's exits match its entries" "rc $BOOT_RC, total $TOTAL, off: $BAD"; fi
# The same with kernel page faults (their events on too: bits 19, 20): the
# kernel-made calls to pagers and kpagers and the kpagers' replies take
# their traced paths (kernel/ipc.c).
SMP=1 CMDLINE="kmem=kpager trace.mask=0x180018" boot pipeline_kfault "$U/fault_complex.elf"
ipc_balance
kf=$(grep -c ' kfault ' "$BOOT_OUT/events.txt")
if [ "$BOOT_RC" = 0 ] && [ -z "$BAD" ] && [ "$TOTAL" -gt 1000 ] && [ "$kf" -gt 100 ]; then
    ok "with kernel page faults ($kf), IPC system calls traced: every thread's exits match its entries ($TOTAL exits)"
else not_ok "with kernel page faults, IPC system calls traced: every thread's exits match its entries" \
    "rc $BOOT_RC, total $TOTAL, kfaults $kf, off: $BAD"; fi
finish
