#!/usr/bin/perl
# Locked down for real (issue 15). A remote client in a network namespace
# reaches the module's server only through a local reverse proxy: a second
# Apache with mod_proxy_http and no module, listening on the veth address
# and forwarding to the module's server on 127.0.0.1. Every visitor then
# arrives from 127.0.0.1, so:
#   - a forwarded request (X-Forwarded-For and the like) is remote: 403 for
#     every format and for ?tail, also with a spoofed X-Forwarded-For;
#   - with mod_remoteip trusting the proxy, the client mod_remoteip resolves
#     is judged: the remote client still gets 403, a local client going
#     through the same proxy 200;
#   - a foreign Host (DNS rebinding) gets 421, while localhost, 127.0.0.1,
#     [::1] with ports and the server's own names get 200;
#   - the /server-status section shows no file rows to the proxied client;
#   - the real apache_exporter and the Datadog checks' requests on
#     localhost keep working;
#   - refusals are logged at info only; the page carries a CSP that
#     headless Chromium renders it under without a violation;
#   - ErrWatchAllowRemote On hands the decision back to Require.
# Needs root for the namespace; skipped with the reason otherwise.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use ErrWatchTest qw(poll_until);
use ErrWatchNetns qw(sh);

my $NET = ErrWatchNetns::setup();
my ($NS, $HOST, $HOST_IP, $CLIENT_IP) = @{$NET}{qw(ns host_if host_ip client_ip)};

my $BACK = ErrWatchTest->new(mpm => 'event', loglevel => 'warn errwatch:info', status => 1,
    modules => [['remoteip_module', 'mod_remoteip.so']]);
my $BPORT = $BACK->port;
# The server's own names: a name-based vhost on the port (the status URL's
# <Location> applies to it too).
my $VHOST = "<VirtualHost *:$BPORT>\n    ServerName 127.0.0.1\n"
  . "    ServerAlias status.example.test *.ops.example.test\n</VirtualHost>\n";
$BACK->set_extra_conf($VHOST);
$BACK->start;
my $FPORT = ErrWatchTest::free_port();
my $FRONT = ErrWatchTest->new(
    mpm      => 'event',
    errwatch => 0,
    php      => 0,
    modules  => [['proxy_module', 'mod_proxy.so'], ['proxy_http_module', 'mod_proxy_http.so']],
    extra_conf => "Listen $HOST_IP:$FPORT\nProxyPass /errwatch http://127.0.0.1:$BPORT/errwatch\n"
      . "ProxyPass /ok.html http://127.0.0.1:$BPORT/ok.html\n"
      . "ProxyPass /server-status http://127.0.0.1:$BPORT/server-status\n",
);
$FRONT->start;

