#!/usr/bin/perl
# The timeline (issue 13): start, stop and restart markers in ?json's
# "events" (kept by the state file), the per-minute history in ?json, with
# ?json&history= and ?history=, and the HTML page as a person uses it: an
# inline SVG chart with exact counts on hover, the markers and first-seen
# dots, ?refresh, ?sort=last, relative times and PHP's \n as line breaks.
# Headless Chromium renders the page at desktop and phone width.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use JSON::PP;
use ErrWatchTest qw(poll_until);

my $s = ErrWatchTest->new(mpm => 'prefork', php => 1);
my $docroot = $s->docroot;
ErrWatchTest::spew("$docroot/php/trace.php",
    "<?php\nerror_log(\"Fatal: boom\\n#0 /srv/a.php(3): f()\\n#1 {main}\");\n"
      . "http_response_code(500);\n", 0644);
$s->start;

sub events { return [map { $_->{event} } @{ $_[0]{events} || [] }] }

# ---------------------------------------------------------------------------
# 1. Markers: a fresh start, a graceful restart, a stop and a start again
# ---------------------------------------------------------------------------
my $doc = $s->json_settled;
is_deeply(events($doc), ['start'], 'a fresh server has one event: its start');
ok(exists $doc->{events}[0]{gap_s} && !defined $doc->{events}[0]{gap_s},
    '... with no gap (no state file was restored)');
is(scalar @{ $doc->{recent} }, 0, 'recent stays failures only');

$s->get('/errwatch-test/many-a') for 1 .. 3;
$s->get('/errwatch-test/many-b');
is($s->get('/php/trace.php')->{status}, 500, 'a PHP script that logs a stack trace answers 500');
$doc = $s->json_when(sub { $_[0]{store}{failures_recorded} >= 5 }, 10);
is($doc->{store}{failures_recorded}, 5, 'five failures recorded');

$s->graceful;
$doc = $s->json_when(sub { @{ events($_[0]) } >= 2 }, 10);
is_deeply(events($doc), ['restart', 'start'], 'a graceful restart adds a restart event');

$s->stop;
$s->start;
$doc = $s->json_when(sub { @{ events($_[0]) } >= 4 }, 10);
is_deeply(events($doc), ['start', 'stop', 'restart', 'start'],
    'a stop and a start: both on the timeline, kept by the state file');
