#!/usr/bin/perl
# A fleet: three Apache servers with the module on 127.0.0.2, .3 and .4, and
# one real Prometheus (Debian's) that scrapes their ?metrics every second and
# evaluates the shipped rules (conf/prometheus/errwatch.rules.yml) every
# second. Failures happen on one server; through Prometheus's HTTP API the
# file alert must fire for that instance and file only, and resolve once the
# failures stop. Stopping a server must fire the status-down alert for it.
#
# The rules are the shipped file with two windows shortened so that the test
# takes seconds, not minutes: the file alert's [5m] becomes [15s], and the
# status-down alert's "for: 1m" becomes "for: 2s". Labels, thresholds and
# expressions are otherwise the shipped ones (the test checks the rewrite
# touched exactly those). ERRWATCH_FLEET_RULES=<file> runs the test against
# another rules file (to see it fail when a rule is broken).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(time);
use ErrWatchTest qw(poll_until repo_root);

my $PROMETHEUS = $ENV{PROMETHEUS} || '/usr/bin/prometheus';
plan skip_all => "no $PROMETHEUS (Debian package prometheus)" unless -x $PROMETHEUS;

my @ADDRS = qw(127.0.0.2 127.0.0.3 127.0.0.4);
for my $addr (@ADDRS) {
    my $sock = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => 0, Proto => 'tcp');
    plan skip_all => "cannot bind $addr (no 127.0.0.0/8 on lo)" unless $sock;
}

# --- the servers -----------------------------------------------------------
my @servers = map { ErrWatchTest->new(mpm => 'prefork', php => 1, addr => $_) } @ADDRS;
$_->start for @servers;
my ($quiet, $failing, $noisy) = @servers;    # .2 stays clean, .3 fails, .4 fails a little
my %instance = map { $_->addr => $_->addr . ':' . $_->port } @servers;
my $FAILING_FILE = $failing->docroot . '/php/fatal.php';
my $NOISY_FILE   = $noisy->docroot . '/php/parse.php';

# --- the rules, with short windows ----------------------------------------
my $dir          = $servers[0]->dir;
my $shipped_path = $ENV{ERRWATCH_FLEET_RULES} || repo_root() . '/conf/prometheus/errwatch.rules.yml';
my $shipped      = ErrWatchTest::slurp($shipped_path);
my $rules        = $shipped;
my $n_window = ($rules =~ s/(increase\(errwatch_file_errors_total)\[5m\]/$1\[15s\]/g);
my $n_for    = ($rules =~ s/(expr: up\{job="errwatch"\} == 0\n\s+for:) 1m/$1 2s/g);
is($n_window, 1, 'the file alert has one [5m] window to shorten');
is($n_for,    1, 'the status-down alert has one "for: 1m" to shorten');
ErrWatchTest::spew("$dir/rules.yml", $rules, 0644);

my $prom_port = ErrWatchTest::free_port();
my $targets   = join(', ', map { "'$instance{$_}'" } @ADDRS);
ErrWatchTest::spew("$dir/prometheus.yml", <<"EOF", 0644);
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $dir/rules.yml
scrape_configs:
  - job_name: errwatch
    metrics_path: /errwatch
    params:
      metrics: ['']
    static_configs:
      - targets: [$targets]
EOF

my ($rc, $out) = ErrWatchTest::run_cmd("$dir/promtool.out", ErrWatchTest::promtool_bin(), 'check', 'config', "$dir/prometheus.yml");
is($rc, 0, 'promtool check config accepts the generated config and the rules') or diag($out);

my $prom_log = "$dir/prometheus.log";
my $prom_pid = fork() // die "fork: $!";
if ($prom_pid == 0) {
    open(STDOUT, '>', $prom_log) or die;
    open(STDERR, '>&', \*STDOUT) or die;
    exec($PROMETHEUS, "--config.file=$dir/prometheus.yml", "--storage.tsdb.path=$dir/tsdb",
        "--web.listen-address=127.0.0.1:$prom_port", '--log.level=warn') or die "exec: $!";
}
END { local $?; stop_prometheus() }

sub stop_prometheus {
    return unless $prom_pid && kill(0, $prom_pid);
    kill 'TERM', $prom_pid;
    my $gone = poll_until(20, sub { waitpid($prom_pid, WNOHANG) == $prom_pid });
    unless ($gone) { kill 'KILL', $prom_pid; waitpid($prom_pid, 0) }
    $prom_pid = 0;
}

my $http = HTTP::Tiny->new(timeout => 5);
sub api {
    my ($path) = @_;
    my $res = $http->get("http://127.0.0.1:$prom_port/api/v1/$path");
    return undef unless $res->{success};
    my $doc = eval { decode_json($res->{content}) };
    return $doc && $doc->{status} eq 'success' ? $doc->{data} : undef;
}
sub query {
    my ($expr) = @_;
    my $data = api('query?query=' . uri_escape($expr));
    return $data ? $data->{result} : undef;
}
sub uri_escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}
# The active alerts of one name: [{labels, annotations, state}, ...].
sub alerts {
    my ($name) = @_;
    my $data = api('alerts') or return undef;
    return [grep { $_->{labels}{alertname} eq $name } @{ $data->{alerts} }];
}
sub value_of {
    my ($expr) = @_;
    my $r = query($expr);
    return $r && @$r ? $r->[0]{value}[1] : undef;
}

