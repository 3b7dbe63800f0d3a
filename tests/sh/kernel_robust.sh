#!/usr/bin/env bash
# The kernel under bad input: command-line errors, a module that is not a
# program, a hung guest, ring overflow in both trace modes, and a kernel
# built with trace points compiled out.
. "$(dirname "$0")/lib.sh"

U=build/user
CMDLINE="timer_hz=100 nosuchoption" boot badopt "$U/smp_info.elf"
if [ "$BOOT_RC" = 2 ] && console_has "cmdline: unknown option 'nosuchoption'"; then
    ok "an unknown option stops the boot with status 2 and names the option"
else not_ok "an unknown option stops the boot with status 2 and names the option" "rc $BOOT_RC"; fi
if ! console_has "program 1"; then ok "nothing runs after a command-line error"; else
    not_ok "nothing runs after a command-line error"; fi

for bad in trace.records=1000 trace.mode=sideways timer_hz=x maxcpus=0 trace.mask=0x8000000000000000; do
    CMDLINE="$bad" boot badval "$U/smp_info.elf"
    if [ "$BOOT_RC" = 2 ] && console_has "cmdline: option '${bad%%=*}'"; then
        ok "bad value '$bad' is rejected with status 2"
    else not_ok "bad value '$bad' is rejected with status 2" "rc $BOOT_RC" "$(grep cmdline: "$BOOT_OUT/console.log")"; fi
done

boot notelf kernel/abi/include/abi/types.h "$U/smp_info.elf"
if console_has "program 1 (types.h): not loaded: not an ELF file" &&
    console_has "program 2 (smp_info.elf) exited with status 0"; then
    ok "a module that is not an ELF is refused and the next program runs"
else not_ok "a module that is not an ELF is refused and the next program runs"; fi

TIMEOUT=5 boot hang "$U/spin.elf"
if [ "$BOOT_RC" = 124 ] && grep -q "spin: looping forever" "$BOOT_OUT/run.stderr"; then
    ok "a hung guest is killed at the timeout (124) with the console tail"
else not_ok "a hung guest is killed at the timeout (124) with the console tail" "rc $BOOT_RC"; fi

# Kernel-mode exceptions end in a readable panic: vector, name, error code,
# registers, CPU, faulting address; status 3, never a triple fault.
for k in pf:14:ffff900000000000 ud:6: de:0: gp:13:; do
    IFS=: read -r kind vec addr <<<"$k"
    CMDLINE="debug.kfault=$kind" boot "kfault_$kind" "$U/smp_info.elf"
    log=$BOOT_OUT/console.log
    if [ "$BOOT_RC" = 3 ] && grep -q "KERNEL EXCEPTION $vec (.*) on cpu 0, error code" "$log" &&
        grep -qE '^  rip ffffffff8[0-9a-f]{7}  cs 0008' "$log" && grep -q "^  r13 " "$log" &&
        grep -q "^KERNEL PANIC on cpu 0: unhandled kernel exception $vec" "$log" &&
        { [ -z "$addr" ] || grep -q "cr2 $addr" "$log"; }; then
        ok "kernel #$kind (vector $vec) ends in a readable panic with status 3"
    else not_ok "kernel #$kind (vector $vec) ends in a readable panic with status 3" "rc $BOOT_RC" "$(tail -4 "$log")"; fi
done

# The same framing over a plain serial port (bare metal's channel).
CMDLINE="dump=com2" boot com2 "$U/null_syscall.elf"
if [ "$BOOT_RC" = 0 ] && [ ! -s "$BOOT_OUT/dump.bin" ] && "$KMTRACE" verify "$BOOT_OUT/com2.bin" >/dev/null 2>&1; then
    ok "dump=com2 sends a dump over COM2 that verifies"
else not_ok "dump=com2 sends a dump over COM2 that verifies" "rc $BOOT_RC"; fi

# Small rings: stop mode keeps the oldest records, overwrite the newest;
# both count what they lose, and count + lost == written holds per CPU.
for mode in stop overwrite; do
    CMDLINE="trace.records=64 trace.mode=$mode" boot "ring_$mode" "$U/null_syscall.elf" "$U/trace_overhead.elf"
    summary=$("$KMTRACE" verify "$BOOT_OUT/dump.bin" 2>&1)
    vrc=$?
    if [ "$BOOT_RC" = 0 ] && [ $vrc = 0 ] && echo "$summary" | grep -q "valid kmemlab dump"; then
        ok "trace.mode=$mode with 64 records: run succeeds, dump verifies"
    else not_ok "trace.mode=$mode with 64 records: run succeeds, dump verifies" "$summary"; fi
    lost=$(echo "$summary" | sed -n 's/.*lost \([0-9]*\).*/\1/p')
    if [ "${lost:-0}" -gt 0 ]; then ok "trace.mode=$mode: lost records are counted ($lost)"; else
        not_ok "trace.mode=$mode: lost records are counted" "$summary"; fi
    last=$("$KMTRACE" print "$BOOT_OUT/dump.bin" 2>/dev/null | grep ' cpu 0 ' | tail -1)
    first=$("$KMTRACE" print "$BOOT_OUT/dump.bin" 2>/dev/null | grep ' cpu 0 ' | head -1)
    if [ $mode = stop ]; then
        if echo "$first" | grep -q ' seq 0 boot '; then ok "stop mode keeps the first record"; else
            not_ok "stop mode keeps the first record" "$first"; fi
    else
        if echo "$last" | grep -q ' trace_stop '; then ok "overwrite mode keeps the last record"; else
            not_ok "overwrite mode keeps the last record" "$last"; fi
    fi
done

# Trace points compiled out: same programs, no records, and the run says so.
if make --no-print-directory -s B=build/notrace TRACE=0 build/notrace/kernel.bin >/dev/null 2>&1; then
    ok "the kernel builds with TRACE=0"
    KERNEL=build/notrace/kernel.bin boot notrace "$U/trace_overhead.elf"
    if [ "$BOOT_RC" = 0 ] && console_has "trace points are compiled out"; then
        ok "TRACE=0 kernel runs trace_overhead and reports trace points compiled out"
    else not_ok "TRACE=0 kernel runs trace_overhead and reports trace points compiled out" "rc $BOOT_RC" "$(tail -4 "$BOOT_OUT/console.log")"; fi
    events=$("$KMTRACE" verify "$BOOT_OUT/dump.bin" 2>&1 | sed -n 's/.*(\([0-9]*\) total).*/\1/p')
    if [ "$events" = 0 ]; then ok "TRACE=0 kernel writes no trace records"; else
        not_ok "TRACE=0 kernel writes no trace records" "events: $events"; fi
else
    not_ok "the kernel builds with TRACE=0"
fi
finish
