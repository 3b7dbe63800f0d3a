#!/usr/bin/env bash
# scripts/fault_profile.sh: the per-function profile of one fault adds up
# to the benchmark's own figure for that fault plus one (icount: a guest
# instruction is a TSC tick; the benchmark's two reads of the TSC do not
# count the fence after the write), both variants and the difference are
# printed, and bad usage is refused.
. "$(dirname "$0")/lib.sh"

T=$ROOT/build/test-runs/fault_profile
rm -rf "$T"
mkdir -p "$T"
BL=results/baseline/icount-kpager.txt

scripts/fault_profile.sh --out "$T" pool_2m kpager_2m >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" = 0 ]; then ok "fault_profile.sh pool_2m kpager_2m exits 0"; else
    not_ok "fault_profile.sh pool_2m kpager_2m exits 0" "exit $rc" "$(tail -n 3 "$T/err")"; fi
# The baseline's p50 of each variant (kmem=kpager boot): every sample of
# these variants is the same figure under icount, so fault 21 has it too.
for v in pool_2m kpager_2m; do
    want=$(awk -v v="$v" '$1 == "fault_complex" && $2 == v && $3 == "fault" {print $5}' "$BL")
    col=$([ "$v" = pool_2m ] && echo 2 || echo 3)
    got=$(awk -v c="$col" '$1 == "total" {print $c}' "$T/out")
    if [ -n "$want" ] && [ "$got" = "$((want + 1))" ]; then ok "$v: the profile's total ($got) is the baseline's p50 plus one"; else
        not_ok "$v: the profile's total is the baseline's p50 plus one" "profile: '$got', baseline: '$want'"; fi
done
if awk '$1 == "total" {exit !($4 == $2 - $3)}' "$T/out"; then ok "the difference column is the difference"; else
    not_ok "the difference column is the difference" "$(grep '^total' "$T/out")"; fi
if grep -qE '^kfault_raise +0 +[1-9]' "$T/out" && grep -qE '^trap_dispatch +[1-9]' "$T/out"; then
    ok "kernel functions are attributed (kfault_raise only in kpager_2m)"
else not_ok "kernel functions are attributed" "$(head -n 5 "$T/out")"; fi
if grep -qE '^kpager_serve +0 +[1-9]' "$T/out"; then ok "user functions are attributed (the kpager's)"; else
    not_ok "user functions are attributed (the kpager's)"; fi

scripts/fault_profile.sh bogus >/dev/null 2>"$T/bad.err"
rc=$?
if [ "$rc" = 64 ] && grep -q 'unknown variant bogus' "$T/bad.err"; then ok "an unknown variant: exit 64 with the reason"; else
    not_ok "an unknown variant: exit 64 with the reason" "exit $rc" "$(cat "$T/bad.err")"; fi
finish
