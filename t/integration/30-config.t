#!/usr/bin/perl
# Directives: bad values stop httpd with a message naming the directive;
# good values take effect.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use ErrWatchTest qw(poll_until);

# One throwaway config dir, rewritten for every case.
my $t = ErrWatchTest->new(mpm => 'prefork', php => 0);

sub configtest {
    my ($extra) = @_;
    $t->set_extra_conf($extra);
    return $t->configtest;
}

# ---------------------------------------------------------------------------
# Good configs pass
# ---------------------------------------------------------------------------
for my $good (
    '',
    "ErrWatchFiles 1\nErrWatchRecent 1",
    "ErrWatchFiles 1000000\nErrWatchRecent 100000",
    "ErrWatchFiles 64\nErrWatchRecent 16",
    qq{<Location "/x">\n  ErrWatch Off\n  ErrWatchAllowRemote On\n  ErrWatchQueryString On\n</Location>},
    qq{<Location "/x">\n  ErrWatch On\n  ErrWatchAllowRemote Off\n  ErrWatchQueryString Off\n</Location>},
    qq{<Directory "/tmp">\n  ErrWatch off\n</Directory>},
    "ErrWatchBodyExcerpt Off",
    qq{<Location "/x">\n  ErrWatchBodyExcerpt On\n</Location>},
  )
{
    my ($rc, $out) = configtest($good);
    (my $label = $good) =~ s/\s+/ /g;
    is($rc, 0, "apache2 -t passes: '$label'") or diag($out);
    like($out, qr/Syntax OK/, "apache2 -t says Syntax OK: '$label'");
}

# ---------------------------------------------------------------------------
# Bad values are refused, naming the directive
# ---------------------------------------------------------------------------
for my $bad (
    ['ErrWatchFiles',       'ErrWatchFiles 0'],
    ['ErrWatchFiles',       'ErrWatchFiles abc'],
    ['ErrWatchFiles',       'ErrWatchFiles -5'],
    ['ErrWatchFiles',       'ErrWatchFiles 1000001'],
    ['ErrWatchFiles',       'ErrWatchFiles 12abc'],
    ['ErrWatchFiles',       'ErrWatchFiles 99999999999999999999'],
    ['ErrWatchFiles',       'ErrWatchFiles +5'],
    ['ErrWatchFiles',       'ErrWatchFiles "5 "'],
    ['ErrWatchRecent',      'ErrWatchRecent -1'],
    ['ErrWatchRecent',      'ErrWatchRecent 0'],
    ['ErrWatchRecent',      'ErrWatchRecent 100001'],
    ['ErrWatchRecent',      'ErrWatchRecent many'],
    ['ErrWatch',            'ErrWatch maybe'],
    ['ErrWatchAllowRemote', 'ErrWatchAllowRemote sometimes'],
    ['ErrWatchQueryString', 'ErrWatchQueryString 2'],
    ['ErrWatchBodyExcerpt', 'ErrWatchBodyExcerpt yes'],
    ['ErrWatchFiles',       qq{<Location "/x">\n  ErrWatchFiles 10\n</Location>}],
    ['ErrWatchRecent',      qq{<Location "/x">\n  ErrWatchRecent 10\n</Location>}],
  )
{
    my ($directive, $text) = @$bad;
    my ($rc, $out) = configtest($text);
    (my $label = $text) =~ s/\s+/ /g;
    isnt($rc, 0, "apache2 -t fails: '$label'");
    like($out, qr/\b\Q$directive\E\b/, "the message names $directive: '$label'") or diag($out);
    unlike($out, qr/Invalid command/, "$directive is a known directive: '$label'") or diag($out);
}

# A bad value also stops a real start, with the directive in the output.
{
    my $u = ErrWatchTest->new(mpm => 'prefork', php => 0, extra_conf => 'ErrWatchFiles 0');
    my ($rc, $out) = ErrWatchTest::run_cmd($u->dir . '/start.out', ErrWatchTest::apache2_bin(),
        '-f', $u->conf_path, '-k', 'start');
    isnt($rc, 0, 'apache2 -k start with ErrWatchFiles 0 fails');
    like($out, qr/ErrWatchFiles/, 'and says why');
    my $pid = $u->read_pid;
    ok(!ErrWatchTest::proc_alive($pid), 'no server was left running');
    if ($pid && ErrWatchTest::proc_alive($pid)) {
        kill 'TERM', $pid;
        ErrWatchTest::poll_until(20, sub { !ErrWatchTest::proc_alive($pid) });
    }
}

# ---------------------------------------------------------------------------
# Sizes take effect: eviction from small tables
# ---------------------------------------------------------------------------
{
    my $s = ErrWatchTest->new(mpm => 'event', php => 0, extra_conf => "ErrWatchFiles 2\nErrWatchRecent 3");
    $s->start;
    for my $n (1 .. 5) {
        is($s->get("/errwatch-test/many-$n")->{status}, 500, "distinct failing file $n");
        $s->json_settled;
    }
    my $doc   = $s->json_settled;
    my $store = $doc->{store};
    is($store->{files_capacity},    2, 'ErrWatchFiles 2: files_capacity');
    is($store->{recent_capacity},   3, 'ErrWatchRecent 3: recent_capacity');
    is($store->{files_tracked},     2, 'files_tracked is capped');
    is($store->{files_evicted},     3, 'files_evicted counts the rest');
    is($store->{failures_recorded}, 5, 'failures_recorded counts all');
    is($doc->{status}{500},         5, 'status 500 counts all');
    is(scalar @{ $doc->{files} }, 2, 'files lists 2');
    is_deeply([map { $_->{uri} } @{ $doc->{recent} }],
        ['/errwatch-test/many-5', '/errwatch-test/many-4', '/errwatch-test/many-3'],
        'recent keeps the 3 newest, newest first');
    my %v = map { @$_ } @{ $s->auto };
    is($v{ErrorFiles},        2, '?auto ErrorFiles');
    is($v{ErrorFilesEvicted}, 3, '?auto ErrorFilesEvicted');
    $s->stop;
    $s->scan_error_log('small tables');
}

