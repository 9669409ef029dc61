package ErrWatchLoad;

# Load generation and load-time observation for the reliability tests
# (t/integration/7*.t), on top of ErrWatchTest:
#
#   my @r = ErrWatchLoad::run_ab($s, [{ path => '/ok.html', n => 4000, c => 10, status => 200 }, ...]);
#       # concurrent `ab` runs, one URL each; asserts that every request got
#       # an answer of the expected kind and adds the answers to $s's tally
#   my $ab = ErrWatchLoad::start_ab($s, $spec); ... ErrWatchLoad::wait_ab($s, $ab);
#   my $p  = ErrWatchLoad::start_poller($s);   # GET /errwatch?metrics every ~50 ms in a child
#   my ($readings, $tally) = ErrWatchLoad::stop_poller($s, $p);   # [{t, requests, status, store, files}, ...]
#   ErrWatchLoad::never_backwards($readings, $label);   # asserts monotonic counters
#   ErrWatchLoad::shared_mappings($pid);                # "start-end size" of rw-s /dev/zero maps
#
# ab (apache2-utils) must be installed; `make deps` installs it.

use strict;
use warnings;

use HTTP::Tiny;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(time sleep);

use ErrWatchTest qw(poll_until);

our $AB_SEQ   = 0;
our $POLL_SEQ = 0;

sub ab_bin { return $ENV{AB} || '/usr/bin/ab' }

# Starts one ab run in the background: $spec = {path, n, c, status} and
# optionally also => [codes] (other statuses the URL may answer, e.g. 503
# from mod_cgid while its daemon restarts). Returns a handle for wait_ab.
sub start_ab {
    my ($s, $spec) = @_;
    my $bin = ab_bin();
    die "ab not found at $bin (Debian package apache2-utils)\n" unless -x $bin;
    my $out = sprintf('%s/ab.%d.%d.out', $s->dir, $$, ++$AB_SEQ);
    my $url = $s->base_url . $spec->{path};
    # -r: keep going after a receive error (a restart resets connections).
    # -v 2: print every response's header block, so the status of every
    # answer is known, not only how many were not 2xx.
    # -q: no progress lines, which would cut into the header blocks.
    my @cmd = ($bin, '-q', '-r', '-v', '2', '-s', '30', '-n', $spec->{n}, '-c', $spec->{c}, $url);
    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN,  '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>', "$out.err" or POSIX::_exit(126);
        exec {$bin} @cmd or POSIX::_exit(127);
    }
    return { %$spec, pid => $pid, out => $out, started => time };
}

# ab's output as {complete, failed, connect, receive, length, exceptions,
# non2xx, statuses => {code => answers whose header block arrived}}.
sub parse_ab {
    my ($text) = @_;
    my %r;
    $r{complete} = $1 if $text =~ /^Complete requests:\s+(\d+)/m;
    $r{failed}   = $1 if $text =~ /^Failed requests:\s+(\d+)/m;
    if ($text =~ /\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\)/) {
        @r{qw(connect receive length exceptions)} = ($1, $2, $3, $4);
    } elsif (defined $r{failed} && $r{failed} == 0) {
        @r{qw(connect receive length exceptions)} = (0, 0, 0, 0);
    }
    $r{non2xx} = $text =~ /^Non-2xx responses:\s+(\d+)/m ? $1 : 0;
    my %st;
    $st{$1}++ while $text =~ /^LOG: header received:\r?\nHTTP\/1\.\d (\d{3})/mg;
    $r{statuses} = \%st;
    return \%r;
}

