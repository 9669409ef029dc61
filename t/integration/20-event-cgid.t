#!/usr/bin/perl
# event MPM + mod_cgid + mod_status (ExtendedStatus On), no PHP: attribution
# across threads, ?auto against mod_status's own, exact totals under
# concurrent clients, graceful restart.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use POSIX ();
use Test::More;
use ErrWatchTest qw(poll_until failure_cases);

my $s = ErrWatchTest->new(
    mpm        => 'event',
    php        => 0,
    status     => 1,
    extra_conf => <<'EOF',
<Location "/errwatch-test/qs">
    SetHandler errwatch-test-500
    ErrWatchQueryString On
</Location>
EOF
);
$s->start;
my $docroot = $s->docroot;

{
    my $doc = $s->json_settled;
    ok($doc, 'GET /errwatch?json answers JSON') or BAIL_OUT('no JSON from the status URL');
    is_deeply($doc->{status}, {}, 'fresh store: no status codes');
}

# ---------------------------------------------------------------------------
# Cases 3 to 6
# ---------------------------------------------------------------------------
my @cases = failure_cases($docroot, 3 .. 6);
$cases[0]{name} = 'case 3: CGI (cgid) malformed header';
my @fillers = (
    ['/ok.html',              200, qr/errwatch test: ok/],
    ['/cgi-bin/ok.cgi',       200, qr/cgi ok/],
    ['/errwatch-test/subreq', 200, qr/subrequest status 500/],
    ['/no-such-page.html',    404, undef],
);
for my $i (0 .. $#cases) {
    my $c   = $cases[$i];
    my $res = $s->get($c->{path});
    is($res->{status}, 500, "$c->{name}: answers 500");
    like($res->{content}, $c->{body}, "$c->{name}: body") if $c->{body};
    $s->json_settled;
    my $f = $fillers[$i];
    my $r = $s->get($f->[0]);
    is($r->{status}, $f->[1], "GET $f->[0] answers $f->[1]");
    like($r->{content}, $f->[2], "GET $f->[0]: body") if $f->[2];
}

my $doc = $s->json_settled;
is_deeply($doc->{status}, { 500 => 4 }, 'status: exactly {"500": 4}') or diag(explain $doc->{status});
is($doc->{requests}{'5xx'}, 4, 'requests.5xx is 4');
$s->check_requests($doc, 'after the cases');
my @recent = @{ $doc->{recent} || [] };
is_deeply([map { $_->{uri} } @recent], [reverse map { $_->{uri} } @cases], 'recent is newest first');
for my $c (@cases) {
    my @hits = grep { defined $_->{uri} && $_->{uri} eq $c->{uri} } @recent;
    is(scalar @hits, 1, "$c->{name}: exactly one recent entry");
    $s->check_recent_entry($hits[0], $c, $c->{name});
    my @f = grep { defined $_->{file} && $_->{file} =~ $c->{file} } @{ $doc->{files} || [] };
    is(scalar @f, 1, "$c->{name}: one files entry") or next;
    is($f[0]{count},   1,             "$c->{name}: files count");
    is($f[0]{handler}, $c->{handler}, "$c->{name}: files handler");
}
is($doc->{store}{files_tracked},     4, 'store.files_tracked');
is($doc->{store}{failures_recorded}, 4, 'store.failures_recorded');

# ---------------------------------------------------------------------------
# ErrWatchQueryString On
# ---------------------------------------------------------------------------
{
    is($s->get('/errwatch-test/qs?a=1&b=two')->{status}, 500, 'ErrWatchQueryString On: request fails');
    my $d = $s->json_settled;
    is($d->{recent}[0]{uri}, '/errwatch-test/qs?a=1&b=two', 'ErrWatchQueryString On: uri has the query');
}

# ---------------------------------------------------------------------------
# ?auto against /server-status?auto
# ---------------------------------------------------------------------------
{
    ok($s->wait_auto_full('/errwatch?auto', '/server-status?auto'), 'both ?auto pages print every rate line');
    my $mine = $s->auto;
    my $v    = $s->check_auto_format($mine, $s->last_auto_text, '?auto (event, mod_status loaded)',
        [qw(Errors500 Errors5xx Crashes ErrorFiles ErrorFilesEvicted ErrorCauses ErrWatchUptime
            Errors500Last1m Errors500Last5m Errors500Last15m Errors5xxLast1m Errors5xxLast5m Errors5xxLast15m)], full => 1);
    is($v->{Errors500}, 5, '?auto Errors500');
    is($v->{Errors5xx}, 5, '?auto Errors5xx');
    ok(exists $v->{$_}, "?auto has the async key $_") for ErrWatchTest::auto_async_keys();

    my $theirs = $s->auto('/server-status?auto');
    like($s->last_auto_text, qr/\A127\.0\.0\.1\n/, 'mod_status ?auto starts with a bare host line (ours does not)');
    is_deeply(ErrWatchTest::keys_upto_scoreboard($mine), ErrWatchTest::keys_upto_scoreboard($theirs),
        '?auto keys up to Scoreboard equal /server-status?auto (event)');
    # If errwatch adds lines to /server-status, they are its own Errors lines.
    my @their_tail = map { $_->[0] } grep { defined $_->[1] } @$theirs;
    shift @their_tail while @their_tail && $their_tail[0] ne 'Scoreboard';
    shift @their_tail;
    my @errw = grep { /^(?:Err|Crashes$)/ } @their_tail;
    ok(!@errw || "@errw" eq 'Errors500 Errors5xx Crashes ErrorFiles ErrorFilesEvicted ErrorCauses ErrWatchUptime '
          . 'Errors500Last1m Errors500Last5m Errors500Last15m Errors5xxLast1m Errors5xxLast5m Errors5xxLast15m',
        '/server-status?auto: errwatch lines, if any, are the same as ours')
      or diag("@their_tail");
}

