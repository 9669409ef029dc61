#!/usr/bin/perl
# mod_wsgi in daemon mode (issue 12): the application runs in daemon
# processes (WSGIDaemonProcess, 2 processes x 4 threads), which log its
# tracebacks; the request's worker, in another process, records the
# failure. Each traceback must reach its own request's story, under
# concurrent failing requests with distinguishable errors, and still after
# a graceful restart (mod_wsgi then starts its daemons again).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use POSIX qw(:sys_wait_h);
use Test::More;
use ErrWatchTest qw(poll_until);

plan skip_all => 'needs mod_wsgi (package libapache2-mod-wsgi-py3)'
  unless -e '/usr/lib/apache2/modules/mod_wsgi.so';

my $s = ErrWatchTest->new(mpm => 'event', status => 0, modules => [['wsgi_module', 'mod_wsgi.so']]);
my $dir = $s->dir;
my $app = $s->docroot . '/daemon.wsgi';
ErrWatchTest::spew($app, <<'EOF', 0644);
import os, time

def check(n):
    if n == 0:
        return b'fine\n'
    time.sleep(0.2)   # overlap with the other requests
    raise ValueError('request-%d failed in pid %d' % (n, os.getpid()))

def application(environ, start_response):
    n = int(environ.get('PATH_INFO', '/0').strip('/') or 0)
    body = check(n)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [body]
EOF
$s->set_extra_conf(<<"EOF");
WSGISocketPrefix "$dir/run/wsgi"
WSGIDaemonProcess errwatch-daemon processes=2 threads=4 display-name=errwatch-daemon
WSGIScriptAlias /app "$app"
<Location "/app">
    WSGIProcessGroup errwatch-daemon
    WSGIApplicationGroup %{GLOBAL}
</Location>
EOF
$s->start;
is($s->get('/app/0')->{status}, 200, 'the daemon answers');

# n concurrent failing requests /app/<first>.. /app/<first+n-1>, each from
# its own client process.
sub fail_concurrently {
    my ($first, $n) = @_;
    my @pids;
    for my $i ($first .. $first + $n - 1) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            my $res = HTTP::Tiny->new(timeout => 30)->get($s->base_url . "/app/$i");
            POSIX::_exit($res->{status} == 500 ? 0 : 1);
        }
        push @pids, $pid;
    }
    my $ok = 0;
    for (@pids) { waitpid($_, 0); $ok++ if $? == 0 }
    return $ok;
}

sub check_stories {
    my ($first, $n, $label) = @_;
    my %want = map { ("/app/$_" => $_) } $first .. $first + $n - 1;
    my $doc = $s->json_when(sub { (grep { $want{ $_->{uri} } } @{ $_[0]{recent} }) >= $n }, 20);
    my @mine = grep { $want{ $_->{uri} } } @{ $doc ? $doc->{recent} : [] };
    is(scalar @mine, $n, "$label: $n failures recorded");
    my ($own, $foreign, $traceback, $message) = (0, 0, 0, 0);
    my %daemon_pids;
    for my $e (@mine) {
        my $k = $want{ $e->{uri} };
        my $story = join "\n", @{ $e->{messages} || [] };
        my @ids = $story =~ /request-(\d+) failed/g;
        $own++ if @ids && !grep { $_ != $k } @ids;
        $foreign++ if grep { $_ != $k } @ids;
        $traceback++ if $story =~ /Traceback \(most recent call last\):/ && $story =~ /daemon\.wsgi", line \d+, in check/;
        $message++ if ($e->{message} // '') =~ /^ValueError: request-\Q$k\E failed in pid \d+$/;
        $daemon_pids{$1} = 1 if $story =~ /failed in pid (\d+)/;
    }
    is($own,       $n, "$label: every story holds its own request's error") or diag(explain(\@mine));
    is($foreign,   0,  "$label: and no other request's");
    is($traceback, $n, "$label: every story holds the traceback from the daemon");
    is($message,   $n, "$label: message: the exception line");
    cmp_ok(scalar keys %daemon_pids, '>=', 1, "$label: logged by the daemon processes (" . join(',', sort keys %daemon_pids) . ')');
    ok(!(grep { $_ == $s->server_pid } keys %daemon_pids), "$label: not by the server's parent");
    return \%daemon_pids;
}

is(fail_concurrently(1, 16), 16, '16 concurrent failing requests answer 500');
my $pids = check_stories(1, 16, 'daemon mode');
my $doc = $s->json;
my ($row) = grep { $_->{file} =~ m{/daemon\.wsgi$} } @{ $doc->{files} || [] };
is($row && $row->{count}, 16, 'one file row, the script, count 16');
is($row && $row->{handler}, 'wsgi-script', '... handler wsgi-script');

$s->graceful;
is($s->get('/app/0')->{status}, 200, 'after a graceful restart the daemon answers');
is(fail_concurrently(101, 8), 8, '8 more concurrent failures after the restart');
check_stories(101, 8, 'after a graceful restart');

$s->stop;
$s->scan_error_log('wsgi daemon');
done_testing;
