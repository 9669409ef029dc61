#!/usr/bin/perl
# A tail killed while it waits (issue 17): prefork's plain restart (SIGHUP
# kills every child, the tailing one too) and a SIGKILL of the tailing
# child leave the shared waiter count raised, and every later failure would
# pay a futex wake for nobody. The parent's monitor clears it.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use POSIX ();
use Test::More;
use ErrWatchTest qw(poll_until);
use ErrWatchTail;

my $s = ErrWatchTest->new(mpm => 'prefork', php => 0);
$s->start;

sub waiters { my $d = $s->json; return $d ? $d->{store}{tail_waiters} : undef }

# 1. A plain restart while tails wait: an HTTP/1.0 one, and curl over
# HTTP/1.1 (chunked). Each gets the documented closing line before the
# connection closes, and curl sees a whole chunked response (exit 0; a
# missing last chunk is exit 18).
my $t = ErrWatchTail->open($s, 'tail');
is($t->status, 200, 'the tail opened');
my $curl_out = $s->dir . '/curl-tail.txt';
my $curl = fork;
die "fork: $!" unless defined $curl;
if ($curl == 0) {
    exec('curl', '-sSN', '--http1.1', '-o', $curl_out, $s->base_url . '/errwatch?tail') or exit 99;
}
ok(poll_until(10, sub { (waiters() // 0) == 2 }), 'two tails asleep: tail_waiters 2');
$s->restart;
my $END = qr/^# end: the server is restarting or stopping; resume with \?tail&since=\d+$/;
my @lines = $t->lines_until(15, sub { $_[-1] =~ /^# end:/ });
like($lines[-1] // '', $END, 'HTTP/1.0 tail: the closing line came at the plain restart')
  or diag(join "\n", @lines);
ok($t->wait_eof(10), '... and then the connection closed');
ok(poll_until(15, sub { waitpid($curl, POSIX::WNOHANG()) == $curl }), 'curl ended');
is($? >> 8, 0, 'curl: a whole chunked response (exit 0)');
my @curl_lines = split /\n/, (ErrWatchTest::slurp($curl_out) // '');
like($curl_lines[-1] // '', $END, 'curl over HTTP/1.1: the closing line came too');
ok(poll_until(15, sub { defined(my $w = waiters()) or return 0; $w == 0 }),
    'after a plain restart killed them, tail_waiters is back to 0');
$t->close;

# 2. SIGKILL of the child that serves a waiting tail.
my @before = ErrWatchTest::children_of($s->server_pid);
$t = ErrWatchTail->open($s, 'tail');
is($t->status, 200, 'a second tail opened');
ok(poll_until(10, sub { (waiters() // 0) == 1 }), 'tail_waiters 1 again');
# The tailing child is the one sleeping on the futex.
my ($tailer) = grep { (ErrWatchTest::slurp("/proc/$_/wchan") // '') =~ /futex/ }
  ErrWatchTest::children_of($s->server_pid);
ok($tailer, 'the tailing child found (wchan futex)') or diag("children: @before");
kill 'KILL', $tailer if $tailer;
ok(poll_until(15, sub { defined(my $w = waiters()) or return 0; $w == 0 }),
    'after the SIGKILL, tail_waiters is back to 0');
$t->close;

$s->stop;
done_testing;
