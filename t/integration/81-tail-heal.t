#!/usr/bin/perl
# A tail killed while it waits (issue 17): prefork's plain restart (SIGHUP
# kills every child, the tailing one too) and a SIGKILL of the tailing
# child leave the shared waiter count raised, and every later failure would
# pay a futex wake for nobody. The parent's monitor clears it.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use ErrWatchTest qw(poll_until);
use ErrWatchTail;

my $s = ErrWatchTest->new(mpm => 'prefork', php => 0);
$s->start;

sub waiters { my $d = $s->json; return $d ? $d->{store}{tail_waiters} : undef }

# 1. A plain restart while a tail waits.
my $t = ErrWatchTail->open($s, 'tail');
is($t->status, 200, 'the tail opened');
ok(poll_until(10, sub { (waiters() // 0) == 1 }), 'one tail asleep: tail_waiters 1');
$s->restart;
ok(poll_until(15, sub { defined(my $w = waiters()) or return 0; $w == 0 }),
    'after a plain restart killed it, tail_waiters is back to 0');
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
