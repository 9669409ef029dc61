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
#   - refusals are logged at info only; the page carries a CSP that
#     headless Chromium renders it under without a violation.
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

my $BACK = ErrWatchTest->new(mpm => 'event', loglevel => 'warn errwatch:info',
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
      . "ProxyPass /ok.html http://127.0.0.1:$BPORT/ok.html\n",
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

$FRONT->stop;
$BACK->stop;
$BACK->scan_error_log('proxy access');

ErrWatchNetns::cleanup();
done_testing;
