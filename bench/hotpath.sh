#!/usr/bin/env bash
# Per-request instruction cost of mod_errwatch's hot path, measured with
# callgrind (instruction counts repeat from run to run; wall time on a shared
# machine does not).
#
#   bench/hotpath.sh              N=2000 (default)
#   N=5000 bench/hotpath.sh
#   KEEP=1 bench/hotpath.sh       keep configs, logs and callgrind.out files
#   BUILD=head bench/hotpath.sh   measure the committed HEAD (or BUILD=<any git
#                                 revision>), built in a private directory (the
#                                 work tree and its .libs are not touched);
#                                 default: the work tree's .libs/mod_errwatch.so,
#                                 built with make if absent
#   CONFIGS="bare errwatch" bench/hotpath.sh   only these configurations
#
# For each configuration, `apache2 -X` (event MPM, one process; prefork for
# the php rows) runs under
# `valgrind --tool=callgrind` as an unprivileged user, serves N and then, in a
# fresh run, 3N keep-alive requests for a 1 KB static file from `ab -k -c 1`,
# and is stopped with SIGTERM so that callgrind writes its totals. Every fixed
# cost (start-up, the readiness probe, shutdown) is the same in both runs, so
#
#   instructions per request = (Ir(3N) - Ir(N)) / 2N
#
# Configurations (all: event MPM, keep-alive on with no request limit,
# LogLevel warn, no access log, mod_authz_core + mod_authz_host + mod_mime):
#   bare          no errwatch                                   GET /1k.html -> 200
#   errwatch      + mod_errwatch and conf/errwatch.conf          GET /1k.html -> 200
#   errwatch-noconf + mod_errwatch only: the module's hooks without
#                   conf/errwatch.conf's <Location "/errwatch">
#                   (whose location walk every request pays)    GET /1k.html -> 200
#   bare-location bare + <Location "/errwatch"> Require local:
#                   what that section costs without the module  GET /1k.html -> 200
#   status        + mod_status, ExtendedStatus On (reference),
#                   without a <Location> for it                 GET /1k.html -> 200
#   status-location  status + <Location "/server-status">
#                   SetHandler server-status, Require local      GET /1k.html -> 200
#   script-bare   bare-location + <Files "1k.html"> SetHandler default-handler:
#                   a handler set by name, as a script's is     GET /1k.html -> 200
#   script        the same with mod_errwatch + conf/errwatch.conf: the script
#                   path (handler and file into the slot, the body-excerpt
#                   filter added and gone at the first brigade)
#   script-noexcerpt  script + ErrWatchBodyExcerpt Off: script - script-noexcerpt
#                   is what the body excerpt costs a script's 200
#   bare-500      + the test module (t/modules) and <Location "/fail">
#                   SetHandler errwatch-test-500: the handler logs
#                   an error and returns 500, which httpd sends
#                   through ap_send_error_response; plus the
#                   bare-location section, so that the pair below
#                   differs by the module only                  GET /fail -> 500
#   errwatch-500  the same with mod_errwatch + conf/errwatch.conf:
#                   the error path (error_log hook copies the
#                   message, log_transaction counts it and records
#                   the failure under the store lock)            GET /fail -> 500
#   bare-502, errwatch-502  the same pair with the test module's
#                   errwatch-test-status handler answering 502 (it
#                   logs an error too): httpd keeps the connection
#                   open after a 502, so these runs use one
#                   keep-alive connection like the 200 rows and
#                   repeat to a few instructions; the module's work
#                   is the same as for a 500             GET /fail502?502 -> 502
#   bare-php, errwatch-php  the seed incident: prefork MPM + mod_php (Debian's
#                   libapache2-mod-php), every request a WordPress-like
#                   index.php whose wp-settings.php require_once's a mistyped
#                   file (class-wp-locale.phpp): PHP logs a warning and a
#                   fatal error, and the client gets a 500; the pair with and
#                   without the module (both with its <Location>)
#                                               GET /wp/index.php -> 500
# A 500 makes httpd close the connection (ap_status_drops_connection), so the
# 500 runs open one connection per request; compare them with bare-500, not
# with bare. Their event-MPM connection handling moves by several hundred
# instructions from run to run: the 502 pair is the precise figure.
#
# Each configuration is measured REPEAT times (N, then 3N, each in a fresh
# server); the table shows the median and the spread (max - min). The 200 rows
# repeat to a few instructions; the 500 rows, one connection per request,
# move by a few hundred, with the wall-clock-driven work of the event MPM.
#
# Environment: CALLGRIND_OPTS (extra callgrind options, e.g. --dump-instr=yes), N (2000), REPEAT (3), KEEP (0), BUILD (tree|head|<rev>), CONFIGS, EXTRA_CONF
# (a file Included by every configuration, e.g. your own <Location>s), PORT (random free port), BENCH_USER
# (www-data when run as root), APACHE2 (/usr/sbin/apache2), OUT (bench/out).
set -euo pipefail

