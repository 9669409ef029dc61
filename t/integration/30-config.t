#!/usr/bin/perl
# Directives: bad values stop httpd with a message naming the directive;
# good values take effect.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use ErrWatchTest;

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
    ['ErrWatchRecent',      'ErrWatchRecent -1'],
    ['ErrWatchRecent',      'ErrWatchRecent 0'],
    ['ErrWatchRecent',      'ErrWatchRecent 100001'],
    ['ErrWatchRecent',      'ErrWatchRecent many'],
    ['ErrWatch',            'ErrWatch maybe'],
    ['ErrWatchAllowRemote', 'ErrWatchAllowRemote sometimes'],
    ['ErrWatchQueryString', 'ErrWatchQueryString 2'],
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
EOF
    );
    $s->start;
    my $remote = { 'X-Forwarded-For' => '192.0.2.10' };
    is($s->get('/errwatch-open?json')->{status}, 200, 'AllowRemote Off: a loopback client gets the page');
    is($s->get('/errwatch-open?json', $remote)->{status}, 403, 'AllowRemote Off: a remote client gets 403');
    is($s->get('/errwatch-open', $remote)->{status}, 403, 'AllowRemote Off: 403 for the HTML page too');
    is($s->get('/errwatch-remote-ok?json', $remote)->{status}, 200, 'AllowRemote On: a remote client gets the page');
    is($s->get('/errwatch?json', $remote)->{status}, 403, 'conf/errwatch.conf: Require local refuses a remote client');
    $s->stop;
    $s->scan_error_log('remote clients');
}

done_testing;
