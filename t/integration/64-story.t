#!/usr/bin/perl
# The error story (issue 12): a failing request keeps every error-log line
# it produced, in order, as ?json's "messages" and as lines on the page;
# "message" stays the most severe one. mod_cgi under prefork (a Perl CGI
# that dies: its stderr line, then httpd's own), mod_php (a line, then a
# fatal) and mod_wsgi in embedded mode under event (a whole traceback).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use ErrWatchTest qw(poll_until);
use ErrWatchTail;

sub spew { return ErrWatchTest::spew(@_) }

sub failure_for {
    my ($s, $uri, $n) = @_;
    my $doc = $s->json_when(sub { grep { $_->{uri} eq $uri } @{ $_[0]{recent} } }, 10);
    my ($e) = grep { $_->{uri} eq $uri } @{ $doc ? $doc->{recent} : [] };
    return $e || {};
}

# ---------------------------------------------------------------------------
# prefork: mod_cgi and mod_php
# ---------------------------------------------------------------------------
{
    my $s = ErrWatchTest->new(mpm => 'prefork', php => 1);
    my $docroot = $s->docroot;
    spew("$docroot/cgi-bin/die.pl",
        "#!/usr/bin/perl\nprint STDERR \"config file /etc/app.conf missing at line 3\\n\";\nexit 1;\n",
        0755);
    spew("$docroot/php/story.php",
        "<?php\nerror_log('cannot reach db01.internal:3306, trying the replica');\n"
          . "undefined_function_for_the_story();\n", 0644);
    $s->start;

    is($s->get('/cgi-bin/die.pl')->{status}, 500, 'mod_cgi: a CGI that dies answers 500');
    my $e = failure_for($s, '/cgi-bin/die.pl');
    my @m = @{ $e->{messages} || [] };
    is(scalar @m, 2, 'mod_cgi: two lines in the story') or diag(explain($e));
    like($m[0] // '', qr/^AH01215: stderr from .*die\.pl: config file \/etc\/app\.conf missing at line 3$/,
        '... first the script\'s stderr, with the module prefix kept');
    like($m[1] // '', qr/End of script output before headers: die\.pl/, '... then httpd\'s line');
    like($e->{message}, qr/End of script output before headers/, '... message: the most severe, the last on ties');

    is($s->get('/php/story.php')->{status}, 500, 'mod_php: a fatal error answers 500');
    $e = failure_for($s, '/php/story.php');
    @m = @{ $e->{messages} || [] };
    is(scalar @m, 2, 'mod_php: both lines') or diag(explain($e));
    like($m[0] // '', qr/cannot reach db01\.internal:3306/, '... the cause first');
    like($m[1] // '', qr/PHP Fatal error:  Uncaught Error: Call to undefined function undefined_function_for_the_story\(\)/,
        '... then the fatal');
    like($e->{message}, qr/PHP Fatal error/, '... which is the message');

    my $page = $s->get('/errwatch')->{content};
    like($page, qr{config file /etc/app\.conf missing at line 3<br>[^<]*End of script output before headers},
        'HTML: the story as lines');
    my $t = ErrWatchTail->open($s, 'tail&since=0');
    my @lines = grep { !/^#/ } $t->lines_until(10, sub { (grep { !/^#/ } @_) >= 2 });
    $t->close;
    is(scalar @lines, 2, '?tail: still one line per failure');
    like($lines[0] // '', qr{die\.pl}, '... the CGI first');
    $s->stop;
}

# ---------------------------------------------------------------------------
# event: mod_wsgi embedded, a traceback
# ---------------------------------------------------------------------------
SKIP: {
    skip 'needs mod_wsgi (package libapache2-mod-wsgi-py3)', 6
      unless -e '/usr/lib/apache2/modules/mod_wsgi.so';
    my $s = ErrWatchTest->new(mpm => 'event', status => 0, modules => [['wsgi_module', 'mod_wsgi.so']]);
    my $app = $s->docroot . '/zero.wsgi';
    spew($app, <<'EOF', 0644);
def ratio(a, b):
    return a / b

def application(environ, start_response):
    value = ratio(1, 0)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [str(value).encode()]
EOF
    $s->set_extra_conf(qq{WSGIScriptAlias /zero "$app"\n});
    $s->start;
    is($s->get('/zero')->{status}, 500, 'mod_wsgi: an exception answers 500');
    my $e = failure_for($s, '/zero');
    my @m = @{ $e->{messages} || [] };
    my $story = join "\n", @m;
    like($story, qr/Traceback \(most recent call last\):/, 'mod_wsgi: the traceback is in the story')
      or diag($story);
    like($story, qr/zero\.wsgi", line 5, in application/, '... where it was called');
    like($story, qr/zero\.wsgi", line 2, in ratio/, '... where it failed');
    like($m[-1] // '', qr/ZeroDivisionError: division by zero/, '... and what, last');
    cmp_ok(scalar @m, '>=', 5, '... one line per traceback line');
    $s->stop;
}

done_testing;
