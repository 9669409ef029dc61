#!/usr/bin/perl
# prefork + mod_php + mod_status (ExtendedStatus On): ?metrics in both
# flavours (Prometheus text 0.0.4 checked by promtool, OpenMetrics 1.0),
# hostile file and handler names in labels and HTML, the 1m/5m/15m windows
# in ?auto, ?json and ?metrics, and the errwatch lines and section that
# mod_status's status_hook adds to /server-status.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use ErrWatchTest qw(poll_until);

my $PHP = 'application/x-httpd-php';

# How httpd 2.4.71 reads a backslash in SetHandler's argument (measured):
# the config parser turns \" into " and \\ into \ inside the quoted word
# (ap_getword_conf), and then one more backslash is taken away: in the
# handler name "\\h" in the file ends up as a bare "h" and "\\\\h" as
# "\h". So four backslashes in the file are one in the recorded name.
# SetHandler also lowercases the name.
my $EVIL_CONF    = q{errwatch-test-500\"evil\\\\\\\\handler<&>'};
my $EVIL_HANDLER = q{errwatch-test-500"evil\\handler<&>'};
my $EVIL_CONF_TEXT = <<"EOF";
<Location "/errwatch-test/evil">
    SetHandler "$EVIL_CONF"
</Location>
EOF

my $s = ErrWatchTest->new(mpm => 'prefork', php => 1, status => 1, extra_conf => $EVIL_CONF_TEXT);
my $docroot = $s->docroot;

# File names made at run time: quote, backslash and HTML metacharacters,
# and a real newline (Linux allows it; Apache serves it from %0A).
my $QUOTE_NAME   = q{x"y\\z<&>.php};
my $QUOTE_URL    = '/php/x%22y%5Cz%3C%26%3E.php';
my $NEWLINE_NAME = "nl\nname.php";
my $NEWLINE_URL  = '/php/nl%0Aname.php';
my $SCRIPT       = "<?php\nrequire_once __DIR__ . '/hostile-missing.phpp';\n";
ErrWatchTest::spew("$docroot/php/$_", $SCRIPT, 0644) for $QUOTE_NAME, $NEWLINE_NAME;

$s->start;

# Families every ?metrics page has, with their types (apache_connections is
# event-only and must be absent under prefork).
my %FAMILIES = (
    errwatch_requests_total          => 'counter',
    errwatch_errors_total            => 'counter',
    errwatch_handler_errors_total    => 'counter',
    errwatch_file_errors_total       => 'counter',
    errwatch_errors_window           => 'gauge',
    errwatch_file_evictions_total    => 'counter',
    errwatch_failures_recorded_total => 'counter',
    errwatch_lock_recoveries_total   => 'counter',
    errwatch_uptime_seconds          => 'gauge',
    apache_up                        => 'gauge',
    apache_info                      => 'gauge',
    apache_generation                => 'gauge',
    apache_uptime_seconds_total      => 'counter',
    apache_load                      => 'gauge',
    apache_accesses_total            => 'counter',
    apache_sent_bytes_total          => 'counter',
    apache_duration_seconds_total    => 'counter',
    apache_cpu_time_seconds_total    => 'counter',
    apache_cpuload                   => 'gauge',
    apache_workers                   => 'gauge',
    apache_scoreboard                => 'gauge',
    apache_processes                 => 'gauge',
);
my @SCOREBOARD_STATES = qw(idle startup read reply keepalive dns closing logging graceful_stop
  idle_cleanup open_slot);
my @AUTO_TAIL_KEYS = qw(Errors500Last1m Errors500Last5m Errors500Last15m Errors5xxLast1m
  Errors5xxLast5m Errors5xxLast15m);

sub promtool_ok {
    my ($text, $name) = @_;
    my ($rc, $out) = $s->promtool_check($text);
    is($rc, 0, "$name: promtool check metrics exits 0") or diag($out);
    is($out, '', "$name: promtool check metrics prints nothing (no lint problems)");
    return;
}

# Format checks that hold for both flavours; $extra_codes are the status
# codes besides 500, 502, 503 and 504 that errwatch_errors_total must have.
# Returns the parsed page.
sub check_structure {
    my ($text, $name, $om, $extra_codes) = @_;
    my $m = ErrWatchTest::parse_metrics($text);
    ok(!@{ $m->{errors} }, "$name: every line parses") or diag(join "\n", @{ $m->{errors} });
    my @untyped = grep { !defined $_->{typed_family} } @{ $m->{samples} };
    ok(!@untyped, "$name: every sample follows the TYPE line of its family")
      or diag(join "\n", map { $_->{line} } @untyped);
    my @nohelp = grep { !defined $m->{help}{$_} } @{ $m->{order} };
    ok(!@nohelp, "$name: every TYPE has a HELP") or diag("@nohelp");
    my %seen;
    my @dup = grep { $seen{$_}++ } @{ $m->{order} };
    ok(!@dup, "$name: each family is declared once") or diag("@dup");
    my %series;
    my @dup_series = grep { $series{$_}++ } series_keys($m);
    ok(!@dup_series, "$name: no series is repeated") or diag(join "\n", @dup_series);

    for my $fam (sort keys %FAMILIES) {
        my $type = $FAMILIES{$fam};
        my $decl = $fam;
        $decl =~ s/_total$// if $om && $type eq 'counter';
        is($m->{type}{$decl}, $type, "$name: TYPE line for $decl says $type");
        # The two free-form families are empty on a fresh store.
        next if $fam =~ /^errwatch_(?:handler|file)_errors_total$/;
        ok(scalar(grep { ($_->{typed_family} // '') eq $decl } @{ $m->{samples} }), "$name: $fam has samples");
    }
    if ($om) {
        my @bad = grep { /_total$/ && $m->{type}{$_} eq 'counter' } keys %{ $m->{type} };
        ok(!@bad, "$name: no counter family is declared with _total") or diag("@bad");
        my @badhelp = grep { /_total$/ } keys %{ $m->{help} };
        ok(!@badhelp, "$name: no HELP line names a family with _total") or diag("@badhelp");
    }
    ok(!exists $m->{type}{apache_connections}, "$name: no apache_connections under prefork");
    is_deeply([sort map { $_->{labels}{state} } @{ ErrWatchTest::metric_samples($m, 'apache_scoreboard') }],
        [sort @SCOREBOARD_STATES], "$name: apache_scoreboard has the 11 states");
    is_deeply([sort map { $_->{labels}{status} } @{ ErrWatchTest::metric_samples($m, 'errwatch_errors_total') }],
        [sort(500, 502, 503, 504, @{ $extra_codes || [] })], "$name: errwatch_errors_total status codes");
    my @nonnum = grep { $_->{value} !~ /^(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|NaN|[-+]Inf)$/ } @{ $m->{samples} };
    ok(!@nonnum, "$name: every sample value is a number") or diag(join "\n", map { $_->{line} } @nonnum);
    return $m;
}

# "name{k=v,...}" for every sample, labels sorted, values unescaped.
sub series_keys {
    my ($m) = @_;
    return map {
        my $x = $_;
        $x->{name} . '{' . join(',', map { "$_=$x->{labels}{$_}" } sort keys %{ $x->{labels} }) . '}'
    } @{ $m->{samples} };
}

# ---------------------------------------------------------------------------
# A fresh store: the page is already valid, with empty free-form families
# ---------------------------------------------------------------------------
{
    my $doc = $s->json_settled;
    ok($doc, 'GET /errwatch?json answers JSON') or BAIL_OUT('no JSON from the status URL');
    is_deeply($doc->{status}, {}, 'fresh store: no status codes');
    my $res = $s->metrics;
    is($res->{status}, 200, 'fresh store: ?metrics answers 200');
    promtool_ok($res->{content}, 'fresh store');
    my $m = check_structure($res->{content}, 'fresh store ?metrics', 0, []);
    is(ErrWatchTest::metric_value($m, 'errwatch_errors_total', { status => $_ }), 0,
        "fresh store: errwatch_errors_total{status=\"$_\"} is 0") for 500, 502, 503, 504;
    is(scalar @{ ErrWatchTest::metric_samples($m, 'errwatch_file_errors_total') }, 0,
        'fresh store: no errwatch_file_errors_total samples');
    is(ErrWatchTest::metric_value($m, 'errwatch_errors_window', { status => '5xx', window => $_ }), 0,
        "fresh store: 5xx window $_ is 0") for qw(1m 5m 15m);
}

# ---------------------------------------------------------------------------
# The failures: 7 x 500 and 2 x 503, with successes and a 404 in between
# ---------------------------------------------------------------------------
my @requests = (
    ['/php/fatal.php',             500],
    [$QUOTE_URL,                   500],
    ['/ok.html',                   200],
    [$NEWLINE_URL,                 500],
    ['/php/ok.php',                200],
    ['/errwatch-test/fail',        500],
    [$QUOTE_URL,                   500],
    ['/errwatch-test/evil',        500],
    ['/no-such-page.html',         404],
    ['/errwatch-test/status?503',  503],
    ['/php/status503.php',         503],
    [$NEWLINE_URL,                 500],
);
for my $r (@requests) {
    my $res = $s->get($r->[0]);
    is($res->{status}, $r->[1], "GET $r->[0] answers $r->[1]");
}
my $N500 = grep { $_->[1] == 500 } @requests;
my $N5XX = grep { $_->[1] >= 500 } @requests;
is($N500, 7, 'made 7 responses of 500');
is($N5XX, 9, 'made 9 responses of 5xx');

my $doc = $s->json_settled;
is_deeply($doc->{status}, { 500 => $N500, 503 => 2 }, 'json: status is {"500": 7, "503": 2}')
  or diag(explain $doc->{status});
$s->check_requests($doc, 'json after the failures');

my %file = map { $_->{file} => $_ } @{ $doc->{files} || [] };
my $quote_path   = "$docroot/php/$QUOTE_NAME";
my $newline_path = "$docroot/php/$NEWLINE_NAME";
my $evil_path    = "$docroot/errwatch-test/evil";
is($file{$quote_path}{count},   2,    'json: the file with " and \\ in its name, raw, counted twice');
is($file{$quote_path}{handler}, $PHP, 'json: ... handler is mod_php');
is($file{$newline_path}{count}, 2,    'json: the file with a newline in its name, raw, counted twice');
is($file{$evil_path}{handler}, $EVIL_HANDLER, 'json: the hostile handler name as SetHandler set it')
  or diag(explain [map { $_->{handler} } @{ $doc->{files} }]);
my %handler = map { ($_->{handler} // '') . '|' . ($_->{status} // '') => $_->{count} } @{ $doc->{handlers} || [] };
is_deeply(\%handler,
    { "$PHP|500" => 5, "$PHP|503" => 1, 'errwatch-test-500|500' => 1, "$EVIL_HANDLER|500" => 1,
      'errwatch-test-status|503' => 1 },
    'json: handlers, by handler and status')
  or diag(explain $doc->{handlers});

# ---------------------------------------------------------------------------
# ?metrics, Prometheus text 0.0.4
# ---------------------------------------------------------------------------
my $prom;
{
    my $res = $s->metrics;
    is($res->{status}, 200, '?metrics answers 200');
    is($res->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8', '?metrics: Content-Type');
    like($res->{headers}{vary} // '', qr/(?:^|,\s*)Accept(?:\s*,|$)/i, '?metrics: Vary: Accept');
    my $text = $res->{content};
    promtool_ok($text, '?metrics with hostile names');
    unlike($text, qr/^# EOF$/m, '?metrics (Prometheus): no # EOF line');
    like($text, qr/\n\z/, '?metrics ends with a newline');
    my $m = check_structure($text, '?metrics', 0, []);
    $prom = $m;

    # Exact values against ?json (taken before; no 5xx or 4xx since).
    for my $code (500, 502, 503, 504) {
        is(ErrWatchTest::metric_value($m, 'errwatch_errors_total', { status => $code }),
            $doc->{status}{$code} // 0, "errwatch_errors_total{status=\"$code\"} equals json status.$code");
    }
    for my $c (qw(1xx 3xx 4xx 5xx other)) {
        is(ErrWatchTest::metric_value($m, 'errwatch_requests_total', { class => $c }), $doc->{requests}{$c},
            "errwatch_requests_total{class=\"$c\"} equals json requests.$c");
    }
    cmp_ok(ErrWatchTest::metric_value($m, 'errwatch_requests_total', { class => '2xx' }) // -1,
        '>=', $doc->{requests}{'2xx'}, 'errwatch_requests_total{class="2xx"} >= json requests.2xx');

    my @fsamples = @{ ErrWatchTest::metric_samples($m, 'errwatch_file_errors_total') };
    is(scalar @fsamples, scalar @{ $doc->{files} }, 'one errwatch_file_errors_total sample per json file');
    for my $f (@{ $doc->{files} }) {
        (my $shown = $f->{file}) =~ s/\n/\\n/g;
        is(ErrWatchTest::metric_value($m, 'errwatch_file_errors_total', { file => $f->{file}, handler => $f->{handler} }),
            $f->{count}, "errwatch_file_errors_total for $shown equals json count");
    }
    my @hsamples = @{ ErrWatchTest::metric_samples($m, 'errwatch_handler_errors_total') };
    is(scalar @hsamples, scalar @{ $doc->{handlers} }, 'one errwatch_handler_errors_total sample per json handler pair');
    for my $h (@{ $doc->{handlers} }) {
        is(ErrWatchTest::metric_value($m, 'errwatch_handler_errors_total', { handler => $h->{handler}, status => $h->{status} }),
            $h->{count}, "errwatch_handler_errors_total{handler=\"$h->{handler}\",status=\"$h->{status}\"} equals json");
    }

    # The escapes themselves, on the raw lines.
    my $qp = "$docroot/php/" . q{x\\"y\\\\z<&>.php};
    ok((grep { $_ eq qq{errwatch_file_errors_total{file="$qp",handler="$PHP"} 2} } split /\n/, $text),
        'file label escapes " and \\ (exact line)')
      or diag(join "\n", grep { /file_errors/ } split /\n/, $text);
    ok((grep { $_ eq qq{errwatch_file_errors_total{file="$docroot/php/nl\\nname.php",handler="$PHP"} 2} } split /\n/, $text),
        'file label escapes a newline as \\n (exact line)');
    my $eh = q{errwatch-test-500\\"evil\\\\handler<&>'};
    ok((grep { $_ eq qq{errwatch_handler_errors_total{handler="$eh",status="500"} 1} } split /\n/, $text),
        'handler label escapes " and \\ (exact line)')
      or diag(join "\n", grep { /handler_errors/ } split /\n/, $text);
    ok((grep { $_ eq qq{errwatch_file_errors_total{file="$evil_path",handler="$eh"} 1} } split /\n/, $text),
        'file sample of the hostile handler: handler label escaped (exact line)');
    my @raw_nl = grep { /^errwatch_file_errors_total\{file="[^"]*nl$/ } split /\n/, $text;
    ok(!@raw_nl, 'no raw newline inside a label value');

    for my $w (qw(1m 5m 15m)) {
        is(ErrWatchTest::metric_value($m, 'errwatch_errors_window', { status => '500', window => $w }), $N500,
            "errwatch_errors_window{status=\"500\",window=\"$w\"} is the $N500 500s made");
        is(ErrWatchTest::metric_value($m, 'errwatch_errors_window', { status => '5xx', window => $w }), $N5XX,
            "errwatch_errors_window{status=\"5xx\",window=\"$w\"} is the $N5XX 5xx made");
    }
    is(ErrWatchTest::metric_value($m, 'errwatch_failures_recorded_total'), $doc->{store}{failures_recorded},
        'errwatch_failures_recorded_total equals json store.failures_recorded');
    is(ErrWatchTest::metric_value($m, 'errwatch_failures_recorded_total'), $N5XX, 'errwatch_failures_recorded_total is 9');
    is(ErrWatchTest::metric_value($m, 'errwatch_file_evictions_total'), 0, 'errwatch_file_evictions_total is 0');
    is(ErrWatchTest::metric_value($m, 'errwatch_lock_recoveries_total'), 0, 'errwatch_lock_recoveries_total is 0');
    like(ErrWatchTest::metric_value($m, 'errwatch_uptime_seconds') // '', qr/^\d+$/, 'errwatch_uptime_seconds is whole seconds');
    is(ErrWatchTest::metric_value($m, 'apache_up'), 1, 'apache_up is 1');
    my ($info) = @{ ErrWatchTest::metric_samples($m, 'apache_info') };
    is($info && $info->{labels}{mpm}, 'prefork', 'apache_info mpm label');
    like($info && $info->{labels}{version}, qr{^Apache/2\.4}, 'apache_info version label');
    cmp_ok(ErrWatchTest::metric_value($m, 'apache_accesses_total') // 0, '>=', $doc->{requests}{total},
        'apache_accesses_total >= json requests.total');
    cmp_ok(ErrWatchTest::metric_value($m, 'apache_sent_bytes_total') // 0, '>', 0, 'apache_sent_bytes_total > 0');
    cmp_ok(ErrWatchTest::metric_value($m, 'apache_workers', { state => 'busy' }) // 0, '>=', 1,
        'apache_workers{state="busy"} counts this request');
    cmp_ok(ErrWatchTest::metric_value($m, 'apache_processes', { state => 'all' }) // 0, '>=', 1,
        'apache_processes{state="all"} >= 1');

    # No Accept, or an Accept without OpenMetrics: the classic format.
    my $plain = $s->metrics(accept => 'text/plain;version=0.0.4;q=0.5,*/*;q=0.1');
    is($plain->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8',
        '?metrics with Accept: text/plain answers Prometheus text');
    # q=0 means "not acceptable" (RFC 9110): listing OpenMetrics that way refuses it.
    my $refused = $s->metrics(accept => 'application/openmetrics-text;version=1.0.0;q=0, text/plain;q=0.5');
    is($refused->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8',
        '?metrics with Accept: application/openmetrics-text;q=0 answers Prometheus text');
    unlike($refused->{body}, qr/^# EOF$/m, '... and no OpenMetrics # EOF line');
}

# ---------------------------------------------------------------------------
# ?metrics, OpenMetrics 1.0
# ---------------------------------------------------------------------------
{
    my $res = $s->metrics(accept => 'application/openmetrics-text; version=1.0.0');
    is($res->{status}, 200, 'OpenMetrics: answers 200');
    is($res->{headers}{'content-type'}, 'application/openmetrics-text; version=1.0.0; charset=utf-8',
        'OpenMetrics: Content-Type');
    like($res->{headers}{vary} // '', qr/(?:^|,\s*)Accept(?:\s*,|$)/i, 'OpenMetrics: Vary: Accept');
    my $text = $res->{content};
    my @lines = split /\n/, $text, -1;
    is($lines[-1], '', 'OpenMetrics: ends with a newline');
    is($lines[-2], '# EOF', 'OpenMetrics: the last line is # EOF');
    is(scalar(grep { $_ eq '# EOF' } @lines), 1, 'OpenMetrics: # EOF only once');
    like($text, qr/^# TYPE errwatch_errors counter$/m, 'OpenMetrics: # TYPE errwatch_errors counter (no _total)');
    like($text, qr/^# HELP errwatch_errors /m, 'OpenMetrics: # HELP errwatch_errors (no _total)');
    unlike($text, qr/^# TYPE errwatch_errors_total /m, 'OpenMetrics: no TYPE line for errwatch_errors_total');
    like($text, qr/^errwatch_errors_total\{status="500"\} $N500$/m, "OpenMetrics: errwatch_errors_total{status=\"500\"} $N500");
    like($text, qr/^# TYPE errwatch_errors_window gauge$/m, 'OpenMetrics: gauges keep their name');
    my $m = check_structure($text, 'OpenMetrics', 1, []);
    ok($m->{eof}, 'OpenMetrics: parser saw # EOF last');

    # The same series as the Prometheus page, with the same free-form labels.
    is_deeply([sort(series_keys($m))], [sort(series_keys($prom))], 'OpenMetrics: the same series as the Prometheus page');
    my $eh = q{errwatch-test-500\\"evil\\\\handler<&>'};
    ok((grep { $_ eq qq{errwatch_handler_errors_total{handler="$eh",status="500"} 1} } @lines),
        'OpenMetrics: handler label escaped the same way');

    # A strict OpenMetrics 1.0 parser (the reference Python client's, from
    # Debian's python3-prometheus-client) accepts the page and reads the
    # same values: it rejects a missing # EOF, a counter family named with
    # _total, bad escapes or invalid UTF-8.
    {
        my $py = '/usr/bin/python3';
        my $parser = <<'PY';
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(sample.labels.items()))
        print("%s|%s|%s|%s" % (family.type, sample.name, labels, sample.value))
PY
        my $dir = $s->dir;
        open(my $fh, '>', "$dir/om.txt") or die $!;
        print $fh $text;
        close $fh;
        open($fh, '>', "$dir/om.py") or die $!;
        print $fh $parser;
        close $fh;
        my $out = `$py $dir/om.py < $dir/om.txt 2>&1`;
        is($?, 0, 'OpenMetrics: the reference parser accepts the page') or diag($out);
        like($out, qr/^counter\|errwatch_errors_total\|status=500\|$N500(?:\.0)?$/m,
            "OpenMetrics: the parser reads errwatch_errors_total{status=\"500\"} $N500");
        like($out, qr/^gauge\|errwatch_errors_window\|status=500,window=1m\|/m,
            'OpenMetrics: the parser reads the window gauge');
        like($out, qr/^counter\|errwatch_file_errors_total\|file=[^|]*x"y\\z<&>\.php,/m,
            'OpenMetrics: the parser reads the hostile file name back unescaped');
    }

    # Prometheus's own Accept header, which lists OpenMetrics first.
    my $p = $s->metrics(accept => 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1');
    like($p->{headers}{'content-type'}, qr{^application/openmetrics-text; version=1\.0\.0}, "Prometheus's scrape Accept header gets OpenMetrics");
    like($p->{content}, qr/\n# EOF\n\z/, "... ending with # EOF");
}

# ---------------------------------------------------------------------------
# Windows in ?auto and ?json: the server wiring
# ---------------------------------------------------------------------------
my $mine_auto;
{
    my $pairs = $s->auto;
    my %v = map { $_->[0] => $_->[1] } grep { defined $_->[1] } @$pairs;
    $mine_auto = $pairs;
    is($v{"Errors500Last$_"}, $N500, "?auto Errors500Last$_ is $N500") for qw(1m 5m 15m);
    is($v{"Errors5xxLast$_"}, $N5XX, "?auto Errors5xxLast$_ is $N5XX") for qw(1m 5m 15m);
    is($v{Errors500}, $N500, '?auto Errors500');
    is($v{Errors5xx}, $N5XX, '?auto Errors5xx');
    is($v{Errors503}, 2,     '?auto Errors503');
    my @keys = map { $_->[0] } @$pairs;
    is_deeply([@keys[-6 .. -1]], \@AUTO_TAIL_KEYS, '?auto ends with the six window lines');

    my $d = $s->json;
    is_deeply($d->{window}, { 500 => { '1m' => $N500, '5m' => $N500, '15m' => $N500 },
                              '5xx' => { '1m' => $N5XX, '5m' => $N5XX, '15m' => $N5XX } },
        '?json window: 500 and 5xx over 1m, 5m, 15m')
      or diag(explain $d->{window});
}

# ---------------------------------------------------------------------------
# mod_status: /server-status?auto and the /server-status HTML section
# ---------------------------------------------------------------------------
sub errwatch_tail {
    my ($pairs) = @_;
    my @p = grep { defined $_->[1] } @$pairs;
    shift @p while @p && $p[0][0] ne 'Scoreboard';
    shift @p;
    return \@p;
}
{
    # ErrWatchUptime may tick between the two requests: read both until
    # they agree (every other line is fixed: no failure happens here).
    my ($mine, $theirs);
    poll_until(5, sub {
        $mine   = errwatch_tail($s->auto);
        $theirs = errwatch_tail($s->auto('/server-status?auto'));
        return join("\n", map { "@$_" } @$mine) eq join("\n", map { "@$_" } @$theirs);
    });
    my @want_keys = (qw(Errors500 Errors5xx Errors503 Crashes ErrorFiles ErrorFilesEvicted ErrorCauses ErrWatchUptime), @AUTO_TAIL_KEYS);
    is_deeply([map { $_->[0] } @$theirs], \@want_keys,
        '/server-status?auto: after Scoreboard, exactly the errwatch lines Errors500 .. Errors5xxLast15m');
    is_deeply($theirs, $mine, '/server-status?auto: the same errwatch values as /errwatch?auto')
      or diag(explain [$theirs, $mine]);
    my %v = map { $_->[0] => $_->[1] } @$theirs;
    is($v{Errors500Last5m}, $N500, '/server-status?auto Errors500Last5m');
    is($v{Errors5xxLast15m}, $N5XX, '/server-status?auto Errors5xxLast15m');
    is($v{ErrorFiles}, scalar @{ $doc->{files} }, '/server-status?auto ErrorFiles');

    my $res = $s->get('/server-status');
    is($res->{status}, 200, '/server-status answers 200');
    my $html = $res->{content};
    like($html, qr{<hr />\n<h2>mod_errwatch</h2>}, '/server-status has the errwatch section');
    my ($section) = $html =~ m{(<hr />\n<h2>mod_errwatch</h2>.*)\z}s;
    $section //= '';
    like($section, qr{x&quot;y\\z&lt;&amp;&gt;\.php}, 'section: the hostile file name, HTML-escaped');
    unlike($section, qr{x"y\\z<&>}, 'section: never the raw name');
    like($section, qr{\Q$docroot\E/php/nl(?!\n)\S*name\.php}, 'section: the newline file, without a raw newline');
    like($section, qr{<tr><th>5xx responses</th><td>$N5XX</td></tr>}, 'section: the 5xx count');
    like($section, qr{<tr><th>500 responses</th><td>$N500</td></tr>}, 'section: the 500 count');
    like($section, qr{<tr><th>500, last 1m / 5m / 15m</th><td>$N500 / $N500 / $N500</td></tr>}, 'section: the 500 windows');
    like($section, qr{<tr><th>5xx, last 1m / 5m / 15m</th><td>$N5XX / $N5XX / $N5XX</td></tr>}, 'section: the 5xx windows');

    my $page = $s->get('/errwatch');
    like($page->{content}, qr{errwatch-test-500&quot;evil\\handler&lt;&amp;&gt;&#39;}, '/errwatch HTML escapes the hostile handler');
    unlike($page->{content}, qr{evil\\handler<&>}, '/errwatch HTML never has the raw handler');
}

# ---------------------------------------------------------------------------
# An unknown query names the valid ones
# ---------------------------------------------------------------------------
{
    my $res = $s->get('/errwatch?metric');
    is($res->{status}, 400, '?metric answers 400');
    like($res->{content}, qr/\?auto\b/,    '400 body names ?auto');
    like($res->{content}, qr/\?json\b/,    '400 body names ?json');
    like($res->{content}, qr/\?metrics\b/, '400 body names ?metrics');
    my $d = $s->json_settled;
    $s->check_requests($d, 'after the 400');
}

# ---------------------------------------------------------------------------
# One version everywhere: include/ew_version.h is read by ?json, the Server
# header token (ServerTokens Full is Debian's default and the harness's) and
# the start-up log line.
# ---------------------------------------------------------------------------
{
    my ($version) = ErrWatchTest::slurp(ErrWatchTest::repo_root() . '/include/ew_version.h')
        =~ /#define EW_VERSION "([0-9]+\.[0-9]+\.[0-9]+)"/;
    ok(defined $version, 'include/ew_version.h defines EW_VERSION x.y.z');
    my $doc = $s->json;
    is($doc->{version}, $version, '?json version is EW_VERSION');
    my $res = $s->get('/errwatch?json');
    like($res->{headers}{server} // '', qr{(?:^|\s)mod_errwatch/\Q$version\E(?:\s|$)},
        'Server header carries mod_errwatch/EW_VERSION');
    like(ErrWatchTest::slurp($s->error_log), qr/EW1401: mod_errwatch \Q$version\E loaded/,
        'start-up log line names EW_VERSION');
}

$s->stop;
ok(!$s->is_running, 'apache2 stopped');
$s->scan_error_log('prefork with mod_status');

done_testing;
