#!/usr/bin/env bash
# Throughput with and without mod_errwatch, measured with wrk against normal
# multi-process servers (event MPM, 2 processes x 32 threads), interleaved A/B.
#
#   bench/throughput.sh                 ROUNDS=15, DURATION=2 (seconds per wrk run)
#   ROUNDS=30 DURATION=3 bench/throughput.sh
#
# Workloads (each its own server, all started up front, then measured in
# turns so that the machine's load drifts over every arm alike; the order
# alternates A,B / B,A from round to round; short runs and many rounds keep
# the two runs of a pair close in time, which matters more than long runs
# when other jobs share the CPUs):
#   200: GET /1k.html, keep-alive
#     absent   no module, with conf/errwatch.conf's <Location "/errwatch">
#              (the same location walk as "loaded": the module's own cost)
#     loaded   mod_errwatch + conf/errwatch.conf
#   500: GET /fail, the test module's handler logs an error and returns 500
#        (httpd closes the connection after each 500, so wrk reconnects)
#     absent-500 / loaded-500   the same pair
# Each round's ratio is loaded / absent of that round; the report gives the
# median ratio and its spread (min .. max) over the rounds, and the load
# average seen. Wall-clock figures on a shared machine are noisy: read the
# spread before the median. The report also gives the server's CPU time per
# request (user + system of its children, from /proc, over each wrk run):
# other jobs on the machine move it much less than they move requests/s.
#
# Environment: ROUNDS (15), DURATION (2), CONNECTIONS (16), THREADS (2),
# WARMUP (1: one 1-second wrk run per arm first), WORKLOADS ("200 500", or
# one of them: a long run of the 500 storm alone pairs its arms closer in
# time and tightens its median), plus
# bench/lib.sh's (BUILD, KEEP, OUT, ...).
BENCH_NAME=throughput
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-15}
DURATION=${DURATION:-2}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-1}
positive_int ROUNDS "$ROUNDS"
positive_int DURATION "$DURATION"
positive_int CONNECTIONS "$CONNECTIONS"
positive_int THREADS "$THREADS"
WORKLOADS=${WORKLOADS:-200 500}
case " $WORKLOADS " in
    " 200 500 " | " 500 200 " | " 200 " | " 500 ") ;;
    *) die "WORKLOADS must be \"200 500\", \"200\" or \"500\", not '$WORKLOADS'" ;;
esac
has_workload() { case " $WORKLOADS " in *" $1 "*) return 0 ;; esac; return 1; }

need_commands wrk:wrk curl:curl
build_module
make_docroot

arms=""
has_workload 200 && arms="absent loaded"
has_workload 500 && arms="$arms absent-500 loaded-500"
declare -A port dir
for a in $arms; do
    port[$a]=$(free_port)
    dir[$a]=$tmp/$a
    mkdir "${dir[$a]}"
    {
        base_conf "${dir[$a]}" "${port[$a]}" multi
        case $a in
            absent | absent-500) location_block ;;
            loaded | loaded-500)
                echo "LoadModule errwatch_module $module"
                echo "Include $errwatch_conf"
                ;;
        esac
        case $a in *-500) fail_block ;; esac
    } >"${dir[$a]}/httpd.conf"
    start_server "${dir[$a]}"
    wait_ready "${port[$a]}" "$SERVER_PID"
done

url_of() {
    case $1 in
        *-500) echo "http://127.0.0.1:${port[$1]}/fail" ;;
        *) echo "http://127.0.0.1:${port[$1]}/1k.html" ;;
    esac
}

# cpu_ticks DIR: user + system clock ticks of the server's children so far.
cpu_ticks() {
    local parent k t=0 rest
    parent=$(cat "$1/httpd.pid")
    for k in $(ps -o pid= --ppid "$parent"); do
        # Fields 14 and 15 of /proc/PID/stat, after the ")" that ends the name.
        rest=$(sed 's/^.*) //' "/proc/$k/stat" 2>/dev/null) || continue
        set -- $rest
        t=$((t + ${12} + ${13}))
    done
    echo "$t"
}

# run_wrk ARM ROUND: requests per second of one wrk run; appends the CPU
# microseconds per request to $tmp/cpu-ARM.
run_wrk() {
    local a=$1 r=$2 f=$tmp/wrk-$1-$2.txt t0 t1
    t0=$(cpu_ticks "${dir[$a]}")
    wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" "$(url_of "$a")" >"$f" 2>&1 ||
        die "wrk failed for $a (see $f)"
    t1=$(cpu_ticks "${dir[$a]}")
    local n
    n=$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$f")
    [ -n "$n" ] && [ "$n" -gt 0 ] || die "no request count in $f"
    awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN { printf "%.2f\n", d * 1e6 / hz / n }' >>"$tmp/cpu-$a"
    local rps errs
    rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$f")
    [ -n "$rps" ] || die "no Requests/sec in $f"
    # A 200 workload must see no error at all; the 500 one nothing but 500s
    # (wrk counts those as non-2xx and may see a few reconnects as errors).
    errs=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$f")
    case $a in
        *-500) [ -n "$errs" ] || die "$a: wrk saw no 500 responses (see $f)" ;;
        *)
            [ -z "$errs" ] || die "$a: $errs non-2xx responses (see $f)"
            ;;
    esac
    # Timeouts on an overloaded machine are reported, not fatal.
    if grep -q 'Socket errors' "$f"; then
        echo "$a round $r: $(grep 'Socket errors' "$f" | sed 's/^ *//')" >>"$tmp/socket-errors"
        note "$a: $(grep 'Socket errors' "$f" | sed 's/^ *//')"
    fi
    echo "$rps"
}