N=${N:-2000}
# What the test handler logs for each failing request.
fail_line='errwatch-test: deliberate (failure in handler|status 502)'
# What PHP logs for each request of the php rows.
php_lines='PHP (Warning|Fatal error): +(require_once|Uncaught Error: Failed opening required)'

KEEP=${KEEP:-0}
REPEAT=${REPEAT:-3}
BUILD=${BUILD:-tree}
APACHE2=${APACHE2:-/usr/sbin/apache2}
MODDIR=${MODDIR:-/usr/lib/apache2/modules}

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
module=$repo/.libs/mod_errwatch.so
OUT=${OUT:-$repo/bench/out}

die() {
    echo "hotpath: $*" >&2
    exit 1
}

case $REPEAT in
    '' | *[!0-9]* | 0) die "REPEAT must be a positive integer, not '$REPEAT'" ;;
esac
case $N in
    '' | *[!0-9]* | 0) die "N must be a positive integer, not '$N'" ;;
esac
if [ "$N" -lt 300 ]; then
    # The recent-failures ring (ErrWatchRecent, 256 by default) must be full
    # in both runs for the 500 rows to compare like with like.
    echo "hotpath: warning: N=$N < 300: the 500 rows are not in steady state" >&2
fi

# ---- prerequisites ------------------------------------------------------------

need_pkgs=""
command -v valgrind >/dev/null 2>&1 || need_pkgs="$need_pkgs valgrind"
command -v callgrind_annotate >/dev/null 2>&1 || need_pkgs="$need_pkgs valgrind"
command -v ab >/dev/null 2>&1 || need_pkgs="$need_pkgs apache2-utils"
command -v curl >/dev/null 2>&1 || need_pkgs="$need_pkgs curl"
[ -x "$APACHE2" ] || need_pkgs="$need_pkgs apache2"
if [ -n "$need_pkgs" ]; then
    [ "$(id -u)" -eq 0 ] || die "missing packages:$need_pkgs (install them, or run as root)"
    echo "hotpath: installing:$need_pkgs" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086 # word splitting wanted
    apt-get install -y -qq --no-install-recommends $need_pkgs >/dev/null
fi
if [ "$BUILD" = tree ] && [ ! -f "$module" ]; then
    echo "hotpath: $module not found; building it" >&2
    make -C "$repo" all
fi
if [ "$BUILD" = tree ] && [ ! -f "$repo/t/modules/.libs/mod_errwatch_test.so" ]; then
    make -C "$repo/t/modules" >&2
fi
for m in mpm_event authz_core authz_host mime status; do
    [ -f "$MODDIR/mod_$m.so" ] || die "$MODDIR/mod_$m.so not found"
done
case " ${CONFIGS:-bare-php} " in # the default configurations include the php pair
    *-php" "*)
        if [ ! -f "$MODDIR/libphp8.2.so" ]; then
            [ "$(id -u)" -eq 0 ] || die "the php rows need libapache2-mod-php (install it, or run as root)"
            echo "hotpath: installing: libapache2-mod-php" >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                libapache2-mod-php >/dev/null
        fi
        ;;
esac

if [ "$(id -u)" -eq 0 ]; then
    BENCH_USER=${BENCH_USER:-www-data}
    id "$BENCH_USER" >/dev/null 2>&1 || die "user $BENCH_USER does not exist (set BENCH_USER)"
    as_user=(setpriv --reuid="$BENCH_USER" --regid="$BENCH_USER" --clear-groups --)
