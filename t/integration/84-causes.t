#!/usr/bin/perl
# Causes, "what changed", and trace ids (issue 16), prefork + mod_php with
# mod_unique_id and an access log that carries %{UNIQUE_ID}e.
#
# A WordPress-shaped tree: four entry points load wp-settings.php, whose
# require of a mistyped file fails them all (the seed incident). Their
# failures must be one cause that names every entry point, whose changed
# files show wp-settings.php modified five minutes before the first failure
# and the missing file as missing. A second bug (a shared shop library
# calling a function that does not exist, reached from two scripts) is a
# second cause, and its library, modified "after" the first failure, is
# marked so. Traced requests carry their ids into recent[], ?tail and the
# access log.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use File::Path qw(make_path);
use POSIX ();
use Test::More;
use ErrWatchTest qw(poll_until);
use ErrWatchTail;

my $s = ErrWatchTest->new(
    mpm     => 'prefork',
    php     => 1,
    modules => [ [ 'unique_id_module', 'mod_unique_id.so' ] ],
);
my $root = $s->dir . '/site';
make_path("$root/wp-includes", "$root/wp-admin", "$root/shop");
chmod 0755, $root, "$root/wp-includes", "$root/wp-admin", "$root/shop";
my %tree = (
    'wp-load.php'          => "<?php\nrequire_once __DIR__ . '/wp-config.php';\n",
    'wp-config.php'        => "<?php\ndefine('ABSPATH', __DIR__ . '/');\ndefine('WPINC', 'wp-includes');\n"
        . "require_once ABSPATH . 'wp-settings.php';\n",
    'wp-settings.php'      => "<?php\n// Loads the rest.\nrequire_once ABSPATH . WPINC . '/load.php';\n"
        . "require_once ABSPATH . WPINC . '/class-wp-locale.phpp';\n",
    'wp-includes/load.php' => "<?php\nfunction wp_ok() { return 1; }\n",
    'wp-includes/class-wp-locale.php' => "<?php\nclass WP_Locale {}\n",
    'wp-blog-header.php'   => "<?php\nrequire_once __DIR__ . '/wp-load.php';\n",
    'index.php'            => "<?php\nrequire __DIR__ . '/wp-blog-header.php';\n",
    'wp-login.php'         => "<?php\n\n\nrequire __DIR__ . '/wp-load.php';\n",
    'xmlrpc.php'           => "<?php\ninclude __DIR__ . '/wp-load.php';\necho 'unreached';\n",
    'wp-admin/index.php'   => "<?php\nrequire_once dirname(__DIR__) . '/wp-load.php';\n",
    'shop/functions.php'   => "<?php\nfunction shop_total(\$n) {\n    return wc_cart_total_missing(\$n);\n}\n",
    'shop/cart.php'        => "<?php\nrequire __DIR__ . '/functions.php';\necho shop_total(3);\n",
    'shop/checkout.php'    => "<?php\nrequire __DIR__ . '/functions.php';\n\necho shop_total(\$_GET['n'] ?? 1);\n",
    'ok.html'              => ErrWatchTest::slurp($s->docroot . '/ok.html'),
);
ErrWatchTest::spew("$root/$_", $tree{$_}, 0644) for keys %tree;
my $access_log = $s->dir . '/logs/access.log';
$s->set_extra_conf(<<"EOF");
DocumentRoot "$root"
<Directory "$root">
    Require all granted
</Directory>
LogFormat "%{UNIQUE_ID}e %>s %U" ids
CustomLog "$access_log" ids
EOF

# What changed: wp-settings.php five minutes before the failures begin;
# the shop library "after" them (a clock ten minutes ahead stands for a
# fix deployed after the outage began).
my $now = time;
utime $now - 300, $now - 300, "$root/wp-settings.php" or die "utime: $!";
utime $now + 600, $now + 600, "$root/shop/functions.php" or die "utime: $!";
$s->start;

my @entries = ('/index.php', '/wp-login.php', '/xmlrpc.php', '/wp-admin/index.php');
my $n = 0;
for my $round (1 .. 3) {
    for my $e (@entries) {
        my $q = $e . '?p=' . (1000 + $n++) . '&utm=' . ('x' x $round);
        is($s->get($q)->{status}, 500, "GET $q fails (round $round)");
    }
}
is($s->get('/shop/cart.php')->{status},           500, 'the shop cart fails');
is($s->get('/shop/checkout.php?n=7')->{status},   500, 'the shop checkout fails');
is($s->get('/shop/checkout.php?n=9')->{status},   500, 'the shop checkout fails again');
is($s->get('/ok.html')->{status},                 200, 'a static page still works');

my $doc = $s->json_settled;
ok($doc, '?json answers') or BAIL_OUT('no JSON');
my @causes = @{ $doc->{causes} || [] };
is($doc->{causes_total}, 2, 'two bugs are two causes') or diag(explain([ map { $_->{title} } @causes ]));

