#!/usr/bin/env bash
# The bare-metal path in QEMU: scripts/mkiso.sh makes a GRUB image, QEMU
# boots it from a CD drive (icount, as run-qemu.sh pins it) with COM1 in a
# file, the kernel writes its dump there as text (dump=com1), and `kmemlab
# import` finds it among the console lines: the run's results are in the
# database and agree with the console.  Damaged logs (cut off, a line lost,
# a character changed, a wrong CRC, two dumps, none) are rejected with the
# reason and leave the database byte-for-byte unchanged.
. "$(dirname "$0")/lib.sh"

U=build/user
T=$(mktemp -d "${TMPDIR:-/tmp}/kmemlab-iso.XXXXXX")
trap 'rm -rf "$T"' EXIT
ISO=build/test-runs/iso/kmemlab-test.iso
mkdir -p build/test-runs/iso

# ---- the image ----
if scripts/mkiso.sh -o "$ISO" --cmdline "timer_hz=100" "$U/null_syscall.elf" "$U/fault_simple.elf" \
    >"$T/mkiso.out" 2>"$T/mkiso.err" && [ "$(cat "$T/mkiso.out")" = "$ISO" ] && [ -s "$ISO" ]; then
    ok "mkiso.sh writes a GRUB image ($(($(stat -c %s "$ISO") / 1024)) KiB)"
else
    not_ok "mkiso.sh writes a GRUB image" "$(tail -3 "$T/mkiso.err")"
    finish
fi
scripts/mkiso.sh --cmdline "dump=debugcon" -o "$T/x.iso" >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "dump=com1" "$T/err" && [ ! -e "$T/x.iso" ] &&
    ok "mkiso.sh refuses another dump= (exit 2)" || not_ok "mkiso.sh refuses another dump= (exit 2)" "$(cat "$T/err")"

# ---- boot it from the CD drive ----
boot iso-boot --iso "$ISO"
if [ "$BOOT_RC" = 0 ]; then ok "the image boots from a CD drive and the kernel exits 0"; else
    not_ok "the image boots from a CD drive and the kernel exits 0" "rc $BOOT_RC" "$(tail -5 "$BOOT_OUT/run.stderr")"; fi
LOG=$BOOT_OUT/console.log
console_has "cmdline: 'dump=com1 timer_hz=100'" && ok "GRUB passes the command line" ||
    not_ok "GRUB passes the command line" "$(grep -a '^cmdline' "$LOG")"
console_has "kmemlab: program 2 (fault_simple.elf) exited with status 0" && ok "GRUB's modules run, named" ||
    not_ok "GRUB's modules run, named" "$(grep -a 'program' "$LOG" | head -4)"
if [ ! -s "$BOOT_OUT/dump.bin" ] && grep -aq '^KMDUMP-BEGIN v1' "$LOG" && grep -aq '^KMDUMP-END bytes=' "$LOG"; then
    ok "the dump came over COM1, as text between the console lines"
else not_ok "the dump came over COM1, as text between the console lines" "dump.bin $(stat -c %s "$BOOT_OUT/dump.bin") bytes"; fi
grep -q '^kernel=.*kmemlab-test.iso$' "$BOOT_OUT/meta" && grep -q '^accel=icount$' "$BOOT_OUT/meta" &&
    ok "meta names the image and the run mode" || not_ok "meta names the image and the run mode" "$(head -5 "$BOOT_OUT/meta")"
check "kmtrace verify accepts the serial log" "$KMTRACE" verify "$LOG"

# ---- import ----
DB=$T/runs.db
q() { sqlite3 "$DB" "$1"; }
id=$("$KMEMLAB" import "$LOG" --meta "$BOOT_OUT/meta" --db "$DB" 2>"$T/imp.err")
if [ "$id" = 1 ] && grep -q "a serial log; the dump is on its lines" "$T/imp.err"; then
    ok "kmemlab import reads the serial log: run 1"
