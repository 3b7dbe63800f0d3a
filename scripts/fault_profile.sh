#!/usr/bin/env bash
# fault_profile.sh: where the instructions of one user page fault go.
#
# Boots the kernel under QEMU (run mode icount) with fault_complex, stops
# gdb at the client's write in the chosen variant, single-steps the guest
# through the whole fault (kernel, pager, kpager: every CPU instruction
# until the write retires) and attributes each instruction to the function
# (kernel.elf or fault_complex.elf symbols) it belongs to.
#
# Usage: scripts/fault_profile.sh [options] VARIANT [AGAINST]
#   VARIANT   a fault_complex variant: pool_2m, kpager_2m, kpager_batched_2m,
#             pool_1g, kpager_1g, kpager_batched_1g
#   AGAINST   a second variant: the table shows both and the difference
# Options:
#   --skip N     faults of the variant to let pass first (default 20: the
#                warm-up is over, the sample is a typical one)
#   --seq        also print the call sequence (runs of one function)
#   --out DIR    keep the PC lists there (default: a temporary directory)
#   -h, --help   this text
# Environment: CMDLINE (default kmem=kpager), SMP (default 2).
#
# The count is exact: icount makes one guest instruction one TSC tick, so
# the total equals the benchmark's sample for that fault (plus 1: the
# fence after the write).  Needs gdb; takes a few seconds per 10,000
# instructions.  Exit status: 0, 1 a failed run, 64 bad usage.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ME=fault_profile.sh
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
die_usage() { echo "$ME: $*" >&2; echo "$ME: try --help" >&2; exit 64; }

skip=20 seq=0 out= variants=()
while [ $# -gt 0 ]; do
    case "$1" in
    --skip) [ $# -ge 2 ] || die_usage "--skip needs a number"; skip=$2; shift ;;
    --seq) seq=1 ;;
    --out) [ $# -ge 2 ] || die_usage "--out needs a directory"; out=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) die_usage "unknown option $1" ;;
    *) variants+=("$1") ;;
    esac
    shift
done
[ ${#variants[@]} -ge 1 ] && [ ${#variants[@]} -le 2 ] || die_usage "one or two variants"
[[ $skip =~ ^[0-9]+$ ]] || die_usage "--skip: not a number: $skip"
for v in "${variants[@]}"; do
    case "$v" in
    pool_2m | kpager_2m | kpager_batched_2m | pool_1g | kpager_1g | kpager_batched_1g) ;;
    *) die_usage "unknown variant $v" ;;
    esac
done
command -v gdb >/dev/null || { echo "$ME: gdb is missing (apt-get install gdb)" >&2; exit 1; }
KERNEL_ELF=$ROOT/build/kernel.elf
PROG=$ROOT/build/user/fault_complex.elf
for f in "$KERNEL_ELF" "$PROG"; do
    [ -f "$f" ] || { echo "$ME: $f is missing: run make all" >&2; exit 1; }
done
if [ -z "$out" ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

# One boot per variant: QEMU waits for gdb, gdb steps one fault, kills it.
profile() {
    local v=$1 port=$((20000 + RANDOM % 20000))
    echo "$ME: profiling $v (fault $((skip + 1)) of the variant)" >&2
    ACCEL=icount CMDLINE=${CMDLINE:-kmem=kpager} OUT=$out/run-$v GDB_PORT=$port \
        "$ROOT/scripts/run-qemu.sh" --gdb "$PROG" >"$out/qemu-$v.log" 2>&1 &
    local qpid=$!
    local ok=1
    for _ in $(seq 50); do
        ss -ltn 2>/dev/null | grep -q ":$port " && break
        sleep 0.1
    done
    timeout 600 gdb -batch -nx \
        -ex "file $KERNEL_ELF" -ex "add-symbol-file $PROG" \
        -ex "set \$fp_port = $port" -ex "set \$fp_variant = \"$v\"" -ex "set \$fp_skip = $skip" -ex "set \$fp_out = \"$out/$v.pcs\"" \
        -x "$ROOT/scripts/fault_profile.py" -ex kill >"$out/gdb-$v.log" 2>&1 || ok=0
    kill "$qpid" 2>/dev/null || true
    wait "$qpid" 2>/dev/null || true
    if [ $ok = 0 ] || [ ! -s "$out/$v.pcs" ]; then
        echo "$ME: profiling $v failed; gdb said:" >&2
        tail -5 "$out/gdb-$v.log" >&2
        exit 1
    fi
}
for v in "${variants[@]}"; do profile "$v"; done
args=("$KERNEL_ELF" "$PROG")
for v in "${variants[@]}"; do args+=("$v=$out/$v.pcs"); done
[ $seq = 1 ] && args=(--seq "${args[@]}")
python3 "$ROOT/scripts/fault_profile_table.py" "${args[@]}"