# --- Prometheus scrapes all three ----------------------------------------
my $up = poll_until(60, sub { my $v = value_of('sum(up{job="errwatch"})'); defined $v && $v == 3 });
ok($up, 'Prometheus scrapes all three servers (sum(up{job="errwatch"}) == 3)')
    or diag(ErrWatchTest::slurp($prom_log));
my $rules_loaded = poll_until(20, sub {
        my $d = api('rules') or return 0;
        return grep { $_->{name} eq 'ErrWatchFileFailing' } map { @{ $_->{rules} } } @{ $d->{groups} };
    });
ok($rules_loaded, 'the shipped alerting rules are loaded');

# A file's first failure creates its series at 1, which increase() cannot
# count (the rule says so): make the series exist first, then fail.
sub fail_and_wait_for_series {
    my ($s, $path, $file) = @_;
    my $res = $s->get($path);
    is($res->{status}, 500, "$path answers 500 on " . $s->addr);
    my $sel = sprintf('errwatch_file_errors_total{instance="%s",file="%s"}', $instance{ $s->addr }, $file);
    ok(poll_until(20, sub { defined value_of($sel) }), "Prometheus has the series $sel");
}
fail_and_wait_for_series($failing, '/php/fatal.php', $FAILING_FILE);
fail_and_wait_for_series($noisy,   '/php/parse.php', $NOISY_FILE);

# increase() extrapolates to the ends of its window, and a series younger than
# the window has few samples: a jump of 3 seen over two scrapes counts as 6.
# Wait until both series span the whole 15 s window, as any file that has
# failed before does on a real server.
my $covered = poll_until(40, sub {
    my $r = query(sprintf('count_over_time(errwatch_file_errors_total{instance=~"%s|%s"}[15s]) >= 15',
        $instance{ $failing->addr }, $instance{ $noisy->addr }));
    $r && @$r == 2;
});
ok($covered, 'both series have samples across the whole 15 s window');

# 20 failures of one file on one server, and 3 of another file on another
# server: only the first is over the threshold (more than 5).
my $failed = 0;
$failed += $failing->get('/php/fatal.php')->{status} == 500 for 1 .. 20;
my $noisy_failed = 0;
$noisy_failed += $noisy->get('/php/parse.php')->{status} == 500 for 1 .. 3;
is($failed,       20, '20 failures on ' . $failing->addr);
is($noisy_failed, 3,  '3 failures (under the threshold) on ' . $noisy->addr);
my $sent_at = time;

# Poll the alerts until the file alert fires and then resolves; every alert
# seen firing on the way is kept, so "for no other" covers the whole window.
my (%seen, $fired, $fired_alert, $resolved);
my $done = poll_until(90, sub {
        my $a = alerts('ErrWatchFileFailing') or return 0;
        for my $al (grep { $_->{state} eq 'firing' } @$a) {
            $seen{"$al->{labels}{instance} $al->{labels}{file}"}++;
            if (!$fired && $al->{labels}{instance} eq $instance{ $failing->addr }) {
                $fired       = time - $sent_at;
                $fired_alert = $al;
            }
        }
        $resolved = time - $sent_at if $fired && !@$a;
        return $resolved;
    });
ok($fired, sprintf('ErrWatchFileFailing fires for %s (after %.1f s)', $instance{ $failing->addr }, $fired // -1));
is_deeply(
    [sort keys %seen],
    ["$instance{ $failing->addr } $FAILING_FILE"],
    'it fires for that instance and file and for no other, from the failures until it resolves'
) or diag(explain(\%seen));
if ($fired_alert) {
    is($fired_alert->{labels}{severity}, 'warning', 'severity warning');
    like($fired_alert->{annotations}{summary},
        qr/^\Q$FAILING_FILE\E failed \d+ times in 5 minutes on \Q$instance{ $failing->addr }\E$/,
        'the summary names the file and the instance');
    like($fired_alert->{annotations}{description}, qr{http://\Q$instance{ $failing->addr }\E/errwatch\?json},
        'the description links the server\'s status URL');
}
ok($done, sprintf('the alert resolves once the failures stop (%.1f s after them)', $resolved // -1));

# --- a server goes away ----------------------------------------------------
$quiet->stop;
my (%down, $down_fired);
poll_until(60, sub {
        my $a = alerts('ErrWatchStatusDown') or return 0;
        for my $al (grep { $_->{state} eq 'firing' } @$a) {
            $down{ $al->{labels}{instance} }++;
            $down_fired = $al if $al->{labels}{instance} eq $instance{ $quiet->addr };
        }
        return $down_fired;
    });
ok($down_fired, 'ErrWatchStatusDown fires for the stopped server');
is_deeply([sort keys %down], [ $instance{ $quiet->addr } ], 'and for no other');
is($down_fired && $down_fired->{labels}{severity}, 'critical', 'severity critical');

stop_prometheus();
$_->stop for grep { $_->is_running } @servers;
unlike(ErrWatchTest::slurp($prom_log), qr/level=error/, 'Prometheus logged no error');
$_->scan_error_log('fleet ' . $_->addr) for @servers;
done_testing;
