#!/usr/bin/env bash
# Side by side (issue 11): what it costs to learn WHICH FILE fails, under a
# load where every request is a 5xx from a script file.
#
#   bench/compare.sh                     ROUNDS=5, DURATION=5 (seconds per wrk run)
#   ROUNDS=3 DURATION=3 bench/compare.sh
#
# Four servers (event MPM, 2 processes x 32 threads, bench/lib.sh's config),
# all serving GET /fail from the test module's handler (t/modules:
# errwatch-test-500 logs an error and returns 500), so that every set-up
# serves the identical failure; r->filename is $docroot/fail:
#   baseline   no module, no access log: what the failing request costs alone
#   errwatch   mod_errwatch + conf/errwatch.conf; its ?metrics page scraped
#              once a second (as Prometheus would). Names the file: checked
#              at the end in ?json's files[].
#   status     mod_status, ExtendedStatus On, <Location /server-status>, and
#              Debian's prometheus-apache-exporter reading ?auto, its /metrics
#              scraped once a second. Names the file: no (status counts only);
#              checked at the end: the path is on neither page.
#   mtail      CustomLog with LogFormat "%>s %f", tailed by Debian's mtail with
#              a program counting 5xx by file; its /metrics scraped once a
#              second. Names the file: checked at the end on mtail's /metrics.
# The scrape loops run all the time (each set-up's own), as in production.
#
# CPU per request = (user + system ticks of the server's children over the
# wrk run, from /proc, + those of the side process: exporter or mtail) /
# requests wrk completed. The scrape loops' curl is not counted (Prometheus's
# side, the same for every set-up). Set-ups are measured in turns, ROUNDS
# times, the order reversed every other round; the report gives medians, and
# the median of each round's ratio to that round's baseline.
#
# Environment: ROUNDS (5), DURATION (5), CONNECTIONS (16), THREADS (2),
# WARMUP (1), SCRAPE_INTERVAL (1 s), plus bench/lib.sh's (BUILD, KEEP, OUT, ...).
BENCH_NAME=compare
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-1}
SCRAPE_INTERVAL=${SCRAPE_INTERVAL:-1}
positive_int ROUNDS "$ROUNDS"
positive_int DURATION "$DURATION"
positive_int CONNECTIONS "$CONNECTIONS"
positive_int THREADS "$THREADS"
positive_int SCRAPE_INTERVAL "$SCRAPE_INTERVAL"

EXPORTER=${EXPORTER:-/usr/bin/prometheus-apache-exporter}
MTAIL=${MTAIL:-/usr/bin/mtail}

need_commands wrk:wrk curl:curl prometheus-apache-exporter:prometheus-apache-exporter mtail:mtail
[ -x "$EXPORTER" ] || die "$EXPORTER not found"
[ -x "$MTAIL" ] || die "$MTAIL not found"
build_module
make_docroot
failing_file=$tmp/htdocs/fail

arms="baseline errwatch status mtail"
declare -A port dir side_pid
for a in $arms; do
    port[$a]=$(free_port)
    dir[$a]=$tmp/$a
    mkdir "${dir[$a]}"
    {
        base_conf "${dir[$a]}" "${port[$a]}" multi
        fail_block
        case $a in
            errwatch)
                echo "LoadModule errwatch_module $module"
                echo "Include $errwatch_conf"
                ;;
            status)
                echo "LoadModule status_module $MODDIR/mod_status.so"
                echo "ExtendedStatus On"
                printf '<Location "/server-status">\n    SetHandler server-status\n    Require local\n</Location>\n'
                ;;
            mtail)
                # mod_log_config is built into Debian's apache2.
                echo 'LogFormat "%>s %f" errfile'
                echo "CustomLog \"${dir[$a]}/access.log\" errfile"
                ;;
        esac
    } >"${dir[$a]}/httpd.conf"
    start_server "${dir[$a]}"
    wait_ready "${port[$a]}" "$SERVER_PID"
    side_pid[$a]=""
