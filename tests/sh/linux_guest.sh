#!/usr/bin/env bash
# The Linux baseline inside a Linux guest under QEMU icount
# (scripts/linux_guest.sh): two runs give byte-identical samples files,
# both import as system=linux, accel=icount runs with the pinned CPU model
# and the same figures, one page fault per sample.  When the Debian kernel
# package cannot be fetched (no network, no package lists) the suite is
# skipped with the reason: it never passes without measuring.
. "$(dirname "$0")/lib.sh"

N=100
T=$(mktemp -d "${TMPDIR:-/tmp}/kmemlab-lguest.XXXXXX")
trap 'rm -rf "$T"' EXIT
DB=$T/runs.db
q() { sqlite3 "$DB" "$1"; }

run() { # NAME: one guest run into build/test-runs/linux-guest-NAME; sets RUN_RC
    local dir=build/test-runs/linux-guest-$1
    rm -rf "$dir"
    DB=$DB scripts/linux_guest.sh -n "$N" --warmup 20 -o "$dir" >"$T/$1.out" 2>"$T/$1.err"
    RUN_RC=$?
}
run a
if [ "$RUN_RC" = 3 ]; then
    echo "1..0 # SKIP no Linux kernel package: $(grep -m1 'linux_guest.sh:' "$T/a.err")"
    exit 0
fi
if [ "$RUN_RC" = 0 ]; then ok "linux_guest.sh boots Linux under icount, measures and imports (run 1)"; else
    not_ok "linux_guest.sh boots Linux under icount, measures and imports (run 1)" "exit $RUN_RC" "$(tail -5 "$T/a.err")"; finish; fi
run b
[ "$RUN_RC" = 0 ] && ok "a second run (run 2)" || not_ok "a second run (run 2)" "exit $RUN_RC" "$(tail -5 "$T/b.err")"
A=build/test-runs/linux-guest-a
B=build/test-runs/linux-guest-b
if cmp -s "$A/samples.txt" "$B/samples.txt"; then
    ok "the two samples files are byte-for-byte identical ($(wc -l <"$A/samples.txt") lines)"
else not_ok "the two samples files are byte-for-byte identical" "$(diff "$A/samples.txt" "$B/samples.txt" | head -4)"; fi
cmp -s "$A/initramfs.cpio" "$B/initramfs.cpio" && ok "the initramfs is reproducible" || not_ok "the initramfs is reproducible"
note "$(grep -a '^fault_linux: CPU' "$A/console.log" | tr -d '\r')"

pinned=$(sed -n 's/^PINNED_CPU=//p' scripts/run-qemu.sh)
row=$(q "SELECT system || '|' || accel || '|' || qemu_cpu || '|' || qemu_machine || '|' || ncpus FROM runs WHERE id = 1")
if [ "$row" = "linux|icount|$pinned|pc-i440fx-7.2|1" ]; then ok "runs row: linux, icount, the pinned CPU model and machine"
else not_ok "runs row: linux, icount, the pinned CPU model and machine" "got '$row'"; fi
krev=$(q "SELECT kernel_rev FROM runs WHERE id = 1")
[[ "$krev" == [0-9]*-amd64 ]] && ok "the guest's Linux release is recorded ($krev)" || not_ok "the guest's Linux release is recorded" "got '$krev'"
for v in pte_present new_pt new_pd; do
    r1=$(q "SELECT n || ' ' || p50 || ' ' || max FROM results WHERE run_id = 1 AND benchmark = 'linux_fault' AND variant = '$v' AND metric = 'fault'")
    r2=$(q "SELECT n || ' ' || p50 || ' ' || max FROM results WHERE run_id = 2 AND benchmark = 'linux_fault' AND variant = '$v' AND metric = 'fault'")
    pf=$(q "SELECT min || ' ' || max FROM results WHERE run_id = 1 AND benchmark = 'linux_fault' AND variant = '$v' AND metric = 'page_faults'")
    if [ -n "$r1" ] && [ "$r1" = "$r2" ] && [ "${r1%% *}" = "$N" ] && [ "$pf" = "1 1" ]; then
        ok "$v: n p50 max = $r1 guest instructions in both runs, one page fault per sample"
    else not_ok "$v: same figures in both runs, one fault per sample" "run 1 '$r1', run 2 '$r2', faults '$pf'"; fi
done

# A meta file that says another system is refused before the database is touched.
sum=$(sha256sum <"$DB")
sed 's/^system=linux$/system=kmemlab/' "$A/meta" >"$T/bad.meta"
"$KMEMLAB" import-linux "$A/samples.txt" --meta "$T/bad.meta" --db "$DB" >"$T/out" 2>"$T/err"
if [ $? = 1 ] && [ ! -s "$T/out" ] && grep -q "system=kmemlab" "$T/err" && [ "$(sha256sum <"$DB")" = "$sum" ]; then
    ok "import-linux --meta with system=kmemlab is rejected, database unchanged"
else not_ok "import-linux --meta with system=kmemlab is rejected, database unchanged" "$(cat "$T/err")"; fi
finish
