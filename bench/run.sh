#!/usr/bin/env bash
# `make bench`: every benchmark in turn, one report.
#
#   bench/run.sh            the full run (about 11 minutes on 2 cores)
#   SMOKE=1 bench/run.sh    a few seconds of each: checks that the harness
#                           works (servers start, the module counts what was
#                           sent, every report has its figures); the figures
#                           themselves mean nothing (`make test` runs this)
#
# The parts write bench/out/{hotpath,throughput,compare,status,memory}-last.md; this
# script joins them into bench/out/bench-last.md. BENCHMARKS.md at the root
# holds the figures worth keeping, with the command behind each.
# Environment: SMOKE, BUILD (passed on to every part), PARTS (which parts).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
OUT=${OUT:-$repo/bench/out}
export OUT
SMOKE=${SMOKE:-0}
PARTS=${PARTS:-hotpath throughput compare status memory store}
start=$SECONDS

run_part() {
    local part=$1
    shift
    echo "bench: $part" >&2
    env "$@" "$here/$part.sh" >/dev/null || {
        echo "bench: $part failed" >&2
        exit 1
    }
}

for part in $PARTS; do
    if [ "$SMOKE" = 1 ]; then
        case $part in
            hotpath) run_part hotpath CONFIGS="bare errwatch errwatch-500 errwatch-php" N=20 REPEAT=1 ;;
            throughput) run_part throughput ROUNDS=1 DURATION=1 WARMUP=0 ;;
            compare) run_part compare ROUNDS=1 DURATION=1 WARMUP=0 ;;
            status) run_part status FILES=64 RECENT=16 K=1 PAGES=3 ROUNDS=1 DURATION=1 FORMATS=metrics ;;
            memory) run_part memory REQUESTS=50 FAILS=20 LARGE_FILES=2048 LARGE_RECENT=512 ;;
            store) ;; # make bench-store; nothing to smoke-test beyond the unit tests
            *) echo "bench: unknown part $part" >&2 && exit 2 ;;
        esac
    else
        case $part in
            hotpath | throughput | compare | status | memory) run_part "$part" ;;
            store)
                echo "bench: store" >&2
                make -s -C "$repo" build/store_bench >&2
                {
                    echo "# store micro-benchmark (make bench-store)"
                    echo
                    echo '```'
                    "$repo/build/store_bench" 1024 256
                    "$repo/build/store_bench" 100000 256
                    echo '```'
                } >"$OUT/store-last.md"
                ;;
            *) echo "bench: unknown part $part" >&2 && exit 2 ;;
        esac
    fi
done

# Every report the parts wrote must hold a table with figures.
for part in $PARTS; do
    [ "$part" != store ] || [ "$SMOKE" = 0 ] || continue
    f=$OUT/$part-last.md
    [ -s "$f" ] || { echo "bench: $f is missing or empty" >&2 && exit 1; }
    grep -Eq '^\|.*[0-9]' "$f" || [ "$part" = store ] || { echo "bench: $f has no figures" >&2 && exit 1; }
    if grep -Eq '\| (-|nan) \|' "$f"; then
        echo "bench: $f has an empty cell" >&2
        exit 1
    fi
done
for part in $PARTS; do
    [ "$part" != store ] || [ "$SMOKE" = 0 ] || continue
    cat "$OUT/$part-last.md"
    echo
done >"$OUT/bench-last.md"
echo "bench: done in $((SECONDS - start)) s; report in $OUT/bench-last.md" >&2
