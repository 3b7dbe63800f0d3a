#!/usr/bin/env bash
# scripts/bench.sh: the body of `make bench` (which installs and builds
# first).  Boots the kernel with the benchmark programs (kernel memory from
# the kernel's pool, kmem=pool), then once more with the KPAGER_PROGS and
# kmem=kpager (kernel memory from user-level kpagers, the same kernel
# binary); imports both runs into the database, writes their reports and
# charts, prints a summary.
#
# Usage: scripts/bench.sh [PROG.elf...]   (default: the Makefile's BENCH_PROGS)
# Environment: ACCEL (auto|icount|tcg|kvm, default auto), SMP (default 2),
#   CMDLINE (extra kernel options, both runs), DB (default results/runs.db),
#   TIMEOUT (seconds, default 120), KPAGER_PROGS (space-separated programs
#   of the kmem=kpager run; empty: no second run)
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
read -r -a kprogs <<<"${KPAGER_PROGS:-}"

step() { printf '[%s] %s\n' "$1" "$2"; }
t0=$(date +%s.%N)
ids=()

# run_one STEP KMEM PROG...: boots, imports, reports; appends the run id to ids.
run_one() {
    local n=$1 kmem=$2
    shift 2
    step "$n/4" "booting the kernel (kmem=$kmem) with ${SMP:-2} CPUs and $# benchmark programs"
    mkdir -p build/runs
    local out
    out=$(mktemp -d "build/runs/bench-$(date -u +%Y%m%dT%H%M%SZ)-XXXX")
    SMP=${SMP:-2} TIMEOUT=${TIMEOUT:-120} OUT=$out CMDLINE="kmem=$kmem${CMDLINE:+ $CMDLINE}" \
        scripts/run-qemu.sh "$@" >"$out/run.stdout"
    local rc=$?
    if [ $rc != 0 ]; then
        echo "bench: the run failed (run-qemu.sh exit $rc); console: $out/console.log" >&2
        exit 1
    fi
    grep '^bench: ' "$out/console.log" | sed 's/^/    /'
    step "$n/4" "importing $out/dump.bin into $DB, writing the report and charts"
    mkdir -p "$(dirname "$DB")"
    local id
    id=$("$KMEMLAB" import "$out/dump.bin" --meta "$out/meta") || {
        echo "bench: import failed; the dump stays in $out" >&2
        exit 1
    }
    local baseline=results/baseline/icount.txt
    [ "$kmem" = pool ] || baseline=results/baseline/icount-$kmem.txt
    [ -f "$baseline" ] || baseline=none
    "$KMEMLAB" report "$id" --baseline "$baseline" >/dev/null ||
        { echo "bench: report of run $id failed" >&2; exit 1; }
    echo "    run $id: results/$id/report.md"
    ids+=("$id")
}

run_one 1 pool "${progs[@]}"
if [ ${#kprogs[@]} -gt 0 ]; then
    run_one 2 kpager "${kprogs[@]}"
else
    step 2/4 "no KPAGER_PROGS: no kmem=kpager run"
fi
step 3/4 "BENCHMARKS.md tables from the database"
"$KMEMLAB" benchmarks-md --help >/dev/null 2>&1 && echo "    kmemlab benchmarks-md --update BENCHMARKS.md writes them"
step 4/4 "summary"
for id in "${ids[@]}"; do
    "$KMEMLAB" show "$id" --brief
    echo
done
printf 'Reports: %s\n' "$(printf 'results/%s/report.md ' "${ids[@]}")"
printf "Wall time: %.1f s\n" "$(awk -v a="$t0" -v b="$(date +%s.%N)" "BEGIN{print b-a}")"