else
    BENCH_USER=$(id -un)
    as_user=()
fi

pick_port() {
    if [ -n "${PORT:-}" ]; then
        echo "$PORT"
        return
    fi
    local p
    for _ in $(seq 1 100); do
        p=$((10000 + (RANDOM * 32768 + RANDOM) % 22000)) # below the ephemeral range
        if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
            echo "$p"
            return
        fi
    done
    die "no free port found"
}
port=$(pick_port)

# ---- work directory -------------------------------------------------------------

tmp=$(mktemp -d "${TMPDIR:-/tmp}/errwatch-bench.XXXXXX")
chmod 755 "$tmp"
server_pid=
# shellcheck disable=SC2317 # called from the traps
cleanup() {
    trap - EXIT INT TERM HUP
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ "$KEEP" = 1 ]; then
        echo "hotpath: kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM HUP

# The module and the errwatch.conf it ships with.
src=$repo
if [ "$BUILD" != tree ]; then
    rev=$BUILD
    [ "$rev" != head ] || rev=HEAD
    src=$tmp/build
    mkdir "$src"
    git -C "$repo" archive "$rev" | tar -x -C "$src" || die "cannot export revision $rev"
    echo "hotpath: building $rev ($(git -C "$repo" rev-parse --short "$rev")) in $src" >&2
    { make -C "$src" all && make -C "$src/t/modules"; } >"$tmp/build.log" 2>&1 || {
        cat "$tmp/build.log" >&2
        die "building HEAD failed"
    }
    chmod -R a+rX "$src"
    module=$src/.libs/mod_errwatch.so
fi
errwatch_conf=$src/conf/errwatch.conf
test_module=$src/t/modules/.libs/mod_errwatch_test.so
[ -f "$test_module" ] || die "$test_module not found"
[ -f "$module" ] || die "$module not found"
[ -f "$errwatch_conf" ] || die "$errwatch_conf not found"
# The server runs whole as $BENCH_USER, who cannot read a checkout under
# /root (mode 0700): it loads copies from $tmp.
mkdir "$tmp/module"
cp -p "$module" "$test_module" "$errwatch_conf" "$tmp/module/"
chmod -R a+rX "$tmp/module"
server_module=$tmp/module/$(basename "$module")
test_module=$tmp/module/$(basename "$test_module")
errwatch_conf=$tmp/module/$(basename "$errwatch_conf")
extra_name=
if [ -n "${EXTRA_CONF:-}" ]; then
    [ -f "$EXTRA_CONF" ] || die "EXTRA_CONF $EXTRA_CONF not found"
    extra_name=$EXTRA_CONF
    cp "$EXTRA_CONF" "$tmp/extra.conf" # readable by the server's user
    chmod 644 "$tmp/extra.conf"
    EXTRA_CONF=$tmp/extra.conf
fi

mkdir "$tmp/htdocs"
# Exactly 1024 bytes, the same every time.
awk 'BEGIN { for (i = 0; i < 16; i++) { printf "%063d\n", i } }' >"$tmp/htdocs/1k.html"
[ "$(wc -c <"$tmp/htdocs/1k.html")" -eq 1024 ] || die "1k.html is not 1024 bytes"
# The seed incident for the php rows: a one-character typo in a
# require_once that every page runs.
mkdir -p "$tmp/htdocs/wp/wp-includes"
cat >"$tmp/htdocs/wp/index.php" <<'PHP'
<?php
define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
echo "never reached\n";
PHP
cat >"$tmp/htdocs/wp/wp-settings.php" <<'PHP'
<?php
require_once ABSPATH . 'wp-includes/class-wp-locale.phpp';
PHP
echo '<?php class WP_Locale {}' >"$tmp/htdocs/wp/wp-includes/class-wp-locale.php"
chmod -R a+rX "$tmp/htdocs"

# gen_conf NAME RUNDIR: the httpd.conf of configuration NAME on stdout.
gen_conf() {
    local name=$1 dir=$2 mpm=event
    case $name in *-php) mpm=prefork ;; esac
    cat <<EOF
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir"
Mutex file:$dir default
ErrorLog "$dir/error.log"
LogLevel warn
Timeout 120

