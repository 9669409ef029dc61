#!/usr/bin/env bash
# The status page with the store full: the file table (ErrWatchFiles, 1024)
# and the recent-failures ring (ErrWatchRecent, 256) are filled by FILL
# failing requests with long, distinct names (~230-byte URIs). Then:
#   1. instructions per page for ?json, ?metrics and HTML: callgrind on
#      apache2 -X, (Ir(3K pages) - Ir(K pages)) / 2K after the same fill;
#   2. latency of each page on a normal multi-process server (event MPM):
#      PAGES fetches each over one keep-alive connection, median and p99
#      of curl's time_total;
#   3. p50/p99 latency of normal traffic (wrk --latency, GET /1k.html) with
#      nothing else running, while a client fetches the three pages once a
#      second, and while one fetches them back to back (json, metrics, html
#      in turn), interleaved for ROUNDS rounds each.
#
#   bench/status.sh                  K=10 PAGES=50 ROUNDS=3 DURATION=5
#
# Environment: K, PAGES, ROUNDS, DURATION, FILL (1100), FILES (store size,
# 1024), RECENT (256), STATUS_PARTS ("callgrind latency scrape"), FORMATS ("json
# metrics html"), plus bench/lib.sh's.
BENCH_NAME=status
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

K=${K:-10}
PAGES=${PAGES:-50}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
FILES=${FILES:-1024}
RECENT=${RECENT:-256}
FILL=${FILL:-$((FILES + 76))}
STATUS_PARTS=${STATUS_PARTS:-callgrind latency scrape}
for v in K PAGES ROUNDS DURATION FILES RECENT FILL; do positive_int "$v" "${!v}"; done

need_commands valgrind:valgrind wrk:wrk curl:curl
build_module
make_docroot

# 200 characters of name, then a distinct number: 1024 different files.
long=$(printf 'a-rather-long-script-name-%.0s' 1 2 3 4 5 6 7)x
# Real files, so that each failure is attributed to its own script.
mkdir "$tmp/htdocs/fail"
(cd "$tmp/htdocs/fail" && seq -f "$long-%05g.php" 1 "$FILL" | xargs touch)
chmod -R a+rX "$tmp/htdocs"
formats=${FORMATS:-json metrics html}
query_of() {
    case $1 in
        html) echo "" ;;
        *) echo "?$1" ;;
    esac
}

conf_for() { # DIR PORT MPM
    base_conf "$1" "$2" "$3"
    echo "LoadModule errwatch_module $module"
    echo "ErrWatchFiles $FILES"
    echo "ErrWatchRecent $RECENT"
    echo "Include $errwatch_conf"
    fail_block
}

# fill PORT: FILL failing requests with distinct long names, then checks that
# the file table and the ring are full.
fill() {
    local port=$1
    printf 'url = "http://127.0.0.1:%s/fail/%s-%05d.php"\noutput = "/dev/null"\n' \
        $(for i in $(seq 1 "$FILL"); do echo "$port $long $i"; done) >"$tmp/fill.curl"
    curl -s -K "$tmp/fill.curl" --max-time 600 || true
    local auto files recent
    auto=$(curl -s --max-time 60 "http://127.0.0.1:$port/errwatch?json")
    files=$(printf '%s' "$auto" | jq '.files | length' 2>/dev/null || echo '?')
    recent=$(printf '%s' "$auto" | jq '.recent | length' 2>/dev/null || echo '?')
    [ "$files" = "$FILES" ] && [ "$recent" = "$RECENT" ] ||
        die "after $FILL failures: $files files, $recent recent (expected $FILES and $RECENT)"
}

# pages_conf PORT QUERY COUNT: a curl config that fetches the page COUNT times.
pages_conf() {
    for _ in $(seq 1 "$3"); do printf 'url = "http://127.0.0.1:%s/errwatch%s"\noutput = "/dev/null"\n' "$1" "$2"; done
}

start=$SECONDS
mkdir -p "$OUT"
declare -A ir_per size_of lat_med lat_p99

