#!/usr/bin/env bash
# import_speed.sh: how fast `kmemlab import` stores a large trace.
#
# Synthesises a dump of N events (kmtrace synth), imports it into a fresh
# temporary database several times and prints the wall-clock rate of the
# whole command (read + verify + one-transaction insert + indexes + commit):
#   import: 1000000 events, 32.3 MB dump: best 0.571 s = 1751313 events/s ...
# With --callgrind, also runs one import under valgrind's callgrind and
# prints its instruction count (Ir), a figure that does not depend on the
# machine's load.
#
# Usage: scripts/import_speed.sh [--events N] [--cpus N] [--runs N] [--callgrind] [--check]
#   --events N   events in the dump (default 1000000)
#   --cpus N     CPUs they are spread over (default 4)
#   --runs N     timed imports; the best and the median are reported (default 3)
#   --callgrind  also count instructions with valgrind --tool=callgrind
#   --check      exit 1 when the best rate is below 1000000 events/s
# Run from the repository root after `make host`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KMTRACE=${KMTRACE:-$ROOT/build/host/kmtrace}
KMEMLAB=${KMEMLAB:-$ROOT/build/host/kmemlab}
TARGET=1000000
events=1000000 cpus=4 runs=3 callgrind=0 check=0
while [ $# -gt 0 ]; do
    case "$1" in
    --events) events=$2; shift ;;
    --cpus) cpus=$2; shift ;;
    --runs) runs=$2; shift ;;
    --callgrind) callgrind=1 ;;
    --check) check=1 ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "import_speed.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
for tool in "$KMTRACE" "$KMEMLAB"; do
    [ -x "$tool" ] || { echo "import_speed.sh: $tool missing: run make host" >&2; exit 2; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/kmemlab-speed.XXXXXX")
trap 'rm -rf "$T"' EXIT
"$KMTRACE" synth --cpus "$cpus" --events "$events" --samples 10000 --seed 1 "$T/big.dump"
bytes=$(stat -c %s "$T/big.dump")

times=()
for ((i = 1; i <= runs; i++)); do
    rm -f "$T/runs.db"
    start=$(date +%s.%N)
    "$KMEMLAB" import "$T/big.dump" --db "$T/runs.db" >/dev/null 2>"$T/import.err" ||
        { cat "$T/import.err" >&2; exit 1; }
    end=$(date +%s.%N)
    times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')")
done
got=$(sqlite3 "$T/runs.db" "SELECT count(*) FROM events")
[ "$got" = "$events" ] || { echo "import_speed.sh: imported $got events, expected $events" >&2; exit 1; }

sorted=$(printf '%s\n' "${times[@]}" | sort -n)
best=$(echo "$sorted" | head -1)
median=$(echo "$sorted" | sed -n "$(((runs + 1) / 2))p")
rate() { awk -v n="$events" -v t="$1" 'BEGIN { printf "%.0f", n / t }'; }
printf 'import: %d events, %.1f MB dump, %d runs (%s s): best %s s = %s events/s, median %s s = %s events/s (target >= %d)\n' \
    "$events" "$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')" "$runs" "${times[*]}" \
    "$best" "$(rate "$best")" "$median" "$(rate "$median")" "$TARGET"

if [ $callgrind = 1 ]; then
    rm -f "$T/runs.db"
    valgrind --tool=callgrind --callgrind-out-file="$T/callgrind.out" \
        "$KMEMLAB" import "$T/big.dump" --db "$T/runs.db" >/dev/null 2>"$T/valgrind.err" ||
        { tail -5 "$T/valgrind.err" >&2; exit 1; }
    ir=$(sed -n 's/^summary: *//p' "$T/callgrind.out")
    printf 'callgrind: %s instructions (Ir) for the import = %s per event\n' "$ir" \
        "$(awk -v i="$ir" -v n="$events" 'BEGIN { printf "%.0f", i / n }')"
    echo "callgrind: top functions by instructions:"
    callgrind_annotate "$T/callgrind.out" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | head -8 | sed 's/^/  /'
fi

if [ $check = 1 ] && [ "$(rate "$best")" -lt $TARGET ]; then
    echo "import_speed.sh: below the target of $TARGET events/s" >&2
    exit 1
fi
