#!/usr/bin/perl
# The cause, per handler (issue 12), on the event MPM: rows of the handler
# matrix that 50-php-fpm.t, 64-story.t and 65-body-excerpt.t do not cover.
#   - PHP-FPM over TCP (mod_proxy_fcgi to 127.0.0.1:port);
#   - mod_proxy_http to an upstream that answers 500 with a page (a tiny
#     HTTP server this test runs): the upstream logs nothing here, so the
#     page's own words are the cause;
#   - mod_proxy_http to an upstream that is down (503, connection refused)
#     and one that hangs up without answering (502);
#   - mod_cgid: the script's stderr goes straight from the cgid daemon to
#     the error log file, past every hook: the story has httpd's own line
#     only, and the file has the script's (confirmed, documented in
#     docs/configuration.md).
# Each row checks the file, the handler, the count and the cause.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use File::Path qw(make_path);
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Test::More;
use ErrWatchTest qw(poll_until);

sub spew { return ErrWatchTest::spew(@_) }

my $s = ErrWatchTest->new(
    mpm     => 'event',
    php     => 0,
    status  => 0,
    modules => [
        ['proxy_module',      'mod_proxy.so'],
        ['proxy_fcgi_module', 'mod_proxy_fcgi.so'],
        ['proxy_http_module', 'mod_proxy_http.so'],
    ],
);
my $docroot = $s->docroot;

# --- a pool on TCP -----------------------------------------------------------
my $fpm = ErrWatchTest::PhpFpm->new(dir => $s->dir, tcp => 1);
$fpm->start;
make_path("$docroot/fpm");
spew("$docroot/fpm/missing-class.php",
    "<?php\nerror_log('loading the billing module');\nnew Billing\\Invoice();\n", 0644);

# --- an upstream that answers 500 with a page, and one that hangs up -------
my $UPSTREAM_PAGE = "<html><head><title>Upstream error</title></head><body>"
  . "<h1>Inventory service: connection pool exhausted</h1></body></html>\n";
my $upstream = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16, ReuseAddr => 1)
  or die "upstream: $!";
my $hangup = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16, ReuseAddr => 1)
  or die "hangup upstream: $!";
my $down_port = ErrWatchTest::free_port();    # nothing listens there
my @kids;
for my $srv ([$upstream, 'page'], [$hangup, 'hangup']) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $SIG{$_} = 'DEFAULT' for qw(TERM INT HUP);    # not the harness's cleanup handlers
        my ($sock, $kind) = @$srv;
        while (my $c = $sock->accept) {
            # Read the request head, then answer (or not).
            my $head = '';
            while (defined(my $line = <$c>)) {
                $head .= $line;
                last if $line =~ /^\r?\n$/;
            }
            if ($kind eq 'page') {
                print $c "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\n"
                  . "Content-Length: " . length($UPSTREAM_PAGE) . "\r\nConnection: close\r\n\r\n$UPSTREAM_PAGE";
            }
            close $c;
        }
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
END { local $?; kill "TERM", @kids if @kids; waitpid($_, 0) for @kids }
my ($up_port, $hangup_port) = ($upstream->sockport, $hangup->sockport);

# --- mod_cgid with stderr ------------------------------------------------------
spew("$docroot/cgi-bin/cgid-die.sh",
    "#!/bin/sh\necho 'cgid: cannot open /srv/app/settings.ini' >&2\nexit 1\n", 0755);

my $fpm_target = $fpm->handler_target;
$s->set_extra_conf(<<"EOF");
<Directory "$docroot/fpm">
    <FilesMatch "\\.php\$">
        SetHandler "$fpm_target"
    </FilesMatch>
</Directory>
ProxyPass "/shop/" "http://127.0.0.1:$up_port/shop/"
ProxyPass "/down/" "http://127.0.0.1:$down_port/down/" retry=0
ProxyPass "/hangup/" "http://127.0.0.1:$hangup_port/hangup/" retry=0
EOF
$s->start;

