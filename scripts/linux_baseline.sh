#!/usr/bin/env bash
# scripts/linux_baseline.sh: the Linux baseline end to end on this host.
# Builds build/host/fault_linux and kmemlab if needed, measures first-write
# page faults in three shapes (pte_present, new_pt, new_pd; see
# bench/linux/fault_linux.c), imports the samples file as a run with
# system=linux, accel=host, and prints its results table.
#
# Usage: scripts/linux_baseline.sh [-n SAMPLES] [--cpu N] [--events LIST|none] [-o FILE]
#   -n SAMPLES     measured faults per shape (default 2000)
#   --cpu N        CPU to pin to (default: the one fault_linux starts on)
#   --events LIST  hardware events per fault through perf_event_open
#                  (default cycles,instructions; recorded as pmu=none when
#                  the host cannot count them)
#   -o FILE        the samples file (default results/linux/fault_linux-<UTC time>.txt)
# Environment: DB (default results/runs.db).
# Exit status: 0 ok, 1 a step failed, 2 usage error.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
KMEMLAB=build/host/kmemlab
FAULT_LINUX=build/host/fault_linux
DB=${DB:-results/runs.db}
export DB

args=()
file=
while [ $# -gt 0 ]; do
    case "$1" in
    -h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    -n | --samples | --cpu | --events)
        [ $# -ge 2 ] || { echo "linux_baseline.sh: $1 needs a value" >&2; exit 2; }
        args+=("$1" "$2"); shift ;;
    -o | --out)
        [ $# -ge 2 ] || { echo "linux_baseline.sh: $1 needs a value" >&2; exit 2; }
        file=$2; shift ;;
    *) echo "linux_baseline.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done

step() { printf '[%s] %s\n' "$1" "$2"; }

step 1/3 "building fault_linux and kmemlab"
make --no-print-directory "$FAULT_LINUX" "$KMEMLAB" >/dev/null || { echo "linux_baseline.sh: build failed" >&2; exit 1; }

if [ -z "$file" ]; then
    mkdir -p results/linux
    file=results/linux/fault_linux-$(date -u +%Y%m%dT%H%M%SZ).txt
fi
step 2/3 "measuring on $(uname -n) (Linux $(uname -r)) -> $file"
rev=$(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
"$FAULT_LINUX" "${args[@]}" --git-rev "$rev" -o "$file" 2>&1 | sed 's/^/    /'
[ "${PIPESTATUS[0]}" = 0 ] || { echo "linux_baseline.sh: fault_linux failed" >&2; exit 1; }

step 3/3 "importing into $DB"
mkdir -p "$(dirname "$DB")"
id=$("$KMEMLAB" import-linux "$file") || { echo "linux_baseline.sh: import failed; the file stays in $file" >&2; exit 1; }
echo "    run $id"
echo
"$KMEMLAB" show "$id" --brief