# Waits for an ab run and parses it. An answer is a response whose header
# block reached ab (a body cut short is still one); lost = requests without
# one. errwatch counts a response when httpd logs it, after it went out, so
# an answer from a child killed before logging is not counted. Adds the
# answers to $s's tally by their real status. With strict => 1 (the
# default) asserts that every request got an answer, with the spec's status
# (or one of also).
sub wait_ab {
    my ($s, $ab, %opt) = @_;
    my $strict = exists $opt{strict} ? $opt{strict} : 1;
    waitpid($ab->{pid}, 0);
    my $rc  = $? >> 8;
    my $txt = ErrWatchTest::slurp($ab->{out});
    my $r   = parse_ab($txt);
    my $err = ErrWatchTest::slurp("$ab->{out}.err");
    $r->{seconds} = time - $ab->{started};
    my $label = "ab -n $ab->{n} -c $ab->{c} $ab->{path}";
    my $answered = 0;
    $answered += $_ for values %{ $r->{statuses} };
    $r->{answered} = $answered;
    $r->{lost}     = $ab->{n} - $answered;
    my $summary = join(', ', map { "$_: $r->{statuses}{$_}" } sort keys %{ $r->{statuses} });
    if ($strict) {
        is($rc, 0, "$label: exit code 0") or diag($err);
        is($r->{complete}, $ab->{n}, "$label: $ab->{n} complete requests");
        is($answered, $ab->{n}, "$label: every request got an answer");
        my %ok = map { $_ => 1 } $ab->{status}, @{ $ab->{also} || [] };
        my @other = grep { !$ok{$_} } keys %{ $r->{statuses} };
        ok(!@other, "$label: every answer is " . join(' or ', sort keys %ok) . " ($summary)");
        diag("$label: $summary") if keys %{ $r->{statuses} } > 1;
    }
    for my $code (keys %{ $r->{statuses} }) {
        $s->add_sent(ErrWatchTest::class_of($code), $r->{statuses}{$code});
    }
    # The harness's report is small; ab's -v 2 output is not.
    unlink $ab->{out}, "$ab->{out}.err" unless $ENV{ERRWATCH_KEEP_TMP};
    return { %$ab, result => $r };
}

# Runs the specs at once (their concurrencies add up) and waits for all.
sub run_ab {
    my ($s, $specs, %opt) = @_;
    my @running = map { start_ab($s, $_) } @$specs;
    return map { wait_ab($s, $_, %opt) } @running;
}

# ---------------------------------------------------------------------------
# A ?json poller in a child process
# ---------------------------------------------------------------------------

# Forks a child that GETs /errwatch?metrics (small, and it holds every
# counter and each file's count) every ~50 ms over a new connection each
# time (so a restart cannot make HTTP::Tiny retry a request), until
# stop_poller; each reading is kept in a file, one JSON line.
sub start_poller {
    my ($s, %opt) = @_;
    my $file  = sprintf('%s/poller.%d.%d.jsonl', $s->dir, $$, ++$POLL_SEQ);
    my $stop  = "$file.stop";
    my $url   = $s->base_url . '/errwatch?metrics';
    my $every = $opt{every} || 0.05;
    my $pid   = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        my $ua = HTTP::Tiny->new(keep_alive => 0, timeout => 10, max_redirect => 0);
        open my $fh, '>', $file or POSIX::_exit(1);
        select((select($fh), $| = 1)[0]);
        my $json = JSON::PP->new->canonical;
        my %tally;
        while (!-e $stop) {
            my $t0  = time;
            my $res = $ua->get($url);
            my $t1  = time;
            if ($res->{status} == 200) {
                $tally{ok}++;
                print {$fh} $json->encode({ t => $t0, latency => $t1 - $t0, %{ metrics_reading($res->{content}) } })
                  . "\n";
            } elsif ($res->{status} == 599) {
                $tally{no_answer}++;
            } else {
                $tally{"status_$res->{status}"}++;
            }
            my $left = $every - (time - $t0);
            sleep($left) if $left > 0;
        }
        print {$fh} $json->encode({ tally => \%tally }) . "\n";
        close $fh;
        POSIX::_exit(0);
    }
    return { pid => $pid, file => $file, stop => $stop };
}