done

# scrape_loop URL: fetches URL every SCRAPE_INTERVAL seconds in the
# background, as Prometheus would.
scrape_loop() {
    (
        trap 'exit 0' TERM
        while :; do
            curl -s -o /dev/null --max-time 5 "$1" || true
            sleep "$SCRAPE_INTERVAL" &
            wait $!
        done
    ) &
    bench_pids+=("$!")
}

# wait_http URL PID WHAT: until URL answers 200 (or PID dies).
wait_http() {
    local deadline=$((SECONDS + 30))
    until curl -sf -o /dev/null --max-time 5 "$1"; do
        kill -0 "$2" 2>/dev/null || die "$3 exited before it was ready (see its log in $tmp)"
        [ "$SECONDS" -lt "$deadline" ] || die "$3 not ready after 30 s"
        sleep 0.1
    done
}

# The exporter, reading mod_status's ?auto page.
exporter_port=$(free_port)
"${as_user[@]}" "$EXPORTER" --scrape_uri="http://127.0.0.1:${port[status]}/server-status?auto" \
    --telemetry.address="127.0.0.1:$exporter_port" >"$tmp/exporter.log" 2>&1 &
side_pid[status]=$!
bench_pids+=("$!")
wait_http "http://127.0.0.1:$exporter_port/metrics" "${side_pid[status]}" prometheus-apache-exporter

# mtail, tailing the "%>s %f" access log.
mkdir "$tmp/mtail-progs"
cat >"$tmp/mtail-progs/apache_5xx.mtail" <<'EOF'
# One line per request: "%>s %f" (status, then the file that served it).
counter apache_5xx_by_file by file

/^5\d\d (?P<file>.+)$/ {
  apache_5xx_by_file[$file]++
}
EOF
chmod -R a+rX "$tmp/mtail-progs"
[ -f "${dir[mtail]}/access.log" ] || die "the mtail server has no access log yet"
chmod a+r "${dir[mtail]}/access.log"
mtail_port=$(free_port)
"${as_user[@]}" "$MTAIL" --progs "$tmp/mtail-progs" --logs "${dir[mtail]}/access.log" \
    --address 127.0.0.1 --port "$mtail_port" --one_shot=false --logtostderr >"$tmp/mtail.log" 2>&1 &
side_pid[mtail]=$!
bench_pids+=("$!")
wait_http "http://127.0.0.1:$mtail_port/metrics" "${side_pid[mtail]}" mtail

scrape_loop "http://127.0.0.1:${port[errwatch]}/errwatch?metrics"
scrape_loop "http://127.0.0.1:$exporter_port/metrics"
scrape_loop "http://127.0.0.1:$mtail_port/metrics"

# proc_ticks PID: user + system clock ticks of one process (all its threads).
proc_ticks() {
    local rest
    # Fields 14 and 15 of /proc/PID/stat, after the ")" that ends the name.
    rest=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || {
        echo 0
        return
    }
    # shellcheck disable=SC2086 # word splitting wanted
    set -- $rest
    echo $((${12} + ${13}))
}

# server_ticks DIR: user + system clock ticks of the server's children so far.
server_ticks() {
    local parent k t=0
    parent=$(cat "$1/httpd.pid")
    for k in $(ps -o pid= --ppid "$parent"); do
        t=$((t + $(proc_ticks "$k")))
    done
    echo "$t"
}

# side_ticks ARM: the side process's ticks (0 when the set-up has none).
side_ticks() {
    if [ -n "${side_pid[$1]}" ]; then
        kill -0 "${side_pid[$1]}" 2>/dev/null || die "$1: the side process ${side_pid[$1]} has died"
        proc_ticks "${side_pid[$1]}"
    else
        echo 0
    fi
}

hz=$(getconf CLK_TCK)

