#!/usr/bin/perl
# Bounded memory: 100,000 distinct failing files against the default sizes
# (ErrWatchFiles 1024, ErrWatchRecent 256), from one curl client over
# keep-alive connections (502 keeps the connection open; 500 and 503 close
# it). The file table stays at its cap and keeps the 1,024 most recently
# failed files, evictions are counted exactly, the shared mappings of the
# parent and of a child do not change (address or size), and every status
# format stays the same size once the table is full.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use POSIX ();
use Time::HiRes qw(time);
use ErrWatchTest qw(poll_until);
use ErrWatchLoad;

my $N     = 100_000;
my $FILES = 1024;    # the defaults
my $RING  = 256;
my $FIRST = 2 * $FILES;    # failures after which the formats are measured

my $s = ErrWatchTest->new(
    mpm        => 'event',
    extra_conf => qq{<LocationMatch "^/errwatch-test/kept-">\n    SetHandler errwatch-test-status\n</LocationMatch>\n},
);
$s->start;
my $d = $s->docroot;

# One curl, URLs kept-$from .. kept-$to, each answering 502; returns the
# number of 502s curl saw.
sub fail_range {
    my ($from, $to) = @_;
    my $codes = $s->dir . "/curl.$from.codes";
    my $url   = $s->base_url . "/errwatch-test/kept-[$from-$to]?502";
    # Bodies to /dev/null, one status line per request on stderr.
    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN,  '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $codes or POSIX::_exit(126);
        alarm 300;    # bounded time: SIGALRM survives exec and ends curl
        exec 'curl', '-s', '-o', '/dev/null', '-w', '%{stderr}%{http_code}\n', $url or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    my $rc = $? >> 8;
    my %c;
    $c{$_}++ for split /\n/, ErrWatchTest::slurp($codes);
    is($rc, 0, "curl kept-$from..$to: exit code 0");
    is_deeply(\%c, { 502 => $to - $from + 1 }, "curl kept-$from..$to: every answer is 502");
    $s->add_sent('5xx', $c{502} // 0);
    return $c{502} // 0;
}

# Sizes of every format, and the mapping list of the parent and a child.
sub sizes {
    my %z;
    $z{html}        = length $s->get('/errwatch')->{content};
    $z{auto}        = length $s->get('/errwatch?auto')->{content};
    $z{json}        = length $s->get('/errwatch?json')->{content};
    $z{metrics}     = length $s->metrics->{content};
    $z{openmetrics} = length $s->metrics(openmetrics => 1)->{content};
    return \%z;
}

sub mappings {
    my ($child) = grep { ErrWatchTest::slurp("/proc/$_/cmdline") =~ /apache2/ } ErrWatchTest::children_of($s->server_pid);
    return { parent => ErrWatchLoad::shared_mappings($s->server_pid), child => ErrWatchLoad::shared_mappings($child) },
      $child;
}

my ($maps0, $child0) = mappings();
# The store's two parts, as the module reports them: src/shm.c maps each
# with 64 bytes more (to align the base) and apr_shm keeps the segment's
# length in an 8-byte word ahead of it; the kernel rounds up to pages.
my $store0 = $s->json->{store};
my $page   = POSIX::sysconf(POSIX::_SC_PAGESIZE);
my %mapped = (header => $store0->{shm_header_bytes}, tables => $store0->{shm_tables_bytes});
my %sizes  = map { (split / /)[1] => 1 } @{ $maps0->{parent} };
for my $part (sort keys %mapped) {
    my $bytes = $mapped{$part};
    ok(defined $bytes && $bytes > 0, "?json store.shm_${part}_bytes is reported") or next;
    my $want = $page * POSIX::ceil(($bytes + 64 + 8) / $page);
    ok($sizes{$want}, "the store $part ($bytes bytes) is in a $want-byte mapping")
      or diag(join "\n", @{ $maps0->{parent} });
}

my $t0 = time;
fail_range(1, $FIRST);
my $mid = $s->json_settled;
is($mid->{store}{files_tracked}, $FILES,          "after $FIRST: files_tracked is the cap ($FILES)");
is($mid->{store}{files_evicted}, $FIRST - $FILES, "after $FIRST: files_evicted " . ($FIRST - $FILES));
my $z_mid = sizes();

fail_range($FIRST + 1, $N);
my $secs = time - $t0;
diag(sprintf('%d failing requests in %.1f s (%.0f/s)', $N, $secs, $N / $secs));
my $doc = $s->json_settled;
is($doc->{store}{files_capacity},    $FILES,      "files_capacity $FILES");
is($doc->{store}{files_tracked},     $FILES,      "files_tracked stays at the cap ($FILES)");
is($doc->{store}{files_evicted},     $N - $FILES, 'files_evicted is exactly ' . ($N - $FILES));
is($doc->{store}{failures_recorded}, $N,          "failures_recorded $N");
is_deeply($doc->{status}, { 502 => $N }, "status {502: $N}");
is($doc->{requests}{'5xx'}, $N, "requests.5xx $N");
is(scalar @{ $doc->{files} },  $FILES, "?json lists $FILES files");
is(scalar @{ $doc->{recent} }, $RING,  "?json lists $RING recent failures");
# One client, one request after the other: the least recently failed file
# was always the one to go, so the table holds the last 1,024.
is_deeply([sort { $a <=> $b } map { $_->{file} =~ m{/kept-(\d+)$} ? $1 : -1 } @{ $doc->{files} }],
    [$N - $FILES + 1 .. $N], 'the table holds exactly the 1,024 most recently failed files');
ok(!grep({ $_->{count} != 1 } @{ $doc->{files} }), 'each with count 1');
is($doc->{recent}[0]{uri}, "/errwatch-test/kept-$N", 'the newest ring entry is the last request');
is($doc->{recent}[-1]{uri}, '/errwatch-test/kept-' . ($N - $RING + 1), "the oldest is the ${RING}th from the end");
my %auto = map { $_->[0] => $_->[1] } grep { defined $_->[1] } @{ $s->auto };
is($auto{ErrorFiles},        $FILES,      '?auto ErrorFiles');
is($auto{ErrorFilesEvicted}, $N - $FILES, '?auto ErrorFilesEvicted');
is($auto{Errors502},         $N,          '?auto Errors502');
my $m = ErrWatchTest::parse_metrics($s->metrics->{content});
is(scalar @{ ErrWatchTest::metric_samples($m, 'errwatch_file_errors_total') }, $FILES,
    "?metrics has $FILES file series");
is(ErrWatchTest::metric_value($m, 'errwatch_file_evictions_total'), $N - $FILES, '?metrics errwatch_file_evictions_total');
$s->check_requests($doc, 'after 100,000');
is_deeply([@{ $doc->{store} }{qw(shm_header_bytes shm_tables_bytes)}], [@mapped{qw(header tables)}],
    'the reported store sizes are unchanged');

# The memory did not move or grow.
my ($maps1) = mappings();
is_deeply($maps1->{parent}, $maps0->{parent}, "the parent's shared mappings are unchanged");
ok(ErrWatchTest::proc_alive($child0), "child $child0 is still the same process");
is_deeply(ErrWatchLoad::shared_mappings($child0), $maps0->{child}, "child ${child0}'s shared mappings are unchanged");

# The outputs stay the same size: from 2,048 failures to 100,000 only the
# numbers grow (kept-2048 -> kept-100000 in 1,280 names, bigger counters).
my $z_end = sizes();
for my $f (sort keys %$z_end) {
    my $grow = $z_end->{$f} - $z_mid->{$f};
    # 5% for longer numbers; 512 bytes for ?auto's rate lines, which
    # appear once a second of counting has passed.
    ok($z_end->{$f} <= $z_mid->{$f} * 1.05 + 512, "?$f stays bounded: $z_mid->{$f} -> $z_end->{$f} bytes (+$grow)");
}
diag('sizes after 100,000 distinct files: ' . join(', ', map { "$_ $z_end->{$_} B" } sort keys %$z_end));
cmp_ok($z_end->{html}, '<', 256 * 1024, 'HTML page under 256 KB (50 files, 50 failures)');
cmp_ok($z_end->{auto}, '<', 8 * 1024,   '?auto under 8 KB');

$s->stop;
$s->scan_error_log('bounded');
done_testing;