# ---------------------------------------------------------------------------
# Concurrent clients: exact totals across processes and threads
# ---------------------------------------------------------------------------
{
    my $before = $s->json_settled;
    my ($clients, $per) = (4, 25);
    # Per client: i % 4 == 0 -> 500, 2 -> 503, else 200.
    my %want = (200 => 0, 500 => 0, 503 => 0);
    for my $i (0 .. $per - 1) {
        $want{ $i % 4 == 0 ? 500 : $i % 4 == 2 ? 503 : 200 } += $clients;
    }
    my @kids;
    for my $k (1 .. $clients) {
        pipe(my $rd, my $wr) or die "pipe: $!";
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            close $rd;
            my $ua = HTTP::Tiny->new(keep_alive => 1, timeout => 15);
            my %got;
            for my $i (0 .. $per - 1) {
                my $path = $i % 4 == 0 ? '/errwatch-test/fail'
                  : $i % 4 == 2 ? '/errwatch-test/status?503'
                  : '/ok.html';
                $got{ $ua->get($s->base_url . $path)->{status} }++;
            }
            print {$wr} join(' ', map { "$_=$got{$_}" } sort keys %got), "\n";
            close $wr;
            POSIX::_exit(0);
        }
        close $wr;
        push @kids, [$pid, $rd];
    }
    my %got;
    for my $kid (@kids) {
        my ($pid, $rd) = @$kid;
        my $line = <$rd>;
        close $rd;
        waitpid($pid, 0);
        for (split ' ', $line // '') {
            my ($st, $n) = split /=/;
            $got{$st} += $n;
        }
    }
    is_deeply(\%got, \%want, "concurrent clients: answers as sent ($clients x $per)")
      or diag(explain \%got);
    $s->add_sent("${\ int($_ / 100)}xx", $got{$_}) for keys %got;

    my $after = $s->json_settled;
    is($after->{status}{500}, $before->{status}{500} + $want{500}, 'concurrent: exact 500 total');
    is($after->{status}{503}, $want{503}, 'concurrent: exact 503 total');
    is($after->{requests}{'5xx'}, $before->{requests}{'5xx'} + $want{500} + $want{503},
        'concurrent: exact requests.5xx');
    $s->check_requests($after, 'concurrent');
    my ($fail) = grep { $_->{file} =~ m{/errwatch-test/fail$} } @{ $after->{files} };
    my ($fail0) = grep { $_->{file} =~ m{/errwatch-test/fail$} } @{ $before->{files} };
    is($fail->{count}, $fail0->{count} + $want{500}, 'concurrent: exact count for errwatch-test/fail');
    my ($st) = grep { $_->{file} =~ m{/errwatch-test/status$} } @{ $after->{files} };
    is($st->{count},       $want{503}, 'concurrent: exact count for errwatch-test/status');
    is($st->{last_status}, 503,        'concurrent: errwatch-test/status last_status 503');
    is($after->{store}{failures_recorded},
        $before->{store}{failures_recorded} + $want{500} + $want{503}, 'concurrent: failures_recorded');
    is(scalar @{ $after->{recent} },
        $before->{store}{failures_recorded} + $want{500} + $want{503}, 'concurrent: every failure is in recent');
    my %pids = map { $_->{pid} => 1 } @{ $after->{recent} };
    note('worker pids seen: ' . join(' ', sort keys %pids));
    # The newest entries are exactly the concurrent failures: none lost,
    # none doubled. (Their order is the order they were recorded in, while
    # time_us is when each request started, so time_us need not be sorted.)
    my $new = $want{500} + $want{503};
    my %by_uri;
    $by_uri{ $_->{uri} }++ for @{ $after->{recent} }[0 .. $new - 1];
    is_deeply(\%by_uri, { '/errwatch-test/fail' => $want{500}, '/errwatch-test/status' => $want{503} },
        'concurrent: the newest entries are the concurrent failures')
      or diag(explain \%by_uri);
    is_deeply([map { $_->{uri} } @{ $after->{recent} }[$new .. $#{ $after->{recent} }]],
        [map { $_->{uri} } @{ $before->{recent} }], 'concurrent: older entries are unchanged, in order');
    my $v = { map { @$_ } @{ $s->auto } };
    is($v->{Errors500}, $after->{status}{500}, '?auto Errors500 agrees with ?json');
    is($v->{Errors503}, $want{503},            '?auto Errors503');
}

# ---------------------------------------------------------------------------
# Graceful restart under event
# ---------------------------------------------------------------------------
{
    my $before = $s->json_settled;
    $s->graceful;
    my $after = $s->json_settled;
    is_deeply($after->{status}, $before->{status}, 'graceful: status counts survive');
    is($after->{since_us}, $before->{since_us}, 'graceful: same store');
    is($s->get('/cgi-bin/bad.cgi')->{status}, 500, 'a failure after the restart');
    my $later = $s->json_settled;
    is($later->{status}{500}, $before->{status}{500} + 1, 'graceful: a new child records into the same store');
    $s->check_requests($later, 'after graceful');
}

$s->stop;
ok(!$s->is_running, 'apache2 stopped');
$s->scan_error_log('event + cgid');

done_testing;
