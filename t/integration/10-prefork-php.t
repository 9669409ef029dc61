#!/usr/bin/perl
# prefork + mod_php + mod_cgi, without mod_status: every kind of 500 is
# counted once and attributed to the right file, handler, URI and message.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use Time::HiRes ();
use ErrWatchTest qw(poll_until failure_cases);

my $s = ErrWatchTest->new(mpm => 'prefork', php => 1, status => 0);
$s->start;
my $docroot = $s->docroot;

# ---------------------------------------------------------------------------
# A fresh store
# ---------------------------------------------------------------------------
{
    my $doc = $s->json_settled;
    ok($doc, 'GET /errwatch?json answers JSON') or BAIL_OUT('no JSON from the status URL');
    is_deeply($doc->{status}, {}, 'fresh store: no status codes');
    is_deeply($doc->{files},  [], 'fresh store: no files');
    is_deeply($doc->{recent}, [], 'fresh store: no recent failures');
    $s->check_requests($doc, 'fresh store');
}

# ---------------------------------------------------------------------------
# One request per failure case, with successes and a 404 in between
# ---------------------------------------------------------------------------
my @cases = failure_cases($docroot, 1 .. 8);

my @fillers = (
    ['/ok.html',             200, qr/errwatch test: ok/],
    ['/php/ok.php',          200, qr/php ok/],
    ['/cgi-bin/ok.cgi',      200, qr/cgi ok/],
    ['/errwatch-test/subreq', 200, qr/subrequest status 500/],
    ['/no-such-page.html',   404, undef],
    ['/errwatch-test/status?204', 204, undef],
);

for my $i (0 .. $#cases) {
    my $c   = $cases[$i];
    my $res = $s->get($c->{path});
    is($res->{status}, $c->{status} || 500, "$c->{name}: answers " . ($c->{status} || 500));
    like($res->{content}, $c->{body}, "$c->{name}: body") if $c->{body};
    # Wait until it is recorded, so that "recent" has a known order.
    $s->json_settled;
    if (my $f = $fillers[$i]) {
        my $r = $s->get($f->[0]);
        is($r->{status}, $f->[1], "GET $f->[0] answers $f->[1]");
        like($r->{content}, $f->[2], "GET $f->[0]: body") if $f->[2];
    }
}
my $head = $s->request('HEAD', '/ok.html');
is($head->{status}, 200, 'HEAD /ok.html answers 200');

my $doc = $s->json_settled;
my $json_text = $s->last_json_text;

is_deeply($doc->{status}, { 500 => 7, 503 => 1 }, 'status: exactly {"500": 7, "503": 1}')
  or diag(explain $doc->{status});
is($doc->{requests}{'5xx'}, 8, 'requests.5xx is 8');
is($doc->{requests}{'4xx'}, 1, 'requests.4xx is 1 (the 404)');
$s->check_requests($doc, 'after the cases');
like($doc->{bytes_sent}, qr/^\d+$/, 'bytes_sent is a count');
cmp_ok($doc->{bytes_sent}, '>', 0, 'bytes_sent > 0');