like($doc->{events}[0]{gap_s} // '', qr/^\d+$/, '... the new start says how long before it the state was written');
is($doc->{store}{failures_recorded}, 5, '... and the failures are still there');

# ---------------------------------------------------------------------------
# 2. History in ?json
# ---------------------------------------------------------------------------
my $h = $doc->{history};
is($h->{minutes}, 60, '?json: the last hour of history by default');
is($h->{step}, 60, '... per minute');
is(scalar @{ $h->{'5xx'} }, 60, '... 60 counts of 5xx');
my $sum = 0;
$sum += $_ for @{ $h->{'5xx'} };
is($sum, 5, '... adding up to the five failures');
my $sum500 = 0;
$sum500 += $_ for @{ $h->{'500'} };
is($sum500, 5, '... all of them 500s');
my $now = time;
ok($h->{start} % 60 == 0 && $h->{start} <= $now && $h->{start} > $now - 3660,
    '... starting on a minute, an hour back');

my $day = decode_json($s->get('/errwatch?json&history=24h')->{content});
is($day->{history}{minutes}, 1440, '?json&history=24h: 1440 minutes');
my $only = $s->get('/errwatch?history=6h');
is($only->{status}, 200, '?history=6h answers');
like($only->{headers}{'content-type'}, qr{^application/json}, '... as JSON');
my $od = decode_json($only->{content});
is_deeply([sort keys %$od], ['events', 'history'], '... with only history and events');
is($od->{history}{minutes}, 360, '... for 6 hours');
for my $bad ('history=2h', 'json&refresh=5', 'refresh=0', 'sort=name', 'auto&history=1h') {
    my $r = $s->get("/errwatch?$bad");
    is($r->{status}, 400, "?$bad: 400");
    like($r->{content}, qr/\?history=1h/, '... naming the valid queries');
}

# ---------------------------------------------------------------------------
# 3. The HTML page
# ---------------------------------------------------------------------------
my $page = $s->get('/errwatch')->{content};
like($page, qr{<svg viewBox="0 0 720 120"}, 'HTML: an inline SVG chart');
is(() = $page =~ /<svg /g, 2, '... two: the last hour and the last 24 hours');
like($page, qr{<rect class="bar"[^>]*><title>\d\d:\d\d UTC: 5 5xx \(5 of them 500\), 0 crashes</title>},
    '... a bar says its exact count on hover');
like($page, qr{<line class="mark"[^>]*><title>server start at }, '... the start is marked');
like($page, qr{<line class="mark"[^>]*><title>server stop at }, '... and the stop');
like($page, qr{<circle class="first"[^>]*><title>[^<]*many-a first failed at }, '... and a top file first failing');
like($page, qr{<p class="chart-text">5xx per minute, last hour: 5 failures}, '... with the same in words');
unlike($page, qr{<script}i, '... and no script');
like($page, qr{<time datetime="\d{4}-\d\d-\d\dT[^"]+" title="[^"]+">(?:just now|\d+ s ago|\d+ min ago)</time>},
    'times are relative, exact on hover');
like($page, qr{Fatal: boom<br>#0 /srv/a\.php\(3\): f\(\)<br>#1 \{main\}}, "PHP's \\n shows as line breaks");
like($page, qr{<meta name="viewport" content="width=device-width}, 'a viewport for phones');
unlike($page, qr{http-equiv="refresh"}, 'no refresh unless asked');

my $fresh = $s->get('/errwatch?refresh=7&sort=last')->{content};
like($fresh, qr{<meta http-equiv="refresh" content="7">}, '?refresh=7: the page reloads itself');
like($fresh, qr{<a href="\?sort=count&amp;refresh=7#files">by count</a>}, '... and the sort link keeps it');
# The files table (the causes above it list files too); a row may carry a
# modification-time note after the name.
my ($fresh_files) = $fresh =~ m{(<h2 id="files">.*)}s;
my ($page_files)  = $page  =~ m{(<h2 id="files">.*)}s;
my @order = ($fresh_files // '') =~ m{<td class="mono">[^<]*/(many-a|many-b|trace\.php)(?:</td>|<span)}g;
is($order[0], 'trace.php', '?sort=last: the file that failed last comes first');
my @by_count = ($page_files // '') =~ m{<td class="mono">[^<]*/(many-a|many-b|trace\.php)(?:</td>|<span)}g;
is($by_count[0], 'many-a', 'by count (the default): the file with most failures first');

# ---------------------------------------------------------------------------
# 4. In a real browser, at desktop and at phone width
# ---------------------------------------------------------------------------
SKIP: {
    my ($chromium) = grep { -x } qw(/usr/bin/chromium /usr/bin/chromium-browser);
    skip 'chromium is not installed (make test installs it)', 7 unless $chromium;
    my $out = $s->dir . '/shots';
    mkdir $out;
    chmod 0777, $out;
    my @flags = ('--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
        "--user-data-dir=$out/profile");
    my $url = $s->base_url . '/errwatch';
    for my $size ([1400, 1000], [390, 844]) {
        my $png = "$out/page-$size->[0].png";
        # Chromium's own chatter (no D-Bus here) goes to a log, not the TAP.
        system("'$chromium' @flags --window-size=$size->[0],$size->[1] --screenshot='$png' '$url' "
              . ">>'$out/chromium.log' 2>&1");
        ok(-s $png, "chromium: a screenshot at $size->[0] px wide");
        open my $fh, '<:raw', $png or die "$png: $!";
        read $fh, my $head, 24;
        my ($w) = unpack('N', substr($head, 16, 4));
        is($w, $size->[0], "... $size->[0] px wide");
    }
    my $dom = `'$chromium' @flags --window-size=390,844 --dump-dom '$url' 2>>'$out/chromium.log'`;
    like($dom, qr{<svg[^>]*role="img"}, 'chromium: the SVG charts are in the rendered DOM');
    like($dom, qr{5 5xx \(5 of them 500\)}, '... with the bar titles');
    like($dom, qr{Top failing files}, '... and the tables');
}

system('cp', glob("$s->{dir}/shots/*.png"), $ENV{ERRWATCH_KEEP_SHOTS}) if $ENV{ERRWATCH_KEEP_SHOTS};
$s->stop;
done_testing;
