#!/usr/bin/perl
# Nothing a server child reads may live in the checkout: the children run as
# www-data when the tests run as root, and a newcomer clones to
# /root/project, where /root is mode 0700 on Debian. This copies the tree
# into a 0700 directory and runs key test files from the copy: PHP under
# prefork, CGI under event (whose children are leak-checked under make
# sanitize, so LeakSanitizer reads its suppressions file in them), php-fpm
# workers and the WordPress fixture. A document root, a script, a pool or a
# suppressions file read from the checkout fails them (403, a CGI that cannot
# run, "failed to read suppressions file" in the error log).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use File::Temp qw(tempdir);
use POSIX ();
use Test::More;
use ErrWatchTest qw(repo_root);

plan skip_all => 'needs root: only then do the server children run as another user (www-data)' if $> != 0;
my (undef, undef, $www_uid, $www_gid) = getpwnam('www-data');
plan skip_all => 'no www-data user' unless defined $www_uid;

my @FILES = qw(10-prefork-php.t 20-event-cgid.t 50-php-fpm.t 75-wordpress.t);

my $repo    = repo_root();
my $private = tempdir("errwatch-private-$$-XXXXXX", TMPDIR => 1, CLEANUP => 1);
chmod 0700, $private;
my $copy = "$private/project";
mkdir $copy, 0700 or die "mkdir $copy: $!\n";
# What the test files use: the harness, fixtures and test module (t), the
# module (.libs), conf/errwatch.conf and tools/.
for my $part (qw(t conf tools .libs)) {
    next unless -e "$repo/$part";    # .libs: make sanitize alone uses ERRWATCH_SO
    system('cp', '-a', "$repo/$part", "$copy/") == 0 or BAIL_OUT("cannot copy $repo/$part to $copy");
}

# Files that make sanitize names by their path in the checkout go to the
# same place in the copy, as they would be in a clone under /root.
local $ENV{ERRWATCH_SO} = $ENV{ERRWATCH_SO};
if ($ENV{ERRWATCH_SO} && index($ENV{ERRWATCH_SO}, "$repo/") == 0) {
    my $rel = substr($ENV{ERRWATCH_SO}, length("$repo/"));
    (my $dir = "$copy/$rel") =~ s{/[^/]+$}{};
    system('mkdir', '-p', $dir) == 0 && system('cp', $ENV{ERRWATCH_SO}, "$copy/$rel") == 0
      or BAIL_OUT("cannot copy $ENV{ERRWATCH_SO}");
    $ENV{ERRWATCH_SO} = "$copy/$rel";
}
local $ENV{LSAN_OPTIONS} = $ENV{LSAN_OPTIONS};
if (defined $ENV{LSAN_OPTIONS} && $ENV{LSAN_OPTIONS} =~ m{(?:^|:)suppressions=\Q$repo\E/([^:]+)}) {
    my $rel = $1;
    -e "$copy/$rel" or BAIL_OUT("$rel is not in the copy");
    $ENV{LSAN_OPTIONS} =~ s{(^|:)suppressions=\Q$repo\E/}{$1suppressions=$copy/};
}

# The copy is what it claims to be: www-data cannot read it.
my $pid = fork;
die "fork: $!\n" unless defined $pid;
if ($pid == 0) {
    POSIX::setgid($www_gid);
    POSIX::setuid($www_uid);
    POSIX::_exit(2) if $> != $www_uid;
    POSIX::_exit(opendir(my $dh, $copy) || -r "$copy/t/htdocs/index.html" ? 1 : 0);
}
waitpid($pid, 0);
is($? >> 8, 0, "www-data cannot read the copy of the tree ($copy)");

for my $file (@FILES) {
    my $out = "$private/$file.out";
    my ($rc, $tap) = ErrWatchTest::run_cmd($out, $^X, "$copy/t/integration/$file");
    my @not_ok = $tap =~ /^(not ok .*)$/mg;
    my ($planned) = $tap =~ /^1\.\.(\d+)/m;
    ok($rc == 0 && !@not_ok && $planned, "$file passes from a 0700 copy of the tree")
      or diag("exit $rc, " . scalar(@not_ok) . " failed:\n" . join("\n", @not_ok) . "\n--- output:\n$tap");
}

done_testing();
