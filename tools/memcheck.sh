#!/bin/bash
# tools/memcheck.sh: mod_errwatch under valgrind's memcheck, inside a real
# httpd. Run it as `make memcheck` (which builds the module and the test
# module first). It is not part of `make test`; it takes a few seconds to a
# minute, depending on the machine.
#
# What it does:
#   1. Writes a throwaway config the way t/lib/ErrWatchTest.pm does: prefork
#      MPM, mod_php, mod_cgi, mod_rewrite, mod_status, the test module
#      (t/modules), the module under test (.libs) with conf/errwatch.conf, and
#      the t/htdocs fixtures. The store is made small (ErrWatchFiles 4,
#      ErrWatchRecent 3) so that the file table evicts and the ring wraps.
#   2. Runs `apache2 -X` (one process, no children, so every request runs
#      under valgrind) with
#        valgrind --tool=memcheck --track-origins=yes --leak-check=full
#      and tools/memcheck.supp. As root, the server drops to www-data through
#      a User directive, as in the integration tests.
#   3. Sends every failure case (PHP fatal, parse error, malformed CGI header,
#      test-module 500, broken .htaccess, ErrorDocument 500, WordPress
#      rewrite, 503, hostile file name, overlong URI and message, subrequest
#      500, ErrWatch Off) twice, and every status answer (HTML, ?auto, ?json,
#      ?metrics in both flavours, ?tail in both formats, 400, 405, HEAD,
#      /server-status and its ?auto), checking each answer's status code.
#   4. Stops the server with SIGTERM (httpd exits normally and runs its pool
#      cleanups) and reads valgrind's XML report.
#
# No graceful restart: with -X, httpd does not catch SIGUSR1 (the process
# is killed by it) and takes SIGHUP and SIGWINCH as a stop.
#
# Verdict: exit 1 when any memcheck error, or any definitely or indirectly
# lost block, has a frame in mod_errwatch.so on any of its stacks (the
# error's, the allocation's, the uninitialised value's origin). Those are
# printed with "=>" on the module's frames. Possibly lost blocks allocated
# by the module are printed as warnings. Errors elsewhere (httpd, PHP) that
# the suppressions do not cover are printed as warnings, each with a
# suppression valgrind generated for it; MEMCHECK_STRICT=1 makes them fail
# the run too. Exit 2 when the run itself went wrong: the server did not
# start or stop, or an answer had an unexpected status (then the run did
# not exercise what it claims to).
#
# Limits: httpd's memory comes from APR pools, which carve many objects out
# of one malloc'd block, and the store lives in one shared-memory segment.
# memcheck sees an overrun only when it leaves such a block or segment, and
# a use after free only when the block went back to malloc. Uninitialised
# reads are seen everywhere. Debian's libapr1 is not built with APR's pool
# debugging or valgrind hooks.
#
# Suppressions: add to tools/memcheck.supp only noise from outside the module
# (httpd, APR, PHP), as narrowly as the stack allows; the suppression printed
# with a warning is a starting point. Never suppress a stack that has a frame
# in mod_errwatch.so.
#
# Environment:
#   APACHE2           httpd binary (default /usr/sbin/apache2)
#   ERRWATCH_SO       module to test (default <repo>/.libs/mod_errwatch.so)
#   VALGRIND          valgrind binary (default valgrind)
#   MEMCHECK_STRICT   1: unsuppressed errors outside the module fail the run
#   MEMCHECK_KEEP     1: keep the temp dir (valgrind.xml, valgrind.log,
#                     logs/error.log, httpd.conf); its path is printed
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
APACHE2=${APACHE2:-/usr/sbin/apache2}
ERRWATCH_SO=${ERRWATCH_SO:-$ROOT/.libs/mod_errwatch.so}
TEST_SO=$ROOT/t/modules/.libs/mod_errwatch_test.so
VALGRIND=${VALGRIND:-valgrind}
SUPP=$ROOT/tools/memcheck.supp
MODULES_DIR=/usr/lib/apache2/modules
START_TIMEOUT=90
STOP_TIMEOUT=90

