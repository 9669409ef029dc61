#!/usr/bin/perl
# Hostile input, end to end (prefork, mod_php): real PHP files whose names
# hold <script>, quotes, a backslash, control bytes, a newline and invalid
# UTF-8, a real file under a ~4 KB path (PATH_MAX is 4096), and an 8 KB URI
# through the test module, all failing. Every format is then checked
# against docs/formats.md:
#   HTML     escaped (& < > " '), control bytes as U+FFFD, no raw <script>
#   ?json    strict JSON (jq and JSON::PP); each byte recoverable: control
#            bytes as \u00XX (\n, \t, ... in short form), invalid UTF-8 as
#            U+FFFD; fields cut at 511 bytes on a character boundary
#   ?auto    one "Key: value" per line
#   ?metrics promtool check metrics passes; label values escape \ " and
#            newline, other control bytes and invalid UTF-8 become U+FFFD
# Then the query string is fuzzed over raw HTTP (bounded count, seeded; the
# seed is printed, ERRWATCH_FUZZ_SEED=N repeats a run): every answer is 200
# (exactly for the valid queries) or 400, GET and HEAD change nothing but
# the request counters, other methods get 405, and nothing crashes.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Encode ();
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use ErrWatchTest qw(poll_until);
use ErrWatchTail;

my $FFFD = "\x{FFFD}";

# An 8 KB path cannot map to a file (PATH_MAX), so the 8 KB URI fails in
# mod_alias's Redirect 503, before any file mapping: recorded under its URL.
my $s = ErrWatchTest->new(mpm => 'prefork', php => 1, extra_conf => "LimitRequestLine 65536\nRedirect 503 /gone\n");
my $d = $s->docroot;
my $SCRIPT = "<?php\nrequire_once __DIR__ . '/hostile-missing.phpp';\n";