# run_wrk ARM ROUND: one wrk run; appends requests/s to $tmp/rps-ARM and the
# CPU microseconds per request (server, side, total) to $tmp/{srv,side,cpu}-ARM.
run_wrk() {
    local a=$1 r=$2 f=$tmp/wrk-$1-$2.txt s0 s1 p0 p1 n rps errs
    s0=$(server_ticks "${dir[$a]}")
    p0=$(side_ticks "$a")
    wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" "http://127.0.0.1:${port[$a]}/fail" >"$f" 2>&1 ||
        die "wrk failed for $a (see $f)"
    s1=$(server_ticks "${dir[$a]}")
    p1=$(side_ticks "$a")
    n=$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$f")
    if [ -z "$n" ] || [ "$n" -eq 0 ]; then die "no request count in $f"; fi
    rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$f")
    [ -n "$rps" ] || die "no Requests/sec in $f"
    errs=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$f")
    [ -n "$errs" ] || die "$a: wrk saw no 500 responses (see $f)"
    if grep -q 'Socket errors' "$f"; then
        echo "$a round $r: $(grep 'Socket errors' "$f" | sed 's/^ *//')" >>"$tmp/socket-errors"
    fi
    echo "$rps" >>"$tmp/rps-$a"
    awk -v d=$((s1 - s0)) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.2f\n", d * 1e6 / hz / n }' >>"$tmp/srv-$a"
    awk -v d=$((p1 - p0)) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.2f\n", d * 1e6 / hz / n }' >>"$tmp/side-$a"
    awk -v d=$((s1 - s0 + p1 - p0)) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.2f\n", d * 1e6 / hz / n }' >>"$tmp/cpu-$a"
    echo "$rps"
}

for a in $arms; do
    [ "$WARMUP" = 1 ] || break
    wrk -t "$THREADS" -c "$CONNECTIONS" -d 1s "http://127.0.0.1:${port[$a]}/fail" >/dev/null 2>&1 ||
        die "warm-up wrk failed for $a"
done

note "ROUNDS=$ROUNDS DURATION=${DURATION}s c=$CONNECTIONS t=$THREADS; $(uptime)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$SECONDS
for a in $arms; do
    : >"$tmp/rps-$a"
    : >"$tmp/srv-$a"
    : >"$tmp/side-$a"
    : >"$tmp/cpu-$a"
    : >"$tmp/ratio-$a"
done
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then order="baseline errwatch status mtail"; else order="mtail status errwatch baseline"; fi
    line=""
    for a in $order; do
        line="$line $a $(run_wrk "$a" "$r")"
    done
    # This round's ratios to the baseline: the runs of a round are close in
    # time, so other jobs' load drifts over them alike.
    for a in $arms; do
        awk -v x="$(tail -n 1 "$tmp/cpu-$a")" -v y="$(tail -n 1 "$tmp/cpu-baseline")" \
            'BEGIN { printf "%.4f\n", x / y }' >>"$tmp/ratio-$a"
    done
    note "round $r:$line req/s; load $(cut -d' ' -f1 /proc/loadavg)"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Let the tailers and the exporter catch up, then ask each set-up for the file.
sleep 2
declare -A names
json=$(curl -s --max-time 30 "http://127.0.0.1:${port[errwatch]}/errwatch?json")
files=$(printf '%s\n' "$json" | sed -n '/^"files":\[/,/^\]/p')
if printf '%s\n' "$files" | grep -Fq "\"file\":\"$failing_file\""; then
    names[errwatch]=yes
    errwatch_count=$(printf '%s\n' "$files" | grep -F "\"file\":\"$failing_file\"" |
        sed -n 's/.*"count":\([0-9]*\).*/\1/p' | head -n 1)
else
    die "errwatch: $failing_file is not in ?json's files[]"
fi