# ---------------------------------------------------------------------------
# ErrWatchAllowRemote: the status handler refuses non-loopback clients.
# mod_remoteip turns X-Forwarded-For from a trusted local proxy into the
# client address, so a remote client can be played from loopback.
# ---------------------------------------------------------------------------
{
    my $s = ErrWatchTest->new(
        mpm        => 'prefork',
        php        => 0,
        status     => 1,
        modules    => [['remoteip_module', 'mod_remoteip.so']],
        extra_conf => <<'EOF',
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
<Location "/errwatch-open">
    SetHandler errwatch
    Require all granted
</Location>
<Location "/errwatch-remote-ok">
    SetHandler errwatch
    Require all granted
    ErrWatchAllowRemote On
</Location>
<Location "/server-status-open">
    SetHandler server-status
    Require all granted
</Location>
EOF
    );
    $s->start;
    my $remote = { 'X-Forwarded-For' => '192.0.2.10' };
    is($s->get('/errwatch-open?json')->{status}, 200, 'AllowRemote Off: a loopback client gets the page');
    is($s->get('/errwatch-open?json', $remote)->{status}, 403, 'AllowRemote Off: a remote client gets 403');
    is($s->get('/errwatch-open', $remote)->{status}, 403, 'AllowRemote Off: 403 for the HTML page too');
    is($s->get('/errwatch-remote-ok?json', $remote)->{status}, 200, 'AllowRemote On: a remote client gets the page');
    is($s->get('/errwatch?json', $remote)->{status}, 403, 'conf/errwatch.conf: Require local refuses a remote client');

    # mod_status's page is often opened to a monitoring network: its
    # errwatch section shows counts to everyone, file rows only locally.
    is($s->get('/errwatch-test/fail')->{status}, 500, 'a failure to list');
    $s->json_settled;
    my $local = $s->get('/server-status-open');
    is($local->{status}, 200, '/server-status: loopback client');
    like($local->{content}, qr{<h2>mod_errwatch</h2>}, '/server-status: errwatch section for loopback');
    # The recorded file is the docroot path; mod_status's own worker table
    # shows request lines, never file paths.
    my $file = qr{\Q${\ $s->docroot }\E/errwatch-test/fail};
    like($local->{content}, $file, '/server-status: loopback sees the failing file');
    my $far = $s->get('/server-status-open', $remote);
    is($far->{status}, 200, '/server-status: a remote client is let in by its Require line');
    like($far->{content}, qr{<h2>mod_errwatch</h2>}, '/server-status: remote still gets the section');
    like($far->{content}, qr{<tr><th>500 responses</th><td>1</td></tr>}, '/server-status: remote sees the counts');
    unlike($far->{content}, $file, '/server-status: remote never sees file paths');
    like($far->{content}, qr{loopback clients only}, '/server-status: and is told why');
    $s->stop;
    $s->scan_error_log('remote clients');
}

# ---------------------------------------------------------------------------
# ErrWatch Off on an ErrorDocument page does not hide the failure it reports;
# a 501 for an unknown method is recorded with core's message.
# ---------------------------------------------------------------------------
{
    my $s = ErrWatchTest->new(
        mpm        => 'prefork',
        php        => 0,
        extra_conf => <<'EOF',
<Location "/edoff/">
    ErrorDocument 500 /off/page.html
</Location>
<Location "/edoff/fail">
    SetHandler errwatch-test-500
</Location>
EOF
    );
    $s->start;
    my $res = $s->get('/edoff/fail');
    is($res->{status}, 500, 'failure with an ErrorDocument under ErrWatch Off: 500');
    like($res->{content}, qr/errwatch-off-error-page/, 'the error page is served');
    my $doc = $s->json_settled;
    is($doc->{status}{500}, 1, 'the 500 is counted although its error page is under ErrWatch Off');
    is($doc->{recent}[0]{uri}, '/edoff/fail', 'and recorded against the failing URL');
    like($doc->{recent}[0]{file}, qr{/edoff(?:/fail)?$}, 'with the failing path (httpd maps the missing dir to its parent)');

    my $raw = $s->raw_request("FOO /ok.html HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    like($raw // '', qr{\AHTTP/1\.1 501 }, 'an unknown method answers 501');
    my $got = poll_until(10, sub {
        my $d = $s->json;
        return ($d && ($d->{status}{501} // 0) == 1) ? $d : undef;
    });
    ok($got, 'the 501 is counted');
    my ($r501) = grep { $_->{status} == 501 } @{ $got ? $got->{recent} : [] };
    ok($r501, 'the 501 is recorded');
    like($r501 ? $r501->{message} : '', qr/Invalid method in request FOO/, "with core's message");
    is($r501 ? $r501->{method} : '', 'FOO', 'and its method');
    $s->stop;
    $s->scan_error_log('ErrorDocument under Off, 501');
}

done_testing;