die() {
    echo "memcheck: $*" >&2
    exit 2
}

for f in "$ERRWATCH_SO" "$TEST_SO" "$APACHE2" "$SUPP"; do
    [ -e "$f" ] || die "missing $f (run it through \`make memcheck\`)"
done
command -v "$VALGRIND" >/dev/null || die "valgrind not found (apt-get install valgrind)"
command -v curl >/dev/null || die "curl not found"
command -v perl >/dev/null || die "perl not found"

DIR=$(mktemp -d "${TMPDIR:-/tmp}/errwatch-memcheck-XXXXXX")
chmod 755 "$DIR"
SERVER_PID=
# shellcheck disable=SC2317 # called from the traps
cleanup() {
    trap - EXIT
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "${MEMCHECK_KEEP:-0}" = 1 ]; then
        echo "memcheck: kept $DIR"
    else
        rm -rf "$DIR"
    fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM HUP

# ---- fixtures and config -----------------------------------------------------

DOCROOT=$DIR/htdocs
mkdir -p "$DIR/run" "$DIR/logs"
cp -R "$ROOT/t/htdocs" "$DOCROOT"
chmod -R a+rX "$DIR"
# A file name with HTML metacharacters (as the integration tests make it).
printf '<?php\nrequire_once __DIR__ . %s;\n' "'/hostile-missing.phpp'" >"$DOCROOT/php/x<y>&\"z.php"
chmod 644 "$DOCROOT/php/x<y>&\"z.php"

PORT=$(perl -MIO::Socket::INET -e \
    'print IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1, ReuseAddr => 1)->sockport')
BASE=http://127.0.0.1:$PORT
CONF=$DIR/httpd.conf
USER_LINES=
if [ "$(id -u)" = 0 ]; then
    USER_LINES=$'User www-data\nGroup www-data'
fi

cat >"$CONF" <<EOF
# Generated by tools/memcheck.sh
ServerRoot "$DIR"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
PidFile "$DIR/run/httpd.pid"
ErrorLog "$DIR/logs/error.log"
LogLevel warn
DefaultRuntimeDir "$DIR/run"
Mutex file:$DIR/run default
Timeout 60
KeepAlive On
KeepAliveTimeout 5
$USER_LINES
LoadModule mpm_prefork_module "$MODULES_DIR/mod_mpm_prefork.so"
LoadModule authz_core_module "$MODULES_DIR/mod_authz_core.so"
LoadModule authz_host_module "$MODULES_DIR/mod_authz_host.so"
LoadModule mime_module "$MODULES_DIR/mod_mime.so"
TypesConfig /etc/mime.types
LoadModule dir_module "$MODULES_DIR/mod_dir.so"
DirectoryIndex index.html index.php
LoadModule alias_module "$MODULES_DIR/mod_alias.so"
LoadModule rewrite_module "$MODULES_DIR/mod_rewrite.so"
LoadModule cgi_module "$MODULES_DIR/mod_cgi.so"
LoadModule php_module "$MODULES_DIR/libphp8.2.so"
<FilesMatch "\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>
LoadModule status_module "$MODULES_DIR/mod_status.so"
ExtendedStatus On
<Location "/server-status">
    SetHandler server-status
    Require local
</Location>
LoadModule errwatch_test_module "$TEST_SO"
LoadModule errwatch_module "$ERRWATCH_SO"
Include "$ROOT/conf/errwatch.conf"
# Small tables: the file table evicts and the recent ring wraps.
ErrWatchFiles 4
ErrWatchRecent 3
ErrWatchTailMaxTime 2
ErrWatchTailKeepAlive 1

DocumentRoot "$DOCROOT"
<Directory />
    Options None
    AllowOverride None
    Require all denied
