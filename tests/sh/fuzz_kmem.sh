#!/usr/bin/env bash
# tests/sh/fuzz_kmem.sh: brief, deterministic runs of the libFuzzer harnesses
# of the kpager path (tests/fuzz/fuzz_kmem.c; `make fuzz` runs it at length)
# and of the TCB import check (tests/fuzz/fuzz_tcb.c; `make fuzz-tcb`):
# fixed seed, fixed number of runs, a seed corpus made here from a fixed
# pseudo-random stream.  Any crash, sanitizer report or failed check fails.
# FUZZ_RUNS overrides the number of runs.
source "$(dirname "$0")/lib.sh"
BIN=build/fuzz/fuzz_kmem
RUNS=${FUZZ_RUNS:-1500}
OUT=build/test-runs/fuzz_kmem
rm -rf "$OUT"
mkdir -p "$OUT/corpus"

if [ ! -x "$BIN" ]; then
    not_ok "fuzz_kmem built" "$BIN missing: needs clang and libclang-rt (scripts/deps.sh), make fuzz-build"
    finish
fi
ok "fuzz_kmem built"

# 16 seeds of 64..319 bytes: the same bytes on every run
awk 'BEGIN { srand(7); for (f = 0; f < 16; f++) { n = 64 + int(rand() * 256); s = "";
      for (i = 0; i < n; i++) printf "%c", int(rand() * 256) > ("'"$OUT"'/corpus/seed" f) } }' </dev/null
LC_ALL=C "$BIN" -seed=1 -runs="$RUNS" -max_len=512 -print_final_stats=1 "$OUT/corpus" >"$OUT/log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/log")
if [ $rc -eq 0 ] && [ "${runs:-0}" -ge "$RUNS" ]; then
    ok "fuzz_kmem: $runs executions, no failure"
else
    not_ok "fuzz_kmem: $RUNS executions without a failure (exit $rc, $runs done)" \
        "$(grep -m5 -E 'fuzz_kmem:|PANIC|ERROR|runtime error|SUMMARY' "$OUT/log")" "log: $OUT/log"
fi
note "$(grep -m1 -E "^(#[0-9]+ +DONE|Done [0-9]+ runs)" "$OUT/log")"

# The TCB import check (tests/fuzz/fuzz_tcb.c): cheap, so more runs.
TBIN=build/fuzz/fuzz_tcb
TRUNS=${FUZZ_TCB_RUNS:-50000}
mkdir -p "$OUT/corpus-tcb"
if [ ! -x "$TBIN" ]; then
    not_ok "fuzz_tcb built" "$TBIN missing: make fuzz-build"
else
    awk 'BEGIN { srand(11); for (f = 0; f < 8; f++) { n = 1 + int(rand() * 200);
          for (i = 0; i < n; i++) printf "%c", int(rand() * 256) > ("'"$OUT"'/corpus-tcb/seed" f) } }' </dev/null
    LC_ALL=C "$TBIN" -seed=1 -runs="$TRUNS" -max_len=256 -print_final_stats=1 "$OUT/corpus-tcb" \
        >"$OUT/log-tcb" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/log-tcb")
    if [ $rc -eq 0 ] && [ "${runs:-0}" -ge "$TRUNS" ]; then
        ok "fuzz_tcb: $runs executions of the TCB import check, no failure"
    else
        not_ok "fuzz_tcb: $TRUNS executions without a failure (exit $rc, $runs done)" \
            "$(grep -m5 -E 'fuzz_tcb:|ERROR|runtime error|SUMMARY' "$OUT/log-tcb")" "log: $OUT/log-tcb"
    fi
fi
finish