# ---- 1. instructions per page ---------------------------------------------------
if [[ " $STATUS_PARTS " == *" callgrind "* ]]; then
    for fmt in $formats; do
        declare -A ir=()
        for count in "$K" $((3 * K)); do
            d=$tmp/cg-$fmt-$count
            mkdir "$d"
            p=$(free_port)
            conf_for "$d" "$p" single >"$d/httpd.conf"
            chown -R "$BENCH_USER" "$d"
            "${as_user[@]}" valgrind --tool=callgrind --callgrind-out-file="$d/callgrind.out" \
                --log-file="$d/valgrind.log" "$APACHE2" -X -f "$d/httpd.conf" </dev/null >"$d/stdout.log" 2>&1 &
            vg=$!
            bench_pids+=("$vg")
            wait_ready "$p" "$vg"
            fill "$p"
            pages_conf "$p" "$(query_of "$fmt")" "$count" >"$d/pages.curl"
            curl -s -K "$d/pages.curl" --max-time 600 -w '%{http_code}\n' >"$d/codes"
            [ "$(grep -c '^200$' "$d/codes")" = "$count" ] || die "$fmt: not every page was a 200 (see $d/codes)"
            kill -TERM "$vg"
            wait "$vg" || die "callgrind server for $fmt exited with an error (see $d/valgrind.log)"
            ir[$count]=$(awk '$1 == "totals:" { print $2 }' "$d/callgrind.out")
            [ -n "${ir[$count]}" ] || die "no totals in $d/callgrind.out"
        done
        ir_per[$fmt]=$(awk -v a="${ir[$K]}" -v b="${ir[$((3 * K))]}" -v k="$K" 'BEGIN { printf "%.0f", (b - a) / (2 * k) }')
        note "$fmt: ${ir_per[$fmt]} instructions per page"
    done
fi

# ---- 2 and 3: a normal server ----------------------------------------------------
if [[ " $STATUS_PARTS " == *" latency "* || " $STATUS_PARTS " == *" scrape "* ]]; then
    d=$tmp/live
    mkdir "$d"
    p=$(free_port)
    conf_for "$d" "$p" multi >"$d/httpd.conf"
    start_server "$d"
    wait_ready "$p" "$SERVER_PID"
    fill "$p"
fi

if [[ " $STATUS_PARTS " == *" latency "* ]]; then
    for fmt in $formats; do
        pages_conf "$p" "$(query_of "$fmt")" "$PAGES" >"$tmp/lat.curl"
        curl -s -K "$tmp/lat.curl" -w '%{http_code} %{time_total} %{size_download}\n' \
            --max-time 600 >"$tmp/lat-$fmt"
        [ "$(awk '$1 == 200' "$tmp/lat-$fmt" | wc -l)" = "$PAGES" ] || die "$fmt: not every page was a 200"
        awk '{ print $2 * 1000 }' "$tmp/lat-$fmt" >"$tmp/lat-$fmt.ms"
        read -r med _ _ p99 < <(stats "$tmp/lat-$fmt.ms")
        lat_med[$fmt]=$med
        lat_p99[$fmt]=$p99
        size_of[$fmt]=$(awk 'NR == 1 { print $3 }' "$tmp/lat-$fmt")
        note "$fmt: ${size_of[$fmt]} bytes, median ${med} ms, p99 ${p99} ms"
    done
fi

# wrk_ms VALUE: wrk's "1.23ms" / "850.00us" / "1.01s" in milliseconds.
wrk_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000
        printf "%.3f\n", n
    }'
}

