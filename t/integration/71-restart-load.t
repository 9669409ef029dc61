#!/usr/bin/perl
# Restarts and crashes under load (60-restarts.t covers them on an idle
# server). Concurrent ab runs at a total concurrency of 50 while a poller
# reads ?metrics every 50 ms:
#
# 1. `apache2 -k graceful` in the middle: nothing is lost. Every count is
#    exactly what the clients got (2xx may be higher: httpd's own dummy
#    connections), the file table and the ring (big enough to hold every
#    failure) keep the entries from before, entries of both generations sit
#    in the same ring, and the new generation records on.
# 2. `apache2 -k restart` (SIGHUP: every child is stopped at once) in the
#    middle (prefork and worker; see the end for event): requests in flight
#    die with their child. What is asserted, per status: a response is
#    counted and recorded in the tables at the same moment, when it is
#    logged (log_transaction, after the answer went out), so
#      answered - in flight <= counted <= answered + client errors
#      counted - in flight <= recorded <= counted
#    (a client that got its answer from a child killed before logging costs
#    one count and one table entry, at most one per connection in flight; a
#    child killed between counting and recording costs one table entry);
#    counters never go backwards, the entries from before survive, and
#    after the restart a new load is counted exactly.
# 3. SIGKILL of the child that recorded the latest failure, 5 times during a
#    500-heavy load: the status URL answers within a second after each kill,
#    no lock stays held (a new 500 is recorded and every format renders),
#    and the same bounds as 2. hold.
# 4. After a stop, the store leaves nothing behind: its segments are
#    anonymous shared mappings (no SysV segment, nothing in /dev/shm), and
#    the runtime directory is empty.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use HTTP::Tiny;
use Time::HiRes qw(time);
use ErrWatchTest qw(poll_until);
use ErrWatchLoad;

my %MPM_CONF = (
    prefork => "StartServers 20\nMinSpareServers 10\nMaxSpareServers 64\nServerLimit 64\n"
      . "MaxRequestWorkers 64\nMaxConnectionsPerChild 0",
    threaded => "StartServers 4\nServerLimit 8\nThreadLimit 16\nThreadsPerChild 16\n"
      . "MinSpareThreads 16\nMaxSpareThreads 64\nMaxRequestWorkers 64\nMaxConnectionsPerChild 0",
);

my $MANY = '/errwatch-test/many-';