# Attribution, entry by entry.
my @recent = @{ $doc->{recent} || [] };
is(scalar @recent, scalar @cases, 'recent holds one entry per failing request');
is_deeply([map { $_->{uri} } @recent], [reverse map { $_->{uri} } @cases], 'recent is newest first');
my @times = map { $_->{time_us} } @recent;
ok(!grep({ $times[$_] < $times[$_ + 1] } 0 .. $#times - 1), 'recent time_us never increases down the list')
  or diag("@times");
for my $c (@cases) {
    my @hits = grep { defined $_->{uri} && $_->{uri} eq $c->{uri} } @recent;
    is(scalar @hits, 1, "$c->{name}: exactly one recent entry");
    $s->check_recent_entry($hits[0], $c, $c->{name});
}
unlike($json_text, qr/s3cret/, 'the query string is not recorded (ErrWatchQueryString Off)');
unlike($json_text, qr{local/page\.html}, 'the ErrorDocument page is not what gets recorded');
unlike($json_text, qr/redirect-handler/, 'the rewrite front controller is not recorded as redirect-handler');

my @files = @{ $doc->{files} || [] };
is(scalar @files, scalar @cases, 'files: one entry per failing file');
for my $c (@cases) {
    my @f = grep { defined $_->{file} && $_->{file} =~ $c->{file} } @files;
    is(scalar @f, 1, "$c->{name}: one files entry") or next;
    is($f[0]{count},       1,                     "$c->{name}: files count 1");
    is($f[0]{handler},     $c->{handler},         "$c->{name}: files handler");
    is($f[0]{last_status}, $c->{status} || 500,   "$c->{name}: files last_status");
    ErrWatchTest::iso_ok($f[0]{first_seen}, "$c->{name}: files first_seen");
    ErrWatchTest::iso_ok($f[0]{last_seen},  "$c->{name}: files last_seen");
    like($f[0]{message}, $_, "$c->{name}: files message") for @{ $c->{message} || [] };
}

my $store = $doc->{store} || {};
is($store->{files_capacity},    1024, 'store.files_capacity is the default 1024');
is($store->{recent_capacity},   256,  'store.recent_capacity is the default 256');
is($store->{files_tracked},     8,    'store.files_tracked');
is($store->{files_evicted},     0,    'store.files_evicted');
is($store->{failures_recorded}, 8,    'store.failures_recorded');
is($store->{lock_recoveries},   0,    'store.lock_recoveries');
ErrWatchTest::iso_ok($doc->{since}, 'since is ISO 8601');
ErrWatchTest::iso_ok($doc->{now},   'now is ISO 8601');
like($doc->{since_us},       qr/^\d+$/, 'since_us is a number');
like($doc->{uptime_seconds}, qr/^\d+$/, 'uptime_seconds is a number');
cmp_ok($doc->{since_us}, '<=', int(Time::HiRes::time() * 1e6), 'since_us is in the past');

# ---------------------------------------------------------------------------
# ?auto without mod_status
# ---------------------------------------------------------------------------
{
    # Rate lines appear once a second has passed: poll for that, then
    # demand every line.
    ok($s->wait_auto_full, '?auto: rate lines appear after a second of uptime');
    my $pairs = $s->auto;
    my $v     = $s->check_auto_format($pairs, $s->last_auto_text, '?auto (no mod_status)',
        [qw(Errors500 Errors5xx Errors503 Crashes ErrorFiles ErrorFilesEvicted ErrorCauses ErrWatchUptime
            Errors500Last1m Errors500Last5m Errors500Last15m Errors5xxLast1m Errors5xxLast5m Errors5xxLast15m)], full => 1);
    is($v->{Errors500},         7, '?auto Errors500');
    is($v->{Errors5xx},         8, '?auto Errors5xx');
    is($v->{Errors503},         1, '?auto Errors503');
    is($v->{ErrorFiles},        8, '?auto ErrorFiles');
    is($v->{ErrorFilesEvicted}, 0, '?auto ErrorFilesEvicted');
    like($v->{ErrWatchUptime}, qr/^\d+$/, '?auto ErrWatchUptime');
    unlike($s->last_auto_text, qr/^127\.0\.0\.1$/m, '?auto does not echo the Host header as a bare line');
    like($s->{last_auto_res}{headers}{'content-type'}, qr{^text/plain}, '?auto is text/plain');
}

# ---------------------------------------------------------------------------
# HTML escaping of a hostile file name
# ---------------------------------------------------------------------------
my $hostile = 'x<y>&"z.php';
{
    my $res = $s->get('/php/x%3Cy%3E%26%22z.php');
    is($res->{status}, 500, 'hostile file name: answers 500');
    my $d = $s->json_settled;
    my @f = grep { $_->{file} eq "$docroot/php/$hostile" } @{ $d->{files} || [] };
    is(scalar @f, 1, 'hostile file name: ?json has the raw name, correctly decoded');
    my $uri = $d->{recent}[0]{uri};
    ok(defined $uri && ($uri eq "/php/$hostile" || $uri eq '/php/x%3Cy%3E%26%22z.php'),
        'hostile file name: uri is the request path')
      or diag('uri: ' . (defined $uri ? $uri : 'undef'));

    my $html = $s->get('/errwatch');
    is($html->{status}, 200, 'HTML page answers 200');
    like($html->{headers}{'content-type'}, qr{^text/html}, 'HTML page is text/html');
    like($html->{content}, qr/x&lt;y&gt;&amp;&quot;z\.php/, 'HTML page escapes the file name');
    unlike($html->{content}, qr/\Q$hostile\E/, 'HTML page never has the raw name');
    like($html->{content}, qr{\Q$docroot\E/php/fatal\.php}, 'HTML page lists a failing file');
}

# ---------------------------------------------------------------------------
# ErrWatch Off
# ---------------------------------------------------------------------------
{
    my $before = $s->json_settled;
    my $res    = $s->get('/off/fatal.php');
    is($res->{status}, 500, 'ErrWatch Off location: the script still fails');
    $s->uncount('/off/fatal.php', $res);
    # A counted failure after it; once that is recorded, so is anything before.
    my $mark = $s->get('/errwatch-test/fail');
    is($mark->{status}, 500, 'marker failure answers 500');
    my $after = $s->json_settled;
    is($after->{status}{500}, $before->{status}{500} + 1, 'ErrWatch Off: its 500 is not counted');
    is($after->{requests}{'5xx'}, $before->{requests}{'5xx'} + 1, 'ErrWatch Off: requests.5xx grew by the marker only');
    ok(!grep({ ($_->{file} // '') =~ m{/off/} } @{ $after->{files} || [] }), 'ErrWatch Off: no files entry');
    ok(!grep({ ($_->{uri} // '') =~ m{^/off/} } @{ $after->{recent} || [] }), 'ErrWatch Off: no recent entry');
    is($after->{recent}[0]{uri}, '/errwatch-test/fail', 'ErrWatch Off: the marker is the newest entry');
    $s->check_requests($after, 'ErrWatch Off');
}

# ---------------------------------------------------------------------------
# Bad query, bad method
# ---------------------------------------------------------------------------
{
    my $res = $s->get('/errwatch?foo');
    is($res->{status}, 400, 'unknown query answers 400');
    like($res->{content}, qr/\bauto\b/, '400 body names auto');
    like($res->{content}, qr/\bjson\b/, '400 body names json');
    # Prometheus turns its params map into "?metrics=": accepted, with its
    # own content.
    my $m = $s->get('/errwatch?metrics=');
    is($m->{status}, 200, '?metrics= (Prometheus params form) answers 200');
    like($m->{content}, qr/^errwatch_errors_total\{status="500"\} \d+$/m, '?metrics= is the metrics page');
    is($s->get('/errwatch?json=')->{status}, 200, '?json= answers 200');
    is($s->get('/errwatch?json=1')->{status}, 400, '?json=1 answers 400');
    my $post = $s->request('POST', '/errwatch?json', { content => 'x=1', headers => { 'Content-Type' => 'application/x-www-form-urlencoded' } });
    is($post->{status}, 405, 'POST answers 405');
    like($post->{headers}{allow} // '', qr/\bGET\b/, '405 names GET in Allow');
    unlike($post->{headers}{allow} // '', qr/\bPOST\b/, '405 does not offer POST');
    my $head = $s->request('HEAD', '/errwatch?json');
    is($head->{status}, 200, 'HEAD ?json answers 200');
    my $raw = $s->raw_request("HEAD /errwatch?json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    like($raw, qr{\AHTTP/1\.\d 200 }, 'HEAD ?json (raw): 200');
    like($raw, qr{\r\n\r\n\z}, 'HEAD ?json (raw): headers only, no body');
    $s->count_response('HEAD', '/errwatch?json', { status => 200 });
    my $d = $s->json_settled;
    $s->check_requests($d, 'after 400 and 405');
    is($d->{requests}{'4xx'}, 4, 'requests.4xx: the 404, two 400s and the 405');
}

# ---------------------------------------------------------------------------
# Graceful restart: counts survive and never go backwards
# ---------------------------------------------------------------------------
{
    for (1 .. 2) {
        is($s->get('/cgi-bin/bad.cgi')->{status}, 500, 'bad.cgi again answers 500');
    }
    my $before = $s->json_settled;
    my @f = @{ $before->{files} };
    like($f[0]{file}, qr{/cgi-bin/bad\.cgi$}, 'files: the most frequent file comes first');
    is($f[0]{count}, 3, 'files: bad.cgi counted 3 times');
    ok(!grep({ $f[$_]{count} < $f[$_ + 1]{count} } 0 .. $#f - 1), 'files sorted by count, descending');

    my @readings = $s->graceful;
    my $prev = $before->{requests}{'5xx'};
    my $monotonic = 1;
    for my $pairs (@readings) {
        my ($v) = map { $_->[1] } grep { $_->[0] eq 'Errors5xx' } @$pairs;
        next unless defined $v;
        $monotonic = 0 if $v < $prev;
        $prev = $v;
    }
    ok($monotonic, 'Errors5xx never went backwards while the restart went on');

    my $after = $s->json_settled;
    is_deeply($after->{status}, $before->{status}, 'graceful: status counts survive');
    is($after->{requests}{'5xx'}, $before->{requests}{'5xx'}, 'graceful: requests.5xx survives');
    is($after->{since_us}, $before->{since_us}, 'graceful: the store is the same (since_us)');
    is_deeply([map { [$_->{file}, $_->{count}] } @{ $after->{files} }],
        [map { [$_->{file}, $_->{count}] } @{ $before->{files} }], 'graceful: files survive');
    is_deeply([map { $_->{time_us} } @{ $after->{recent} }],
        [map { $_->{time_us} } @{ $before->{recent} }], 'graceful: recent survives');
    $s->check_requests($after, 'after graceful');

    is($s->get('/errwatch-test/fail')->{status}, 500, 'a failure after the restart');
    my $later = $s->json_settled;
    is($later->{status}{500}, $before->{status}{500} + 1, 'a new-generation child records into the same store');
    is($later->{recent}[0]{uri}, '/errwatch-test/fail', 'and it is the newest entry');
}

$s->stop;
ok(!$s->is_running, 'apache2 stopped');
$s->scan_error_log('prefork without mod_status');

# ---------------------------------------------------------------------------
# The same ?auto keys as mod_status's own, when mod_status is loaded
# ---------------------------------------------------------------------------
{
    my $t = ErrWatchTest->new(mpm => 'prefork', php => 1, status => 1);
    $t->start;
    is($t->get('/php/fatal.php')->{status}, 500, 'prefork + mod_status: a PHP fatal');
    $t->json_settled;
    my $early = $t->auto;
    $t->check_auto_format($early, $t->last_auto_text, '?auto in the first second',
        [qw(Errors500 Errors5xx Crashes ErrorFiles ErrorFilesEvicted ErrorCauses ErrWatchUptime
            Errors500Last1m Errors500Last5m Errors500Last15m Errors5xxLast1m Errors5xxLast5m Errors5xxLast15m)]);
    ok($t->wait_auto_full('/errwatch?auto', '/server-status?auto'), 'both ?auto pages print every rate line');
    my $mine = $t->auto;
    $t->check_auto_format($mine, $t->last_auto_text, '?auto (mod_status loaded)',
        [qw(Errors500 Errors5xx Crashes ErrorFiles ErrorFilesEvicted ErrorCauses ErrWatchUptime
            Errors500Last1m Errors500Last5m Errors500Last15m Errors5xxLast1m Errors5xxLast5m Errors5xxLast15m)], full => 1);
    my $theirs = $t->auto('/server-status?auto');
    like($t->last_auto_text, qr/\A127\.0\.0\.1\n/, 'mod_status ?auto starts with the bare host line (ours does not)');
    is_deeply(ErrWatchTest::keys_upto_scoreboard($mine), ErrWatchTest::keys_upto_scoreboard($theirs),
        '?auto keys up to Scoreboard equal /server-status?auto (prefork)');
    $t->stop;
    $t->scan_error_log('prefork with mod_status');
}

# ---------------------------------------------------------------------------
# duration_us runs until the request is logged (mod_log_config's %D), so
# it includes an ErrorDocument page that sends its first bytes and then
# takes 0.4 s more to finish (the response had started long before).
# ---------------------------------------------------------------------------
{
    my $t = ErrWatchTest->new(mpm => 'prefork', php => 1, status => 0, extra_conf => <<'EOF');
<Location "/slowdoc/">
    ErrorDocument 500 /slow-error.php
</Location>
<Location "/slowdoc/fail">
    SetHandler errwatch-test-500
</Location>
EOF
    $t->start;
    ErrWatchTest::spew($t->docroot . '/slow-error.php',
        qq{<?php echo "slow error page: start\\n"; flush(); usleep(400000); echo "slow error page: end\\n";\n}, 0644);
    my $t0  = Time::HiRes::time();
    my $res = $t->get('/slowdoc/fail');
    is($res->{status}, 500, 'a failure whose ErrorDocument page is slow: 500');
    like($res->{content}, qr/start\n.*end\n/s, 'the whole slow page is served');
    my $doc = $t->json_settled;
    my $elapsed_us = (Time::HiRes::time() - $t0) * 1e6;
    my $e = $doc->{recent}[0] // {};
    is($e->{uri}, '/slowdoc/fail', 'recorded against the failing URL');
    cmp_ok($e->{duration_us} // 0, '>=', 400_000, 'duration_us includes the 0.4 s after the response started');
    cmp_ok($e->{duration_us} // 0, '<=', $elapsed_us, 'and is no longer than the client waited until it was recorded');
    $t->stop;
    $t->scan_error_log('slow ErrorDocument page');
}

done_testing;
