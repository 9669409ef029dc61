#!/usr/bin/perl
# The state file (ErrWatchStateFile): a full stop and start, a graceful
# stop with a request in flight, and a kill -9 of the whole server keep the
# evidence; damaged, foreign or unsafe files are moved aside with a warning
# and the server starts fresh; a smaller ErrWatchFiles keeps the most recent
# rows; `none` writes nothing. Prefork, no PHP (the test module's 500s).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use HTTP::Tiny;
use POSIX qw(:sys_wait_h);
use ErrWatchTest qw(poll_until);

my $MANY = '/errwatch-test/many-';

sub state_path { return $_[0]->dir . '/run/errwatch.state' }

sub fail_on {
    my ($s, $n, $label) = @_;
    is($s->get("$MANY$n")->{status}, 500, "$label: GET many-$n answers 500");
    return $s->json_settled;
}

# What must survive: every count, file row and ring entry, and since.
sub evidence {
    my ($doc) = @_;
    return {
        since_us => $doc->{since_us},
        status   => $doc->{status},
        recorded => $doc->{store}{failures_recorded},
        files    => [map { [$_->{file}, $_->{count}, $_->{first_seen}, $_->{last_seen}] } @{ $doc->{files} }],
        recent   => [map { [$_->{uri}, $_->{time_us}, $_->{status}] } @{ $doc->{recent} }],
        r5xx     => $doc->{requests}{'5xx'},
    };
}

sub aside_files {
    my ($s) = @_;
    opendir my $d, $s->dir . '/run' or die $!;
    return grep { /^errwatch\.state\.bad-\d+$/ } readdir $d;
}

# ---------------------------------------------------------------------------
# 1. stop and start; then a smaller ErrWatchFiles
# ---------------------------------------------------------------------------
{
    my $L = 'stop and start';
    my $s = ErrWatchTest->new(mpm => 'prefork', php => 0);
    $s->start;
    fail_on($s, $_, $L) for 1 .. 5;
    my $before = $s->json_settled;
    is($before->{store}{failures_recorded}, 5, "$L: 5 failures recorded");
    $s->stop;
    my @st = stat state_path($s);
    ok(@st, "$L: the state file was written on stop");
    is(sprintf('%o', $st[2] & 07777), '600', "$L: mode 0600");
    $s->start;
    my $after = $s->json_settled;
    is_deeply(evidence($after), evidence($before), "$L: counts, files, ring and since_us kept");
    like($s->error_log_text, qr/EW1305: restored the state file/, "$L: the restore is logged");
    my $next = fail_on($s, 6, $L);
    is($next->{store}{failures_recorded}, 6, "$L: counting continues");

    # Only two rows fit: the two most recently failed files stay.
    $L = 'smaller ErrWatchFiles';
    $s->stop;
    $s->set_extra_conf('ErrWatchFiles 2');
    $s->start;
    my $small = $s->json_settled;
    is_deeply([sort map { $_->{file} =~ m{(many-\d+)$} } @{ $small->{files} }], ['many-5', 'many-6'],
        "$L: the most recent rows are kept");
    is($small->{store}{failures_recorded}, 6, "$L: counters kept");
    is(scalar @{ $small->{recent} }, 6, "$L: the ring kept every entry");
    $s->stop;
    $s->scan_error_log($L);
}