</Directory>
<Directory "$DOCROOT">
    Options FollowSymLinks
    AllowOverride All
    Require all granted
</Directory>
ScriptAlias /cgi-bin/ "$DOCROOT/cgi-bin/"
<Directory "$DOCROOT/cgi-bin">
    AllowOverride None
    Options +ExecCGI
    Require all granted
</Directory>
<Location "/errwatch-test/fail">
    SetHandler errwatch-test-500
</Location>
<LocationMatch "^/errwatch-test/many-">
    SetHandler errwatch-test-500
</LocationMatch>
<Location "/errwatch-test/status">
    SetHandler errwatch-test-status
</Location>
<Location "/errwatch-test/subreq">
    SetHandler errwatch-test-subreq-500
</Location>
<Location "/errordoc/">
    ErrorDocument 500 /local/page.html
</Location>
<Location "/errordoc/fail">
    SetHandler errwatch-test-500
</Location>
<Location "/off/fail">
    SetHandler errwatch-test-500
</Location>
<Location "/off">
    ErrWatch Off
</Location>
<Location "/php/">
    ErrWatchQueryString On
</Location>
EOF

"$APACHE2" -t -f "$CONF" >"$DIR/configtest.out" 2>&1 || {
    cat "$DIR/configtest.out" >&2
    die "apache2 -t failed"
}

# ---- the server under valgrind -----------------------------------------------

VGLOG=$DIR/valgrind.log
VGXML=$DIR/valgrind.xml
echo "memcheck: apache2 -X under valgrind on port $PORT"
# --keep-debuginfo: httpd unloads the modules before valgrind's leak check
# runs; without it their frames would show as ???.
"$VALGRIND" --tool=memcheck --error-exitcode=99 --track-origins=yes \
    --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect \
    --num-callers=40 --keep-debuginfo=yes --vgdb=no --gen-suppressions=all \
    --suppressions="$SUPP" --log-file="$VGLOG" --xml=yes --xml-file="$VGXML" \
    "$APACHE2" -X -f "$CONF" </dev/null >"$DIR/apache2.out" 2>&1 &
SERVER_PID=$!

up=0
for _ in $(seq 1 $((START_TIMEOUT * 4))); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        break
    fi
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$BASE/ok.html" || true)" = 200 ]; then
        up=1
        break
    fi
    sleep 0.25
done
if [ "$up" != 1 ]; then
    cat "$DIR/apache2.out" "$DIR/logs/error.log" "$VGLOG" >&2 2>/dev/null || true
    die "apache2 did not start under valgrind"
fi

# ---- requests -----------------------------------------------------------------

FAILED_REQ=0
SENT=0
# req EXPECTED_STATUS [curl args...] URL_PATH
req() {
    local want=$1 got path
    shift
    path=${*: -1}
    set -- "${@:1:$#-1}"
    got=$(curl -s -o "$DIR/last.body" -w '%{http_code}' --max-time 60 "$@" "$BASE$path" || true)
    SENT=$((SENT + 1))
    if [ "$got" != "$want" ]; then
        echo "memcheck: $* $path answered $got, expected $want" >&2
        FAILED_REQ=$((FAILED_REQ + 1))
    fi
}

# Every failure case of t/integration/10-prefork-php.t, twice (the second
# time updates existing rows), with successes in between.
for _ in 1 2; do
    req 500 '/php/fatal.php?token=s3cret'
    req 500 /php/parse.php
    req 500 /cgi-bin/bad.cgi
    req 500 /errwatch-test/fail
    req 500 /broken/index.html
    req 500 /errordoc/fail
    req 500 /wp/2024/hello-world/
    req 503 /php/status503.php
    req 500 '/php/x%3Cy%3E%26%22z.php'
    req 500 /php/long-warning.php
    req 200 /errwatch-test/subreq
    req 500 /off/fail
    req 500 /off/fatal.php
    req 200 /ok.html
    req 200 /php/ok.php
    req 200 /cgi-bin/ok.cgi
    req 404 /no-such-page.html
    req 204 '/errwatch-test/status?204'
    req 200 -I /ok.html