# Warm-up: one short run per arm (children spawn threads, caches fill).
for a in $arms; do
    [ "$WARMUP" = 1 ] || break
    wrk -t "$THREADS" -c "$CONNECTIONS" -d 1s "$(url_of "$a")" >/dev/null 2>&1 || die "warm-up wrk failed for $a"
done

note "ROUNDS=$ROUNDS DURATION=${DURATION}s c=$CONNECTIONS t=$THREADS; $(uptime)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$SECONDS
: >"$tmp/ratio-200" && : >"$tmp/ratio-500"
for r in $(seq 1 "$ROUNDS"); do
    # The order reverses every other round.
    if [ $((r % 2)) -eq 1 ]; then order=$arms; else order=$(echo "$arms" | tr ' ' '\n' | tac | tr '\n' ' '); fi
    declare -A rps=()
    for a in $order; do
        rps[$a]=$(run_wrk "$a" "$r")
        echo "$a ${rps[$a]}" >>"$tmp/rps-$r"
    done
    if has_workload 200; then
        awk -v b="${rps[loaded]}" -v a="${rps[absent]}" 'BEGIN { printf "%.4f\n", b / a }' >>"$tmp/ratio-200"
    fi
    if has_workload 500; then
        awk -v b="${rps[loaded-500]}" -v a="${rps[absent-500]}" 'BEGIN { printf "%.4f\n", b / a }' >>"$tmp/ratio-500"
    fi
    note "round $r: $(for a in $arms; do printf '%s %s ' "$a" "${rps[$a]}"; done)req/s; load $(cut -d' ' -f1 /proc/loadavg)"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# The module must have counted the loaded arms' traffic.
c5=none
if has_workload 200; then
    c2=$(auto_value "http://127.0.0.1:${port[loaded]}/errwatch?auto" "Errors5xx")
    [ "${c2:-x}" = 0 ] || die "loaded: Errors5xx is '$c2', expected 0"
fi
if has_workload 500; then
    c5=$(auto_value "http://127.0.0.1:${port[loaded-500]}/errwatch?auto" "Errors5xx")
    case ${c5:-x} in '' | *[!0-9]* | 0) die "loaded-500: Errors5xx is '$c5', expected the 500s sent" ;; esac
fi
stop_server "${dir[@]}"
for a in $arms; do
    check_error_log "${dir[$a]}"
done

median_rps() { # ARM
    for r in $(seq 1 "$ROUNDS"); do awk -v a="$1" '$1 == a { print $2 }' "$tmp/rps-$r"; done >"$tmp/col"
    stats "$tmp/col" | awk '{ printf "%.0f (%.0f .. %.0f)", $1, $2, $3 }'
}
ratio_cell() { # FILE
    stats "$1" | awk '{ printf "%.3f (%.3f .. %.3f)", $1, $2, $3 }'
}

report() {
    echo "# mod_errwatch throughput: wrk, module absent vs loaded"
    echo
    machine_lines
    echo "- event MPM, 2 processes x 32 threads; wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $ROUNDS interleaved rounds"
    echo "- load average before: $load_before; after: $load_after (1, 5, 15 min)"
    echo "- the loaded-500 server counted $c5 5xx"
    if [ -s "$tmp/socket-errors" ]; then
        echo "- wrk reported socket errors: $(paste -sd ';' "$tmp/socket-errors")"
    fi
    echo
    echo "| workload | absent req/s, median (min .. max) | loaded req/s | ratio loaded/absent, median (min .. max) |"
    echo "|---|---:|---:|---:|"
    if has_workload 200; then
        echo "| GET /1k.html → 200 | $(median_rps absent) | $(median_rps loaded) | $(ratio_cell "$tmp/ratio-200") |"
    fi
    if has_workload 500; then
        echo "| GET /fail → 500 (test handler) | $(median_rps absent-500) | $(median_rps loaded-500) | $(ratio_cell "$tmp/ratio-500") |"
    fi
    echo
    echo "Server CPU time per request (children's user + system time over each wrk run / requests), µs, median (min .. max):"
    echo
    echo "| workload | absent | loaded | ratio of medians loaded/absent |"
    echo "|---|---:|---:|---:|"
    local w a b
    for w in $WORKLOADS; do
        if [ "$w" = 200 ]; then a=absent b=loaded; else a=absent-500 b=loaded-500; fi
        read -r ma _ _ _ < <(stats "$tmp/cpu-$a")
        read -r mb _ _ _ < <(stats "$tmp/cpu-$b")
        echo "| $([ "$w" = 200 ] && echo 'GET /1k.html → 200' || echo 'GET /fail → 500') | $(stats "$tmp/cpu-$a" | awk '{ printf "%s (%s .. %s)", $1, $2, $3 }') | $(stats "$tmp/cpu-$b" | awk '{ printf "%s (%s .. %s)", $1, $2, $3 }') | $(awk -v x="$mb" -v y="$ma" 'BEGIN { printf "%.3f", x / y }') |"
    done
    echo
    echo "\"absent\" has conf/errwatch.conf's <Location> without the module, so only the module differs."
}
mkdir -p "$OUT"
report | tee "$OUT/throughput-last.md"
note "done in $((SECONDS - start)) s; report also in $OUT/throughput-last.md"
