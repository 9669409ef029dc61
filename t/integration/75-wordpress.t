#!/usr/bin/perl
# The status URL on a WordPress-style site: the document root's .htaccess
# sends every path that is not a file or a directory to /index.php, which
# swallows /server-status, but not /errwatch: errwatch's status URL skips
# per-directory processing (.htaccess), while its <Location> block's
# SetHandler and Require still apply. The front controller's failures are
# recorded as before. Prefork + mod_php with the shipped conf/errwatch.conf.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use File::Path qw(make_path);
use Test::More;
use ErrWatchTest qw(poll_until);
use ErrWatchTail;

# WordPress's own rules for a site at the document root, verbatim.
my $HTACCESS = <<'EOF';
# BEGIN WordPress
<IfModule mod_rewrite.c>
RewriteEngine On
RewriteBase /
RewriteRule ^index\.php$ - [L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule . /index.php [L]
</IfModule>
# END WordPress
EOF

my $s = ErrWatchTest->new(mpm => 'prefork', php => 1, status => 1);
my $root = $s->dir . '/wordpress';
make_path($root);
chmod 0755, $root;
ErrWatchTest::spew("$root/.htaccess", $HTACCESS, 0644);
# The failing front controller of the t/htdocs/wp fixture.
ErrWatchTest::spew("$root/index.php", ErrWatchTest::slurp($s->docroot . '/wp/index.php'), 0644);
ErrWatchTest::spew("$root/hello.html", "a real file\n", 0644);
# What the harness asks for to see that the server is up.
ErrWatchTest::spew("$root/ok.html", ErrWatchTest::slurp($s->docroot . '/ok.html'), 0644);
$s->set_extra_conf(<<"EOF");
DocumentRoot "$root"
<Directory "$root">
    Options FollowSymLinks
    AllowOverride All
    Require all granted
</Directory>
# A status URL that nobody may read: Require still applies without the
# directory walk.
<Location "/errwatch-denied">
    SetHandler errwatch
    Require all denied
</Location>
EOF
$s->start;

# The .htaccess is live: real files are served, the rest goes to index.php,
# and mod_status's URL is swallowed (its own page never shows).
is($s->get('/hello.html')->{status}, 200, 'a real file is served');
my $swallowed = $s->get('/server-status');
is($swallowed->{status}, 500, '/server-status is rewritten to the failing index.php (the .htaccess works)');
unlike($swallowed->{content}, qr/Apache Server Status/, '/server-status does not answer itself');
my $post = $s->get('/2024/hello-world/');
is($post->{status}, 500, 'a permalink reaches the failing index.php');

# errwatch's URL answers in every format.
my $doc = $s->json_settled;
ok($doc, '/errwatch?json answers with no change to the .htaccess') or BAIL_OUT('no JSON');
like($s->last_json_text, qr/^\{"version":"[0-9.]+","since":/, 'it is errwatch\'s JSON');
my $html = $s->get('/errwatch');
is($html->{status}, 200, '/errwatch (HTML) answers 200');
like($html->{content}, qr/errwatch/i, 'with errwatch\'s page');
is($s->get('/errwatch?auto')->{status},    200, '/errwatch?auto answers');
is($s->get('/errwatch?metrics')->{status}, 200, '/errwatch?metrics answers');
is($s->get('/errwatch?bogus')->{status},   400, 'a bad query still gets errwatch\'s 400');
{
    my $t = ErrWatchTail->open($s, 'tail&since=0');
    is($t->status, 200, '/errwatch?tail answers');
    my @l = $t->lines_until(10, sub { grep { m{ GET /2024/hello-world/ } } @_ });
    like(join("\n", @l), qr{^\S+Z 500 GET /2024/hello-world/ seq=\d+ handler=application/x-httpd-php file=\Q$root\E/index\.php cause=[0-9a-f]{16} msg="PHP Fatal error}m,
        'and streams the front controller\'s failures');
    $t->close;
}

# The front controller's failures are recorded with the script that failed.
my @recent = @{ $doc->{recent} || [] };
my ($e) = grep { $_->{uri} eq '/2024/hello-world/' } @recent;
$s->check_recent_entry(
    $e,
    {
        uri     => '/2024/hello-world/',
        file    => qr{^\Q$root\E/index\.php$},
        handler => 'application/x-httpd-php',
        message => [qr/Failed opening required/, qr/class-wp-locale\.phpp/],
    },
    'permalink'
);
my ($ss) = grep { $_->{uri} eq '/server-status' } @recent;
like($ss->{file}, qr{^\Q$root\E/index\.php$}, 'the swallowed /server-status is recorded as index.php\'s failure');
is(scalar(grep { $_->{uri} =~ m{^/errwatch} } @recent), 0, 'no errwatch request was taken for a failure');

# Authorization still comes from the <Location> block.
is($s->get('/errwatch-denied?json')->{status}, 403, 'Require all denied in the status URL\'s <Location> still denies');

$s->stop;
$s->scan_error_log('wordpress server');
done_testing;
