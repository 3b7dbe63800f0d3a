# shellcheck shell=bash
# tests/sh/lib.sh: TAP helpers for the shell suites (source it).
#   check NAME CMD...    runs CMD; ok if it exits 0
#   ok NAME / not_ok NAME [DETAIL...]
#   note TEXT            a TAP comment line
#   finish               prints the plan and exits 1 if anything failed
# Suites run from the repository root; QEMU runs go through
# scripts/run-qemu.sh with OUT under build/test-runs/.
TAP_N=0
TAP_FAILED=0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 2
KMTRACE=build/host/kmtrace
KMEMLAB=build/host/kmemlab

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1"; }
not_ok() {
    TAP_N=$((TAP_N + 1))
    TAP_FAILED=$((TAP_FAILED + 1))
    echo "not ok $TAP_N - $1"
    shift
    for l in "$@"; do echo "# $l"; done
}
note() { echo "# $*"; }
check() {
    local name=$1
    shift
    if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name" "command failed: $*"; fi
}
finish() {
    echo "1..$TAP_N"
    exit $((TAP_FAILED > 0))
}

# boot NAME [env...] -- PROG...: boots PROGs in QEMU (icount unless ACCEL
# is set), OUT in build/test-runs/NAME; sets BOOT_RC and BOOT_OUT.
boot() {
    local name=$1
    shift
    BOOT_OUT=$ROOT/build/test-runs/$name
    rm -rf "$BOOT_OUT"
    mkdir -p "$BOOT_OUT"
    OUT=$BOOT_OUT ACCEL=${ACCEL:-icount} TIMEOUT=${TIMEOUT:-60} \
        scripts/run-qemu.sh "$@" >"$BOOT_OUT/run.stdout" 2>"$BOOT_OUT/run.stderr"
    BOOT_RC=$?
}

# console_has TEXT: the last boot's console contains TEXT (fixed string).
console_has() { grep -qF -- "$1" "$BOOT_OUT/console.log"; }