LoadModule mpm_${mpm}_module $MODDIR/mod_mpm_${mpm}.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule authz_host_module $MODDIR/mod_authz_host.so
LoadModule mime_module $MODDIR/mod_mime.so
TypesConfig /etc/mime.types

KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 120

DocumentRoot "$tmp/htdocs"
<Directory "$tmp/htdocs">
    Options None
    AllowOverride None
    Require all granted
</Directory>
EOF
    if [ -n "${EXTRA_CONF:-}" ]; then
        echo "Include $EXTRA_CONF"
    fi
    case $name in
        bare-location | script-bare)
            printf '<Location "/errwatch">\n    Require local\n</Location>\n'
            ;;
        errwatch | errwatch-500 | errwatch-502 | errwatch-php | script | script-noexcerpt)
            echo "LoadModule errwatch_module $server_module"
            echo "Include $errwatch_conf"
            ;;
        errwatch-noconf)
            echo "LoadModule errwatch_module $server_module"
            ;;
        status | status-location)
            echo "LoadModule status_module $MODDIR/mod_status.so"
            echo "ExtendedStatus On"
            ;;
        bare-500 | bare-502 | bare-php)
            printf '<Location "/errwatch">\n    Require local\n</Location>\n'
            ;;
    esac
    case $name in
        *-php)
            # As Debian's php8.2.conf: the handler by file name.
            cat <<EOF
LoadModule php_module $MODDIR/libphp8.2.so
<FilesMatch ".+\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>
EOF
            ;;
    esac
    case $name in
        status-location)
            printf '<Location "/server-status">\n    SetHandler server-status\n    Require local\n</Location>\n'
            ;;
        script*)
            # A handler set by name, as for a script: errwatch copies its
            # handler and path into the slot and adds the body-excerpt
            # filter, which removes itself at the 200's first brigade.
            printf '<Files "1k.html">\n    SetHandler default-handler\n</Files>\n'
            ;;
    esac
    case $name in
        script-noexcerpt)
            echo "ErrWatchBodyExcerpt Off"
            ;;
    esac
    case $name in
        *-500 | *-502)
            cat <<EOF
LoadModule errwatch_test_module $test_module
# The test handler logs "errwatch-test: deliberate failure in handler" and returns 500.
<Location "/fail">
    SetHandler errwatch-test-500
</Location>
# This one answers the status in the query string, logging it first.
<Location "/fail502">
    SetHandler errwatch-test-status
</Location>
EOF
            ;;
    esac
}

url_of() {
    case $1 in
        *-500) echo "http://127.0.0.1:$port/fail" ;;
        *-502) echo "http://127.0.0.1:$port/fail502?502" ;;
        *-php) echo "http://127.0.0.1:$port/wp/index.php" ;;
        *) echo "http://127.0.0.1:$port/1k.html" ;;
    esac
}

# ab_field NAME FILE: the number after "NAME:" in ab's report, or 0.
ab_field() {
    awk -F: -v k="$1" '$1 == k { gsub(/[^0-9]/, "", $2); print $2; found = 1 } END { if (!found) print 0 }' "$2"
}

# json_count KEY FILE: the first "KEY":number in an errwatch ?json page.
json_count() {
    grep -o "\"$1\":[0-9]*" "$2" | head -n 1 | cut -d: -f2
}

