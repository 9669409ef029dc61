#!/bin/sh
# Runs one fuzz target for a bounded time: t/fuzz/run.sh TARGET SECONDS MAX_LEN
# Seeds come from t/fuzz/corpus/TARGET (read only); inputs that find new
# coverage go to build/fuzz/corpus/TARGET, a crash or broken invariant to
# build/fuzz/artifacts/TARGET-*. Exits non-zero on any of them; replay with
#   build/fuzz/fuzz_TARGET build/fuzz/artifacts/TARGET-crash-...
set -eu
target=$1 seconds=$2 max_len=$3
bin=build/fuzz/fuzz_$target
log=build/fuzz/$target.log
mkdir -p "build/fuzz/corpus/$target" build/fuzz/artifacts
set -- -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="build/fuzz/artifacts/$target-"
[ -f "t/fuzz/$target.dict" ] && set -- "$@" -dict="t/fuzz/$target.dict"
if ! "$bin" "$@" "build/fuzz/corpus/$target" "t/fuzz/corpus/$target" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz $target: FAILED (full log: $log)"
    exit 1
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
echo "fuzz $target: ${seconds} s, $runs runs, $cov, no failure"