sub failure_for {
    my ($uri) = @_;
    my $doc = $s->json_when(sub { grep { $_->{uri} eq $uri } @{ $_[0]{recent} } }, 10);
    my @e = grep { $_->{uri} eq $uri } @{ $doc ? $doc->{recent} : [] };
    return (\@e, $doc);
}

# PHP-FPM over TCP: the script, handler proxy:fcgi, PHP's messages.
for (1 .. 3) {
    is($s->get('/fpm/missing-class.php')->{status}, 500, "FPM over TCP: a fatal error answers 500 ($_)");
}
my ($e, $doc) = failure_for('/fpm/missing-class.php');
is(scalar @$e, 3, 'FPM over TCP: counted three times');
my ($row) = grep { $_->{file} =~ m{/fpm/missing-class\.php$} } @{ $doc->{files} };
is($row && $row->{count}, 3, '... one file row with count 3, the script (not the proxy URL)');
is($e->[0]{handler}, 'proxy:fcgi', '... handler proxy:fcgi');
like($e->[0]{message}, qr/PHP Fatal error:  Uncaught Error: Class "Billing\\+Invoice" not found/,
    '... the message is PHP\'s fatal') or diag(explain($e->[0]));
like(join("\n", @{ $e->[0]{messages} || [] }), qr/loading the billing module.*\n?.*Billing/s,
    '... and the story has the line logged before it');

# mod_proxy_http, an upstream 500 with a page.
is($s->get('/shop/cart')->{status}, 500, 'proxy_http: the upstream\'s 500 passes through');
($e) = failure_for('/shop/cart');
is(scalar @$e, 1, '... counted once');
is($e->[0]{handler}, 'proxy:http', '... handler proxy:http');
is($e->[0]{file}, '/shop/cart', '... file: the proxied path (there is no script on this server)');
is($e->[0]{message}, '[response body] Inventory service: connection pool exhausted',
    '... the cause: the upstream page\'s heading (nothing was logged)') or diag(explain($e->[0]));

# mod_proxy_http, the upstream is down.
is($s->get('/down/x')->{status}, 503, 'proxy_http: an upstream that is down answers 503');
($e) = failure_for('/down/x');
is(scalar @$e, 1, '... counted once');
is($e->[0]{handler}, 'proxy:http', '... handler proxy:http');
# AH00957 (which names the port) is logged for the server, not the request;
# the request's own line names the backend.
like($e->[0]{message}, qr/AH01114: HTTP: failed to make connection to backend: 127\.0\.0\.1/,
    '... the cause: no connection to the backend') or diag(explain($e->[0]));

# mod_proxy_http, the upstream hangs up without answering.
# A fresh client connection: on a kept-alive one, mod_proxy_http closes the
# client's connection for an idempotent request the backend dropped, and
# HTTP::Tiny then sends it again (two requests, two 502s, both counted).
$s->new_client;
is($s->get('/hangup/y')->{status}, 502, 'proxy_http: an upstream that hangs up answers 502');
($e) = failure_for('/hangup/y');
is(scalar @$e, 1, '... counted once') or diag(explain($e));
like(join("\n", @{ $e->[0]{messages} || [] }), qr/AH01102: error reading status line from remote server/,
    '... the cause: no status line') or diag(explain($e->[0]));

# mod_cgid: the stderr line is in the log file, not in the story.
is($s->get('/cgi-bin/cgid-die.sh')->{status}, 500, 'mod_cgid: a script that dies answers 500');
($e) = failure_for('/cgi-bin/cgid-die.sh');
is(scalar @$e, 1, '... counted once');
like($e->[0]{file}, qr{/cgi-bin/cgid-die\.sh$}, '... file');
like($e->[0]{message}, qr/End of script output before headers: cgid-die\.sh/, '... httpd\'s own line');
unlike(join("\n", @{ $e->[0]{messages} || [] }), qr/settings\.ini/,
    '... not the script\'s stderr, which no hook sees under mod_cgid');
ok(poll_until(10, sub { $s->error_log_text =~ m{cgid: cannot open /srv/app/settings\.ini} }),
    '... which the cgid daemon wrote straight to the error log file');

$s->stop;
$fpm->stop;
$s->scan_error_log('handler matrix');
$fpm->scan_log;
done_testing;