# run_one NAME COUNT REP: sets RESULT to the Ir total of one callgrind run. (Not
# run in $(...): the EXIT trap must see server_pid.)
run_one() {
    local name=$1 count=$2 rep=$3
    local dir=$tmp/$name-$count-r$rep
    mkdir "$dir"
    gen_conf "$name" "$dir" >"$dir/httpd.conf"
    chown -R "$BENCH_USER" "$dir"
    local url probe
    url=$(url_of "$name")
    probe="http://127.0.0.1:$port/1k.html"

    # An array, not a function: "$!" must be the server itself (setpriv and
    # Debian's valgrind wrapper both exec), not a subshell.
    # shellcheck disable=SC2086 # CALLGRIND_OPTS: extra options, split on spaces
    "${as_user[@]}" valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" ${CALLGRIND_OPTS:-} \
        --log-file="$dir/valgrind.log" "$APACHE2" -X -f "$dir/httpd.conf" \
        </dev/null >"$dir/stdout.log" 2>&1 &
    server_pid=$!

    # Ready when the probe gets an answer. A refused connection costs the
    # server nothing; the one successful probe is in both runs and cancels.
    local deadline=$((SECONDS + 180))
    until curl -s -o /dev/null --max-time 170 "$probe"; do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            wait "$server_pid" || true
            server_pid=
            cat "$dir/error.log" "$dir/stdout.log" "$dir/valgrind.log" >&2 2>/dev/null || true
            die "$name: server exited before it was ready"
        fi
        [ "$SECONDS" -lt "$deadline" ] || die "$name: server not ready after 180 s"
        sleep 0.1
    done

    ab -k -c 1 -n "$count" -s 120 "$url" >"$dir/ab.txt" 2>&1 || {
        cat "$dir/ab.txt" >&2
        die "$name: ab failed"
    }
    local complete failed non2xx keepalive
    complete=$(ab_field "Complete requests" "$dir/ab.txt")
    failed=$(ab_field "Failed requests" "$dir/ab.txt")
    non2xx=$(ab_field "Non-2xx responses" "$dir/ab.txt")
    keepalive=$(ab_field "Keep-Alive requests" "$dir/ab.txt")
    if [ "$complete" != "$count" ] || [ "$failed" != 0 ]; then
        die "$name: ab completed $complete of $count requests, $failed failed (see $dir/ab.txt)"
    fi
    case $name in
        *-500 | *-php) [ "$non2xx" = "$count" ] || die "$name: expected $count 500s, ab saw $non2xx non-2xx" ;;
        *-502)
            [ "$non2xx" = "$count" ] || die "$name: expected $count 502s, ab saw $non2xx non-2xx"
            [ "$keepalive" = "$count" ] || die "$name: only $keepalive of $count requests were keep-alive"
            ;;
        *)
            [ "$non2xx" = 0 ] || die "$name: $non2xx non-2xx responses"
            [ "$keepalive" = "$count" ] || die "$name: only $keepalive of $count requests were keep-alive"
            ;;
    esac

    # The module must have seen every request. One status request per run,
    # so it cancels out like the probe, as long as it costs the same in both
    # runs: ?json lists the recent failures, which differ between N and 3N
    # while the ring is not yet full, so the 500 runs read the counters-only
    # ?auto page instead.
    case $name in
        errwatch-500 | errwatch-502 | errwatch-php)
            curl -s --max-time 170 -o "$dir/errwatch.auto" "http://127.0.0.1:$port/errwatch?auto" ||
                die "$name: /errwatch?auto failed"
            local c5
            c5=$(awk -F': ' '$1 == "Errors5xx" { print $2 }' "$dir/errwatch.auto")
            if [ -z "$c5" ]; then
                echo "hotpath: $name: no Errors5xx in ?auto; module counts not checked" >&2
            elif [ "$c5" != "$count" ]; then
                die "$name: errwatch counted $c5 5xx, expected $count"
            fi
            ;;
        errwatch)
            curl -s --max-time 170 -o "$dir/errwatch.json" "http://127.0.0.1:$port/errwatch?json" ||
                die "$name: /errwatch?json failed"
            local c2 c5
            c2=$(json_count 2xx "$dir/errwatch.json")
            c5=$(json_count 5xx "$dir/errwatch.json")
            if [ -z "$c2" ] || [ -z "$c5" ]; then
                echo "hotpath: $name: no 2xx/5xx counts in ?json; module counts not checked" >&2
            elif [ "$c2" -lt "$((count + 1))" ] || [ "$c5" != 0 ]; then
                die "$name: errwatch counted 2xx=$c2 5xx=$c5, expected >= $((count + 1)) and 0"
            fi
            ;;
    esac

    # SIGTERM to the -X process is httpd's "stop"; callgrind writes its file
    # when the process exits.
    kill -TERM "$server_pid"
    local rc=0
    deadline=$((SECONDS + 180))
    while kill -0 "$server_pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            kill -KILL "$server_pid" 2>/dev/null || true
            die "$name: server did not stop within 180 s of SIGTERM"
        fi
        sleep 0.1
    done
    wait "$server_pid" || rc=$?
    server_pid=
    [ "$rc" -eq 0 ] || {
        tail -n 30 "$dir/valgrind.log" "$dir/error.log" >&2
        die "$name: server exited with status $rc"
    }
    if grep -Eq 'Process terminating|Segmentation|exit signal' "$dir/valgrind.log" "$dir/error.log"; then
        grep -E 'Process terminating|Segmentation|exit signal' "$dir/valgrind.log" "$dir/error.log" >&2
        die "$name: server crashed"
    fi
    # Anything in error.log besides the expected test-handler lines is reported.
    if grep -Ev -e "$fail_line" -e "$php_lines" -e 'AH00098|AH00163|EW1401' "$dir/error.log" | grep -q .; then
        echo "hotpath: $name: unexpected lines in error.log:" >&2
        grep -Ev -e "$fail_line" -e "$php_lines" -e 'AH00098|AH00163|EW1401' "$dir/error.log" | head -n 5 >&2
    fi
    case $name in
        *-500 | *-502)
            local logged
            logged=$(grep -Ec "$fail_line" "$dir/error.log" || true)
            [ "$logged" = "$count" ] || die "$name: $logged '$fail_line' lines, expected $count"
            ;;
    esac

    local ir
    ir=$(awk '$1 == "totals:" { print $2 }' "$dir/callgrind.out")
    [ -n "$ir" ] || die "$name: no totals line in $dir/callgrind.out"
    RESULT=$ir
}

