#!/usr/bin/perl
# Exactness under load: prefork with mod_php, worker and event with mod_cgid
# and the test module. Five concurrent `ab` runs, one URL each, 20,000
# requests in all at a total concurrency of 50, against enough processes and
# threads for real contention (64 workers; 4 processes x 16 threads for
# worker and event). Every URL answers one status, so what the clients got
# is known exactly from ab's counts; the store must say exactly the same,
# per status code, per class, per file and per handler, in ?json, ?auto and
# ?metrics.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Scalar::Util ();
use Test::More;
use ErrWatchTest qw(poll_until);
use ErrWatchLoad;

my $PHP = 'application/x-httpd-php';

my %MPM_CONF = (
    prefork => "StartServers 50\nMinSpareServers 10\nMaxSpareServers 64\nServerLimit 64\n"
      . "MaxRequestWorkers 64\nMaxConnectionsPerChild 0",
    threaded => "StartServers 4\nServerLimit 4\nThreadLimit 16\nThreadsPerChild 16\n"
      . "MinSpareThreads 16\nMaxSpareThreads 64\nMaxRequestWorkers 64\nMaxConnectionsPerChild 0",
);

# The load per MPM: {path, n, c, status, file (under the docroot), handler}.
# n adds up to 20,000 and c to 50.
sub mix_for {
    my ($mpm) = @_;
    if ($mpm eq 'prefork') {
        return (
            { path => '/ok.html',            n => 4000, c => 10, status => 200 },
            { path => '/php/ok.php',         n => 4000, c => 10, status => 200 },
            { path => '/php/fatal.php',      n => 4000, c => 10, status => 500, file => 'php/fatal.php', handler => $PHP },
            { path => '/php/parse.php',      n => 4000, c => 10, status => 500, file => 'php/parse.php', handler => $PHP },
            { path => '/errwatch-test/fail', n => 4000, c => 10, status => 500, file => 'errwatch-test/fail', handler => 'errwatch-test-500' },
        );
    }
    return (
        { path => '/ok.html',                 n => 6000, c => 10, status => 200 },
        { path => '/cgi-bin/ok.cgi',          n => 2000, c => 10, status => 200 },
        { path => '/cgi-bin/bad.cgi',         n => 2000, c => 10, status => 500, file => 'cgi-bin/bad.cgi', handler => 'cgi-script' },
        { path => '/errwatch-test/fail',      n => 6000, c => 10, status => 500, file => 'errwatch-test/fail', handler => 'errwatch-test-500' },
        { path => '/errwatch-test/status?503', n => 4000, c => 10, status => 503, file => 'errwatch-test/status', handler => 'errwatch-test-status' },
    );
}

