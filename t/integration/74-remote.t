#!/usr/bin/perl
# Locked down, tested from a real remote client: a network namespace with a
# veth pair (names and a private /30 unique to this run), the server
# listening on the root namespace's end as well as on loopback, and curl
# inside the namespace as the remote client. The client can fetch /ok.html
# (so the network works), but gets
#   403 from the shipped config (conf/errwatch.conf: Require local),
#   403 from the module's own loopback-only rule even with Require all granted,
#   200 once the admin opts in: ErrWatchAllowRemote On + Require ip <client>
#   (ErrWatchAllowRemote Off again: 403),
#   403 again with ErrWatchAllowRemote On but a Require ip of someone else.
# The namespace and the veth pair are removed afterwards, also when the test
# fails or is interrupted (END block). Needs root; where the kernel refuses
# namespaces the test is skipped with the reason, never silently.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use ErrWatchTest qw(poll_until);
use ErrWatchNetns qw(sh);

my $NET = ErrWatchNetns::setup();
my ($NS, $HOST, $HOST_IP, $CLIENT_IP) = @{$NET}{qw(ns host_if host_ip client_ip)};

my $PORT = ErrWatchTest::free_port();
my $LISTEN = "Listen $HOST_IP:$PORT\n";
# Refusals are logged at info (issue 15): a scanner must not fill the log.
my $s = ErrWatchTest->new(mpm => 'event', extra_conf => $LISTEN, loglevel => 'warn errwatch:info');
$s->start;

# curl from inside the namespace: (status, body).
sub remote_get {
    my ($path) = @_;
    my $body = $s->dir . '/remote.body';
    unlink $body;
    my ($r, $code) = sh('ip', 'netns', 'exec', $NS, 'curl', '-s', '--max-time', '5', '-o', $body, '-w', '%{http_code}',
        "http://$HOST_IP:$PORT$path");
    return ($code, ErrWatchTest::slurp($body));
}

sub reconfigure {
    my ($conf, $label) = @_;
    $s->set_extra_conf($LISTEN . $conf);
    $s->graceful;
    return;
}

my ($code, $body) = remote_get('/ok.html');
is($code, '200', 'the remote client reaches /ok.html (the network works)');
like($body, qr/errwatch test: ok/, '... and gets the page');

# 1. The shipped config.
for my $q ('', '?json', '?auto', '?metrics') {
    ($code) = remote_get("/errwatch$q");
    is($code, '403', "shipped config: the remote client gets 403 for /errwatch$q");
}
is($s->get('/errwatch?json')->{status}, 200, 'shipped config: loopback still gets 200');

# 2. Require all granted, no ErrWatchAllowRemote: the module refuses.
my $log_before = length $s->error_log_text;
reconfigure(qq{<Location "/errwatch">\n    Require all granted\n</Location>\n});
for my $q ('', '?json', '?auto', '?metrics') {
    ($code, $body) = remote_get("/errwatch$q");
    is($code, '403', "Require all granted: the module still answers 403 for /errwatch$q");
    unlike($body, qr/"files"|Errors5xx|errwatch_errors_total|Top failing/, "... and shows nothing of the store");
}
my $log = substr($s->error_log_text, $log_before);
like($log, qr/EW0201: status page refused to non-loopback client \Q$CLIENT_IP\E\b/, '... logging EW0201 with the client address');

# 3. The admin opts in (loopback stays allowed, so the harness can watch
# the restarts).
reconfigure(qq{<Location "/errwatch">\n    Require ip $CLIENT_IP 127.0.0.1\n    ErrWatchAllowRemote On\n</Location>\n});
is($s->get('/errwatch-test/fail')->{status}, 500, 'a failure to look at');
$s->json_settled;
for my $q ('', '?json', '?auto', '?metrics') {
    ($code, $body) = remote_get("/errwatch$q");
    is($code, '200', "ErrWatchAllowRemote On + Require ip $CLIENT_IP: 200 for /errwatch$q");
}
($code, $body) = remote_get('/errwatch?json');
like($body, qr{errwatch-test/fail}, '... and the remote client sees the failing file');

# 3b. Require ip <client> alone, without the opt-in: the module refuses.
reconfigure(qq{<Location "/errwatch">\n    Require ip $CLIENT_IP 127.0.0.1\n</Location>\n});
($code) = remote_get('/errwatch?json');
is($code, '403', "Require ip $CLIENT_IP without ErrWatchAllowRemote: 403");

# 4. Opted in, but the Require ip names someone else: httpd refuses.
reconfigure(qq{<Location "/errwatch">\n    Require ip 192.0.2.7 127.0.0.1\n    ErrWatchAllowRemote On\n</Location>\n});
($code) = remote_get('/errwatch?json');
is($code, '403', 'ErrWatchAllowRemote On with another Require ip: 403');

$s->stop;
$s->scan_error_log('remote client');

ErrWatchNetns::cleanup();
my (undef, $ns_list) = sh('ip', 'netns', 'list');
unlike($ns_list, qr/^\Q$NS\E\b/m, "namespace $NS removed");
my ($gone) = sh('ip', 'link', 'show', $HOST);
isnt($gone, 0, "veth $HOST removed");
done_testing;