# ---- per-function breakdown -------------------------------------------------------

# breakdown FILE: "function calls self incl" for each of the module's entry
# points (its functions that code outside it calls), read from callgrind.out
# itself. calls and self are summed over every entry callgrind makes for a
# function (it splits them by the source file of inlined code); incl = self +
# the inclusive cost of every call it makes, except to ap_pass_brigade (the
# rest of the output filter chain, which the response needs anyway).
# (callgrind_annotate --tree is not used: its caller lists depend on the
# current directory and miss entries of functions split that way.)
cat >"$tmp/breakdown.pl" <<'PERL'
use strict;
use warnings;
my $suffix = shift @ARGV;    # the module's file name
my (%fnname, %obname, %self, %callcost, %calls_in);
my ($ob, $fn, $cob, $cfn, $calls) = ("", "", undef, undef, undef);
sub lookup {    # "(id) name" defines a compressed name, "(id)" refers to it
    my ($tab, $v) = @_;
    return $v unless $v =~ /^\((\d+)\)\s*(.*)$/;
    $tab->{$1} = $2 if $2 ne "";
    return $tab->{$1} // "?$1";
}
sub func { my $s = lookup(\%fnname, shift); $s =~ s/'\d+$//; return $s }
sub ours { my $o = shift; return length($o) >= length($suffix) && substr($o, -length($suffix)) eq $suffix }
while (my $l = <>) {
    if    ($l =~ /^ob=(.*)$/)    { $ob  = lookup(\%obname, $1) }
    elsif ($l =~ /^fn=(.*)$/)    { $fn  = func($1); $cob = undef }
    elsif ($l =~ /^cob=(.*)$/)   { $cob = lookup(\%obname, $1) }
    elsif ($l =~ /^cfn=(.*)$/)   { $cfn = func($1) }
    elsif ($l =~ /^calls=(\d+)/) { $calls = $1 }
    elsif ($l =~ /^[-+*\d]\S*\s+(\d+)/ || $l =~ /^[-+*\d]\S*\s*$/) {
        my $c = $1 // 0;
        if (defined $calls) {    # the cost line of a call: inclusive
            my $callee_ob = $cob // $ob;
            $callcost{"$ob\t$fn"}{$cfn} += $c;
            $calls_in{$cfn} += $calls if ours($callee_ob) && !ours($ob);
            ($calls, $cob) = (undef, undef);
        } elsif (ours($ob)) {
            $self{$fn} += $c;
        }
    }
}
my %incl;
for my $k (keys %callcost) {
    my ($o, $f) = split /\t/, $k, 2;
    next unless ours($o);
    for my $g (keys %{ $callcost{$k} }) {
        $incl{$f} += $callcost{$k}{$g} unless $g eq "ap_pass_brigade";
    }
}
for my $f (sort keys %calls_in) {
    my $s = $self{$f} // 0;
    printf "%s %d %d %d\n", $f, $calls_in{$f}, $s, $s + ($incl{$f} // 0);
}
PERL
breakdown() {
    perl "$tmp/breakdown.pl" "$(basename "$module")" "$1"
}

# per_function NAME: table rows of per-request cost of each entry point.
per_function() {
    local name=$1
    local r=${best[$name]}
    breakdown "$tmp/$name-$N-r$r/callgrind.out" >"$tmp/$name.bd1"
    breakdown "$tmp/$name-$((3 * N))-r$r/callgrind.out" >"$tmp/$name.bd3"
    awk -v twon=$((2 * N)) '
        NR == FNR { c1[$1] = $2; s1[$1] = $3; i1[$1] = $4; next }
        {
            calls = ($2 - c1[$1]) / twon; self = ($3 - s1[$1]) / twon; incl = ($4 - i1[$1]) / twon
            if (calls < 0.001 && incl < 0.5) next
            printf "| %s | %.2f | %.1f | %.1f |\n", $1, calls, self, incl
            ts += self; ti += incl
        }
        END { printf "| **all entry points** | | %.1f | %.1f |\n", ts, ti }
    ' "$tmp/$name.bd1" "$tmp/$name.bd3"
}

# ---- the runs -----------------------------------------------------------------------

configs=${CONFIGS:-bare bare-location errwatch-noconf errwatch status status-location bare-500 errwatch-500 bare-502 errwatch-502 bare-php errwatch-php}
for name in $configs; do
    case $name in
        bare | bare-location | errwatch-noconf | errwatch | status | status-location | bare-500 | errwatch-500 | bare-502 | errwatch-502 | script-bare | script | script-noexcerpt | bare-php | errwatch-php) ;;
        *) die "unknown configuration '$name' in CONFIGS" ;;
    esac
