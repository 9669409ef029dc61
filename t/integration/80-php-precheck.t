#!/usr/bin/perl
# tools/php-precheck (and make php-check) on fixture document roots: the
# WordPress .phpp typo, syntax and compile errors, other typos, and clean
# files that must give no finding.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use ErrWatchTest qw(repo_root);

my $repo    = repo_root();
my $tool    = "$repo/tools/php-precheck";
my $fixture = "$repo/t/fixtures/precheck/wordpress";
my $clean   = "$fixture/wp-content/plugins/clean";
my $tmp     = tempdir('errwatch-precheck.XXXXXX', TMPDIR => 1, CLEANUP => 1);

# Runs the tool; returns (exit code, stdout, stderr).
sub precheck {
    my @args = @_;
    my ($rc, $out) = ErrWatchTest::run_cmd("$tmp/stdout", '/bin/sh', '-c',
        'exec "$0" "$@" 2>"$ERR_FILE"', $tool, @args);
    return ($rc, $out, ErrWatchTest::slurp("$tmp/stderr"));
}
$ENV{ERR_FILE} = "$tmp/stderr";

# The line of the one line in $file that contains $needle.
sub line_of {
    my ($file, $needle) = @_;
    my @lines = split /\n/, ErrWatchTest::slurp($file), -1;
    my @hits = grep { index($lines[$_], $needle) >= 0 } 0 .. $#lines;
    die "'$needle' is on " . scalar(@hits) . " lines of $file\n" unless @hits == 1;
    return $hits[0] + 1;
}

# ---------------------------------------------------------------------------
# The expected include findings on the WordPress fixture
# ---------------------------------------------------------------------------
my $typos = 'wp-content/plugins/typos';
my @missing = (
    {
        file       => 'wp-settings.php',
        statement  => 'require_once',
        include    => "ABSPATH . WPINC . '/class-wp-locale.phpp'",
        resolved   => 'wp-includes/class-wp-locale.phpp',
        suggestion => 'wp-includes/class-wp-locale.php',
    },
    {
        file       => "$typos/typos.php",
        statement  => 'require_once',
        include    => "__DIR__ . '/include/helpers.php'",
        resolved   => "$typos/include/helpers.php",
        suggestion => "$typos/includes/helpers.php",
    },
    {
        file       => "$typos/typos.php",
        statement  => 'require_once',
        include    => "__DIR__ . '/includes/hlepers.php'",
        resolved   => "$typos/includes/hlepers.php",
        suggestion => "$typos/includes/helpers.php",
    },
    {
        file       => "$typos/typos.php",
        statement  => 'include',
        include    => "'includes/helpres.php'",
        resolved   => "$typos/includes/helpres.php",
        suggestion => "$typos/includes/helpers.php",
    },
    {
        file       => "$typos/typos.php",
        statement  => 'require',
        include    => "__DIR__ . '/includes/gone.php'",
        resolved   => "$typos/includes/gone.php",
        suggestion => undef,
    },
    {
        file       => "$typos/typos.php",
        statement  => 'require_once',
        include    => "__DIR__ . '/vendor/autoload.php'",
        resolved   => "$typos/vendor/autoload.php",
        suggestion => undef,
    },
);
for my $m (@missing) {
    my $needle = $m->{include};
    $needle =~ s/^__DIR__ \. //;
    $m->{line}       = line_of("$fixture/$m->{file}", $needle);
    $m->{kind}       = 'missing-include';
    $m->{file}       = "$fixture/$m->{file}";
    $m->{resolved}   = "$fixture/$m->{resolved}";
    $m->{suggestion} = "$fixture/$m->{suggestion}" if defined $m->{suggestion};
    $m->{message}    = "missing include '$m->{resolved}'";
}
my %syntax = (
    "$fixture/wp-content/plugins/broken/broken.php" =>
        [line_of("$fixture/wp-content/plugins/broken/broken.php", 'function broken('),
            qr/^unexpected token "function", expecting "," or ";"$/],
    "$fixture/wp-content/plugins/broken/redeclare.php" =>
        [4, qr/^Cannot redeclare broken_twice\(\)/],
);

sub missing_text {
    my ($m) = @_;
    my $s = "$m->{file}:$m->{line}: missing include '$m->{resolved}' ($m->{include})";
    return defined $m->{suggestion} ? "$s; did you mean '$m->{suggestion}'?" : $s;
}