done
# More failing files than ErrWatchFiles, and a URI longer than the store keeps.
for i in 1 2 3 4 5 6; do
    req 500 "/errwatch-test/many-$i"
done
# (in 200-byte path segments: a segment over NAME_MAX answers 403).
long=$(printf 'x%.0s' $(seq 1 200))
req 500 "/errwatch-test/many-long/$long/$long/$long/$long"
req 500 "/php/fatal.php?q=$long$long$long"
req 500 "/errwatch-test/many-%3Cscript%3E%22%27&amp;"

# Every status format and the refusals.
req 200 /errwatch
req 200 '/errwatch?json'
req 200 '/errwatch?json='
# The store must have seen the failures, or the run proves little.
recorded=$(sed -n 's/.*"failures_recorded":\([0-9]*\).*/\1/p' "$DIR/last.body")
if [ "${recorded:-0}" -lt 20 ]; then
    echo "memcheck: ?json shows ${recorded:-no} failures recorded, expected at least 20" >&2
    FAILED_REQ=$((FAILED_REQ + 1))
fi
req 200 '/errwatch?auto'
req 200 '/errwatch?auto='
req 200 '/errwatch?metrics'
req 200 '/errwatch?metrics='
req 200 -H 'Accept: application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5' '/errwatch?metrics'
req 400 '/errwatch?foo'
req 400 '/errwatch?json=1'
req 405 -X POST -d x=1 '/errwatch?json'
req 405 -X DELETE /errwatch
req 200 -I '/errwatch?json'
# Live tails: with -X the one process serves them, so each ends at
# ErrWatchTailMaxTime (2 s) after replaying the ring (with a gap line) and a
# keep-alive line.
req 200 '/errwatch?tail&since=0'
req 200 '/errwatch?tail&format=json&since=1'
req 200 '/errwatch?tail&since=999999'
req 200 -I '/errwatch?tail'
req 400 '/errwatch?tail&format=xml'
req 400 '/errwatch?since=1'
req 200 /server-status
req 200 '/server-status?auto'

# ---- stop and read the report ------------------------------------------------

kill -TERM "$SERVER_PID" 2>/dev/null || true
for _ in $(seq 1 $((STOP_TIMEOUT * 4))); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        break
    fi
    sleep 0.25
done
if kill -0 "$SERVER_PID" 2>/dev/null; then
    die "apache2 did not stop within ${STOP_TIMEOUT}s of SIGTERM"
fi
set +e
wait "$SERVER_PID"
rc=$?
set -e
SERVER_PID=

