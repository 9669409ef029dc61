#!/usr/bin/perl
# A failing page's own words (issue 12): a 5xx from a script whose request
# logged nothing keeps the visible text of its page (its first heading, else
# its title, else its first text), marked "[response body] ". WordPress with
# its database down is the case: it silences the mysqli warning and answers
# 500 "Error establishing a database connection". ErrWatchBodyExcerpt Off
# keeps nothing; a logged line always wins over the page; the client gets
# the whole body untouched; hostile text is escaped in every format.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use File::Path qw(make_path);
use Test::More;
use ErrWatchTest qw(poll_until);
use ErrWatchTail;

sub spew { return ErrWatchTest::spew(@_) }

my $s = ErrWatchTest->new(mpm => 'prefork', php => 1);
my $docroot = $s->docroot;
make_path("$docroot/quiet");

my $WP_PAGE = <<'HTML';
<!DOCTYPE html>
<html lang="en-US"><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>WordPress &rsaquo; Error</title>
<style type="text/css">html { background: #f1f1f1; } h1 { color: #666; }</style>
</head><body id="error-page"><div class="wp-die-message">
<h1>Error establishing a database connection</h1></div></body></html>
HTML
# What wp-db.php does when the database is down: @ hides the warning,
# wp_die() sends the page with a 500. Nothing reaches the error log.
my $WP_PHP = "<?php\n\$db = \@fsockopen('127.0.0.1', 1, \$errno, \$errstr, 1);\n"
  . "http_response_code(500);\nheader('Content-Type: text/html; charset=utf-8');\n?>\n$WP_PAGE";
spew("$docroot/php/db-down.php",          $WP_PHP, 0644);
spew("$docroot/quiet/db-down.php",        $WP_PHP, 0644);
spew("$docroot/php/logged-and-page.php",
    "<?php\nerror_log('payment gateway timed out after 30 s');\nhttp_response_code(502);\n?>\n"
      . "<html><body><h1>Bad gateway page</h1></body></html>\n", 0644);
spew("$docroot/php/hostile.php",
    "<?php http_response_code(500); ?><h1><script>alert(1)</script>&lt;img src=x onerror=alert(2)&gt; \"q\"</h1>\n",
    0644);
spew("$docroot/php/big.php",
    "<?php http_response_code(500); echo '<title>Big failure</title>'; echo str_repeat(\"0123456789abcdef\\n\", 8192);\n",
    0644);
spew("$docroot/php/ok-page.php", "<?php echo '<h1>fine</h1>';\n", 0644);
spew("$docroot/cgi-bin/busy.sh",
    "#!/bin/sh\nprintf 'Status: 503 Service Unavailable\\r\\nContent-Type: text/html\\r\\n\\r\\n'\n"
      . "printf '<html><head><title>Maintenance: back at 14:00</title></head><body></body></html>\\n'\n",
    0755);
spew("$docroot/cgi-bin/json.sh",
    "#!/bin/sh\nprintf 'Status: 500\\r\\nContent-Type: application/json\\r\\n\\r\\n'\n"
      . "printf '{\"error\":\"queue full\",\"retry\":5}\\n'\n",
    0755);

$s->set_extra_conf(<<"EOF");
<Directory "$docroot/quiet">
    ErrWatchBodyExcerpt Off
</Directory>
EOF
$s->start;

sub failure_for {
    my ($uri) = @_;
    my $doc = $s->json_when(sub { grep { $_->{uri} eq $uri } @{ $_[0]{recent} } }, 10);
    my ($e) = grep { $_->{uri} eq $uri } @{ $doc ? $doc->{recent} : [] };
    return $e || {};
}

my $mark = '[response body] ';

my $res = $s->get('/php/db-down.php');
is($res->{status}, 500, 'WordPress-shaped database failure answers 500');
is($res->{content}, $WP_PAGE, '... and the client gets the page untouched');
my $e = failure_for('/php/db-down.php');
is($e->{message}, "${mark}Error establishing a database connection",
    'message: the page\'s heading, marked as the page\'s words') or diag(explain($e));
is_deeply($e->{messages}, ["${mark}Error establishing a database connection"], 'messages: that one line');
is($e->{handler}, 'application/x-httpd-php', '... handler');
like($e->{file}, qr{/php/db-down\.php$}, '... file');

is($s->get('/quiet/db-down.php')->{status}, 500, 'the same page under ErrWatchBodyExcerpt Off');
$e = failure_for('/quiet/db-down.php');
is($e->{message}, '', '... keeps no words') or diag(explain($e));
ok(!@{ $e->{messages} || [] }, '... and no story');

is($s->get('/php/logged-and-page.php')->{status}, 502, 'a script that logged a line and sent a page');
$e = failure_for('/php/logged-and-page.php');
like($e->{message}, qr/payment gateway timed out after 30 s/, '... keeps the logged line, not the page');
unlike(join("\n", @{ $e->{messages} || [] }), qr/Bad gateway page/, '... and the page stays out of its story');

is($s->get('/cgi-bin/busy.sh')->{status}, 503, 'mod_cgi: a 503 page with a title only');
is(failure_for('/cgi-bin/busy.sh')->{message}, "${mark}Maintenance: back at 14:00", '... keeps the title');
is($s->get('/cgi-bin/json.sh')->{status}, 500, 'mod_cgi: a JSON error body');
is(failure_for('/cgi-bin/json.sh')->{message}, $mark . '{"error":"queue full","retry":5}',
    '... keeps the text as it is');

$res = $s->get('/php/big.php');
is($res->{status}, 500, 'a 128 KB error page');
is(length($res->{content}), length('<title>Big failure</title>') + 17 * 8192, '... reaches the client whole');
is(failure_for('/php/big.php')->{message}, "${mark}Big failure", '... its title kept');

is($s->get('/php/ok-page.php')->{status}, 200, 'a PHP 200 with a heading');

is($s->get('/php/hostile.php')->{status}, 500, 'a page whose heading carries markup and a script');
$e = failure_for('/php/hostile.php');
is($e->{message}, qq{$mark<img src=x onerror=alert(2)> "q"}, '... the script skipped, the entities decoded')
  or diag(explain($e));
my $page = $s->get('/errwatch')->{content};
like($page, qr{\[response body\] &lt;img src=x onerror=alert\(2\)&gt; &quot;q&quot;}, 'HTML: escaped');
unlike($page, qr{<img src=x}, '... never markup');
my $t = ErrWatchTail->open($s, 'tail&since=0');
my @lines = grep { /hostile\.php/ } $t->lines_until(10, sub { (grep { /hostile\.php/ } @_) >= 1 });
$t->close;
like($lines[0] // '', qr{\[response body\] <img src=x onerror=alert\(2\)>}, '?tail: the line carries the words');

my $doc = $s->json;
ok(!(grep { $_->{uri} eq '/php/ok-page.php' } @{ $doc->{recent} }), 'the 200 is not a failure');

$s->stop;
$s->scan_error_log('body excerpt');
done_testing;
