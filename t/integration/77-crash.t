#!/usr/bin/perl
# Crashes (issue 11): prefork + mod_php. A request whose child is killed by
# a signal gets no response; errwatch records it from the parent, once,
# with the URI, script, handler, signal and the number in flight. A child
# killed while idle, and restarts, record nothing.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use ErrWatchTest qw(poll_until);

sub spew  { return ErrWatchTest::spew(@_) }
sub slurp { return ErrWatchTest::slurp(@_) }

my $s = ErrWatchTest->new(mpm => 'prefork', php => 1, status => 0);
my $docroot = $s->docroot;
my $pids    = $s->dir . "/pids-$$";
mkdir $pids;
chmod 0777, $pids;
# getmypid() and a shell's kill: PHP's posix extension is not enabled on
# every Debian install (a fresh minbase root had it off).
spew("$docroot/php/segv.php", "<?php\nexec('kill -SEGV ' . getmypid());\nsleep(5);\necho 'alive';\n", 0644);
spew("$docroot/php/recurse.php",
    "<?php\nfunction deeper(\$x) { return array_map('deeper', [\$x]); }\ndeeper(1);\n", 0644);
# Writes the serving child's pid, then stays busy until killed.
spew("$docroot/php/busy.php",
    "<?php\nfile_put_contents('$pids/busy', getmypid());\nsleep(60);\n", 0644);
$s->start;

sub crashes_of {
    my ($doc) = @_;
    return [ grep { defined $_->{crash} } @{ $doc->{recent} || [] } ];
}

# ---------------------------------------------------------------------------
# Three segfaults and one deep recursion, with normal requests in between
# ---------------------------------------------------------------------------
my @crashing = (('/php/segv.php') x 3, '/php/recurse.php');
# Raw requests: HTTP::Tiny sends a GET again when the connection ends with
# no answer, which would crash a second child.
for my $path (@crashing) {
    my $got = $s->raw_request("GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n");
    is($got // '', '', "$path: no response (the child died)");
    my $ok = $s->get('/php/ok.php');
    is($ok->{status}, 200, 'a normal request right after it is answered');
}
my $doc = $s->json_when(sub { $_[0]{crashes} >= 4 }, 20);
is($doc->{crashes}, 4, 'four crashes recorded') or diag($s->last_json_text);
is($doc->{crashes_by_signal}{SIGSEGV}, 4, 'all by SIGSEGV');
my @c = reverse @{ crashes_of($doc) };
is(scalar @c, 4, 'four crash entries in recent');
for my $i (0 .. $#crashing) {
    my $e = $c[$i] || {};
    (my $file = $crashing[$i]) =~ s{^/php/}{};
    is($e->{uri},       $crashing[$i],              "crash $i: uri");
    like($e->{file},    qr{/php/\Q$file\E$},       "crash $i: script path");
    is($e->{handler},   'application/x-httpd-php', "crash $i: handler");
    is($e->{status},    0,                          "crash $i: status 0");
    is($e->{crash},     'SIGSEGV',                  "crash $i: signal");
    is($e->{in_flight}, 1,                          "crash $i: one in flight");
    is($e->{method},    'GET',                      "crash $i: method");
    # The slot keeps the vhost as a reference that the parent names.
    is($e->{vhost},     '127.0.0.1:' . $s->port,    "crash $i: vhost");
}
my ($segv_row) = grep { $_->{file} =~ m{/segv\.php$} } @{ $doc->{files} };
is($segv_row && $segv_row->{crashes}, 3, 'files[]: segv.php has 3 crashes');
$s->check_requests($s->json_settled, 'normal requests counted exactly');

my $auto = $s->get('/errwatch?auto')->{content};
like($auto, qr/^Crashes: 4$/m, '?auto: Crashes: 4');
my $metrics = $s->get('/errwatch?metrics')->{content};
like($metrics, qr/^errwatch_crashes_total\{signal="SIGSEGV"\} 4$/m, '?metrics: by signal');
like($metrics, qr/^errwatch_file_crashes_total\{file="[^"]*segv\.php",[^}]*\} 3$/m,
    '?metrics: by file');

my $html = $s->get('/errwatch')->{content};
like($html, qr{<td class="crash"><strong>crash: SIGSEGV</strong> \(1 in flight\)</td>},
    'HTML: a crash shows as a crash, not a status');

# ---------------------------------------------------------------------------
# SIGKILL of an idle child: nothing. Of a busy child: one SIGKILL crash.
# ---------------------------------------------------------------------------
my @kids = ErrWatchTest::children_of($s->server_pid);
ok(@kids >= 1, 'the server has children');
kill 'KILL', $kids[0];
poll_until(10, sub { !ErrWatchTest::proc_alive($kids[0]) });

my $client = fork;
die "fork: $!" unless defined $client;
if ($client == 0) {
    $s->raw_request("POST /php/busy.php HTTP/1.0\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
    exit 0;
}
my $busy;
poll_until(20, sub { $busy = slurp("$pids/busy"); $busy && $busy =~ /^\d+$/ });
ok($busy, "the busy request runs in child $busy");
kill 'KILL', $busy;
waitpid $client, 0;
# The parent's monitor looks for vanished children about every 10 s.
$doc = $s->json_when(sub { ($_[0]{crashes_by_signal}{SIGKILL} || 0) >= 1 }, 40);
is($doc->{crashes_by_signal}{SIGKILL}, 1, 'the busy child killed by SIGKILL: one crash');
is($doc->{crashes}, 5, 'the idle child killed by SIGKILL: nothing');
my ($k) = grep { ($_->{crash} || '') eq 'SIGKILL' } @{ $doc->{recent} };
is($k && $k->{uri}, '/php/busy.php', 'SIGKILL crash: uri');
is($k && $k->{pid}, $busy, 'SIGKILL crash: pid');
is($k && $k->{method}, 'POST', 'SIGKILL crash: method (named by the parent from its number)');

# ---------------------------------------------------------------------------
# Graceful and hard restarts record no crash, and the counts carry over
# ---------------------------------------------------------------------------
my $before = $s->json_settled;
$s->graceful;
$s->get('/php/ok.php') for 1 .. 5;
$s->restart;
$s->get('/php/ok.php') for 1 .. 5;
$doc = $s->json_settled;
is($doc->{crashes}, 5, 'no crash from graceful or hard restart');
cmp_ok($doc->{requests}{total}, '>=', $before->{requests}{total} + 10,
    'requests counted before the restarts are kept');
unlike(slurp($s->error_log), qr/EW1101/, 'slots were available');

$s->stop;
done_testing;