sub new_server {
    my ($mpm, $extra) = @_;
    my $s = ErrWatchTest->new(mpm => $mpm, php => 0, mpm_conf => $MPM_CONF{ $mpm eq 'prefork' ? 'prefork' : 'threaded' },
        extra_conf => $extra // '');
    $s->start;
    return $s;
}

sub short {
    my ($path) = @_;
    return $path =~ m{/errwatch-test/(many-\d+)$} ? $1 : $path;
}

# The load: {path, n, c, status, file}; c adds up to 50.
sub mix {
    my ($s, %n) = @_;
    my $d = $s->docroot;
    return (
        { path => '/ok.html', n => $n{ok} // 5000, c => 15, status => 200 },
        { path => '/errwatch-test/fail', n => $n{fail} // 4000, c => 15, status => 500, file => "$d/errwatch-test/fail" },
        { path => '/errwatch-test/status?503', n => $n{s503} // 2000, c => 10, status => 503, file => "$d/errwatch-test/status" },
        # mod_cgid answers 503 while its daemon restarts.
        { path => '/cgi-bin/bad.cgi', n => $n{cgi} // 1000, c => 10, status => 500, also => [503], file => "$d/cgi-bin/bad.cgi" },
    );
}

# Polls ?auto until Errors5xx reached $n (the load is under way).
sub wait_5xx {
    my ($s, $n) = @_;
    return poll_until(30, sub { ($s->auto_value('Errors5xx') // 0) >= $n });
}

# A warm-up before the load: many-1 fails twice, many-2 once.
sub warm_up {
    my ($s, $L) = @_;
    is($s->get("${MANY}1")->{status}, 500, "$L: many-1 answers 500") for 1 .. 2;
    is($s->get("${MANY}2")->{status}, 500, "$L: many-2 answers 500");
    return $s->json_settled;
}

# The warm-up's rows and entries are still there (the load never touches
# them): files many-1 (2) and many-2 (1), and the three oldest ring entries
# (the ring is big enough to hold every failure of the test).
sub warm_up_survived {
    my ($doc, $before, $L) = @_;
    my %f = map { short($_->{file}) => $_->{count} } @{ $doc->{files} };
    is($f{'many-1'}, 2, "$L: the file table still has many-1 with count 2");
    is($f{'many-2'}, 1, "$L: the file table still has many-2 with count 1");
    # Stories are kept for the newest 64 failures only: compare the rest.
    my @old = map { my %e = %$_; delete $e{messages}; \%e } @{ $doc->{recent} }[-3 .. -1];
    my @was = map { my %e = %$_; delete $e{messages}; \%e } @{ $before->{recent} };
    is_deeply(\@old, \@was, "$L: the ring still holds the warm-up's three entries, unchanged");
    is($doc->{since_us}, $before->{since_us}, "$L: since_us unchanged (the same counting period)");
    return;
}

# What the clients of finished ab runs got: answers per status, and per
# failing file its 5xx answers; lost = requests without an answer; conc5 =
# the concurrency of the URLs that fail, conc_ok of those that answer 200.
sub observed {
    my (@done) = @_;
    my %o = (answered => {}, lost => 0, conc5 => 0, conc_ok => 0, file_answered => {}, file_lost => {});
    for my $a (@done) {
        my $st = $a->{result}{statuses};
        $o{answered}{$_} += $st->{$_} for keys %$st;
        $o{lost} += $a->{result}{lost};
        $o{conc_ok} += $a->{c} unless $a->{file};
        next unless $a->{file};
        $o{conc5} += $a->{c};
        $o{file_answered}{ $a->{file} } += $st->{$_} for grep { $_ >= 500 } keys %$st;
        $o{file_lost}{ $a->{file} } += $a->{result}{lost};
    }
    return \%o;
}

# The counters in ?metrics (cheap to read, unlike a ?json with thousands
# of ring entries, which JSON::PP takes seconds to decode).
sub counters {
    my ($s) = @_;
    my $res = $s->metrics;
    return $res->{status} == 200 ? ErrWatchLoad::metrics_reading($res->{content}) : undef;
}

# Polls ?metrics until $cond->($counters) holds (15 s at most), then
# returns one ?json document.
sub json_once {
    my ($s, $cond) = @_;
    poll_until(15, sub { my $c = counters($s); $c && $cond->($c) });
    return $s->json;
}

# A ?json document once the store has stopped moving (after a load whose
# clients lost answers, there is no count to wait for).
sub json_quiet {
    my ($s) = @_;
    my $prev;
    return json_once(
        $s,
        sub {
            my $k = join ',', $_[0]{requests}{'5xx'}, $_[0]{store}{failures_recorded};
            my $same = defined $prev && $prev eq $k;
            $prev = $k;
            return $same;
        }
    );
}

# ?json once every 2xx, 4xx and 5xx answer the clients got is counted and
# recorded (json_settled, reading ?metrics while it waits).
sub json_settled_cheaply {
    my ($s) = @_;
    my ($n4, $n5) = ($s->sent('4xx'), $s->sent('5xx'));
    my $n2 = $s->sent('2xx');
    return json_once($s,
        sub { $_[0]{requests}{'2xx'} >= $n2 && $_[0]{requests}{'4xx'} >= $n4 && $_[0]{requests}{'5xx'} >= $n5
              && $_[0]{store}{failures_recorded} >= $n5 });
}

# The bounds of a load whose clients lost answers (see the top).
# $base: ?json before the load; $doc: after; $o: observed(); $in_flight:
# how many answers of the failing URLs may have been sent by children that
# died before logging; $in_flight_ok: the same for the 200s (default
# $in_flight).
sub check_lossy_bounds {
    my ($base, $doc, $o, $L, $in_flight, $in_flight_ok) = @_;
    $in_flight_ok //= $in_flight;
    my $lost = $o->{lost};
    my ($ans5, $counted5) = (0, $doc->{requests}{'5xx'} - $base->{requests}{'5xx'});
    for my $code (sort grep { $_ >= 500 } keys %{ $o->{answered} }) {
        my $counted = ($doc->{status}{$code} // 0) - ($base->{status}{$code} // 0);
        my $ans = $o->{answered}{$code};
        ok($counted >= $ans - $in_flight && $counted <= $ans + $lost,
            "$L: $code counted ($counted) within [answers - in flight (" . ($ans - $in_flight) . '), answers + lost (' . ($ans + $lost) . ')]');
        $ans5 += $ans;
    }
    ok($counted5 >= $ans5 - $in_flight && $counted5 <= $ans5 + $lost,
        "$L: requests.5xx ($counted5) within [" . ($ans5 - $in_flight) . ', ' . ($ans5 + $lost) . ']');
    # A killed child's requests in flight are recorded as crashes (issue
    # 11): at most one per request in flight, never counted as a status.
    my $crashes = ($doc->{crashes} // 0) - ($base->{crashes} // 0);
    cmp_ok($crashes, '<=', $in_flight, "$L: crashes recorded ($crashes) at most the requests in flight ($in_flight)");
    my $recorded = $doc->{store}{failures_recorded} - $base->{store}{failures_recorded} - $crashes;
    my $lo = $counted5 - $in_flight;
    ok($recorded <= $counted5 && $recorded >= $lo,
        "$L: failures recorded, crashes aside ($recorded) within [counted - in flight ($lo), counted ($counted5)]");
    my %files = map { $_->{file} => $_->{count} - ($_->{crashes} // 0) } @{ $doc->{files} };
    my %bfiles = map { $_->{file} => $_->{count} - ($_->{crashes} // 0) } @{ $base->{files} };
    for my $f (sort keys %{ $o->{file_answered} }) {
        my $c = ($files{$f} // 0) - ($bfiles{$f} // 0);
        my ($ans, $fl) = ($o->{file_answered}{$f}, $o->{file_lost}{$f});
        ok($c <= $ans + $fl && $c >= $ans - $in_flight, "$L: $f count ($c) within [" . ($ans - $in_flight) . ', ' . ($ans + $fl) . ']');
    }
    my $ok = $o->{answered}{200} // 0;
    cmp_ok($doc->{requests}{'2xx'} - $base->{requests}{'2xx'}, '>=', $ok - $in_flight_ok,
        "$L: every 200 the clients got was counted, but those in flight ($ok - $in_flight_ok)");
    return;
}

# ---------------------------------------------------------------------------
# 1. and 2. graceful and plain restart under load
# ---------------------------------------------------------------------------
sub restart_under_load {
    my ($mpm, $kind) = @_;
    my $L = "$kind under load ($mpm)";
    # A ring big enough for every failure of the test, so that it can show
    # the warm-up's entries and both generations' side by side.
    my $s = new_server($mpm, "ErrWatchRecent 16384");
    my $before = warm_up($s, $L);
    my @gen1 = ErrWatchTest::children_of($s->server_pid);

    my $poller = ErrWatchLoad::start_poller($s);
    my @running = map { ErrWatchLoad::start_ab($s, $_) } mix($s);
    ok(wait_5xx($s, 1500), "$L: the load is under way (1,500 failures)");
    my $t_switch = time;
    if ($kind eq 'graceful') {
        $s->graceful;
    } else {
        $s->restart;
    }
    my $n_at_switch = $s->auto_value('Errors5xx') // 0;
    my @done = map { ErrWatchLoad::wait_ab($s, $_, strict => $kind eq 'graceful') } @running;
    my ($readings, $tally) = ErrWatchLoad::stop_poller($s, $poller);
    ok($n_at_switch < $s->sent('5xx'), "$L: the load went on after the new generation answered")
      or diag("Errors5xx at the switch $n_at_switch, 5xx sent " . $s->sent('5xx'));
    ErrWatchLoad::never_backwards($readings, $L);
    my @after_switch = grep { $_->{t} > $t_switch } @$readings;
    ok(@after_switch >= 1, "$L: ?metrics was read after the restart began too");
    my $o = observed(@done);
    diag(sprintf('%s: answers %s, lost %d; poller: %d answers, %d without', $L,
        join(' ', map { "$_:$o->{answered}{$_}" } sort keys %{ $o->{answered} }), $o->{lost},
        $tally->{ok} // 0, $tally->{no_answer} // 0));

    if ($kind eq 'graceful') {
        is($tally->{no_answer} // 0, 0, "$L: every ?metrics poll got an answer");
        my $doc = json_settled_cheaply($s);
        $s->check_requests($doc, $L);
        my %want_status = map { $_ => $o->{answered}{$_} } grep { $_ >= 500 } keys %{ $o->{answered} };
        $want_status{500} += 3;    # the warm-up
        is_deeply($doc->{status}, \%want_status, "$L: status counts exact");
        my $n5 = 0;
        $n5 += $_ for values %want_status;
        is($doc->{store}{failures_recorded}, $n5, "$L: failures_recorded exactly $n5");
        is(scalar @{ $doc->{recent} }, $n5, "$L: the ring holds every failure ($n5)");
        my %files = map { $_->{file} => $_->{count} } @{ $doc->{files} };
        is($files{$_}, $o->{file_answered}{$_}, "$L: $_: count exactly $o->{file_answered}{$_}") for sort keys %{ $o->{file_answered} };
        is($doc->{store}{files_evicted},   0, "$L: files_evicted 0");
        is($doc->{store}{lock_recoveries}, 0, "$L: lock_recoveries 0");
        warm_up_survived($doc, $before, $L);
        my %g1 = map { $_ => 1 } @gen1;
        my @pids = map { $_->{pid} } @{ $doc->{recent} };
        ok((grep { $g1{$_} } @pids) > 3, "$L: the ring has failures recorded by the first generation");
        ok((grep { !$g1{$_} } @pids), "$L: and by the new generation, in the same ring");
    } else {
        my $doc = json_quiet($s);
        check_lossy_bounds($before, $doc, $o, $L, $o->{conc5}, $o->{conc_ok});
        warm_up_survived($doc, $before, $L);
        is($doc->{store}{files_evicted}, 0, "$L: files_evicted 0");

        # After the restart, with nothing in flight: a new load is exact.
        my $base = json_quiet($s);
        my @again = ErrWatchLoad::run_ab($s, [grep { $_->{path} !~ /cgi/ } mix($s, ok => 1000, fail => 1000, s503 => 500)]);
        my $now = json_once($s, sub { $_[0]{requests}{'5xx'} >= $base->{requests}{'5xx'} + 1500
                                      && $_[0]{store}{failures_recorded} >= $base->{store}{failures_recorded} + 1500 });
        is($now->{requests}{'5xx'} - $base->{requests}{'5xx'}, 1500, "$L: after: requests.5xx grew by exactly 1500");
        is($now->{status}{500} - $base->{status}{500}, 1000, "$L: after: 500s grew by exactly 1000");
        is($now->{status}{503} - $base->{status}{503}, 500, "$L: after: 503s grew by exactly 500");
        is($now->{store}{failures_recorded} - $base->{store}{failures_recorded}, 1500,
            "$L: after: failures_recorded grew by exactly 1500");
        my %bf = map { $_->{file} => $_->{count} } @{ $base->{files} };
        my %nf = map { $_->{file} => $_->{count} } @{ $now->{files} };
        for my $a (grep { $_->{file} } @again) {
            is($nf{ $a->{file} } - ($bf{ $a->{file} } // 0), $a->{n}, "$L: after: $a->{file} grew by exactly $a->{n}");
        }
    }

    # Recording goes on in the new generation.
    ok(poll_until(15, sub { !grep { ErrWatchTest::proc_alive($_) } @gen1 }), "$L: the first generation is gone");
    my $pre = json_quiet($s);
    is($s->get("${MANY}3")->{status}, 500, "$L: many-3 answers 500");
    my $post = json_once($s, sub { $_[0]{store}{failures_recorded} > $pre->{store}{failures_recorded} });
    is($post->{store}{failures_recorded}, $pre->{store}{failures_recorded} + 1, "$L: one more failure recorded");
    is(short($post->{recent}[0]{uri}), 'many-3', "$L: it is the newest ring entry");
    my %g1 = map { $_ => 1 } @gen1;
    ok(!$g1{ $post->{recent}[0]{pid} }, "$L: recorded by a new-generation child");

    $s->stop;
    $s->scan_error_log($L);
    return;
}

# ---------------------------------------------------------------------------
# 3. SIGKILL of a child, 5 times, during a 500-heavy load
# ---------------------------------------------------------------------------
sub kill_under_load {
    my ($mpm) = @_;
    my $L = "SIGKILL under load ($mpm)";
    my $s = new_server($mpm);
    my $parent = $s->server_pid;
    my $base = $s->json_settled;
    my $poller = ErrWatchLoad::start_poller($s);
    my @specs = (
        { path => '/errwatch-test/fail',       n => 12000, c => 30, status => 500, file => $s->docroot . '/errwatch-test/fail' },
        { path => '/errwatch-test/status?503', n => 4000,  c => 10, status => 503, file => $s->docroot . '/errwatch-test/status' },
        { path => '/ok.html',                  n => 4000,  c => 10, status => 200 },
    );
    my @running = map { ErrWatchLoad::start_ab($s, $_) } @specs;
    my $probe = HTTP::Tiny->new(keep_alive => 0, timeout => 5, max_redirect => 0);
    my (@victims, @latency);
    my $mark = 0;
    for my $k (1 .. 5) {
        $mark += 1000;
        ok(wait_5xx($s, $mark), "$L: kill $k: the load is under way ($mark failures)");
        my $doc = $s->json;
        my $victim = $doc && $doc->{recent}[0]{pid};
        my %kids = map { $_ => 1 } ErrWatchTest::children_of($parent);
        ok($victim && $kids{$victim}, "$L: kill $k: the newest failure's pid $victim is a live child") or next;
        is(kill('KILL', $victim), 1, "$L: kill $k: kill -9 $victim");
        push @victims, $victim;
        my $t0  = time;
        my $res = $probe->get($s->base_url . '/errwatch?json');
        my $dt  = time - $t0;
        $s->count_response('GET', '/errwatch?json', $res);
        push @latency, $dt;
        is($res->{status}, 200, "$L: kill $k: the status URL answers 200");
        cmp_ok($dt, '<', 1, sprintf('%s: kill %d: ... within a second (%.3f s)', $L, $k, $dt));
        ok(eval { JSON::PP->new->utf8->decode($res->{content}) }, "$L: kill $k: with a whole JSON document");
    }
    my @done = map { ErrWatchLoad::wait_ab($s, $_, strict => 0) } @running;
    my ($readings, $tally) = ErrWatchLoad::stop_poller($s, $poller);
    ok($s->is_running, "$L: the parent is still running");
    is($s->server_pid, $parent, "$L: the same parent");
    ErrWatchLoad::never_backwards($readings, $L);
    my $o = observed(@done);
    diag(sprintf('%s: %d requests lost; status URL after each kill: %s s', $L, $o->{lost},
        join(' ', map { sprintf '%.3f', $_ } @latency)));

    $s->new_client;
    my $doc = json_quiet($s);
    # A killed prefork child had one request in flight, an event child up
    # to its 16 threads' worth.
    my $in_flight = scalar(@victims) * ($mpm eq 'prefork' ? 1 : 16);
    check_lossy_bounds($base, $doc, $o, $L, $in_flight);
    diag("$L: lock_recoveries $doc->{store}{lock_recoveries}");

    # No lock is left held: a new failure is recorded and every format renders.
    is($s->get("${MANY}after")->{status}, 500, "$L: a new 500 after the kills");
    my $post = $s->json_when(sub { $_[0]{store}{failures_recorded} > $doc->{store}{failures_recorded} }, 5);
    is($post && $post->{store}{failures_recorded}, $doc->{store}{failures_recorded} + 1, "$L: ... is recorded");
    is($post && $post->{recent}[0]{uri}, "${MANY}after", "$L: ... as the newest ring entry");
    ok($post && grep({ $_->{file} =~ m{/many-after$} && $_->{count} == 1 } @{ $post->{files} }),
        "$L: ... and in the file table");
    for my $q ('', '?auto', '?metrics') {
        my $t0 = time;
        my $r  = $s->get("/errwatch$q");
        is($r->{status}, 200, "$L: /errwatch$q renders");
        cmp_ok(time - $t0, '<', 1, "$L: /errwatch$q within a second");
    }

    $s->stop;
    my $allow = join '|', @victims;
    my @death = grep { /exit signal/ } split /\n/, $s->error_log_text;
    ok(!grep({ !/child pid (?:$allow) exit signal Killed \(9\)$/ } @death),
        "$L: no child died but those killed") or diag(join "\n", @death);
    $s->scan_error_log_allowing($L, [qr/child pid (?:$allow) exit signal Killed \(9\)$/]);
    return;
}

# ---------------------------------------------------------------------------
# 4. Nothing left behind after a stop
# ---------------------------------------------------------------------------

# SysV segments as {shmid => cpid}.
sub sysv_segments {
    my %seg;
    for (split /\n/, `ipcs -m -p 2>/dev/null`) {
        $seg{$1} = $2 if /^\s*(\d+)\s+\S+\s+(\d+)\s+\d+/;
    }
    return \%seg;
}

sub dev_shm { opendir my $d, '/dev/shm' or return {}; my %e = map { $_ => 1 } grep { !/^\.\.?$/ } readdir $d; return \%e }

sub nothing_left {
    my ($mpm) = @_;
    my $L = "stop leaves nothing ($mpm)";
    my $shm_before = dev_shm();
    my $s = new_server($mpm);
    $s->get('/errwatch-test/fail');
    $s->json_settled;
    my $parent = $s->server_pid;
    my @pids = ($parent, ErrWatchTest::children_of($parent));
    my $maps = ErrWatchTest::slurp("/proc/$parent/maps");
    my @shared = @{ ErrWatchLoad::shared_mappings($parent) };
    # The scoreboard and the store's two parts (header and tables).
    cmp_ok(scalar @shared, '>=', 3, "$L: the parent maps anonymous shared memory (scoreboard, store header and tables)")
      or diag($maps);
    ok($maps !~ m{/dev/shm/|SYSV}, "$L: no POSIX or SysV shared memory is mapped") or diag($maps);
    my $sysv = sysv_segments();
    my %ours = map { $_ => 1 } @pids;
    ok(!grep({ $ours{ $sysv->{$_} } } keys %$sysv), "$L: no SysV segment was made by the server");
    my $run = $s->dir . '/run';

    $s->stop;
    ok(!grep({ ErrWatchTest::proc_alive($_) } @pids), "$L: every server process is gone");
    $sysv = sysv_segments();
    ok(!grep({ $ours{ $sysv->{$_} } } keys %$sysv), "$L: no SysV segment of the server is left (ipcs -m)");
    my $shm_after = dev_shm();
    my @new = grep { !$shm_before->{$_} && (/\Q$parent\E|errwatch/i || (stat "/dev/shm/$_")[4] == (getpwnam('www-data'))[2]) }
      keys %$shm_after;
    ok(!@new, "$L: nothing of the server's in /dev/shm") or diag("@new");
    opendir my $d, $run or die "$run: $!";
    # errwatch.state is meant to stay: it is the evidence for the next start.
    my @left = grep { !/^\.\.?$/ && $_ ne 'errwatch.state' } readdir $d;
    ok(!@left, "$L: the runtime directory is empty (no pid, lock, mutex or socket file)") or diag("@left");
    $s->scan_error_log($L);
    return;
}

restart_under_load('event',   'graceful');
restart_under_load('prefork', 'graceful');
# Plain restart under load on prefork and worker, not event: Debian's httpd
# 2.4 event MPM itself crashes now and then when SIGHUP stops a busy child
# (SIGSEGV in apr_os_sock_get() called from mod_mpm_event's child exit
# path; 1 to 3 times in 8 restarts under this load, with or without
# mod_errwatch loaded). 60-restarts.t restarts an idle event server.
restart_under_load('worker',  'restart');
restart_under_load('prefork', 'restart');
kill_under_load($_) for qw(prefork event);
nothing_left($_)    for qw(prefork event);

done_testing;