# ---------------------------------------------------------------------------
# 2. graceful-stop (Debian's systemd unit): a request still running when the
#    stop begins is in the final write.
# ---------------------------------------------------------------------------
{
    my $L = 'graceful-stop';
    my $s = ErrWatchTest->new(mpm => 'prefork', php => 0);
    $s->start;
    my $url = $s->base_url . '/cgi-bin/slow-bad.cgi';
    my $kid = fork;
    die "fork: $!" unless defined $kid;
    if ($kid == 0) {
        my $r = HTTP::Tiny->new(timeout => 20)->get($url);
        POSIX::_exit($r->{status} == 500 ? 0 : 1);
    }
    my $busy = poll_until(10, sub {
        opendir my $d, '/proc' or return 0;
        for my $p (grep { /^\d+$/ } readdir $d) {
            return 1 if ErrWatchTest::slurp("/proc/$p/cmdline") =~ /slow-bad\.cgi/;
        }
        return 0;
    });
    ok($busy, "$L: the slow CGI is running");
    my $parent = $s->server_pid;
    ErrWatchTest::run_cmd($s->dir . '/gstop.out', ErrWatchTest::apache2_bin(), '-f', $s->conf_path, '-k', 'graceful-stop');
    ok(poll_until(20, sub { waitpid($parent, WNOHANG) == $parent || !ErrWatchTest::proc_alive($parent) }),
        "$L: the parent exits");
    waitpid($kid, 0);
    is($?, 0, "$L: the in-flight request was answered 500");
    $s->stop;
    $s->start;
    my $doc = $s->json_settled;
    is($doc->{store}{failures_recorded}, 1, "$L: the failure that finished during the stop was kept");
    like($doc->{recent}[0]{uri} // '', qr/slow-bad\.cgi$/, "$L: ... in the ring");
    $s->stop;
    $s->scan_error_log($L);
}

# ---------------------------------------------------------------------------
# 3. kill -9 of the parent and every child: what the last interval wrote
# ---------------------------------------------------------------------------
{
    my $L = 'kill -9';
    my $s = ErrWatchTest->new(mpm => 'prefork', php => 0, extra_conf => 'ErrWatchStateInterval 1');
    $s->start;
    fail_on($s, $_, $L) for 1 .. 3;
    my $before = $s->json_settled;
    my $path   = state_path($s);
    # The monitor writes within an interval (plus its own 1 s tick).
    my $t0 = time;
    ok(poll_until(10, sub { my @st = stat $path; @st && $st[9] > $t0 }), "$L: the interval wrote the file");
    my $parent = $s->server_pid;
    my @kids = ErrWatchTest::children_of($parent);
    kill 'KILL', $parent, @kids;
    waitpid($parent, 0);
    poll_until(10, sub { !grep { ErrWatchTest::proc_alive($_) } @kids });
    $s->stop;
    $s->start;
    my $after = $s->json_settled;
    is($after->{store}{failures_recorded}, 3, "$L: failures recorded kept");
    is_deeply(evidence($after)->{files}, evidence($before)->{files}, "$L: file rows kept");
    is_deeply(evidence($after)->{recent}, evidence($before)->{recent}, "$L: ring kept");
    is($after->{since_us}, $before->{since_us}, "$L: since kept");
    $s->stop;
    $s->scan_error_log_allowing($L, [qr/exit signal Killed/]);
}

# ---------------------------------------------------------------------------
# 4. Untrusted files: each gives a warning, a fresh start, the file aside
# ---------------------------------------------------------------------------
{
    my $s = ErrWatchTest->new(mpm => 'prefork', php => 0);
    $s->start;
    fail_on($s, 1, 'corrupt: setup');
    $s->stop;
    my $path = state_path($s);
    open my $fh, '<:raw', $path or die "$path: $!";
    my $good = do { local $/; <$fh> };
    close $fh;
    my $shadow = -e '/etc/shadow' ? ErrWatchTest::slurp('/etc/shadow') : undef;

    my @cases = (
        ['random bytes', sub { ErrWatchTest::spew($path, join('', map { chr int rand 256 } 1 .. 4096), 0600) }, qr/EW1304/],
        ['truncated',    sub { ErrWatchTest::spew($path, substr($good, 0, length($good) - 9), 0600) }, qr/EW1304: .*truncated|EW1304: .*checksum/],
        ['another version', sub {
            my $v = $good;
            substr($v, 8, 4) = pack('L', 99);
            ErrWatchTest::spew($path, $v, 0600);
        }, qr/EW1304: .*another version/],
        ['a symlink to /etc/shadow', sub { unlink $path; symlink '/etc/shadow', $path or die $! }, qr/EW1301: .*symbolic link/],
        ['world-writable', sub { ErrWatchTest::spew($path, $good, 0600); chmod 0666, $path }, qr/EW1301: .*writable/],
    );
    push @cases, ['another owner', sub {
        ErrWatchTest::spew($path, $good, 0600);
        chown scalar((getpwnam('www-data'))[2]), -1, $path or die $!;
    }, qr/EW1301: .*owned by uid/] if $> == 0;

    for my $c (@cases) {
        my ($what, $make, $warning) = @$c;
        my $L = "corrupt: $what";
        unlink $_ for map { $s->dir . "/run/$_" } aside_files($s);
        truncate $s->error_log, 0;
        $make->();
        $s->reset_sent;
        $s->start;
        my $doc = $s->json_settled;
        like($s->error_log_text, $warning, "$L: a warning saying why");
        is($doc->{store}{failures_recorded}, 0, "$L: a fresh start");
        is_deeply($doc->{files}, [], "$L: no files");
        is(scalar(aside_files($s)), 1, "$L: the bad file is kept aside");
        $s->stop;
    }
    is(ErrWatchTest::slurp('/etc/shadow'), $shadow, 'corrupt: /etc/shadow untouched') if defined $shadow;
    $s->scan_error_log('corrupt files');
}

# ---------------------------------------------------------------------------
# 5. ErrWatchStateFile none writes nothing
# ---------------------------------------------------------------------------
{
    my $L = 'ErrWatchStateFile none';
    my $s = ErrWatchTest->new(mpm => 'prefork', php => 0, extra_conf => 'ErrWatchStateFile none');
    $s->start;
    fail_on($s, 1, $L);
    $s->stop;
    ok(!-e state_path($s), "$L: no state file");
    opendir my $d, $s->dir . '/run' or die $!;
    my @left = grep { /errwatch/ } readdir $d;
    ok(!@left, "$L: nothing of errwatch in the runtime directory") or diag("@left");
}

# ---------------------------------------------------------------------------
# 6. Bad directive values stop httpd with the directive's name
# ---------------------------------------------------------------------------
for my $bad ('ErrWatchStateInterval 0', 'ErrWatchStateInterval 10s', 'ErrWatchStateFile ""') {
    my ($rc, $out) = ErrWatchTest->configtest(extra_conf => $bad);
    isnt($rc, 0, "configtest refuses '$bad'");
    like($out, qr/ErrWatchState(?:Interval|File)/, "... naming the directive") or diag($out);
}
my ($ok_rc) = ErrWatchTest->configtest(extra_conf => "ErrWatchStateFile none\nErrWatchStateInterval 60");
is($ok_rc, 0, 'configtest accepts none and 60');

done_testing;