# curl from inside the namespace, through the front: (status, body).
sub remote_get {
    my ($path, @headers) = @_;
    my $body = $BACK->dir . '/remote.body';
    unlink $body;
    my ($r, $code) = sh('ip', 'netns', 'exec', $NS, 'curl', '-s', '--max-time', '5', '-o', $body,
        '-w', '%{http_code}', (map { ('-H', $_) } @headers), "http://$HOST_IP:$FPORT$path");
    return ($code, ErrWatchTest::slurp($body) // '');
}

# curl on this machine, straight to the module's server.
sub local_get {
    my ($url, @headers) = @_;
    my $body = $BACK->dir . '/local.body';
    unlink $body;
    my ($r, $code) = sh('curl', '-s', '--max-time', '5', '-o', $body, '-w', '%{http_code}',
        (map { ('-H', $_) } @headers), $url);
    return ($code, ErrWatchTest::slurp($body) // '');
}

is($BACK->get('/errwatch-test/fail')->{status}, 500, 'a failure to look at');
$BACK->json_settled;
my ($code, $body) = remote_get('/ok.html');
is($code, '200', 'the remote client reaches /ok.html through the proxy (the network works)');

# 1. Proxied means remote (mod_remoteip loaded but not configured).
my $log0 = length $BACK->error_log_text;
for my $q ('', '?json', '?auto', '?metrics', '?tail') {
    ($code, $body) = remote_get("/errwatch$q");
    is($code, '403', "through the proxy: 403 for /errwatch$q");
    unlike($body, qr/errwatch-test|Errors5xx|errwatch_errors_total/, '... showing nothing of the store');
}
($code) = remote_get('/errwatch?json', 'X-Forwarded-For: 127.0.0.1');
is($code, '403', 'a spoofed X-Forwarded-For: 127.0.0.1 changes nothing: 403');
my $log = substr($BACK->error_log_text, $log0);
like($log, qr/\[errwatch:info\].*EW1501: status page refused: request forwarded by a proxy at 127\.0\.0\.1/,
    'refusals logged as EW1501 at info');
unlike($log, qr/\[errwatch:(?:warn|error|crit)\].*EW1501/, '... and never above info');
is($BACK->get('/errwatch?json')->{status}, 200, 'a local client without the proxy still gets 200');
# The /server-status section: mod_status's own Require local lets the
# proxied client in (its weakness), but the file rows stay hidden.
($code, $body) = local_get("http://127.0.0.1:$BPORT/server-status");
like($body, qr{<h2>mod_errwatch</h2>.*errwatch-test}s, '/server-status, local: the section with its file rows');
($code, $body) = remote_get('/server-status');
is($code, '200', '/server-status through the proxy: mod_status answers (Require local sees 127.0.0.1)');
# (mod_status's own request table may name URLs: look at our section only.)
my ($section) = $body =~ m{(<hr />\n<h2>mod_errwatch</h2>.*)\z}s;
like($section // '', qr{loopback clients only}, '... the errwatch section says why it is short');
unlike($section // 'missing', qr{errwatch-test|<td>/}, '... and shows no file row');

# 2. mod_remoteip trusting the proxy: the resolved client is judged.
$BACK->set_extra_conf($VHOST . "RemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 127.0.0.1\n");
$BACK->graceful;
for my $q ('?json', '?tail') {
    ($code) = remote_get("/errwatch$q");
    is($code, '403', "mod_remoteip trusting the proxy: the remote client still gets 403 for /errwatch$q");
}
($code) = remote_get('/errwatch?json', 'X-Forwarded-For: 127.0.0.1');
is($code, '403', '... also with a spoofed X-Forwarded-For: 127.0.0.1 (mod_remoteip stops at the client)');
($code, $body) = local_get("http://127.0.0.1:" . $FRONT->port . "/errwatch?json");
is($code, '200', 'a local client through the same proxy gets 200');
like($body, qr/errwatch-test/, '... and the store');

# 3. The Host rule (DNS rebinding).
my $url = "http://127.0.0.1:$BPORT/errwatch?json";
($code, $body) = local_get($url, 'Host: rebind.attacker.example');
is($code, '421', 'Host: rebind.attacker.example gets 421');
like($body, qr/^errwatch: this Host is not this server's name/, '... with a one-line reason');
($code) = local_get($url, "Host: rebind.attacker.example:$BPORT");
is($code, '421', '... also with a port');
for my $h ('localhost', "localhost:$BPORT", "127.0.0.1:$BPORT", "[::1]:$BPORT", 'status.example.test',
    "web7.ops.example.test:$BPORT")
{
    ($code) = local_get($url, "Host: $h");
    is($code, '200', "Host: $h gets 200");
}
($code) = local_get("http://127.0.0.1:$BPORT/ok.html", 'Host: rebind.attacker.example');
is($code, '200', 'the Host rule is the status page\'s only: other URLs answer');

# The scrapers on this machine, as they are set up (conf/datadog, README):
# the real apache_exporter on http://localhost:PORT/errwatch?auto, and the
# Datadog Agent's Apache and OpenMetrics checks (plain GETs of
# http://localhost/errwatch?auto and ?metrics with its User-Agent and, for
# OpenMetrics, its Accept header; the Agent itself is not packaged).
SKIP: {
    my ($exporter) = grep { -x } qw(/usr/bin/prometheus-apache-exporter);
    skip 'prometheus-apache-exporter is not installed (make test installs it)', 3 unless $exporter;
    my $eport = ErrWatchTest::free_port();
    my $elog  = $BACK->dir . '/exporter.log';
    my $pid   = fork // die "fork: $!\n";
    if ($pid == 0) {
        open STDOUT, '>', $elog or exit 127;
        open STDERR, '>&', \*STDOUT or exit 127;
        exec $exporter, "--scrape_uri=http://localhost:$BPORT/errwatch?auto",
          "--telemetry.address=127.0.0.1:$eport";
        exit 127;
    }
    my $m = poll_until(10, sub {
        my ($c, $b) = local_get("http://127.0.0.1:$eport/metrics");
        return $c eq '200' && $b =~ /^apache_up /m ? $b : undef;
    }) // '';
    kill 'TERM', $pid;
    waitpid $pid, 0;
    like($m, qr/^apache_up 1$/m, 'apache_exporter scraping localhost/errwatch?auto: apache_up 1')
      or diag(ErrWatchTest::slurp($elog));
    my ($acc) = $m =~ /^apache_accesses_total (\S+)$/m;
    ok(defined $acc && $acc > 0, "... and apache_accesses_total counts (@{[ $acc // 'missing' ]})");
    like($m, qr/^apache_workers\{state="idle"\} \d/m, '... and the workers');
}
($code, $body) = local_get("http://localhost:$BPORT/errwatch?auto", 'User-Agent: Datadog Agent/7.50.3');
is($code, '200', 'Datadog Apache check on localhost/errwatch?auto: 200');
like($body, qr/^Total Accesses: \d+$/m, '... with the keys it reads');
($code, $body) = local_get("http://localhost:$BPORT/errwatch?metrics", 'User-Agent: Datadog Agent/7.50.3',
    'Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1');
is($code, '200', 'Datadog OpenMetrics check on localhost/errwatch?metrics: 200');
like($body, qr/^errwatch_errors_total\{status="500"\} [1-9]/m, '... with the error counts');

# 4. The page's headers, and a real browser under its CSP.
my $res = $BACK->get('/errwatch');
like($res->{headers}{'content-security-policy'} // '', qr/^default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'$/,
    'HTML: Content-Security-Policy');
is($res->{headers}{'referrer-policy'}, 'no-referrer', 'HTML: Referrer-Policy: no-referrer');
is($res->{headers}{'cache-control'}, 'no-store', 'HTML: Cache-Control stays');
is($res->{headers}{'x-content-type-options'}, 'nosniff', 'HTML: nosniff stays');
SKIP: {
    my ($chromium) = grep { -x } qw(/usr/bin/chromium /usr/bin/chromium-browser);
    skip 'chromium is not installed (make test installs it)', 2 unless $chromium;
    my $out = $BACK->dir . '/csp';
    mkdir $out;
    my $dom = `'$chromium' --headless --no-sandbox --disable-gpu --user-data-dir='$out/profile' --enable-logging=stderr --v=0 --dump-dom 'http://127.0.0.1:$BPORT/errwatch' 2>'$out/chromium.log'`;
    like($dom, qr/Top failing files/, 'chromium renders the page');
    my $clog = ErrWatchTest::slurp("$out/chromium.log") // '';
    unlike($clog, qr/Content Security Policy|Refused to (?:apply|load|execute)/, '... with no CSP violation in its console')
      or diag($clog);
}

# 5. ErrWatchAllowRemote On: today's behaviour, Require in charge. With
# Require local the proxied visitor gets in (why Require local alone is not
# enough behind a proxy); a Require ip of someone else keeps it out.
$log0 = length $BACK->error_log_text;
$BACK->set_extra_conf($VHOST . qq{<Location "/errwatch">\n    ErrWatchAllowRemote On\n</Location>\n});
$BACK->graceful;
($code, $body) = remote_get('/errwatch?json');
is($code, '200', 'ErrWatchAllowRemote On + Require local: the proxied client gets 200');
like($body, qr/errwatch-test/, '... and the store');
($code) = local_get($url, 'Host: rebind.attacker.example');
is($code, '200', 'ErrWatchAllowRemote On: no Host rule either');
# With mod_remoteip trusting the proxy, Require sees the real client.
my $RIP = "RemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 127.0.0.1\n";
$BACK->set_extra_conf($VHOST . $RIP
      . qq{<Location "/errwatch">\n    ErrWatchAllowRemote On\n    Require ip 127.0.0.1\n</Location>\n});
$BACK->graceful;
($code) = remote_get('/errwatch?json');
is($code, '403', 'ErrWatchAllowRemote On, mod_remoteip, Require ip 127.0.0.1: the remote client gets 403');
unlike(substr($BACK->error_log_text, $log0), qr/EW15\d\d|EW0201/, '... from Require: the module refused nothing itself');
$BACK->set_extra_conf($VHOST . $RIP
      . qq{<Location "/errwatch">\n    ErrWatchAllowRemote On\n    Require ip $CLIENT_IP 127.0.0.1\n</Location>\n});
$BACK->graceful;
($code, $body) = remote_get('/errwatch?json');
is($code, '200', "... and 200 once Require ip $CLIENT_IP admits it (the remote admin's set-up)");
like($body, qr/errwatch-test/, '... with the store');

$FRONT->stop;
$BACK->stop;
$BACK->scan_error_log('proxy access');

ErrWatchNetns::cleanup();
done_testing;
