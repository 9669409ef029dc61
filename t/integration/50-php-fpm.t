#!/usr/bin/perl
# event MPM + mod_proxy_fcgi + a php-fpm pool the test starts itself on a
# unix socket: PHP-FPM 500s are attributed to the script (not the proxy
# URL), with handler "proxy:fcgi" and PHP's message from mod_proxy_fcgi's
# "Got error 'PHP message: ...'" line.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use ErrWatchTest qw(poll_until);

my $FCGI = 'proxy:fcgi';

my $s = ErrWatchTest->new(
    mpm     => 'event',
    php     => 0,
    status  => 0,
    modules => [['proxy_module', 'mod_proxy.so'], ['proxy_fcgi_module', 'mod_proxy_fcgi.so']],
);
my $docroot = $s->docroot;

my $fpm = ErrWatchTest::PhpFpm->new(dir => $s->dir);
$fpm->start;
# The socket listens before the master forks its workers: poll for them.
my @fpm_workers;
poll_until(10, sub { @fpm_workers = ErrWatchTest::children_of($fpm->pid); @fpm_workers == 2 });
is(scalar @fpm_workers, 2, 'php-fpm: pm.max_children = 2 static workers');
my $sock = $fpm->socket;
$s->set_extra_conf(<<"EOF_CONF");
<FilesMatch "\\.php\$">
    SetHandler "proxy:unix:$sock|fcgi://localhost"
</FilesMatch>
EOF_CONF
$s->start;

{
    my $doc = $s->json_settled;
    ok($doc, 'GET /errwatch?json answers JSON') or BAIL_OUT('no JSON from the status URL');
    is_deeply($doc->{status}, {}, 'fresh store: no status codes');
}

# ---------------------------------------------------------------------------
# One request per case, successes in between
# ---------------------------------------------------------------------------
my @cases = (
    {
        name    => 'php-fpm: fatal error (missing require)',
        path    => '/php/fatal.php',
        uri     => '/php/fatal.php',
        file    => qr{^\Q$docroot\E/php/fatal\.php$},
        handler => $FCGI,
        message => [qr/PHP Fatal error/, qr/Failed opening required/, qr/class-wp-locale\.phpp/],
    },
    {
        name    => 'php-fpm: WordPress-style rewrite to index.php',
        path    => '/wp/2024/hello-world/',
        uri     => '/wp/2024/hello-world/',
        file    => qr{^\Q$docroot\E/wp/index\.php$},
        handler => $FCGI,
        message => [qr/Failed opening required/, qr/class-wp-locale\.phpp/],
    },
    {
        name    => 'php-fpm: script sets 503',
        path    => '/php/status503.php',
        uri     => '/php/status503.php',
        status  => 503,
        file    => qr{^\Q$docroot\E/php/status503\.php$},
        handler => $FCGI,
        body    => qr/maintenance/,
    },
    {
        name    => 'php-fpm: long warning, then a fatal error',
        path    => '/php/long-warning.php',
        uri     => '/php/long-warning.php',
        file    => qr{^\Q$docroot\E/php/long-warning\.php$},
        handler => $FCGI,
        message => [qr/PHP Fatal error/, qr/Failed opening required/, qr/class-wp-locale\.phpp/],
    },
);
my @fillers = (['/php/ok.php', 200, qr/php ok/], ['/ok.html', 200, qr/errwatch test: ok/], ['/no-such.php', 404, undef]);

for my $i (0 .. $#cases) {
    my $c   = $cases[$i];
    my $res = $s->get($c->{path});
    is($res->{status}, $c->{status} || 500, "$c->{name}: answers " . ($c->{status} || 500));
    like($res->{content}, $c->{body}, "$c->{name}: body") if $c->{body};
    $s->json_settled;
    if (my $f = $fillers[$i]) {
        my $r = $s->get($f->[0]);
        is($r->{status}, $f->[1], "GET $f->[0] answers $f->[1]");
        like($r->{content}, $f->[2], "GET $f->[0]: body") if $f->[2];
    }
}

my $doc = $s->json_settled;
is_deeply($doc->{status}, { 500 => 3, 503 => 1 }, 'status: exactly {"500": 3, "503": 1}')
  or diag(explain $doc->{status});
$s->check_requests($doc, 'after the cases');

