#!/usr/bin/env bash
# tests/run.sh: the harness behind `make test`.  Runs every suite (host unit
# tests, host tool tests, QEMU boot and pipeline tests), two at a time,
# counts their TAP lines ("ok ..." / "not ok ..."), and ends with the line
#   N passed, N failed
# Exit status 0 only when nothing failed.  A suite that exits non-zero
# without reporting a failing check counts as one failure itself.
#
# Usage: tests/run.sh [-j N] [-v] [NAME...]
#   NAME   run only suites whose name contains NAME (e.g. boot, unit/test_trace)
#   -j N   suites run in parallel (default: number of CPUs)
#   -v     print every suite's full output, not only its failures
# Logs: build/test-logs/<suite>.log
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
LOGS=build/test-logs
jobs=$(nproc 2>/dev/null || echo 2)
verbose=0
filters=()
while [ $# -gt 0 ]; do
    case "$1" in
    -j) jobs=$2; shift ;;
    -v) verbose=1 ;;
    -h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    -*) echo "tests/run.sh: unknown option '$1'" >&2; exit 2 ;;
    *) filters+=("$1") ;;
    esac
    shift
done

# Suites, slowest first so the parallel run finishes sooner.
suites=()
for t in tests/sh/*.sh; do [ "$(basename "$t")" = lib.sh ] || suites+=("$t"); done
for t in build/unit/test_* build/host/tests/test_*; do
    [ -x "$t" ] && [ "${t##*.}" != d ] && [ "${t##*.}" != o ] && suites+=("$t")
done

selected=()
for s in "${suites[@]}"; do
    if [ ${#filters[@]} -eq 0 ]; then selected+=("$s"); continue; fi
    for f in "${filters[@]}"; do [[ "$s" == *"$f"* ]] && { selected+=("$s"); break; }; done
done
if [ ${#selected[@]} -eq 0 ]; then
    echo "tests/run.sh: no suite matches: ${filters[*]}" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

rm -rf "$LOGS"
mkdir -p "$LOGS"
logname() { echo "$1" | sed 's|^build/||; s|^tests/||; s|/|_|g'; }

run_one() { # suite -> writes LOGS/<name>.log and LOGS/<name>.rc
    local s=$1 name start rc
    name=$(logname "$s")
    start=$(date +%s.%N)
    CMOCKA_MESSAGE_OUTPUT=TAP "./$s" >"$LOGS/$name.log" 2>&1
    rc=$?
    echo "$rc $(awk -v a="$start" -v b="$(date +%s.%N)" "BEGIN{print b-a}")" >"$LOGS/$name.rc"
    printf '  %-40s done (%.1f s)\n' "$s" "$(cut -d' ' -f2 "$LOGS/$name.rc")"
}
export -f run_one logname
export LOGS

echo "Running ${#selected[@]} suites, $jobs at a time (logs in $LOGS/)"
printf '%s\n' "${selected[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}

passed=0
failed=0
echo
for s in "${selected[@]}"; do
    name=$(logname "$s")
    log="$LOGS/$name.log"
    rc=$(cut -d' ' -f1 "$LOGS/$name.rc" 2>/dev/null || echo 127)
    p=$(grep -cE '^ok( |$)' "$log")
    f=$(grep -cE '^not ok( |$)' "$log")
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1
        echo "not ok - $s exited with status $rc" >>"$log"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    status=PASS
    [ "$f" -gt 0 ] && status=FAIL
    # A suite that could not run says why ("1..0 # SKIP reason"): show it.
    skip=$(sed -n 's/^1\.\.0 # SKIP //p' "$log" | head -n 1)
    [ "$f" = 0 ] && [ "$p" = 0 ] && [ -n "$skip" ] && status=SKIP
    printf '%-4s %-44s %4d passed, %d failed\n' "$status" "$s" "$p" "$f"
    [ "$status" = SKIP ] && echo "     | skipped: $skip"
    if [ "$verbose" = 1 ]; then
        sed 's/^/     | /' "$log"
    elif [ "$f" -gt 0 ]; then
        # The failing checks with the comment lines around them.
        grep -E -B2 -A8 '^not ok' "$log" | head -60 | sed 's/^/     | /'
    fi
done
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
