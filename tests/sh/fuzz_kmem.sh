#!/usr/bin/env bash
# tests/sh/fuzz_kmem.sh: brief, deterministic runs of the libFuzzer harnesses
# of the kpager path (tests/fuzz/fuzz_kmem.c; `make fuzz` runs it at length)
# and of the TCB and node-table import checks (tests/fuzz/fuzz_tcb.c,
# fuzz_nodetable.c; `make fuzz-tcb`, `make fuzz-nodetable`):
# fixed seed, fixed number of runs, a seed corpus made here from a fixed
# pseudo-random stream, plus the inputs in tests/fuzz/seeds that once found
# a bug.  Any crash, sanitizer report or failed check fails.
# FUZZ_RUNS, FUZZ_TCB_RUNS and FUZZ_NT_RUNS override the numbers of runs.
source "$(dirname "$0")/lib.sh"
OUT=build/test-runs/fuzz_kmem
rm -rf "$OUT"

# fuzz NAME RUNS MAX_LEN SEEDS MIN_SEED SPAN AWK_SEED: NAME's harness run
# RUNS times on SEEDS seed files of MIN_SEED..MIN_SEED+SPAN-1 bytes.
fuzz() {
    local name=$1 runs=$2 max_len=$3 nseeds=$4 min=$5 span=$6 seed=$7
    local bin=build/fuzz/$name dir=$OUT/corpus-$name log=$OUT/log-$name
    if [ ! -x "$bin" ]; then
        not_ok "$name built" "$bin missing: needs clang and libclang-rt (scripts/deps.sh), make fuzz-build"
        return
    fi
    ok "$name built"
    mkdir -p "$dir"
    awk -v n="$nseeds" -v min="$min" -v span="$span" -v s="$seed" -v dir="$dir" 'BEGIN { srand(s);
          for (f = 0; f < n; f++) { len = min + int(rand() * span);
            for (i = 0; i < len; i++) printf "%c", int(rand() * 256) > (dir "/seed" f) } }' </dev/null
    # inputs that once found a bug (tests/fuzz/seeds/NAME-*, NAME without fuzz_)
    cp tests/fuzz/seeds/"${name#fuzz_}"-* "$dir"/ 2>/dev/null
    LC_ALL=C "$bin" -seed=1 -runs="$runs" -max_len="$max_len" -print_final_stats=1 "$dir" >"$log" 2>&1
    local rc=$? done
    done=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    if [ $rc -eq 0 ] && [ "${done:-0}" -ge "$runs" ]; then
        ok "$name: $done executions, no failure"
    else
        not_ok "$name: $runs executions without a failure (exit $rc, $done done)" \
            "$(grep -m5 -E "$name:|PANIC|ERROR|runtime error|SUMMARY" "$log")" "log: $log"
    fi
    note "$(grep -m1 -E "^(#[0-9]+ +DONE|Done [0-9]+ runs)" "$log")"
}

fuzz fuzz_kmem "${FUZZ_RUNS:-500}" 512 16 64 256 7 # deep: each run a world (prelude) and up to 96 checked steps
fuzz fuzz_tcb "${FUZZ_TCB_RUNS:-50000}" 256 8 1 200 11 # cheap: more runs
fuzz fuzz_nodetable "${FUZZ_NT_RUNS:-20000}" 1024 8 3 300 13
finish
