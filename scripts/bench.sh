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
#   RESULTS (report directories RESULTS/<run id>, default results),
#   TIMEOUT (seconds, default 120), KPAGER_PROGS (space-separated programs
#   of the kmem=kpager run; empty: no second run),
#   PMU_EVENTS (perf-style event names, comma-separated, at most 4, e.g.
#   cycles,instructions: encoded with `kmemlab pmu-encode` before anything
#   boots, for LIBPFM_FORCE_PMU's core PMU (default skl, the CPU model of
#   icount and tcg runs; the host's own under ACCEL=kvm), and passed as the
#   kernel option pmu=...; an unknown name stops here with exit 2.  Where
#   the run's CPU has no PMU (QEMU TCG) the run records pmu = none and
#   this says so once)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
KMEMLAB=build/host/kmemlab
DB=${DB:-results/runs.db}
export DB
RESULTS=${RESULTS:-results}
case "${1:-}" in
-h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
esac
progs=("$@")
[ ${#progs[@]} -gt 0 ] || progs=(build/user/null_syscall.elf build/user/trace_overhead.elf)
read -r -a kprogs <<<"${KPAGER_PROGS:-}"

# PMU_EVENTS -> pmu=<raw>,...: names are checked before any boot.
pmu_opt=
if [ -n "${PMU_EVENTS:-}" ]; then
    pmu_force=${LIBPFM_FORCE_PMU-skl}
    [ "${ACCEL:-auto}" = kvm ] && pmu_force=${LIBPFM_FORCE_PMU-}
    if ! enc=$(if [ -n "$pmu_force" ]; then export LIBPFM_FORCE_PMU=$pmu_force; else unset LIBPFM_FORCE_PMU; fi
        "$KMEMLAB" pmu-encode "$PMU_EVENTS" 2>&1); then
        echo "bench: PMU_EVENTS='$PMU_EVENTS': ${enc#kmemlab: pmu-encode: }; nothing booted" >&2
        exit 2
    fi
    raws=$(awk '{ printf "%s%s", (NR > 1 ? "," : ""), $2 }' <<<"$enc")
    if [ "$(wc -l <<<"$enc")" -gt 4 ]; then
        echo "bench: PMU_EVENTS='$PMU_EVENTS': $(wc -l <<<"$enc") events, the kernel programs at most 4; nothing booted" >&2
        exit 2
    fi
    pmu_opt="pmu=$raws"
    echo "PMU events: $PMU_EVENTS = $pmu_opt (libpfm4 PMU ${pmu_force:-of this host})"
fi
pmu_none_said=0

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
    SMP=${SMP:-2} TIMEOUT=${TIMEOUT:-120} OUT=$out CMDLINE="kmem=$kmem${pmu_opt:+ $pmu_opt}${CMDLINE:+ $CMDLINE}" \
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
    "$KMEMLAB" report "$id" --out "$RESULTS/$id" --baseline "$baseline" >/dev/null ||
        { echo "bench: report of run $id failed" >&2; exit 1; }
    if [ -n "$pmu_opt" ]; then
        local pmu
        pmu=$("$KMEMLAB" show "$id" | sed -n 's/^  pmu  *//p')
        if [ "$pmu" = none ] && [ $pmu_none_said = 0 ]; then
            echo "    PMU_EVENTS: this CPU has no performance counters (pmu = none): nothing counted; reports leave the counter columns out"
            pmu_none_said=1
        elif [ "$pmu" != none ]; then
            echo "    pmu: $pmu"
        fi
    fi
    echo "    run $id: $RESULTS/$id/report.md"
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
printf 'Reports: %s\n' "$(for id in "${ids[@]}"; do printf '%s/%s/report.md ' "$RESULTS" "$id"; done)"
printf "Wall time: %.1f s\n" "$(awk -v a="$t0" -v b="$(date +%s.%N)" "BEGIN{print b-a}")"