done
# Per configuration: the repetition with the median per-request figure (its
# Ir(N), Ir(3N), figure and run directories are reported) and the spread.
declare -A ir1 ir3 per best spread

echo "hotpath: N=$N, REPEAT=$REPEAT, port $port, user $BENCH_USER, work dir $tmp" >&2
start=$SECONDS
for name in $configs; do
    rows=""
    for rep in $(seq 1 "$REPEAT"); do
        t0=$SECONDS
        run_one "$name" "$N" "$rep"
        a=$RESULT
        run_one "$name" $((3 * N)) "$rep"
        b=$RESULT
        p=$(awk -v a="$a" -v b="$b" -v n="$N" 'BEGIN { printf "%.1f", (b - a) / (2 * n) }')
        echo "hotpath: $name #$rep: Ir $a ($N requests), $b ($((3 * N))): $p per request ($((SECONDS - t0)) s)" >&2
        rows="$rows$p $rep $a $b"$'\n'
    done
    read -r "per[$name]" "best[$name]" "ir1[$name]" "ir3[$name]" < <(printf '%s' "$rows" | sort -n | awk -v m=$(((REPEAT + 1) / 2)) 'NR == m')
    spread[$name]=$(printf '%s' "$rows" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.1f", hi - lo }')
done

# ---- report -------------------------------------------------------------------------

report() {
    local cpu
    cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    echo "# mod_errwatch hot path: callgrind instructions per request"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs, $cpu, $(uname -sr)"
    echo "- $("$APACHE2" -v | head -n 1 | sed 's/^Server version: //'), event MPM (prefork for the php rows), -X"
    echo "- $(valgrind --version)"
    local head newer
    head=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')
    if [ "$BUILD" != tree ]; then
        echo "- module: revision $BUILD ($(git -C "$repo" rev-parse --short "${BUILD/#head/HEAD}")), built by this script"
    else
        newer=$(find "$repo/mod_errwatch.c" "$repo/src" "$repo/include" -newer "$module" \
            \( -name '*.c' -o -name '*.h' \) 2>/dev/null | wc -l)
        echo "- module: $module, built $(date -u -r "$module" '+%Y-%m-%d %H:%M UTC')" \
            "(repository HEAD $head; $newer source files newer than the .so)"
    fi
    [ -z "$extra_name" ] || echo "- every configuration also Includes $extra_name"
    echo "- N=$N, REPEAT=$REPEAT; per request = (Ir(3N) - Ir(N)) / 2N, median of the repetitions"
    echo
    echo "| configuration | request | Ir(N) | Ir(3N) | instructions/request | spread | delta vs baseline | delta % |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    local name base req
    for name in $configs; do
        case $name in
            *-500) base=bare-500 req="GET /fail → 500" ;;
            *-502) base=bare-502 req="GET /fail502?502 → 502" ;;
            *-php) base=bare-php req="GET /wp/index.php (prefork, mod_php: require_once of a missing file) → 500" ;;
            script*) base=script-bare req="GET /1k.html (SetHandler default-handler) → 200" ;;
            *) base=bare req="GET /1k.html → 200" ;;
        esac
        [ -n "${per[$base]:-}" ] || base=$name
        awk -v n="$name" -v r="$req" -v a="${ir1[$name]}" -v b="${ir3[$name]}" \
            -v p="${per[$name]}" -v q="${per[$base]}" -v base="$base" -v sp="${spread[$name]}" 'BEGIN {
                d = p - q
                if (n == base) { ds = "(baseline)"; ps = "" }
                else { ds = sprintf("%+.1f", d); ps = sprintf("%+.2f%%", 100 * d / q) }
                printf "| %s | %s | %d | %d | %.1f | %.1f | %s | %s |\n", n, r, a, b, p, sp, ds, ps
            }'
    done
    echo
    echo "Baseline: bare for the 200 rows, bare-500, bare-502 and bare-php for the 5xx rows."
    echo
    echo "Each module's own cost: the same server with and without the module, both with or both"
    echo "without the module's status-URL <Location> (whose location walk every request pays,"
    echo "module or not):"
    echo
    echo "| cost | with | without | instructions/request | % of bare |"
    echo "|---|---|---|---:|---:|"
    local pair with without what
    for pair in "errwatch,bare-location,mod_errwatch (shipped conf; its Location in both)" \
        "errwatch-noconf,bare,mod_errwatch (no Location in either)" \
        "status-location,bare-location,mod_status ExtendedStatus On (a Location in both)" \
        "status,bare,mod_status ExtendedStatus On (no Location in either)" \
        "bare-location,bare,one <Location> section, no module" \
        "errwatch-500,bare-500,mod_errwatch recording one 500 (test handler; new connection each)" \
        "errwatch-502,bare-502,mod_errwatch recording one 502 (test handler; keep-alive)"; do
        IFS=, read -r with without what <<<"$pair"
        [ -n "${per[$with]:-}" ] && [ -n "${per[$without]:-}" ] && [ -n "${per[bare]:-}" ] || continue
        awk -v w="${per[$with]}" -v o="${per[$without]}" -v b="${per[bare]}" -v what="$what" \
            -v wn="$with" -v on="$without" 'BEGIN {
                printf "| %s | %s | %s | %+.1f | %+.2f%% |\n", what, wn, on, w - o, 100 * (w - o) / b
            }'
    done
    local nm
    for nm in errwatch errwatch-noconf errwatch-502; do
        [ -n "${per[$nm]:-}" ] || continue
        echo
        echo "### $nm: module entry points, per request"
        echo
        echo "calls per request; self = the function's own instructions (with what the compiler"
        echo "inlined into it); incl = self + everything it calls, except ap_pass_brigade (the rest"
        echo "of the output filter chain). httpd's hook dispatch is not in these rows."
        echo
        echo "| function | calls | self | incl |"
        echo "|---|---:|---:|---:|"
        per_function "$nm"
    done
}

mkdir -p "$OUT"
report | tee "$OUT/hotpath-last.md"
if [ "$KEEP" = 1 ]; then
    echo "hotpath: callgrind files: $tmp/*/callgrind.out" >&2
fi
echo "hotpath: done in $((SECONDS - start)) s; report also in $OUT/hotpath-last.md" >&2