if [[ " $STATUS_PARTS " == *" scrape "* ]]; then
    : >"$tmp/scrape.curl"
    awk -v p="$p" 'BEGIN { for (i = 0; i < 20000; i++) {
        printf "url = \"http://127.0.0.1:%s/errwatch?json\"\noutput = \"/dev/null\"\n", p
        printf "url = \"http://127.0.0.1:%s/errwatch?metrics\"\noutput = \"/dev/null\"\n", p
        printf "url = \"http://127.0.0.1:%s/errwatch\"\noutput = \"/dev/null\"\n", p
    } }' >"$tmp/scrape.curl"
    head -n 6 "$tmp/scrape.curl" >"$tmp/scrape-once.curl"
    wrk -t1 -c4 -d1s "http://127.0.0.1:$p/1k.html" >/dev/null 2>&1 # warm-up
    for r in $(seq 1 "$ROUNDS"); do
        for mode in quiet scraped paced; do
            f=$tmp/wrk-$mode-$r.txt
            scraper=
            if [ "$mode" = scraped ]; then
                curl -s -K "$tmp/scrape.curl" --max-time $((DURATION + 30)) \
                    -w '%{stderr}%{http_code}\n' 2>"$tmp/scrape-$r.codes" &
                scraper=$!
                bench_pids+=("$scraper")
                codes=$tmp/scrape-$r.codes
            elif [ "$mode" = paced ]; then
                # A monitoring system's pace, made heavy: the three pages
                # every second (sleep sets the pace; nothing waits on it).
                (for _ in $(seq 1 $((DURATION + 30))); do
                    curl -s -K "$tmp/scrape-once.curl" --max-time 30 -w '%{stderr}%{http_code}\n'
                    sleep 1
                done) 2>"$tmp/paced-$r.codes" &
                scraper=$!
                bench_pids+=("$scraper")
                codes=$tmp/paced-$r.codes
            fi
            if [ -n "$scraper" ]; then
                # wrk starts once the scraper has its first page (on a busy
                # machine that can take longer than a smoke run's DURATION).
                deadline=$((SECONDS + 30))
                until [ -s "$codes" ] || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.05; done
            fi
            wrk -t1 -c4 -d "${DURATION}s" --latency "http://127.0.0.1:$p/1k.html" >"$f" 2>&1 ||
                die "wrk failed (see $f)"
            if [ -n "$scraper" ]; then
                kill -TERM "$scraper" 2>/dev/null || true
                wait "$scraper" 2>/dev/null || true
                if [ "$mode" = scraped ]; then
                    n=$(grep -c '^200$' "$tmp/scrape-$r.codes" || true)
                    [ "$n" -gt 0 ] || die "the scraper got no page"
                    echo "$n" >>"$tmp/scrape-pages"
                else
                    n=$(grep -c '^200$' "$tmp/paced-$r.codes" || true)
                    [ "$n" -gt 0 ] || die "the paced scraper got no page"
                fi
            fi
            ! grep -q -e 'Non-2xx' -e 'Socket errors' "$f" || die "wrk saw errors (see $f)"
            for q in 50 99; do
                wrk_ms "$(awk -v q="$q%" '$1 == q { print $2 }' "$f")" >>"$tmp/$mode-p$q"
            done
            awk '$1 == "Requests/sec:" { print $2 }' "$f" >>"$tmp/$mode-rps"
        done
        note "round $r: p99 quiet $(tail -n 1 "$tmp/quiet-p99") ms, scraped $(tail -n 1 "$tmp/scraped-p99") ms, paced $(tail -n 1 "$tmp/paced-p99") ms"
    done
fi

if [ -n "${d:-}" ] && [ -f "$tmp/live/httpd.pid" ]; then
    stop_server "$tmp/live"
    check_error_log "$tmp/live"
fi

cell() { # FILE: median (min .. max)
    stats "$1" | awk '{ printf "%s (%s .. %s)", $1, $2, $3 }'
}

report() {
    echo "# mod_errwatch status page with the store full"
    echo
    machine_lines
    echo "- store: ErrWatchFiles $FILES, ErrWatchRecent $RECENT, filled by $FILL failures with ~230-byte URIs"
    echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    if [[ " $STATUS_PARTS " == *" callgrind "* || " $STATUS_PARTS " == *" latency "* ]]; then
        echo
        echo "| page | bytes | instructions per page (callgrind, K=$K) | latency median (ms) | latency p99 (ms) |"
        echo "|---|---:|---:|---:|---:|"
        for fmt in $formats; do
            echo "| $fmt | ${size_of[$fmt]:--} | ${ir_per[$fmt]:--} | ${lat_med[$fmt]:--} | ${lat_p99[$fmt]:--} |"
        done
        echo
        echo "Latency: $PAGES fetches per page over one keep-alive connection, curl's time_total, on the"
        echo "multi-process server."
    fi
    if [[ " $STATUS_PARTS " == *" scrape "* ]]; then
        echo
        echo "Normal traffic (wrk -t1 -c4 -d${DURATION}s --latency GET /1k.html), $ROUNDS rounds each, median (min .. max):"
        echo
        echo "| while | p50 (ms) | p99 (ms) | req/s |"
        echo "|---|---:|---:|---:|"
        echo "| nothing else runs | $(cell "$tmp/quiet-p50") | $(cell "$tmp/quiet-p99") | $(cell "$tmp/quiet-rps") |"
        echo "| a client fetches the three pages once a second | $(cell "$tmp/paced-p50") | $(cell "$tmp/paced-p99") | $(cell "$tmp/paced-rps") |"
        echo "| a client fetches status pages back to back | $(cell "$tmp/scraped-p50") | $(cell "$tmp/scraped-p99") | $(cell "$tmp/scraped-rps") |"
        echo
        echo "Status pages the scraper got per round: $(tr '\n' ' ' <"$tmp/scrape-pages")"
    fi
}
report | tee "$OUT/status-last.md"
note "done in $((SECONDS - start)) s; report also in $OUT/status-last.md"