my ($wp) = grep { ($_->{title} // '') =~ /class-wp-locale\.phpp/ } @causes;
ok($wp, 'one cause names the mistyped file') or BAIL_OUT('no WordPress cause');
like($wp->{id}, qr/^[0-9a-f]{16}$/, 'its id is 16 hex digits');
is($wp->{count}, 12, 'it counts every failure of the four entry points');
is($wp->{files_total}, 4, 'and covers the four entry points');
unlike($wp->{title}, qr/Stack trace|#0 |p=10/, 'its title holds no per-entry stack trace or query');
my %files = map { $_->{file} => $_->{count} } @{ $wp->{files} || [] };
is(scalar(keys %files), 3, 'its three busiest files are listed');
ok(!grep({ $_ !~ m{^\Q$root\E/(?:index|wp-login|xmlrpc|wp-admin/index)\.php$} } keys %files),
    'all of them entry points');
my %uris = map { $_->{uri} => $_->{count} } @{ $wp->{uris} || [] };
ok(scalar(keys %uris) >= 1 && !grep({ /\?/ } keys %uris), 'its URIs are listed without query strings');

# Every file row of the four points at that cause.
for my $e (@entries) {
    my ($row) = grep { $_->{file} eq "$root$e" } @{ $doc->{files} || [] };
    is($row && $row->{cause}, $wp->{id}, "the file row of $e points at the cause");
}

# What changed.
my %changed = map { $_->{path} => $_ } @{ $wp->{changed} || [] };
my $settings = $changed{"$root/wp-settings.php"};
ok($settings, 'wp-settings.php, named by the message, is among the changed files')
    or diag(explain($wp->{changed}));
if ($settings) {
    ok(!$settings->{missing}, 'it exists');
    my $before = $settings->{before_first_failure_s};
    ok(defined $before && $before >= 295 && $before <= 330,
        'modified about 5 minutes before the first failure') or diag("before_first_failure_s: " . ($before // 'undef'));
    ok(!$settings->{after_first_failure}, 'not after it');
}
my $missing = $changed{"$root/wp-includes/class-wp-locale.phpp"};
ok($missing && $missing->{missing}, 'the mistyped file is shown as missing');

my ($shop) = grep { ($_->{title} // '') =~ /wc_cart_total_missing/ } @causes;
ok($shop, 'the shop bug is the other cause') or BAIL_OUT('no shop cause');
is($shop->{count}, 3, 'with its three failures');
is($shop->{files_total}, 2, 'from two scripts');
isnt($shop->{id}, $wp->{id}, 'under another id');
my ($lib) = grep { $_->{path} eq "$root/shop/functions.php" } @{ $shop->{changed} || [] };
ok($lib && $lib->{after_first_failure}, 'its library, modified after the first failure, is marked')
    or diag(explain($shop->{changed}));

# The failing script's own modification time, on its file row.
my ($cart) = grep { $_->{file} eq "$root/shop/cart.php" } @{ $doc->{files} || [] };
ok($cart && ref $cart->{changed} eq 'HASH' && !$cart->{changed}{missing},
    'a file row carries its script\'s modification time') or diag(explain($cart));

# The HTML page: causes above the files, with the change.
my $html = $s->get('/errwatch')->{content};
my $at_causes = index($html, 'id="causes"');
my $at_files  = index($html, 'id="files"');
ok($at_causes >= 0 && $at_causes < $at_files, 'the page shows the causes above the files');
like($html, qr/wp-settings\.php[^<]*<?[^>]*>?[^<]*modified \d+ min before the first failure/s,
    'and says when wp-settings.php was modified');

# Traced requests: ids into recent[], ?tail and the access log.
my $tail = ErrWatchTail->open($s, 'tail');
is($tail->status, 200, '?tail opens');
my $tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
is($s->get('/wp-login.php?traced=1', { traceparent => $tp, 'x-datadog-trace-id' => '1234567890123456789' })
        ->{status}, 500, 'a traced request fails');
is($s->get('/xmlrpc.php?hostile=1', { traceparent => '00-<script>alert(1)</script>-x-01' })->{status},
    500, 'a request with a malformed traceparent fails');
my @lines = $tail->lines_until(10, sub { grep { m{ /xmlrpc\.php } } @_ });
my ($traced_line) = grep { m{ GET /wp-login\.php } } @lines;
like($traced_line // '', qr/ trace_id=4bf92f3577b34da6a3ce929d0e0e4736\b/, '?tail shows the trace id');
like($traced_line // '', qr/ dd_trace_id=1234567890123456789\b/, 'and the Datadog trace id');
like($traced_line // '', qr/ unique_id=[A-Za-z0-9\@_-]+/, 'and the request id');
like($traced_line // '', qr/ cause=\Q$wp->{id}\E\b/, 'and the cause');
$tail->close;

$doc = $s->json_settled;
my ($traced) = grep { $_->{uri} eq '/wp-login.php' && ($_->{trace_id} // '') ne '' } @{ $doc->{recent} || [] };
ok($traced, 'recent[] holds the traced failure') or BAIL_OUT('no traced entry');
is($traced->{trace_id},    '4bf92f3577b34da6a3ce929d0e0e4736', 'with its W3C trace id');
is($traced->{dd_trace_id}, '1234567890123456789',              'its Datadog trace id');
is($traced->{cause},       $wp->{id},                          'and its cause');
like($traced->{unique_id}, qr/^[A-Za-z0-9\@_-]{20,}$/, 'and mod_unique_id\'s id');
my ($hostile) = grep { $_->{uri} eq '/xmlrpc.php' } @{ $doc->{recent} || [] };
ok($hostile && !exists $hostile->{trace_id}, 'a malformed traceparent is not kept');
ok(!grep({ ($_->{trace_id} // '') =~ /script/ } @{ $doc->{recent} }), 'nothing of it is');

# From the failure to its access-log line.
my $id = $traced->{unique_id};
ok(poll_until(5, sub { -e $access_log && ErrWatchTest::slurp($access_log) =~ /^\Q$id\E 500 \/wp-login\.php$/m }),
    'the access log has the failure\'s line under the same UNIQUE_ID');

$s->stop;
$s->scan_error_log('causes server');
done_testing;