my @recent = @{ $doc->{recent} || [] };
is_deeply([map { $_->{uri} } @recent], [reverse map { $_->{uri} } @cases], 'recent is newest first, one entry per case');
for my $c (@cases) {
    my @hits = grep { ($_->{uri} // '') eq $c->{uri} } @recent;
    is(scalar @hits, 1, "$c->{name}: exactly one recent entry");
    $s->check_recent_entry($hits[0], $c, $c->{name});
    my @f = grep { ($_->{file} // '') =~ $c->{file} } @{ $doc->{files} || [] };
    is(scalar @f, 1, "$c->{name}: one files entry") or next;
    is($f[0]{count},       1,                   "$c->{name}: files count 1");
    is($f[0]{handler},     $FCGI,               "$c->{name}: files handler is proxy:fcgi");
    is($f[0]{last_status}, $c->{status} || 500, "$c->{name}: files last_status");
    like($f[0]{message}, $_, "$c->{name}: files message matches $_") for @{ $c->{message} || [] };
}
my @proxyish = grep { ($_->{file} // '') =~ m{proxy:|fcgi://|unix:|\|} } @{ $doc->{files} || [] }, @recent;
ok(!@proxyish, 'no file keeps the proxy: prefix, the socket or the fcgi:// URL')
  or diag(explain [map { $_->{file} } @proxyish]);
ok(!grep({ ($_->{handler} // '') ne $FCGI } @recent), 'every recent entry has handler proxy:fcgi');
is_deeply([sort map { "$_->{handler}|$_->{status}|$_->{count}" } @{ $doc->{handlers} || [] }],
    ["$FCGI|500|3", "$FCGI|503|1"], 'handlers: proxy:fcgi 500 x3, 503 x1')
  or diag(explain $doc->{handlers});

# The long-warning case: mod_proxy_fcgi's line is longer than a stored
# message; errwatch keeps the part from the last fatal error on.
{
    my ($long) = grep { $_->{uri} eq '/php/long-warning.php' } @recent;
    my $msg = $long ? $long->{message} : '';
    like($msg, qr/^PHP message: PHP Fatal error:  Uncaught Error: Failed opening required/,
        'long line: the message starts at the last fatal error');
    unlike($msg, qr/w{50}/, 'long line: the long warning is left out');
    cmp_ok(length($msg), '<=', 511, 'long line: the message fits the 511-byte field');
    my @lines = grep { /AH01071: Got error 'PHP message: PHP Warning:  w{800} / } split /\n/, $s->error_log_text;
    is(scalar @lines, 1, "Apache logged the warning and the fatal error in one AH01071 line");
    ok(@lines && length($lines[0]) > 1000 && $lines[0] =~ /PHP Fatal error:  Uncaught Error: Failed opening required/,
        'that line is longer than 511 bytes and ends with the fatal error');
}
# A short-enough line is kept whole, from mod_proxy_fcgi's AH01071 on.
{
    my ($fatal) = grep { $_->{uri} eq '/php/fatal.php' } @recent;
    like($fatal ? $fatal->{message} : '', qr/(?:^AH01071: Got error 'PHP message: |^PHP message: PHP Fatal error)/,
        'fatal.php: the message is mod_proxy_fcgi\'s line (or its fatal part)');
}

# ---------------------------------------------------------------------------
# ?auto and ?metrics
# ---------------------------------------------------------------------------
{
    my %v = map { $_->[0] => $_->[1] } grep { defined $_->[1] } @{ $s->auto };
    is($v{Errors500},       3, '?auto Errors500');
    is($v{Errors5xx},       4, '?auto Errors5xx');
    is($v{Errors503},       1, '?auto Errors503');
    is($v{ErrorFiles},      4, '?auto ErrorFiles');
    is($v{Errors500Last5m}, 3, '?auto Errors500Last5m');
    is($v{Errors5xxLast1m}, 4, '?auto Errors5xxLast1m');

    my $res = $s->metrics;
    is($res->{status}, 200, '?metrics answers 200');
    my ($rc, $out) = $s->promtool_check($res->{content});
    is($rc,  0,  '?metrics: promtool check metrics exits 0') or diag($out);
    is($out, '', '?metrics: promtool check metrics prints nothing');
    my $m = ErrWatchTest::parse_metrics($res->{content});
    is(ErrWatchTest::metric_value($m, 'errwatch_handler_errors_total', { handler => $FCGI, status => 500 }), 3,
        'errwatch_handler_errors_total{handler="proxy:fcgi",status="500"} 3');
    is(ErrWatchTest::metric_value($m, 'errwatch_handler_errors_total', { handler => $FCGI, status => 503 }), 1,
        'errwatch_handler_errors_total{handler="proxy:fcgi",status="503"} 1');
    like($res->{content}, qr/^errwatch_handler_errors_total\{handler="proxy:fcgi",status="500"\} 3$/m,
        '... as an exact line');
    for my $script ('php/fatal.php', 'wp/index.php', 'php/long-warning.php', 'php/status503.php') {
        is(ErrWatchTest::metric_value($m, 'errwatch_file_errors_total', { file => "$docroot/$script", handler => $FCGI }), 1,
            "errwatch_file_errors_total{file=\"<docroot>/$script\",handler=\"proxy:fcgi\"} 1");
    }
    is(ErrWatchTest::metric_value($m, 'errwatch_errors_total', { status => 500 }), 3, 'errwatch_errors_total{status="500"} 3');
    is(ErrWatchTest::metric_value($m, 'errwatch_errors_window', { status => '500', window => '1m' }), 3,
        'errwatch_errors_window{status="500",window="1m"} 3');
    ok(defined ErrWatchTest::metric_value($m, 'apache_connections', { state => 'total' }),
        'apache_connections is there under the event MPM');
}

# ---------------------------------------------------------------------------
# Shut down: Apache, then php-fpm and its workers; then the logs
# ---------------------------------------------------------------------------
$s->stop;
ok(!$s->is_running, 'apache2 stopped');
$fpm->stop;
ok(!$fpm->is_running, 'php-fpm master stopped');
ok(poll_until(5, sub { !grep { ErrWatchTest::proc_alive($_) } @fpm_workers }), 'php-fpm workers are gone')
  or diag("still running: @fpm_workers");
$s->scan_error_log('event + php-fpm');
$fpm->scan_log('php-fpm');
like($fpm->log_text, qr/PHP message: PHP Fatal error/, "php-fpm's own log has the fatal errors too (catch_workers_output)");

done_testing;