sub exact_under_load {
    my ($mpm) = @_;
    my $L = "load ($mpm)";
    my $s = ErrWatchTest->new(
        mpm      => $mpm,
        php      => $mpm eq 'prefork' ? 1 : 0,
        mpm_conf => $MPM_CONF{ $mpm eq 'prefork' ? 'prefork' : 'threaded' },
    );
    $s->start;
    my $docroot = $s->docroot;
    my @mix = mix_for($mpm);
    my ($n_total, $c_total) = (0, 0);
    $n_total += $_->{n} for @mix;
    $c_total += $_->{c} for @mix;
    is($n_total, 20000, "$L: 20,000 requests");
    is($c_total, 50,    "$L: total concurrency 50");

    my @done = ErrWatchLoad::run_ab($s, \@mix);
    my $secs = 0;
    $secs = $_->{result}{seconds} > $secs ? $_->{result}{seconds} : $secs for @done;
    diag(sprintf('%s: %d requests in %.1f s', $L, $n_total, $secs));
    ok(
        # The ?auto request itself is tallied but not yet in its own page.
        poll_until(10, sub { my $v = $s->auto_value('Total Accesses'); defined $v && $v >= $s->sent('total') - 1 }),
        "$L: every answer reached the counters"
    );

    # What the clients got, per status and per file.
    my (%by_status, %by_file, %by_handler);
    for my $m (grep { $_->{status} >= 500 } @mix) {
        $by_status{ $m->{status} } += $m->{n};
        $by_file{"$docroot/$m->{file}"} += $m->{n};
        $by_handler{"$m->{handler} $m->{status}"} += $m->{n};
    }
    my $n5xx = 0;
    $n5xx += $_ for values %by_status;

    my $doc = $s->json_settled;
    $s->check_requests($doc, $L);
    is($doc->{requests}{'5xx'}, $n5xx, "$L: requests.5xx is exactly $n5xx");
    # What the harness and the ab runs had got when ?json was asked for;
    # the ?json request may count itself.
    my $want_total = $s->sent('total', undef, $s->{json_sent}{ Scalar::Util::refaddr($doc) });
    ok($doc->{requests}{total} == $want_total || $doc->{requests}{total} == $want_total + 1,
        "$L: requests.total is every answer the clients got ($want_total, or one more: this request)")
      or diag("requests.total $doc->{requests}{total}");
    is_deeply($doc->{status}, { map { $_ => $by_status{$_} } keys %by_status }, "$L: status counts exact");
    is($doc->{store}{failures_recorded}, $n5xx, "$L: failures_recorded is $n5xx");
    is($doc->{store}{files_evicted},     0,     "$L: files_evicted 0");
    is($doc->{store}{lock_recoveries},   0,     "$L: lock_recoveries 0");
    is($doc->{store}{files_tracked}, scalar keys %by_file, "$L: files_tracked");
    is_deeply({ map { $_->{file} => $_->{count} } @{ $doc->{files} } }, \%by_file, "$L: every file's count exact");
    for my $f (@{ $doc->{files} }) {
        my ($m) = grep { $_->{file} && "$docroot/$_->{file}" eq $f->{file} } @mix;
        next unless $m;
        is($f->{last_status}, $m->{status},  "$L: $m->{file}: last_status");
        is($f->{handler},     $m->{handler}, "$L: $m->{file}: handler");
    }
    is_deeply({ map { ("$_->{handler} $_->{status}" => $_->{count}) } @{ $doc->{handlers} } }, \%by_handler,
        "$L: handler rows exact");
    is($doc->{window}{'5xx'}{'15m'}, $n5xx, "$L: window 5xx 15m is $n5xx");
    is($doc->{window}{500}{'15m'}, $by_status{500}, "$L: window 500 15m is $by_status{500}");
    is(scalar @{ $doc->{recent} }, 256, "$L: the ring is full (256 of $n5xx)");
    my %recent_pids = map { $_->{pid} => 1 } @{ $doc->{recent} };
    cmp_ok(scalar keys %recent_pids, '>', 1, "$L: the last 256 failures came from several processes");

    # The same numbers in ?auto and ?metrics.
    my %auto = map { $_->[0] => $_->[1] } grep { defined $_->[1] } @{ $s->auto };
    is($auto{Errors500}, $by_status{500}, "$L: ?auto Errors500");
    is($auto{Errors5xx}, $n5xx,           "$L: ?auto Errors5xx");
    is($auto{Errors503}, $by_status{503}, "$L: ?auto Errors503") if $by_status{503};
    is($auto{ErrorFiles}, scalar keys %by_file, "$L: ?auto ErrorFiles");
    my $m = ErrWatchTest::parse_metrics($s->metrics->{content});
    for my $code (sort keys %by_status) {
        is(ErrWatchTest::metric_value($m, 'errwatch_errors_total', { status => $code }),
            $by_status{$code}, "$L: ?metrics errwatch_errors_total{status=$code}");
    }
    for my $f (sort keys %by_file) {
        my ($row) = grep { $_->{labels}{file} eq $f } @{ ErrWatchTest::metric_samples($m, 'errwatch_file_errors_total') };
        is($row && $row->{value}, $by_file{$f}, "$L: ?metrics errwatch_file_errors_total for $f");
    }
    is(ErrWatchTest::metric_value($m, 'errwatch_requests_total', { class => '5xx' }), $n5xx,
        "$L: ?metrics errwatch_requests_total{class=5xx}");

    $s->stop;
    $s->scan_error_log($L);
    return;
}

exact_under_load($_) for qw(prefork worker event);

done_testing;
