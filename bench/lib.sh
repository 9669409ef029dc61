# Shared helpers of the wall-clock and memory benchmarks (bench/throughput.sh,
# bench/status.sh, bench/memory.sh). Sourced, not run. The caller sets
# BENCH_NAME before sourcing.
#
# Environment: BUILD (tree: the work tree's .libs; head or any git revision:
# built in a private copy), PORT_BASE (random), BENCH_USER (www-data as
# root), APACHE2, MODDIR, OUT (bench/out), KEEP (1 keeps the work dir).

set -euo pipefail

APACHE2=${APACHE2:-/usr/sbin/apache2}
MODDIR=${MODDIR:-/usr/lib/apache2/modules}
BUILD=${BUILD:-tree}
KEEP=${KEEP:-0}

bench_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_here/.." && pwd)
OUT=${OUT:-$repo/bench/out}

die() {
    echo "$BENCH_NAME: $*" >&2
    exit 1
}
note() {
    echo "$BENCH_NAME: $*" >&2
}

# positive_int NAME VALUE: dies unless VALUE is a positive whole number.
positive_int() {
    case $2 in
        '' | *[!0-9]* | 0) die "$1 must be a positive integer, not '$2'" ;;
    esac
}

# ---- prerequisites ------------------------------------------------------------

need_commands() { # need_commands "cmd:package" ...
    local missing="" pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
    done
    [ -x "$APACHE2" ] || missing="$missing apache2"
    [ -n "$missing" ] || return 0
    [ "$(id -u)" -eq 0 ] || die "missing packages:$missing (install them, or run as root)"
    note "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086 # word splitting wanted
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

if [ "$(id -u)" -eq 0 ]; then
    BENCH_USER=${BENCH_USER:-www-data}
    id "$BENCH_USER" >/dev/null 2>&1 || die "user $BENCH_USER does not exist (set BENCH_USER)"
    as_user=(setpriv --reuid="$BENCH_USER" --regid="$BENCH_USER" --clear-groups --)
else
    BENCH_USER=$(id -un)
    as_user=()
fi

# ---- work directory, module build ------------------------------------------------

tmp=$(mktemp -d "${TMPDIR:-/tmp}/errwatch-$BENCH_NAME.XXXXXX")
chmod 755 "$tmp"
bench_pids=()
# shellcheck disable=SC2317 # called from the traps
bench_cleanup() {
    trap - EXIT INT TERM HUP
    local p
    for p in "${bench_pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${bench_pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    if [ "$KEEP" = 1 ]; then
        note "kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap bench_cleanup EXIT
trap 'bench_cleanup; exit 130' INT
trap 'bench_cleanup; exit 143' TERM HUP

# build_module: sets module, test_module and errwatch_conf for BUILD.
build_module() {
    local src=$repo
    if [ "$BUILD" != tree ]; then
        local rev=$BUILD
        [ "$rev" != head ] || rev=HEAD
        src=$tmp/build
        mkdir "$src"
        git -C "$repo" archive "$rev" | tar -x -C "$src" || die "cannot export revision $rev"
        note "building $rev ($(git -C "$repo" rev-parse --short "$rev")) in $src"
        { make -C "$src" all && make -C "$src/t/modules"; } >"$tmp/build.log" 2>&1 || {
            cat "$tmp/build.log" >&2
            die "building $rev failed"
        }
        chmod -R a+rX "$src"
    else
        [ -f "$src/.libs/mod_errwatch.so" ] || make -C "$src" all >&2
        [ -f "$src/t/modules/.libs/mod_errwatch_test.so" ] || make -C "$src/t/modules" >&2
    fi
    module=$src/.libs/mod_errwatch.so
    test_module=$src/t/modules/.libs/mod_errwatch_test.so
    errwatch_conf=$src/conf/errwatch.conf
    local f
    for f in "$module" "$test_module" "$errwatch_conf"; do
        [ -f "$f" ] || die "$f not found"
    done
    # The server may run as $BENCH_USER (status.sh runs it whole under
    # setpriv), who cannot read a checkout under /root (mode 0700): it loads
    # copies from $tmp.
    mkdir -p "$tmp/module"
    cp -p "$module" "$test_module" "$errwatch_conf" "$tmp/module/"
    chmod -R a+rX "$tmp/module"
    module=$tmp/module/$(basename "$module")
    test_module=$tmp/module/$(basename "$test_module")
    errwatch_conf=$tmp/module/$(basename "$errwatch_conf")
}

# module_label: how the report names the module that was measured.
module_label() {
    local head
    if ! head=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null); then
        echo "$module (not in a git checkout)"
        return
    fi
    if [ "$BUILD" = tree ]; then
        echo "work tree .libs/mod_errwatch.so (HEAD $head$(git -C "$repo" diff --quiet HEAD -- src include mod_errwatch.c 2>/dev/null || echo ', with uncommitted changes'))"
    else
        echo "revision $BUILD ($(git -C "$repo" rev-parse --short "${BUILD/#head/HEAD}")), built by the script"
    fi
}

# machine_lines: the report's header lines about the machine.
machine_lines() {
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs, $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
    echo "- $("$APACHE2" -v | head -n 1 | sed 's/^Server version: //')"
    echo "- module: $(module_label)"
}

# ---- document root ----------------------------------------------------------------

make_docroot() {
    mkdir -p "$tmp/htdocs"
    awk 'BEGIN { for (i = 0; i < 16; i++) { printf "%063d\n", i } }' >"$tmp/htdocs/1k.html"
    [ "$(wc -c <"$tmp/htdocs/1k.html")" -eq 1024 ] || die "1k.html is not 1024 bytes"
    chmod -R a+rX "$tmp/htdocs"
}

# ---- servers --------------------------------------------------------------------------

free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((10000 + (RANDOM * 32768 + RANDOM) % 22000)) # below the ephemeral range
        if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
            echo "$p"
            return
        fi
    done
    die "no free port found"
}

# base_conf DIR PORT MPMCONF: the common part of every configuration.
# MPMCONF: "multi" (event, 2 processes x 32 threads) or "single" (for -X).
base_conf() {
    local dir=$1 port=$2 mpm=$3
    cat <<EOF
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir"
Mutex file:$dir default
ErrorLog "$dir/error.log"
LogLevel warn
Timeout 60
LoadModule mpm_event_module $MODDIR/mod_mpm_event.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule authz_host_module $MODDIR/mod_authz_host.so
LoadModule mime_module $MODDIR/mod_mime.so
TypesConfig /etc/mime.types
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 60
DocumentRoot "$tmp/htdocs"
<Directory "$tmp/htdocs">
    Options None
    AllowOverride None
    Require all granted
</Directory>
EOF
    if [ "$mpm" = multi ]; then
        cat <<EOF
StartServers 2
ServerLimit 2
MinSpareThreads 1
MaxSpareThreads 64
ThreadsPerChild 32
MaxRequestWorkers 64
EOF
    fi
    if [ "$(id -u)" -eq 0 ]; then
        echo "User $BENCH_USER"
        echo "Group $BENCH_USER"
    fi
}

# location_block: conf/errwatch.conf's <Location> without the module, so that
# "module absent" pays the same location walk as "module loaded".
location_block() {
    printf '<Location "/errwatch">\n    Require local\n</Location>\n'
}

# fail_block: the test module's handler that logs an error and returns 500.
fail_block() {
    echo "LoadModule errwatch_test_module $test_module"
    printf '<Location "/fail">\n    SetHandler errwatch-test-500\n</Location>\n'
}

# wait_ready PORT PID: until the server answers (or dies).
wait_ready() {
    local port=$1 pid=$2 deadline=$((SECONDS + 60))
    until curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/1k.html"; do
        kill -0 "$pid" 2>/dev/null || die "server on port $port exited before it was ready"
        [ "$SECONDS" -lt "$deadline" ] || die "server on port $port not ready after 60 s"
        sleep 0.1
    done
}

# start_server DIR: starts a daemonised multi-process apache2 with DIR/httpd.conf
# (as root it drops to BENCH_USER itself); sets SERVER_PID to the parent.
start_server() {
    local dir=$1
    chown -R "$BENCH_USER" "$dir"
    "$APACHE2" -f "$dir/httpd.conf" -k start >"$dir/start.log" 2>&1 || {
        cat "$dir/start.log" "$dir/error.log" >&2 2>/dev/null || true
        die "apache2 -f $dir/httpd.conf did not start"
    }
    local deadline=$((SECONDS + 30))
    until [ -s "$dir/httpd.pid" ]; do
        [ "$SECONDS" -lt "$deadline" ] || die "no pid file in $dir"
        sleep 0.05
    done
    SERVER_PID=$(cat "$dir/httpd.pid")
    bench_pids+=("$SERVER_PID")
}

# stop_server DIR...: SIGTERM (httpd's immediate stop) to each, then wait
# for every parent to exit.
stop_server() {
    local dir pid pids=()
    for dir in "$@"; do
        pid=$(cat "$dir/httpd.pid" 2>/dev/null) || continue
        kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    done
    local deadline=$((SECONDS + 30))
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null; do
            [ "$SECONDS" -lt "$deadline" ] || die "server $pid did not stop"
            sleep 0.05
        done
    done
}

# check_error_log DIR: fails on crashes; anything but the expected test-module
# lines is shown.
check_error_log() {
    local log=$1/error.log
    if grep -Eq 'Segmentation|exit signal|AH00052' "$log"; then
        grep -E 'Segmentation|exit signal|AH00052' "$log" >&2
        die "a child crashed (see $log)"
    fi
    local other
    other=$(grep -v -e 'errwatch-test: deliberate' -e 'AH00098' -e 'AH00094' -e 'AH00489' \
        -e 'AH00491' -e 'AH00493' -e 'AH00163' -e 'AH00169' -e 'AH00492' -e 'EW0003' -e 'EW1401' "$log" || true)
    if [ -n "$other" ]; then
        note "unexpected lines in $log:"
        printf '%s\n' "$other" | head -n 5 >&2
    fi
}

# auto_value URL KEY: a value from an errwatch ?auto page.
auto_value() {
    curl -s --max-time 30 "$1" | awk -F': ' -v k="$2" '$1 == k { print $2 }'
}

# stats FILE: "median min max p99" of the numbers in FILE, one a line.
stats() {
    sort -g "$1" | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan nan nan nan"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        i = int(0.99 * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR
        printf "%g %g %g %g\n", m, v[1], v[NR], v[i]
    }'
}
