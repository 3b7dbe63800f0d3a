#!/usr/bin/env bash
# scripts/regress.sh: the body of `make regress` and `make baseline` (which
# build first).  Boots the benchmark suite in icount mode (as make bench
# does: scripts/run-qemu.sh, then kmemlab import, into a database of its
# own), then compares the run with the committed baseline:
#   kmemlab regress 1 --baseline results/baseline/icount.txt
# which prints a Markdown table of deltas and a verdict line.  The table is
# also written to OUT/regress.md; the run stays in OUT (run.stdout, dump,
# console.log, runs.db).
#
# Usage: scripts/regress.sh [--update] [--threshold PCT] [PROG.elf...]
#   --update         rewrite the baseline from this run instead of comparing
#                    (make baseline; on purpose only, then commit the file)
#   --threshold PCT  relative threshold on p50 (default 1, kmemlab's default)
#   PROG.elf...      default: the benchmark programs of user/user.mk
#                    (USER_BENCH_NAMES, in that order)
# Environment: CMDLINE (extra kernel options, passed to run-qemu.sh),
#   BASELINE (default results/baseline/icount.txt), SMP (default 2),
#   TIMEOUT (seconds, default 120), OUT (default a fresh build/runs/regress-*)
# Exit status: 0 no regression (or baseline written), 1 regression or
#   missing metric, 2 no comparison possible (the run failed, bad or missing
#   baseline, different run mode, usage)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
ME=regress.sh
KMEMLAB=build/host/kmemlab
BASELINE=${BASELINE:-results/baseline/icount.txt}

update=0
threshold=
progs=()
while [ $# -gt 0 ]; do
    case "$1" in
    --update) update=1 ;;
    --threshold)
        [ $# -ge 2 ] || { echo "$ME: --threshold needs a value" >&2; exit 2; }
        threshold=$2
        shift
        ;;
    -h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    -*) echo "$ME: unknown option '$1' (try --help)" >&2; exit 2 ;;
    *) progs+=("$1") ;;
    esac
    shift
done
if [ ${#progs[@]} -eq 0 ]; then
    read -r -a names <<<"$(sed -n 's/^USER_BENCH_NAMES := //p' user/user.mk)"
    [ ${#names[@]} -gt 0 ] || { echo "$ME: no USER_BENCH_NAMES in user/user.mk" >&2; exit 2; }
    for n in "${names[@]}"; do progs+=("build/user/$n.elf"); done
fi
[ -x "$KMEMLAB" ] || { echo "$ME: no $KMEMLAB (make host)" >&2; exit 2; }
if [ "$update" = 0 ] && [ ! -f "$BASELINE" ]; then
    echo "$ME: no baseline $BASELINE (make baseline writes it)" >&2
    exit 2
fi

mkdir -p build/runs
OUT=${OUT:-$(mktemp -d "build/runs/regress-$(date -u +%Y%m%dT%H%M%SZ)-XXXX")}
mkdir -p "$OUT" || exit 2
DB=$OUT/runs.db
rm -f "$DB"

echo "$ME: icount run of ${#progs[@]} programs${CMDLINE:+ with CMDLINE=\"$CMDLINE\"} into $OUT" >&2
ACCEL=icount SMP=${SMP:-2} TIMEOUT=${TIMEOUT:-120} CMDLINE=${CMDLINE:-} OUT=$OUT \
    scripts/run-qemu.sh "${progs[@]}" >"$OUT/run.stdout"
rc=$?
if [ $rc != 0 ]; then
    echo "$ME: the run failed (run-qemu.sh exit $rc); console: $OUT/console.log" >&2
    exit 2
fi
id=$("$KMEMLAB" import "$OUT/dump.bin" --meta "$OUT/meta" --db "$DB") || {
    echo "$ME: import failed; the dump stays in $OUT" >&2
    exit 2
}

if [ "$update" = 1 ]; then
    [ -z "${CMDLINE:-}" ] || echo "$ME: warning: the baseline is made with kernel options '$CMDLINE'" >&2
    grep -q '^git_dirty=1' "$OUT/meta" &&
        echo "$ME: warning: the checkout has uncommitted changes; the baseline records a -dirty revision" >&2
    mkdir -p "$(dirname "$BASELINE")"
    "$KMEMLAB" baseline "$id" --db "$DB" >"$BASELINE.tmp" || { rm -f "$BASELINE.tmp"; exit 2; }
    mv "$BASELINE.tmp" "$BASELINE" || exit 2
    echo "$ME: wrote $BASELINE ($(grep -c '^[^#]' "$BASELINE") metrics, $(sed -n 's/^# git_rev: //p' "$BASELINE"))" >&2
    exit 0
fi

"$KMEMLAB" regress "$id" --db "$DB" --baseline "$BASELINE" ${threshold:+--threshold "$threshold"} \
    --markdown "$OUT/regress.md"