# name (bytes, under php/) => [url path, JSON value (characters), metrics
# label value (characters)]; the HTML check is generic.
my @NAMES = (
    [ '<script>alert(1)</script>.php', '/php/%3Cscript%3Ealert(1)%3C/script%3E.php' ],
    [ q{q"uo'te.php},                  '/php/q%22uo%27te.php' ],
    [ 'back\\slash.php',               '/php/back%5Cslash.php' ],
    [ "ctl\x01\x1b[31m\x7f.php",       '/php/ctl%01%1B%5B31m%7F.php' ],
    [ "new\nline.php",                 '/php/new%0Aline.php' ],
    [ "tab\there.php",                 '/php/tab%09here.php' ],
    [ "bad\xff\xfe\xc3(.php",          '/php/bad%FF%FE%C3(.php' ],
    # Unicode line breaks: NEL (a C1 control), LINE and PARAGRAPH SEPARATOR.
    [ "nel\xc2\x85x.php",               '/php/nel%C2%85x.php' ],
    [ "ls\xe2\x80\xa8x.php",           '/php/ls%E2%80%A8x.php' ],
    [ "ps\xe2\x80\xa9x.php",           '/php/ps%E2%80%A9x.php' ],
);
mkdir "$d/php/<script>alert(1)<", 0755 or die "mkdir: $!";

# A ~4 KB real path of 2-byte characters (é), in 240-byte directories.
my $E      = "\xc3\xa9";
my $dir240 = $E x 120;
my $long_rel = join('/', ($dir240) x 16) . '/long.php';
my $long_dir = "$d/php/" . join('/', ($dir240) x 16);
{
    my $p = "$d/php";
    for (1 .. 16) { $p .= "/$dir240"; mkdir $p, 0755 or die "mkdir: $!" }
}
my $long_url = '/php/' . join('/', ('%C3%A9' x 120) x 16) . '/long.php';

ErrWatchTest::spew("$d/php/$_->[0]", $SCRIPT, 0644) for @NAMES;
ErrWatchTest::spew("$d/php/$long_rel", $SCRIPT, 0644);
cmp_ok(length("$d/php/$long_rel"), '>', 3900, 'the long path is over 3,900 bytes');

# An 8 KB URI with hostile bytes.
my $uri8k_raw = '/gone/' . "<script>\"'\\\x01\n\xff" . ($E x 4000);
my $uri8k_url = '/gone/%3Cscript%3E%22%27%5C%01%0A%FF' . ('%C3%A9' x 4000);
cmp_ok(length($uri8k_raw), '>', 8000, 'the long URI is over 8,000 bytes');

$s->start;

# The JSON value of a byte string: valid UTF-8 kept, each invalid byte one
# U+FFFD (what docs/formats.md promises; strict decoding as in RFC 3629).
sub json_value {
    my ($bytes) = @_;
    my $out = '';
    while (length $bytes) {
        if ($bytes =~ s/\A([\x00-\x7f]|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2})//) {
            $out .= Encode::decode('UTF-8', $1);
        } else {
            substr($bytes, 0, 1, '');
            $out .= $FFFD;
        }
    }
    return $out;
}

# The metrics label value: like JSON, and control bytes but newline are U+FFFD.
sub label_value {
    my $v = json_value($_[0]);
    $v =~ s/[\x00-\x09\x0b-\x1f\x7f]/$FFFD/g;
    return $v;
}

my %want;    # file path (bytes) => uri (bytes)
for my $n (@NAMES) {
    my $res = $s->get($n->[1]);
    is($res->{status}, 500, "GET $n->[1] answers 500");
    $want{"$d/php/$n->[0]"} = "/php/$n->[0]";
}
is($s->get($long_url)->{status}, 500, 'GET the ~4 KB path answers 500');
is($s->get($uri8k_url)->{status}, 503, 'GET the 8 KB URI answers 503 (Redirect 503)');
my $doc = $s->json_settled;
my $json_text = $s->last_json_text;

# --- ?json -----------------------------------------------------------------
{
    my ($rc, $out) = ErrWatchTest::run_cmd($s->dir . '/jq.out', 'sh', '-c',
        'jq -e . >/dev/null < "$1" && echo ok', 'sh', do { my $f = $s->dir . '/doc.json'; ErrWatchTest::spew($f, $json_text); $f });
    is($rc, 0, '?json: jq parses it') or diag($out);
    ok(eval { JSON::PP->new->utf8->decode($json_text); 1 }, '?json: JSON::PP (strict, UTF-8) parses it') or diag($@);
    ok(eval { Encode::decode('UTF-8', my $c = $json_text, Encode::FB_CROAK); 1 }, '?json: the document is valid UTF-8');
    unlike($json_text, qr/[\x00-\x1f\x7f](?<!\n)/, '?json: no raw control byte but the line breaks');
    like($json_text, qr/ctl\\u0001\\u001b\[31m\\u007f\.php/, '?json: control bytes as \\u00XX');
    like($json_text, qr/new\\nline\.php/, '?json: a newline as \\n');
    like($json_text, qr/tab\\there\.php/, '?json: a tab as \\t');
    like($json_text, qr/bad\\ufffd\\ufffd\\ufffd\(\.php/, '?json: invalid UTF-8 as \\ufffd, one per byte');

    my %files = map { $_->{file} => $_ } @{ $doc->{files} };
    my %recent = map { $_->{uri} => $_ } @{ $doc->{recent} };
    for my $f (sort keys %want) {
        my ($jf, $ju) = (json_value($f), json_value($want{$f}));
        (my $show = $ju) =~ s/([^\x20-\x7e])/sprintf '\\x{%x}', ord $1/ge;
        ok($files{$jf}, "?json: files has $show, bytes recovered as documented");
        is($files{$jf} && $files{$jf}{count}, 1, "?json: $show: count 1");
        ok($recent{$ju}, "?json: recent has the URI $show");
        is($recent{$ju} && $recent{$ju}{file}, $jf, "?json: $show: recent file");
    }

    # Long values are cut at 511 bytes on a character boundary.
    my $long_file = json_value("$d/php/$long_rel");
    my ($lf) = grep { length($_->{file}) > 200 && index($long_file, $_->{file}) == 0 } @{ $doc->{files} };
    ok($lf, '?json: the ~4 KB path is recorded as a prefix of itself');
    my $lf_bytes = $lf ? Encode::encode('UTF-8', $lf->{file}) : '';
    ok(length($lf_bytes) <= 511 && length($lf_bytes) >= 510, '?json: ... cut to 510-511 bytes (' . length($lf_bytes) . ')');
    unlike($lf ? $lf->{file} : $FFFD, qr/\x{FFFD}/, '?json: ... on a character boundary (no U+FFFD)');
    my $want8k = json_value($uri8k_raw);
    my ($lu) = grep { length($_->{uri}) > 200 && index($want8k, $_->{uri}) == 0 } @{ $doc->{recent} };
    ok($lu, '?json: the 8 KB URI is recorded as a prefix of itself');
    # Stored bytes: each U+FFFD here stands for one invalid byte.
    my $lu_len = $lu ? length(Encode::encode('UTF-8', $lu->{uri})) - 2 * (() = $lu->{uri} =~ /\x{FFFD}/g) : 0;
    ok($lu_len <= 511 && $lu_len >= 510, "?json: ... cut to 510-511 stored bytes ($lu_len)");
    ok($lu && $lu->{uri} =~ m{^/gone/<script>"'\\\x{1}\n\x{FFFD}\x{e9}+\z}, '?json: ... with its hostile bytes recoverable');
    my ($gf) = grep { $_->{file} =~ m{^/gone/} } @{ $doc->{files} };
    is($gf && $gf->{file}, $lu && $lu->{uri}, '?json: a failure without a file is keyed by its (cut) URI');
    is($gf && $gf->{last_status}, 503, '?json: ... with status 503');
    cmp_ok(length($json_text), '<', 64 * 1024, '?json: the document stays small (' . length($json_text) . ' bytes)');
}

# --- HTML ------------------------------------------------------------------
{
    my $res  = $s->get('/errwatch');
    my $html = $res->{content};
    is($res->{status}, 200, 'HTML: 200');
    unlike($html, qr/<script/i, 'HTML: no raw <script> anywhere');
    like($html, qr/&lt;script&gt;alert\(1\)&lt;\/script&gt;\.php/, 'HTML: <script> shown escaped');
    like($html, qr/q&quot;uo&#39;te\.php/, 'HTML: quotes escaped');
    like($html, qr/back\\slash\.php/, 'HTML: the backslash shown as it is');
    like($html, qr/ctl\x{ef}\x{bf}\x{bd}\x{ef}\x{bf}\x{bd}\[31m\x{ef}\x{bf}\x{bd}\.php/, 'HTML: control bytes as U+FFFD');
    like($html, qr/new\x{ef}\x{bf}\x{bd}line\.php/, 'HTML: a newline in a name as U+FFFD');
    # Bytes that are not UTF-8 pass through (docs/formats.md): decoded as a
    # browser does, each becomes U+FFFD and takes no markup with it.
    my $seen = Encode::decode('UTF-8', my $c = $html);
    unlike($seen, qr/<script/i, 'HTML: decoded as a browser does, still no <script>');
    like($seen, qr/bad\x{FFFD}\x{FFFD}\x{FFFD}\(\.php/, 'HTML: invalid UTF-8 shows as U+FFFD, the next byte kept');
    my @attr_breaks = $html =~ /(<[^>]*["'][^>]*alert)/g;
    ok(!@attr_breaks, 'HTML: no tag holds the hostile text');
    my @ctl = $html =~ /([\x00-\x08\x0b\x0c\x0e-\x1f\x7f])/g;
    ok(!@ctl, 'HTML: no raw control byte');
}

# --- ?auto -----------------------------------------------------------------
{
    my $res = $s->get('/errwatch?auto');
    my @bad = grep { !/^[A-Za-z][A-Za-z0-9 ]*: [\x20-\x7e]*$/ && !/^ServerUptime:$/ } split /\n/, $res->{content}, -1;
    pop @bad if @bad && $bad[-1] eq '';
    ok(!@bad, '?auto: every line is one "Key: value"') or diag(join "\n", @bad);
    my $nfiles = keys(%want) + 2;    # and the long path and the 8 KB URI
    like($res->{content}, qr/\nErrorFiles: $nfiles\n/, "?auto: ErrorFiles $nfiles");
}

# --- ?metrics --------------------------------------------------------------
{
    my $res = $s->metrics;
    my ($rc, $out) = $s->promtool_check($res->{content});
    is($rc, 0, '?metrics: promtool check metrics passes') or diag($out);
    ok(eval { Encode::decode('UTF-8', my $c = $res->{content}, Encode::FB_CROAK); 1 }, '?metrics: valid UTF-8');
    my $m = ErrWatchTest::parse_metrics($res->{content});
    is_deeply($m->{errors}, [], '?metrics: every line parses');
    my %labels = map { Encode::decode('UTF-8', $_->{labels}{file}) => $_->{value} }
      @{ ErrWatchTest::metric_samples($m, 'errwatch_file_errors_total') };
    for my $f (sort keys %want) {
        my $lv = label_value($f);
        (my $show = $lv) =~ s/([^\x20-\x7e])/sprintf '\\x{%x}', ord $1/ge;
        is($labels{$lv}, 1, "?metrics: file label $show");
    }
}

# --- Query strings, fuzzed -------------------------------------------------
my $seed = $ENV{ERRWATCH_FUZZ_SEED} // (time ^ ($$ << 8)) % 1_000_000_007;
srand($seed);
diag("query fuzz seed $seed (ERRWATCH_FUZZ_SEED=$seed repeats this run)");
my %VALID = map { $_ => 1 } '', qw(auto json metrics auto= json= metrics=);

sub raw_answer {
    my ($method, $target) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $s->port, Proto => 'tcp', Timeout => 10)
      or return undef;
    print {$sock} "$method $target HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    local $/;
    my $got = <$sock>;
    close $sock;
    return $got;
}

sub random_query {
    my $mode = int rand 4;
    my $len  = (0, 1, 3, 10, 100, 1000, 4000)[ int rand 7 ];
    if ($mode == 0) {    # raw bytes, without those that end a request line
        my @ok = grep { $_ != 0x20 && $_ != 0x23 } 0x21 .. 0xff;
        return join '', map { chr $ok[ int rand @ok ] } 1 .. $len;
    }
    if ($mode == 1) {    # any byte, %-encoded
        return join '', map { sprintf '%%%02X', int rand 256 } 1 .. $len;
    }
    my @v = grep { length } keys %VALID;
    my $q = $v[ int rand @v ];
    return $q if $mode == 3;
    my $r = int rand 4;    # a valid query, mutated
    return uc($q) if $r == 0;
    return $q . chr(0x21 + int rand 0x5e) x (1 + int rand 3) if $r == 1;
    return chr(0x21 + int rand 0x5e) . $q if $r == 2;
    return "$q&$v[int rand @v]";
}

my $before = $s->json_settled;
my (%answers, @bad, $n200, $n400);
my $FUZZ = 400;
for my $i (1 .. $FUZZ) {
    my $q      = random_query();
    my $method = $i % 4 == 0 ? 'HEAD' : 'GET';
    my $got    = raw_answer($method, "/errwatch?$q");
    my ($code) = defined $got ? $got =~ m{\AHTTP/1\.1 (\d{3}) } : ();
    $code //= 'none';
    $answers{$code}++;
    # The mutations never form a valid ?tail (a stream; 76-tail.t covers its
    # queries and their 400s), so anything not in %VALID must be a 400.
    my $ok = $VALID{$q} ? $code eq '200' : $code eq '400';
    (my $show = substr($q, 0, 60)) =~ s/([^\x21-\x7e])/sprintf '\\x%02x', ord $1/ge;
    push @bad, "$method ?$show (" . length($q) . " bytes): $code" unless $ok;
    if ($code eq '200') { $s->{sent}{status}{'2xx'}++; $s->{sent}{status}{total}++ }
    if ($code eq '400') { $s->{sent}{status}{'4xx'}++; $s->{sent}{status}{total}++ }
    last if @bad > 10;
}
diag('fuzz answers: ' . join(', ', map { "$_: $answers{$_}" } sort keys %answers));
ok(!@bad, "fuzz: $FUZZ queries, every answer 200 for a valid query and 400 otherwise") or diag(join "\n", @bad);
ok($s->is_running, 'fuzz: the server is still running');

# GET and HEAD change nothing but the request counters; other methods get 405.
for my $method (qw(POST PUT DELETE PATCH OPTIONS PROPFIND)) {
    for my $q ('', '?json', '?reset', '?auto=1') {
        my $got = raw_answer($method, "/errwatch$q") // '';
        my ($code) = $got =~ m{\AHTTP/1\.1 (\d{3}) };
        is($code, 405, "$method /errwatch$q answers 405");
        $s->{sent}{status}{'4xx'}++;
        $s->{sent}{status}{total}++;
    }
}
my $after = $s->json_settled;
$s->check_requests($after, 'after the fuzz');
for my $k (qw(status files recent handlers store since_us)) {
    is_deeply($after->{$k}, $before->{$k}, "after the fuzz and the other methods: $k unchanged");
}

# --- ?tail: one failure per line, the Unicode way too -------------------------
{
    my $t = ErrWatchTail->open($s, 'tail&since=0');
    is($t->status, 200, '?tail&since=0 answers 200');
    my @lines = $t->lines_until(10, sub { (grep { / seq=/ } @_) >= keys %want });
    $t->close;
    my @failures = grep { / seq=/ } @lines;
    cmp_ok(scalar @failures, '>=', scalar keys %want, '?tail: a line for every hostile failure');
    # What Python's str.splitlines() splits on.
    my $text = Encode::decode('UTF-8', join("\n", @failures), Encode::FB_DEFAULT);
    my @pieces = split /\r\n|[\n\r\x0b\x0c\x1c-\x1e\x{85}\x{2028}\x{2029}]/, $text;
    is(scalar @pieces, scalar @failures, '?tail: Unicode line breaks do not split a failure');
    ok((grep { /nel\\xc2\\x85x\.php/ } @failures), '?tail: NEL escaped as \\xc2\\x85');
    ok((grep { /ls\\xe2\\x80\\xa8x\.php/ } @failures), '?tail: U+2028 escaped byte by byte');
}

$s->stop;
$s->scan_error_log('hostile input');
done_testing;