# The counters of a ?metrics page: {requests => {class}, status => {code},
# store => {failures_recorded, files_evicted, lock_recoveries}, bytes_sent,
# accesses, files => {file => count}}.
sub metrics_reading {
    my ($text) = @_;
    my $m = ErrWatchTest::parse_metrics($text);
    my %r = (requests => {}, status => {}, store => {}, files => {});
    for my $x (@{ $m->{samples} }) {
        my ($n, $l, $v) = ($x->{name}, $x->{labels}, $x->{value});
        if    ($n eq 'errwatch_requests_total')          { $r{requests}{ $l->{class} } = $v }
        elsif ($n eq 'errwatch_errors_total')            { $r{status}{ $l->{status} } = $v }
        elsif ($n eq 'errwatch_file_errors_total')       { $r{files}{ $l->{file} } += $v }
        elsif ($n eq 'errwatch_failures_recorded_total') { $r{store}{failures_recorded} = $v }
        elsif ($n eq 'errwatch_file_evictions_total')    { $r{store}{files_evicted} = $v }
        elsif ($n eq 'errwatch_lock_recoveries_total')   { $r{store}{lock_recoveries} = $v }
        elsif ($n eq 'apache_sent_bytes_total')          { $r{bytes_sent} = $v }
        elsif ($n eq 'apache_accesses_total')            { $r{accesses} = $v }
        elsif ($n eq 'errwatch_uptime_seconds')          { $r{uptime} = $v }
    }
    return \%r;
}

# Stops the poller; adds its answers to $s's tally (as status-URL 2xx);
# returns the readings and the poller's tally {ok, no_answer, ...}.
sub stop_poller {
    my ($s, $p) = @_;
    ErrWatchTest::spew($p->{stop}, '');
    waitpid($p->{pid}, 0);
    my (@readings, $tally);
    for my $line (split /\n/, ErrWatchTest::slurp($p->{file})) {
        my $d = eval { JSON::PP->new->decode($line) } or next;
        if ($d->{tally}) {
            $tally = $d->{tally};
        } else {
            push @readings, $d;
        }
    }
    $tally ||= {};
    $s->{sent}{status}{'2xx'}   += $tally->{ok} || 0;
    $s->{sent}{status}{total}   += $tally->{ok} || 0;
    return (\@readings, $tally);
}

# Asserts that no counter in the readings ever went down from one reading
# to the next: requests by class and total, status codes, bytes_sent,
# failures_recorded, files_evicted, lock_recoveries, Total Accesses,
# errwatch's uptime and (while no file is evicted) each file's count.
sub never_backwards {
    my ($readings, $label) = @_;
    ok(@$readings >= 3, "$label: ?metrics was read during the load (" . scalar(@$readings) . ' readings)');
    my (%prev, @bad);
    for my $d (@$readings) {
        my %v;
        $v{"requests.$_"} = $d->{requests}{$_} for keys %{ $d->{requests} || {} };
        $v{"status.$_"}   = $d->{status}{$_}   for keys %{ $d->{status}   || {} };
        $v{"store.$_"}    = $d->{store}{$_} for qw(failures_recorded files_evicted lock_recoveries);
        $v{$_}            = $d->{$_} for qw(bytes_sent accesses uptime);
        unless ($d->{store}{files_evicted}) {
            $v{"file $_"} = $d->{files}{$_} for keys %{ $d->{files} || {} };
        }
        for my $k (keys %prev) {
            my $now = exists $v{$k} ? $v{$k} : ($k =~ /^(?:status|file)/ ? undef : 0);
            next if $k =~ /^file / && $d->{store}{files_evicted};
            push @bad, sprintf('%s: %s -> %s at %.3f', $k, $prev{$k}, $now // 'absent', $d->{t})
              if !defined $now || $now < $prev{$k};
        }
        %prev = (%prev, %v);
    }
    ok(!@bad, "$label: no counter went backwards between readings") or diag(join "\n", @bad[0 .. ($#bad < 20 ? $#bad : 20)]);
    return;
}

# The rw shared /dev/zero mappings of a process (apr_shm's anonymous
# segments and httpd's scoreboard): ["start-end size", ...].
sub shared_mappings {
    my ($pid) = @_;
    my @m;
    for my $line (split /\n/, ErrWatchTest::slurp("/proc/$pid/maps")) {
        next unless $line =~ /^([0-9a-f]+)-([0-9a-f]+) rw-s .*\/dev\/zero/;
        no warnings 'portable';
        push @m, sprintf('%s-%s %d', $1, $2, hex($2) - hex($1));
    }
    return \@m;
}

1;
