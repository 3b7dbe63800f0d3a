#!/usr/bin/env bash
# scripts/bench.sh: the body of `make bench` (which installs and builds
# first).  Boots the kernel with the benchmark programs, imports the run
# into the database, writes the report and charts, prints a summary.
#
# Usage: scripts/bench.sh [PROG.elf...]   (default: the Makefile's BENCH_PROGS)
# Environment: ACCEL (auto|icount|tcg|kvm, default auto), SMP (default 2),
#   CMDLINE (extra kernel options), DB (default results/runs.db),
#   TIMEOUT (seconds, default 120)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
KMEMLAB=build/host/kmemlab
DB=${DB:-results/runs.db}
export DB
case "${1:-}" in
-h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
esac
progs=("$@")
[ ${#progs[@]} -gt 0 ] || progs=(build/user/null_syscall.elf build/user/trace_overhead.elf)

step() { printf '[%s] %s\n' "$1" "$2"; }
t0=$(date +%s.%N)

step 1/4 "booting the kernel with ${SMP:-2} CPUs and ${#progs[@]} benchmark programs"
mkdir -p build/runs
OUT=$(mktemp -d "build/runs/bench-$(date -u +%Y%m%dT%H%M%SZ)-XXXX")
SMP=${SMP:-2} TIMEOUT=${TIMEOUT:-120} OUT=$OUT scripts/run-qemu.sh "${progs[@]}" >"$OUT/run.stdout"
rc=$?
if [ $rc != 0 ]; then
    echo "bench: the run failed (run-qemu.sh exit $rc); console: $OUT/console.log" >&2
    exit 1
fi
grep '^bench: ' "$OUT/console.log" | sed 's/^/    /'

step 2/4 "importing $OUT/dump.bin into $DB"
mkdir -p "$(dirname "$DB")"
id=$("$KMEMLAB" import "$OUT/dump.bin" --meta "$OUT/meta") || {
    echo "bench: import failed; the dump stays in $OUT" >&2
    exit 1
}
echo "    run $id"

step 3/4 "writing the report and charts"
"$KMEMLAB" report "$id" >/dev/null || { echo "bench: report failed" >&2; exit 1; }

step 4/4 "summary"
"$KMEMLAB" show "$id" --brief
printf '\nReport: %s\n' "results/$id/report.md"
printf "Wall time: %.1f s\n" "$(awk -v a="$t0" -v b="$(date +%s.%N)" "BEGIN{print b-a}")"
