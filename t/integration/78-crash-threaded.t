#!/usr/bin/perl
# Crashes on a threaded MPM (issue 11): event + mod_wsgi in embedded mode.
# One request segfaults its child (ctypes.string_at(0)) while other requests
# are in flight in the same process and in another. Every request in flight
# in the dead process is recorded once, with in_flight = their number; the
# requests in the other process are answered and counted as usual.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use Scalar::Util ();
use ErrWatchTest qw(poll_until);

plan skip_all => 'needs mod_wsgi (package libapache2-mod-wsgi-py3)'
  unless -e '/usr/lib/apache2/modules/mod_wsgi.so';

sub spew  { return ErrWatchTest::spew(@_) }
sub slurp { return ErrWatchTest::slurp(@_) }

my $s = ErrWatchTest->new(
    mpm      => 'event',
    status   => 0,
    modules  => [['wsgi_module', 'mod_wsgi.so']],
    mpm_conf => join("\n",
        'StartServers 2', 'ServerLimit 4', 'ThreadLimit 16', 'ThreadsPerChild 8',
        'MinSpareThreads 4', 'MaxSpareThreads 32', 'MaxRequestWorkers 32',
        'MaxConnectionsPerChild 0'),
);
my $dir = $s->dir . "/wsgi-$$";
mkdir $dir;
chmod 0777, $dir;
# Each request says which process serves it, then waits until it is told to
# crash or to answer (30 s at most).
my $app = $s->docroot . '/hold.wsgi';
spew($app, <<"EOF", 0644);
import ctypes, os, time

def application(environ, start_response):
    rid = environ.get('PATH_INFO', '/').strip('/')
    with open('$dir/pid-' + rid, 'w') as f:
        f.write(str(os.getpid()))
    deadline = time.time() + 30
    while time.time() < deadline:
        if os.path.exists('$dir/crash-' + rid):
            ctypes.string_at(0)
        if os.path.exists('$dir/release'):
            break
        time.sleep(0.02)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'held ' + rid.encode()]
EOF
$s->set_extra_conf(qq{WSGIScriptAlias /hold "$app"\n});
$s->start;

# Six held requests over the two children: one child serves at least two.
my @ids = map { "r$_" } 1 .. 6;
my %client;
for my $id (@ids) {
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my $got = $s->raw_request("GET /hold/$id HTTP/1.0\r\nHost: localhost\r\n\r\n") // '';
        spew("$dir/answer-$id", $got, 0644);
        exit 0;
    }
    $client{$id} = $pid;
}
my %served_by;
ok(poll_until(20, sub {
    for my $id (@ids) { my $p = slurp("$dir/pid-$id"); $served_by{$id} = $p if $p && $p =~ /^\d+$/ }
    return keys %served_by == @ids;
}), 'all six requests are in flight') or diag(explain(\%served_by));

my %by_pid;
push @{ $by_pid{ $served_by{$_} } }, $_ for keys %served_by;
my ($victim) = sort { @{ $by_pid{$b} } <=> @{ $by_pid{$a} } || $a <=> $b } keys %by_pid;
my @doomed   = sort @{ $by_pid{$victim} };
my @survived = sort grep { $served_by{$_} != $victim } @ids;
cmp_ok(scalar @doomed, '>=', 2, "child $victim serves several requests (@doomed)");

spew("$dir/crash-$doomed[0]", '', 0644);
ok(poll_until(20, sub { !ErrWatchTest::proc_alive($victim) }), "child $victim died");
my $doc = $s->json_when(sub { ($_[0]{crashes} || 0) >= @doomed }, 20);
is($doc->{crashes}, scalar @doomed, 'one crash per request in flight in that child');
is($doc->{crashes_by_signal}{SIGSEGV}, scalar @doomed, 'all by SIGSEGV');
my @c = sort { $a->{uri} cmp $b->{uri} } grep { defined $_->{crash} } @{ $doc->{recent} || [] };
is_deeply([map { $_->{uri} } @c], [map { "/hold/$_" } @doomed],
    'exactly the requests of the dead child, none of the other') or diag(explain(\@c));
for my $e (@c) {
    is($e->{in_flight}, scalar @doomed, "$e->{uri}: in_flight is the number in that child");
    is($e->{pid},       $victim,        "$e->{uri}: pid");
    is($e->{handler},   'wsgi-script',  "$e->{uri}: handler");
    is($e->{file},      $app,           "$e->{uri}: script path");
    is($e->{crash},     'SIGSEGV',      "$e->{uri}: signal");
}

# The requests in the other children finish normally and are counted.
spew("$dir/release", '', 0644);
waitpid $client{$_}, 0 for @ids;
for my $id (@survived) {
    like(slurp("$dir/answer-$id") // '', qr{^HTTP/1\.1 200 .*held \Q$id\E}s, "$id (other child) answered 200");
}
for my $id (@doomed) {
    is(slurp("$dir/answer-$id") // '', '', "$id (dead child) got no response");
}
# Every 200 the harness itself got (the status pages) plus the survivors,
# which the forked clients got: exact.
$doc = $s->json_when(sub { $_[0]{requests}{'2xx'} >= $s->sent('2xx', undef, $s->{json_sent}{ Scalar::Util::refaddr($_[0]) }) + @survived });
is($doc->{requests}{'2xx'}, $s->sent('2xx', undef, $s->{json_sent}{ Scalar::Util::refaddr($doc) }) + @survived,
    'the survivors are counted as 200s, exactly');
is($doc->{crashes}, scalar @doomed, 'no further crash');

$s->stop;
done_testing;