# Reads valgrind's XML report: every error and every lost block, with its
# stacks. A record is the module's when any frame of any of its stacks (the
# error's, the allocation's, the origin's) is in mod_errwatch.so. Prints the
# records to stderr and "module other possibly suppressed" to stdout.
perl -e '
    my ($xml, $so) = @ARGV;
    open my $fh, "<", $xml or die "cannot read $xml: $!\n";
    local $/;
    my $doc = <$fh>;
    my $unxml = sub {
        my $t = shift;
        $t =~ s/&lt;/</g; $t =~ s/&gt;/>/g; $t =~ s/&quot;/"/g; $t =~ s/&apos;/\x27/g; $t =~ s/&amp;/&/g;
        return $t;
    };
    my $tag = sub { my ($x, $t) = @_; return $x =~ m{<$t>(.*?)</$t>}s ? $unxml->($1) : "" };
    my ($n_mod, $n_other, $n_possibly, $n_supp) = (0, 0, 0, 0);
    # With --gen-suppressions, each error is followed by its suppression.
    while ($doc =~ m{<error>(.*?)</error>\s*(?:<suppression>(.*?)</suppression>)?}gs) {
        my ($e, $s) = ($1, $2 // "");
        my $kind = $tag->($e, "kind");
        next if $kind eq "Leak_StillReachable";
        my $what = $tag->($e, "what") || $tag->($e, "text");
        my ($mine, $out) = (0, "$kind: $what\n");
        # The stacks in order; each <auxwhat> introduces the next one.
        my @aux = map { $unxml->($_) } $e =~ m{<auxwhat>(.*?)</auxwhat>}gs;
        my $i = 0;
        for my $stack ($e =~ m{<stack>(.*?)</stack>}gs) {
            $out .= "  $aux[$i - 1]\n" if $i > 0 && defined $aux[$i - 1];
            $i++;
            for my $fr ($stack =~ m{<frame>(.*?)</frame>}gs) {
                my ($obj, $fn, $file, $line, $dir) = map { $tag->($fr, $_) } qw(obj fn file line dir);
                my $here = $obj eq $so || $obj =~ m{/mod_errwatch\.so$};
                $mine ||= $here;
                my $where = $file ne "" ? ($dir ne "" ? "$dir/" : "") . "$file:$line" : $obj;
                $out .= sprintf "    %s %s (%s)\n", $here ? "=>" : "  ", $fn || "???", $where;
            }
        }
        if ($kind eq "Leak_PossiblyLost") {
            next unless $mine;    # pools and interned strings elsewhere: not ours
            $n_possibly++;
            print STDERR "memcheck: warning: possibly lost, allocated by the module: $out\n";
        } elsif ($mine) {
            $n_mod++;
            print STDERR "memcheck: IN MODULE CODE: $out\n";
        } else {
            $n_other++;
            my $supp = $s =~ m{<!\[CDATA\[\s*(.*?)\s*\]\]>}s ? $1 : "(none)";
            print STDERR "memcheck: warning: outside the module: $out  suppression:\n$supp\n";
        }
    }
    while ($doc =~ m{<pair>\s*<count>(\d+)</count>\s*<name>(.*?)</name>\s*</pair>}gs) {
        $n_supp += $1;
    }
    $doc =~ m{</valgrindoutput>} or print STDERR "memcheck: warning: valgrind XML report is incomplete\n";
    print "$n_mod $n_other $n_possibly $n_supp\n";
' "$VGXML" "$ERRWATCH_SO" >"$DIR/verdict" 2>"$DIR/records" || die "cannot read valgrind's report $VGXML"
cat "$DIR/records" >&2
read -r n_module n_other n_possibly n_suppressed <"$DIR/verdict"

echo "memcheck: $SENT requests sent, $FAILED_REQ answered an unexpected status"
echo "memcheck: apache2 exit code under valgrind: $rc (99: valgrind counted errors)"
echo "memcheck: module code: $n_module errors/leaks; possibly lost by the module: $n_possibly"
echo "memcheck: outside the module: $n_other unsuppressed; $n_suppressed suppressed (tools/memcheck.supp)"

status=0
if [ "$n_module" -gt 0 ]; then
    echo "memcheck: FAIL: memcheck errors or leaks in mod_errwatch code (see above)"
    status=1
elif [ "$n_other" -gt 0 ] && [ "${MEMCHECK_STRICT:-0}" = 1 ]; then
    echo "memcheck: FAIL: unsuppressed errors outside the module (MEMCHECK_STRICT=1)"
    status=1
fi
if [ "$rc" != 0 ] && [ "$rc" != 99 ]; then
    echo "memcheck: FAIL: apache2 exited with $rc"
    [ "$status" = 1 ] || status=2
fi
if [ "$FAILED_REQ" -gt 0 ]; then
    echo "memcheck: FAIL: $FAILED_REQ requests answered an unexpected status"
    [ "$status" = 1 ] || status=2
fi
if [ "$status" = 0 ]; then
    echo "memcheck: PASS: no memcheck error or leak in module code"
fi
exit "$status"