exporter_metrics=$(curl -s --max-time 30 "http://127.0.0.1:$exporter_port/metrics")
printf '%s\n' "$exporter_metrics" | grep -Eq '^apache_up 1$' || die "status: the exporter reports apache_up != 1"
status_auto=$(curl -s --max-time 30 "http://127.0.0.1:${port[status]}/server-status?auto")
if printf '%s\n%s\n' "$exporter_metrics" "$status_auto" | grep -Fq "$failing_file"; then
    die "status: the exporter or ?auto names $failing_file (expected it not to)"
fi
names[status]=no
status_accesses=$(printf '%s\n' "$exporter_metrics" | awk '$1 == "apache_accesses_total" { printf "%.0f", $2 }')

mtail_metrics=$(curl -s --max-time 30 "http://127.0.0.1:$mtail_port/metrics")
mtail_count=$(printf '%s\n' "$mtail_metrics" | grep -F "apache_5xx_by_file{" | grep -F "file=\"$failing_file\"" |
    awk '{ printf "%.0f", $NF }' | head -n 1)
case ${mtail_count:-x} in
    '' | *[!0-9]* | 0) die "mtail: no apache_5xx_by_file counter for $failing_file on its /metrics" ;;
esac
names[mtail]=yes
names[baseline]="no (nothing to ask)"
mtail_lines=$(wc -l <"${dir[mtail]}/access.log")

stop_server "${dir[@]}"
for a in $arms; do
    check_error_log "${dir[$a]}"
done

cell() { # FILE: median (min .. max)
    stats "$1" | awk '{ printf "%.1f (%.1f .. %.1f)", $1, $2, $3 }'
}
median() { # FILE
    stats "$1" | awk '{ print $1 }'
}

label() {
    case $1 in
        baseline) echo "baseline: no module, no log" ;;
        errwatch) echo "mod_errwatch (+ ?metrics scraped 1/s)" ;;
        status) echo "mod_status ExtendedStatus + apache_exporter (scraped 1/s)" ;;
        mtail) echo "access log \"%>s %f\" + mtail (scraped 1/s)" ;;
    esac
}

report() {
    local a
    echo "# Side by side: what else would name the failing file (bench/compare.sh)"
    echo
    machine_lines
    echo "- $("$EXPORTER" --version 2>&1 | head -n 1); $("$MTAIL" --version 2>&1 | head -n 1)"
    echo "- every request GET /fail → 500 (test handler, t/modules); event MPM, 2 processes x 32 threads; wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $ROUNDS interleaved rounds"
    echo "- load average before: $load_before; after: $load_after (1, 5, 15 min)"
    echo "- at the end: mod_errwatch counted ${errwatch_count:-?} failures of $failing_file; mtail counted $mtail_count ($mtail_lines log lines); the exporter saw ${status_accesses:-?} accesses and no file"
    if [ -s "$tmp/socket-errors" ]; then
        echo "- wrk reported socket errors: $(paste -sd ';' "$tmp/socket-errors")"
    fi
    echo
    echo "CPU µs per request, median (min .. max) over the rounds; total = server's children + side process:"
    echo
    echo "| set-up | total CPU µs/request | ratio to baseline per round, median (min .. max) | server µs/request | side process µs/request | req/s | names the failing file |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    for a in $arms; do
        echo "| $(label "$a") | $(cell "$tmp/cpu-$a") | $(stats "$tmp/ratio-$a" | awk '{ printf "%.2f (%.2f .. %.2f)", $1, $2, $3 }') | $(median "$tmp/srv-$a") | $(median "$tmp/side-$a") | $(stats "$tmp/rps-$a" | awk '{ printf "%.0f (%.0f .. %.0f)", $1, $2, $3 }') | ${names[$a]} |"
    done
    echo
    echo "\"names the failing file\" is checked, not assumed: ?json's files[] holds $failing_file; mtail's apache_5xx_by_file{file=...} counts it; neither mod_status's ?auto nor the exporter's /metrics contains it."
}
mkdir -p "$OUT"
report | tee "$OUT/compare-last.md"
note "done in $((SECONDS - start)) s; report also in $OUT/compare-last.md"
