#!/usr/bin/env bash
# scripts/regress_linux.sh: the Linux guest baseline (scripts/linux_guest.sh:
# Linux's page faults under QEMU icount, guest instructions, deterministic)
# against its committed baseline results/baseline/icount-linux.txt, like
# scripts/regress.sh does for our kernel.
#
# The figures depend on the exact guest kernel, which Debian's archive
# updates: the baseline records the kernel image's SHA-256, and a run of
# another image is not compared (it says so and passes; `--update` records
# the new one).  When the package cannot be fetched (no network), the check
# is skipped with the reason.
#
# Usage: scripts/regress_linux.sh [--update]
# Exit status: 0 pass (or skipped, said on stdout), 1 a regression, 2 the
# run or the comparison failed.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
ME=regress_linux.sh
KMEMLAB=build/host/kmemlab
BASELINE=${BASELINE:-results/baseline/icount-linux.txt}
update=0
case "${1:-}" in
--update) update=1 ;;
-h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
"") ;;
*) echo "$ME: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
OUT=$(mktemp -d "build/runs/regress-linux-$(date -u +%Y%m%dT%H%M%SZ)-XXXX") || exit 2
scripts/linux_guest.sh -o "$OUT/run" --no-import >"$OUT/guest.out" 2>"$OUT/guest.err"
rc=$?
if [ $rc = 3 ]; then
    echo "$ME: skipped: the guest kernel package cannot be fetched: $(tail -n 1 "$OUT/guest.err")"
    exit 0
elif [ $rc != 0 ]; then
    echo "$ME: the Linux guest run failed (exit $rc): $(tail -n 2 "$OUT/guest.err")" >&2
    exit 2
fi
sha=$(sed -n 's/^kernel_sha256=//p' "$OUT/run/meta")
image=$(basename "$(sed -n 's/^kernel=//p' "$OUT/run/meta")")
DB=$OUT/runs.db
id=$("$KMEMLAB" import-linux "$OUT/run/samples.txt" --meta "$OUT/run/meta" --db "$DB") || exit 2
if [ "$update" = 1 ]; then
    {
        "$KMEMLAB" baseline "$id" --db "$DB" || exit 2
    } >"$BASELINE.tmp" && {
        # where the figures come from: compared only against the same image
        sed -i "1a # guest_kernel: $image\n# guest_kernel_sha256: $sha" "$BASELINE.tmp"
    } && mv "$BASELINE.tmp" "$BASELINE" || { rm -f "$BASELINE.tmp"; exit 2; }
    echo "$ME: wrote $BASELINE ($image)"
    exit 0
fi
[ -f "$BASELINE" ] || { echo "$ME: no baseline $BASELINE (make baseline writes it)" >&2; exit 2; }
want=$(sed -n 's/^# guest_kernel_sha256: //p' "$BASELINE")
if [ "$want" != "$sha" ]; then
    echo "$ME: skipped: the guest kernel is $image ($sha), the baseline's is another" \
        "($(sed -n 's/^# guest_kernel: //p' "$BASELINE")): make baseline records this one"
    exit 0
fi
"$KMEMLAB" regress "$id" --baseline "$BASELINE" --db "$DB"