# ---------------------------------------------------------------------------
# Human output
# ---------------------------------------------------------------------------
{
    my ($rc, $out, $err) = precheck($fixture);
    is($rc, 1, 'findings: exit status 1');
    my @lines = split /\n/, $out;
    my @include_lines = grep { /: missing include / } @lines;
    is_deeply([sort @include_lines], [sort map { missing_text($_) } @missing],
        'missing includes: exactly the expected lines (file, line, resolved path, suggestion)');
    my @syntax_lines = grep { /: syntax error: / } @lines;
    is(scalar(@syntax_lines), 2, 'two syntax findings');
    for my $file (sort keys %syntax) {
        my ($line, $re) = @{ $syntax{$file} };
        my ($hit) = grep { index($_, "$file:$line: syntax error: ") == 0 } @syntax_lines;
        ok($hit, "syntax error reported at $file:$line");
        like(substr($hit // '', length("$file:$line: syntax error: ")), $re, "  with php -l's message");
    }
    is(scalar(@lines), 8, 'nothing else on stdout');
    like($err, qr/^php-precheck: 20 files, 55 includes \(23 not checked: --verbose lists them\), 8 findings$/m,
        'summary on stderr');

    my ($rc1, $out1) = precheck('--jobs=1', $fixture);
    is($rc1, 1, '--jobs=1: exit status 1');
    is($out1, $out, '--jobs=1: the same findings in the same order');

    my ($rcn, $outn) = precheck('--no-lint', $fixture);
    is($rcn, 1, '--no-lint: exit status 1');
    is_deeply([sort split /\n/, $outn], [sort @include_lines], '--no-lint: the include findings only');
}

# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------
{
    my ($rc, $out, $err) = precheck('--json', $fixture);
    is($rc, 1, '--json: exit status 1');
    is($err, '', '--json: nothing on stderr');
    my $doc = eval { JSON::PP->new->decode($out) };
    ok($doc, '--json: the output parses') or diag($@);
    my @findings = @{ $doc->{findings} || [] };
    my @inc = grep { $_->{kind} eq 'missing-include' } @findings;
    my $by_pos = sub { $a->{file} cmp $b->{file} || $a->{line} <=> $b->{line} };
    is_deeply([sort $by_pos @inc], [sort $by_pos @missing], '--json: the missing includes, every field');
    my @syn = grep { $_->{kind} eq 'syntax' } @findings;
    is_deeply([sort map { "$_->{file}:$_->{line}" } @syn],
        [sort map { "$_:$syntax{$_}[0]" } keys %syntax], '--json: the syntax findings');
    ok(!(grep { defined $_->{include} || defined $_->{resolved} } @syn), '  with include and resolved null');
    is(scalar(@findings), 8, '--json: 8 findings in all');
    is_deeply(
        $doc->{counts},
        {
            files    => 20,
            linted   => 20,
            includes => 55,
            missing  => 6,
            skipped  => {
                conditional          => 2,
                'constant-ambiguous' => 1,
                'constant-undefined' => 1,
                dynamic              => 8,
                guarded              => 5,
                'no-directory'       => 1,
                outside              => 1,
                relative             => 2,
                'stream-wrapper'     => 1,
                suppressed           => 1,
            },
        },
        '--json: counts'
    );
    is_deeply([sort keys %{ $doc->{ambiguous_constants} }], ['CLEAN_TWICE'],
        '--json: the constant defined with two values');

    ErrWatchTest::spew("$tmp/out.json", $out);
    my ($jrc, $jout) = ErrWatchTest::run_cmd("$tmp/jq.out", 'jq', '-e', '.findings | length', "$tmp/out.json");
    is($jrc,  0,     'jq parses the output');
    is($jout, "8\n", 'jq counts 8 findings');
}

# ---------------------------------------------------------------------------
# Clean files: every supported construct, dynamic and optional includes,
# and include-like text in strings, comments, heredocs and HTML
# ---------------------------------------------------------------------------
{
    my ($rc, $out, $err) = precheck('--verbose', $clean);
    is($rc,  0,  'clean tree: exit status 0');
    is($out, '', 'clean tree: no finding');
    like($err, qr/^php-precheck: 6 files, 38 includes \(20 not checked\), 0 findings$/m, 'clean tree: summary');
    # Every include in constructs.php and namespaced.php resolves to a file
    # that exists, so neither gets a note.
    unlike($err, qr/constructs\.php:/, 'constructs.php: every include resolved (no note)');
    unlike($err, qr/namespaced\.php:/, 'namespaced.php: every include resolved (no note)');
    unlike($err, qr/missing-|not-includes\.php/, 'strings, comments, heredocs, methods: no include seen');
    like($err, qr/\Q$clean\E\/dynamic\.php:5: note: include not checked \(dynamic\): \$file$/m,
        '--verbose lists a skipped include with its reason');
    like($err, qr/note: constant CLEAN_TWICE has 2 values/, '--verbose names the ambiguous constant');

    my ($jrc, $jout) = precheck('--json', $clean);
    my $doc = JSON::PP->new->decode($jout);
    is($doc->{counts}{includes}, 38, 'clean tree: 38 include statements seen (14 + 4 + 20, none in not-includes.php)');
}

# --strict reports the includes that only look optional; guarded,
# suppressed, dynamic and outside ones stay unreported.
{
    my ($rc, $out) = precheck('--strict', '--no-lint', $clean);
    is($rc, 1, '--strict: exit status 1');
    my @got = sort map { m{^\Q$clean\E/(\S+): missing include '([^']*)'} ? "$1 $2" : "unexpected: $_" }
        split /\n/, $out;
    my $dyn = "$clean/dynamic.php";
    my @want = sort(
        'dynamic.php:' . line_of($dyn, "'/drop-in.php'") . " $clean/drop-in.php",
        'dynamic.php:' . line_of($dyn, "'/other-drop-in.php'") . " $clean/other-drop-in.php",
        'dynamic.php:' . line_of($dyn, "'/generated/cache.php'") . " $clean/generated/cache.php",
        'dynamic.php:' . line_of($dyn, "'PEAR.php'") . " $clean/PEAR.php",
        'dynamic.php:' . line_of($dyn, "'Zend/Loader.php'") . " $clean/Zend/Loader.php",
    );
    is_deeply(\@got, \@want, '--strict: conditional, no-directory and relative includes');

    # A bare name found through include_path is not missing.
    mkdir "$tmp/php-lib";
    ErrWatchTest::spew("$tmp/php-lib/PEAR.php", "<?php\n");
    my ($rc2, $out2) = precheck('--strict', '--no-lint', "--include-path=.:$tmp/php-lib", $clean);
    is_deeply([grep { /PEAR/ } split /\n/, $out2], [], '--include-path: PEAR.php found there');
    my @lines2 = split /\n/, $out2;
    is(scalar(@lines2), 4, '  the other 4 still reported');
}

# --exclude drops a subtree; --check-outside checks absolute paths outside
# the root.
{
    my ($rc, $out) = precheck('--no-lint', '--exclude=wp-content/plugins/typos', $fixture);
    is($rc, 1, '--exclude: exit status 1');
    is_deeply([split /\n/, $out], [missing_text($missing[0])], '--exclude: only the wp-settings.php finding left');
    ($rc, $out) = precheck('--no-lint', '--check-outside', $clean);
    is($rc, 1, '--check-outside: exit status 1');
    my $line = line_of("$clean/dynamic.php", 'outside.php');
    is($out,
        "$clean/dynamic.php:$line: missing include '/nonexistent/php-precheck/outside.php' ('/nonexistent/php-precheck/outside.php')\n",
        '--check-outside: the path outside the root');
}

# ---------------------------------------------------------------------------
# The demo site (the typo on purpose) and usage errors
# ---------------------------------------------------------------------------
{
    my $demo = "$repo/tools/demo/htdocs";
    my ($rc, $out) = precheck($demo);
    is($rc, 1, 'demo site: exit status 1');
    my $line = line_of("$demo/fatal.php", 'class-wp-locale.phpp');
    like($out,
        qr/^\Q$demo\E\/fatal\.php:$line: missing include '\Q$demo\E\/wp-includes\/class-wp-locale\.phpp' \(__DIR__ \. '\/wp-includes\/class-wp-locale\.phpp'\)$/m,
        'demo site: the .phpp typo');
    like($out, qr/^\Q$demo\E\/parse\.php:\d+: syntax error: /m, 'demo site: the syntax error');
}

for my $case (
    [[],                         qr/give the document root to check/],
    [['/nonexistent/precheck'],  qr{'/nonexistent/precheck' is not a directory}],
    [['--bogus', $clean],        qr/unknown option '--bogus'/],
    [['--jobs=0', $clean],       qr/--jobs wants a number/],
    [[$clean, $fixture],         qr/give one document root, not 2/],
    [['--ext=,', $clean],        qr/--ext wants a list/],
) {
    my ($args, $re) = @$case;
    my ($rc, $out, $err) = precheck(@$args);
    is($rc, 2, "usage error (@$args): exit status 2");
    like($err, $re, '  with a clear message');
    is($out, '', '  and nothing on stdout');
}
{
    my ($rc, $out) = precheck('--help');
    is($rc, 0, '--help: exit status 0');
    like($out, qr/^usage: php-precheck \[options\] DOCROOT$/m, '--help: usage');
}

# make php-check
{
    my @make = ('make', '--no-print-directory', '-C', $repo, 'php-check');
    my ($rc, $out) = ErrWatchTest::run_cmd("$tmp/make.out", @make);
    isnt($rc, 0, 'make php-check without DOCROOT fails');
    like($out, qr/php-check: give the tree to check: make php-check DOCROOT=/, '  saying what to give');
    ($rc, $out) = ErrWatchTest::run_cmd("$tmp/make.out", @make, 'DOCROOT=/nonexistent/precheck');
    isnt($rc, 0, 'make php-check with a DOCROOT that is not a directory fails');
    like($out, qr{php-check: DOCROOT '/nonexistent/precheck' is not a directory}, '  saying so');
    ($rc, $out) = ErrWatchTest::run_cmd("$tmp/make.out", @make, "DOCROOT=$fixture");
    isnt($rc, 0, 'make php-check on the fixture fails');
    like($out, qr/^\Q$fixture\E\/wp-settings\.php:\d+: missing include .*class-wp-locale\.phpp/m, '  with the finding');
    ($rc, $out) = ErrWatchTest::run_cmd("$tmp/make.out", @make, "DOCROOT=$clean");
    is($rc, 0, 'make php-check on the clean tree passes');
}

done_testing();