else not_ok "kmemlab import reads the serial log: run 1" "$(cat "$T/imp.err")"; fi
row=$(q "SELECT system || '|' || accel || '|' || ncpus FROM runs WHERE id = 1")
[ "$row" = "kmemlab|icount|2" ] && ok "run row: kmemlab, icount, 2 CPUs" || not_ok "run row: kmemlab, icount, 2 CPUs" "got '$row'"
# Every series the console reported is in the database with the same median.
n_series=0
while read -r series m n median; do
    IFS=/ read -r b v <<<"$series"
    got=$(q "SELECT n || ' ' || p50 FROM results WHERE run_id = 1 AND benchmark = '$b' AND variant = '$v' AND metric = '$m'")
    if [ "$got" = "$n $median" ]; then ok "$b/$v/$m: n=$n p50=$median as on the console"
    else not_ok "$b/$v/$m: n=$n p50=$median as on the console" "database: '$got'"; fi
    n_series=$((n_series + 1))
done < <(sed -n 's|^bench: \([a-z_]*/[a-z_0-9]* [a-z_]*\): n=\([0-9]*\) min=[0-9]* median=\([0-9]*\) .*|\1 \2 \3|p' "$LOG")
[ "$n_series" = 2 ] && ok "two series on the console, both checked" || not_ok "two series on the console, both checked" "saw $n_series"

# Without meta: QEMU's CPU says "hypervisor", so the mode is not called bare.
id=$("$KMEMLAB" import "$LOG" --db "$T/nometa.db" 2>"$T/imp.err")
if [ "$id" = 1 ] && [ -z "$(sqlite3 "$T/nometa.db" "SELECT accel FROM runs")" ] && grep -q "reports a hypervisor" "$T/imp.err"; then
    ok "without --meta a run under a hypervisor is not recorded as bare"
else not_ok "without --meta a run under a hypervisor is not recorded as bare" "id '$id'; $(cat "$T/imp.err")"; fi

# ---- damaged logs ----
sum=$(sha256sum <"$DB")
lines=$(wc -l <"$LOG")
first=$(grep -an '^KMD ' "$LOG" | sed -n '1s/:.*//p')
last=$(grep -an '^KMD ' "$LOG" | tail -n 1 | sed 's/:.*//')
mid=$(((first + last) / 2))
head -n "$mid" "$LOG" >"$T/cut.log"
sed "${mid}d" "$LOG" >"$T/lost.log"
# a different base64 character in the middle line (the letter after the offset)
awk -v n="$mid" 'NR == n { c = substr($0, 14, 1); $0 = substr($0, 1, 13) (c == "A" ? "B" : "A") substr($0, 15) } 1' "$LOG" >"$T/flip.log"
sed 's/^\(KMDUMP-END bytes=[0-9]* crc32=\)......../\100000000/' "$LOG" >"$T/crc.log"
cat "$LOG" "$LOG" >"$T/two.log"
grep -av '^KMD' "$LOG" >"$T/none.log"
bad() { # NAME FILE WORDS
    "$KMEMLAB" import "$2" --meta "$BOOT_OUT/meta" --db "$DB" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ $rc = 1 ] && [ ! -s "$T/out" ] && grep -qF -- "$3" "$T/err" && [ "$(sha256sum <"$DB")" = "$sum" ]; then
        ok "$1: rejected, database unchanged ($(sed 's/^kmemlab: import: //' "$T/err" | tail -1 | cut -c1-90))"
    else not_ok "$1: rejected, database unchanged" "exit $rc; stderr: $(tail -2 "$T/err")" "want: $3"; fi
}
bad "a log cut off in the dump" "$T/cut.log" "truncated dump: log line $mid: the log ends inside the dump"
bad "a log with a dump line lost" "$T/lost.log" "log line $mid: dump line for byte"
bad "a log with one character changed" "$T/flip.log" "payload CRC mismatch"
bad "a log whose end line has the wrong CRC" "$T/crc.log" "end line says 0x00000000"
bad "a log with two dumps" "$T/two.log" "a second dump"
bad "a log without a dump" "$T/none.log" "text without dump lines"
[ "$(q "SELECT count(*) FROM runs")" = 1 ] && ok "still one run in the database" || not_ok "still one run in the database"
note "the log: $lines lines, dump lines $first-$last"

# ---- usage ----
CMDLINE=timer_hz=0 scripts/run-qemu.sh --iso "$ISO" >/dev/null 2>"$T/err"
[ $? = 64 ] && grep -q "no effect with --iso" "$T/err" && ok "run-qemu.sh --iso with CMDLINE is a usage error" ||
    not_ok "run-qemu.sh --iso with CMDLINE is a usage error" "$(cat "$T/err")"
finish
