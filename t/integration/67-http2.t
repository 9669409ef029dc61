#!/usr/bin/perl
# HTTP/2 (issue 12): event MPM with mod_http2, cleartext h2 (Protocols h2c,
# prior knowledge) and h2 over TLS (mod_ssl, a throwaway self-signed
# certificate, ALPN). h2load (Debian's nghttp2-client) sends many
# multiplexed streams of failing and succeeding requests: every 5xx is
# counted exactly and attributed to its handler and file, every 200 counted,
# and the status URL answers over h2 itself.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use JSON::PP;
use Test::More;
use ErrWatchTest qw(poll_until);

my $H2LOAD  = '/usr/bin/h2load';
my $OPENSSL = '/usr/bin/openssl';
plan skip_all => "needs $H2LOAD (package nghttp2-client)" unless -x $H2LOAD;
plan skip_all => "needs $OPENSSL (package openssl)"       unless -x $OPENSSL;

my $s = ErrWatchTest->new(
    mpm     => 'event',
    php     => 0,
    status  => 0,
    modules => [['http2_module', 'mod_http2.so'], ['ssl_module', 'mod_ssl.so'],
        ['socache_shmcb_module', 'mod_socache_shmcb.so']],
);
my $dir = $s->dir;

my ($rc, $out) = ErrWatchTest::run_cmd("$dir/openssl.out", $OPENSSL, 'req', '-x509', '-newkey', 'rsa:2048',
    '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', "$dir/key.pem", '-out', "$dir/cert.pem");
is($rc, 0, 'a throwaway self-signed certificate') or diag($out);
chmod 0644, "$dir/key.pem";

my $tls_port = ErrWatchTest::free_port();
$s->set_extra_conf(<<"EOF");
Protocols h2c http/1.1
H2MaxSessionStreams 100
SSLSessionCache "shmcb:$dir/run/ssl_scache(512000)"
Listen 127.0.0.1:$tls_port
<VirtualHost 127.0.0.1:$tls_port>
    ServerName 127.0.0.1
    SSLEngine on
    SSLCertificateFile "$dir/cert.pem"
    SSLCertificateKeyFile "$dir/key.pem"
    Protocols h2 http/1.1
</VirtualHost>
EOF
$s->start;
my $docroot = $s->docroot;
my $port    = $s->port;

# What was counted before (the harness's readiness probe): this request
# itself is counted once it has answered, so it adds one more 200.
my $before = decode_json($s->get('/errwatch?json')->{content});
my $base_2xx = $before->{requests}{'2xx'} + 1;
is($before->{requests}{'5xx'}, 0, 'no failure before the streams');

# h2load: n requests over c connections, m streams at a time on each.
sub h2load {
    my ($label, @args) = @_;
    my ($code, $text) = ErrWatchTest::run_cmd("$dir/h2load-$label.out", $H2LOAD, @args);
    is($code, 0, "h2load $label ran") or diag($text);
    my %st;
    if ($text =~ /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/) {
        @st{qw(2xx 3xx 4xx 5xx)} = ($1, $2, $3, $4);
    }
    my ($proto) = $text =~ /Application protocol: (\S+)/;
    return (\%st, $proto // '', $text);
}

my $N = 400;
my ($st, $proto, $text) = h2load('h2c-fail', '-n', $N, '-c', 4, '-m', 20, "http://127.0.0.1:$port/errwatch-test/fail");
is($proto, 'h2c', 'cleartext: h2c with prior knowledge') or diag($text);
is($st->{'5xx'}, $N, "cleartext: $N multiplexed 500s answered");
($st, $proto, $text) = h2load('h2c-ok', '-n', $N, '-c', 4, '-m', 20, "http://127.0.0.1:$port/ok.html");
is($st->{'2xx'}, $N, "cleartext: $N multiplexed 200s");
($st, $proto, $text) = h2load('h2-fail', '-n', $N, '-c', 4, '-m', 20, "https://127.0.0.1:$tls_port/errwatch-test/fail");
is($proto, 'h2', 'TLS: h2 by ALPN') or diag($text);
is($st->{'5xx'}, $N, "TLS: $N multiplexed 500s answered");
($st, $proto, $text) = h2load('h2-ok', '-n', $N, '-c', 4, '-m', 20, "https://127.0.0.1:$tls_port/ok.html");
is($st->{'2xx'}, $N, "TLS: $N multiplexed 200s");

# The status URL over h2, both ways: curl says which protocol answered.
sub curl_h2 {
    my ($label, @args) = @_;
    my ($code, $body) = ErrWatchTest::run_cmd("$dir/curl-$label.out", '/usr/bin/curl', '-sS', '-w',
        '\n%{http_version} %{http_code}', @args);
    my ($ver, $status) = $body =~ /\n(\S+) (\d+)\z/;
    $body =~ s/\n\S+ \d+\z//;
    return ($code, $ver // '', $status // 0, $body);
}

# Counting happens when httpd logs a stream, a moment after the client has
# its answer: poll until the store has them all.
my $doc;
my $polls = 0;
my $settled = poll_until(20, sub {
    $polls++;
    my ($code, $ver, $status, $body) = curl_h2('json', '--http2-prior-knowledge', "http://127.0.0.1:$port/errwatch?json");
    return 0 unless $code == 0 && $status == 200;
    $doc = eval { decode_json($body) } or return 0;
    return ($doc->{requests}{'5xx'} // 0) >= 2 * $N
      && ($doc->{requests}{'2xx'} // 0) >= $base_2xx + 2 * $N + $polls - 1;
});
ok($settled, 'the status URL answers over h2c with every stream counted');
is($doc->{requests}{'5xx'}, 2 * $N, "exactly $N + $N 5xx counted, no more");
# Each status request that answered before the last one is a 200 too.
is($doc->{requests}{'2xx'}, $base_2xx + 2 * $N + $polls - 1,
    "exactly $N + $N 200s counted, plus the status requests that answered before");
is($doc->{status}{500}, 2 * $N, 'all of them 500s');
my ($row) = grep { $_->{file} =~ m{/errwatch-test/fail$} } @{ $doc->{files} || [] };
is($row && $row->{count}, 2 * $N, 'one file row holds every h2 failure');
is($row && $row->{handler}, 'errwatch-test-500', '... with its handler');
my @recent = @{ $doc->{recent} || [] };
ok(@recent && !(grep { $_->{uri} ne '/errwatch-test/fail' || $_->{status} != 500 } @recent),
    'recent failures: every one is the failing URL with its 500');
like($recent[0]{message} // '', qr/errwatch-test: deliberate failure in handler/, '... and its logged cause');

my ($code, $ver, $status, $body) = curl_h2('tls', '--http2', '-k', "https://127.0.0.1:$tls_port/errwatch?json");
is($code, 0, 'curl over TLS');
is($ver, '2', 'the status URL answers over h2 with TLS');
is($status, 200, '... 200');
my $tls_doc = eval { decode_json($body) };
ok($tls_doc && $tls_doc->{requests}{'5xx'} == 2 * $N, '... with the same counts');

($code, $ver, $status, $body) = curl_h2('html', '--http2-prior-knowledge', "http://127.0.0.1:$port/errwatch");
is("$ver $status", '2 200', 'the HTML page over h2c');
like($body, qr{/errwatch-test/fail}, '... lists the failing file');

$s->stop;
$s->scan_error_log('http2');
done_testing;
