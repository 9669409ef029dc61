#!/usr/bin/env bash
# Memory: the shared memory mod_errwatch maps, and the resident size of the
# children, with and without the module.
#
#   bench/memory.sh
#
# Three servers (event MPM, 2 processes x 32 threads, the test module and its
# failing /fail handler loaded in each): no mod_errwatch; mod_errwatch at the
# defaults (1024 files, 256 recent); mod_errwatch at LARGE_FILES/LARGE_RECENT.
# Each gets REQUESTS requests for the 1 KB file and FAILS failing requests
# with distinct names (so the store's rows are written, not just mapped).
# Then, from /proc:
#   - shared mappings of the parent (rw-s): what the module adds is the
#     difference to the server without it (the scoreboard is in both);
#   - each child's Rss and Pss (smaps_rollup), averaged over the children.
# Untouched shared memory costs address space, not RAM: Rss counts the
# pages a child has touched.
#
# Environment: REQUESTS (2000), FAILS (300), LARGE_FILES (100000),
# LARGE_RECENT (10000), plus bench/lib.sh's.
BENCH_NAME=memory
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

REQUESTS=${REQUESTS:-2000}
FAILS=${FAILS:-300}
LARGE_FILES=${LARGE_FILES:-100000}
LARGE_RECENT=${LARGE_RECENT:-10000}
for v in REQUESTS FAILS LARGE_FILES LARGE_RECENT; do positive_int "$v" "${!v}"; done

need_commands curl:curl ab:apache2-utils
build_module
make_docroot
mkdir "$tmp/htdocs/fail"
(cd "$tmp/htdocs/fail" && seq -f "script-%05g.php" 1 "$FAILS" | xargs touch)
chmod -R a+rX "$tmp/htdocs"

arms="absent default large"
declare -A shm_kib rss_kib pss_kib nchild
start=$SECONDS

# shared_kib PID: total KiB of the process's shared writable mappings.
shared_kib() {
    local range perms rest t=0
    while read -r range perms rest; do
        [ "$perms" = rw-s ] || continue
        t=$((t + 16#${range#*-} - 16#${range%-*}))
    done <"/proc/$1/maps"
    echo $((t / 1024))
}

for a in $arms; do
    d=$tmp/$a
    mkdir "$d"
    p=$(free_port)
    {
        base_conf "$d" "$p" multi
        fail_block
        case $a in
            default)
                echo "LoadModule errwatch_module $module"
                echo "Include $errwatch_conf"
                ;;
            large)
                echo "LoadModule errwatch_module $module"
                echo "ErrWatchFiles $LARGE_FILES"
                echo "ErrWatchRecent $LARGE_RECENT"
                echo "Include $errwatch_conf"
                ;;
            absent) location_block ;;
        esac
    } >"$d/httpd.conf"
    start_server "$d"
    wait_ready "$p" "$SERVER_PID"
    ab -q -k -c 4 -n "$REQUESTS" "http://127.0.0.1:$p/1k.html" >"$d/ab.txt" 2>&1 || die "$a: ab failed"
    seq -f "url = \"http://127.0.0.1:$p/fail/script-%05g.php\"" 1 "$FAILS" |
        sed 's/$/\noutput = "\/dev\/null"/' >"$d/fail.curl"
    curl -s -K "$d/fail.curl" --max-time 300 || true
    if [ "$a" != absent ]; then
        c5=$(auto_value "http://127.0.0.1:$p/errwatch?auto" Errors5xx)
        [ "${c5:-x}" = "$FAILS" ] || die "$a: Errors5xx is '$c5', expected $FAILS"
    fi
    shm_kib[$a]=$(shared_kib "$SERVER_PID")
    kids=$(ps -o pid= --ppid "$SERVER_PID")
    n=0 rss=0 pss=0
    for k in $kids; do
        read -r r s < <(awk '$1 == "Rss:" { r = $2 } $1 == "Pss:" { s = $2 } END { print r, s }' "/proc/$k/smaps_rollup")
        rss=$((rss + r))
        pss=$((pss + s))
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] || die "$a: no children"
    nchild[$a]=$n
    rss_kib[$a]=$((rss / n))
    pss_kib[$a]=$((pss / n))
    note "$a: shared ${shm_kib[$a]} KiB, child Rss ${rss_kib[$a]} KiB, Pss ${pss_kib[$a]} KiB ($n children)"
    stop_server "$d"
    check_error_log "$d"
done

report() {
    echo "# mod_errwatch memory"
    echo
    machine_lines
    echo "- event MPM, 2 processes x 32 threads; each server got $REQUESTS requests for /1k.html and $FAILS failures with distinct names"
    echo
    echo "| server | shared memory mapped by the parent (KiB) | added by mod_errwatch (KiB) | child Rss (KiB, mean) | child Pss (KiB, mean) |"
    echo "|---|---:|---:|---:|---:|"
    local a label
    for a in $arms; do
        case $a in
            absent) label="no mod_errwatch" ;;
            default) label="mod_errwatch, defaults (1024 files, 256 recent)" ;;
            large) label="mod_errwatch, ErrWatchFiles $LARGE_FILES, ErrWatchRecent $LARGE_RECENT" ;;
        esac
        echo "| $label | ${shm_kib[$a]} | $((shm_kib[$a] - shm_kib[absent])) | ${rss_kib[$a]} | ${pss_kib[$a]} |"
    done
}
mkdir -p "$OUT"
report | tee "$OUT/memory-last.md"
note "done in $((SECONDS - start)) s; report also in $OUT/memory-last.md"
