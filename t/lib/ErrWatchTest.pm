package ErrWatchTest;

# Integration-test harness for mod_errwatch: runs a throwaway apache2 with a
# generated config on a kernel-chosen loopback port, and talks to it.
#
#   my $s = ErrWatchTest->new(mpm => 'prefork', php => 1, status => 0,
#                             extra_conf => '...');
#   $s->start;                      # asserts that the server came up
#   my $res  = $s->get('/ok.html'); # HTTP::Tiny response
#   my $doc  = $s->json;            # /errwatch?json, decoded
#   my $auto = $s->auto;            # [[key, value], ...] from /errwatch?auto
#   $s->graceful; $s->stop; $s->scan_error_log;
#   $s->restart;                   # apache2 -k restart (SIGHUP), waits for a new generation
#   $s->reset_sent;                # after a full stop: the next start counts from zero
#   $s->scan_error_log_allowing($name, [qr/.../]);   # lines that are expected
#   my ($rc, $out) = ErrWatchTest->configtest(extra_conf => 'ErrWatchFiles 0');
#   my $res = $s->metrics(openmetrics => 1);       # /errwatch?metrics
#   my $m   = ErrWatchTest::parse_metrics($res->{content});
#   ErrWatchTest::metric_value($m, 'errwatch_errors_total', {status => 500});
#   my ($rc, $out) = $s->promtool_check($res->{content});
#   my $fpm = ErrWatchTest::PhpFpm->new(dir => $s->dir);   # a php-fpm pool
#
# Core Perl modules only. Environment:
#   APACHE2           the httpd binary (default /usr/sbin/apache2)
#   ERRWATCH_SO       the module to test (default <repo>/.libs/mod_errwatch.so)
#   ERRWATCH_KEEP_TMP keep the temp dirs (their paths are printed)
#   PROMTOOL          promtool (default /usr/bin/promtool, package prometheus)
#   PHP_FPM           php-fpm (default the newest /usr/sbin/php-fpm*)
#   ERRWATCH_PRELOAD  a sanitizer runtime that apache2 runs with (make sanitize)
#   ERRWATCH_SANITIZE a test fails when a stopped server's logs hold a
#                     sanitizer report

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Find qw(find);
use File::Path qw(make_path);
use File::Spec;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use IO::Socket::UNIX;
use Socket ();
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Scalar::Util qw(refaddr);
use Test::More;
use Time::HiRes qw(time sleep);

our @EXPORT_OK = qw(repo_root auto_base_keys auto_async_keys poll_until failure_cases);

my $MODULES_DIR   = '/usr/lib/apache2/modules';
my $START_TIMEOUT = 20;
my $STOP_TIMEOUT  = 20;

my %LIVE;    # server objects that may have an apache2 running, by refaddr

# ---------------------------------------------------------------------------
# Paths and small helpers
# ---------------------------------------------------------------------------

# The issue's eight failure cases, by number, as the fixtures in t/htdocs and
# the generated config produce them: what to request and what errwatch must
# record for it (see check_recent_entry). Both MPM suites use this table.
sub failure_cases {
    my ($docroot, @numbers) = @_;
    my %case = (
        1 => {
            name    => 'case 1: PHP fatal error (missing require)',
            path    => '/php/fatal.php?token=s3cret',
            uri     => '/php/fatal.php',
            file    => qr{\Q$docroot\E/php/fatal\.php$},
            handler => 'application/x-httpd-php',
            message => [qr/Failed opening required/, qr/class-wp-locale\.phpp/],
        },
        2 => {
            name    => 'case 2: PHP parse error',
            path    => '/php/parse.php',
            uri     => '/php/parse.php',
            file    => qr{\Q$docroot\E/php/parse\.php$},
            handler => 'application/x-httpd-php',
            message => [qr/PHP Parse error/],
        },
        3 => {
            name    => 'case 3: CGI malformed header',
            path    => '/cgi-bin/bad.cgi',
            uri     => '/cgi-bin/bad.cgi',
            file    => qr{\Q$docroot\E/cgi-bin/bad\.cgi$},
            handler => 'cgi-script',
            message => [qr/malformed header from script 'bad\.cgi'/],
        },
        4 => {
            name    => 'case 4: test module handler 500',
            path    => '/errwatch-test/fail',
            uri     => '/errwatch-test/fail',
            file    => qr{\Q$docroot\E/errwatch-test/fail$},
            handler => 'errwatch-test-500',
            message => [qr/errwatch-test: deliberate failure in handler/],
        },
        5 => {
            name    => 'case 5: broken .htaccess',
            path    => '/broken/index.html',
            uri     => '/broken/index.html',
            file    => qr{\Q$docroot\E/broken(?:/|/index\.html|/\.htaccess)?$},
            handler => '-',
            message => [qr/\.htaccess|Invalid command/],
        },
        6 => {
            name    => 'case 6: ErrorDocument 500 to a local page',
            path    => '/errordoc/fail',
            uri     => '/errordoc/fail',
            file    => qr{\Q$docroot\E/errordoc/fail$},
            handler => 'errwatch-test-500',
            message => [qr/errwatch-test: deliberate failure in handler/],
            body    => qr/errwatch-local-error-page/,
        },
        7 => {
            name    => 'case 7: WordPress-style rewrite to index.php',
            path    => '/wp/2024/hello-world/',
            uri     => '/wp/2024/hello-world/',
            file    => qr{\Q$docroot\E/wp/index\.php$},
            handler => 'application/x-httpd-php',
            message => [qr/Failed opening required/, qr/class-wp-locale\.phpp/],
        },
        8 => {
            name    => 'case 8: PHP sets 503',
            path    => '/php/status503.php',
            uri     => '/php/status503.php',
            status  => 503,
            file    => qr{\Q$docroot\E/php/status503\.php$},
            handler => 'application/x-httpd-php',
            body    => qr/maintenance/,
        },
    );
    return map { { %{ $case{$_} } } } @numbers;
}

sub repo_root {
    return abs_path(File::Spec->catdir(dirname(abs_path(__FILE__)), '..', '..'));
}

sub apache2_bin {
    return $ENV{APACHE2} || '/usr/sbin/apache2';
}

# Sanitizer output (ASan, LSan, UBSan) in a log line.
my $SANITIZER_RE = qr/runtime error:|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer/;

# Environment of an apache2 process, set in the forked child before exec.
# Under make sanitize apache2 itself is not instrumented, so the ASan
# runtime (which carries UBSan's handlers too) is preloaded; PHP's ini scan
# dir is emptied because that runtime refuses opcache's
# dlopen(RTLD_DEEPBIND). Leaks are checked only in a server without mod_php
# ($check_leaks): PHP's own startup allocations are reported after httpd
# has unloaded libphp, so they cannot be told apart from the module's (see
# t/sanitize/README.md); the short -t / -k commands are not checked either.
sub apache2_child_env {
    my ($check_leaks, $lsan_options) = @_;
    return unless $ENV{ERRWATCH_PRELOAD};
    $ENV{LD_PRELOAD}       = $ENV{ERRWATCH_PRELOAD};
    $ENV{LSAN_OPTIONS}     = $lsan_options if defined $lsan_options;
    $ENV{PHP_INI_SCAN_DIR} = '';
    $ENV{ASAN_OPTIONS}     = join ':', grep { length } $ENV{ASAN_OPTIONS} // '', 'detect_leaks=0'
      unless $check_leaks;
    return;
}

# LSAN_OPTIONS with its suppressions file copied into $dir. LeakSanitizer
# reads that file in each server child at exit, and the children run as
# www-data, which cannot read a checkout under /root (mode 0700).
sub lsan_options_in {
    my ($dir) = @_;
    my $opts = $ENV{LSAN_OPTIONS};
    return undef unless $ENV{ERRWATCH_PRELOAD} && defined $opts && $opts =~ /(?:^|:)suppressions=([^:]+)/;
    my $from = $1;
    open my $fh, '<:raw', $from or die "LSAN_OPTIONS: cannot read suppressions file $from: $!\n";
    close $fh;
    my $copy = "$dir/lsan.supp";
    spew($copy, slurp($from), 0644);
    $opts =~ s/(^|:)suppressions=[^:]+/$1suppressions=$copy/;
    return $opts;
}

sub module_path {
    return $ENV{ERRWATCH_SO} || File::Spec->catfile(repo_root(), '.libs', 'mod_errwatch.so');
}

sub test_module_path {
    return File::Spec->catfile(repo_root(), 't', 'modules', '.libs', 'mod_errwatch_test.so');
}

# mod_status 2.4 ?auto keys, in its order, without the bare first line,
# without CPULoad (printed only when > 0) and without the async block.
sub auto_base_keys {
    return (
        'ServerVersion', 'ServerMPM', 'Server Built', 'CurrentTime', 'RestartTime',
        'ParentServerConfigGeneration', 'ParentServerMPMGeneration', 'ServerUptimeSeconds',
        'ServerUptime', 'Load1', 'Load5', 'Load15', 'Total Accesses', 'Total kBytes',
        'Total Duration', 'CPUUser', 'CPUSystem', 'CPUChildrenUser', 'CPUChildrenSystem',
        'Uptime', 'ReqPerSec', 'BytesPerSec', 'BytesPerReq', 'DurationPerReq', 'BusyWorkers',
        'GracefulWorkers', 'IdleWorkers',
    );
}

# Printed after IdleWorkers by async MPMs (event).
sub auto_async_keys {
    return (
        'Processes', 'Stopping', 'ConnsTotal', 'ConnsAsyncWaitIO', 'ConnsAsyncWriting',
        'ConnsAsyncKeepAlive', 'ConnsAsyncClosing',
    );
}

# Calls $code every 50 ms until it returns true or $timeout seconds pass.
# Returns the last value $code returned.
sub poll_until {
    my ($timeout, $code) = @_;
    my $deadline = time + $timeout;
    my $delay    = 0.02;
    while (1) {
        my $v = $code->();
        return $v if $v;
        return $v if time >= $deadline;
        sleep($delay);
        $delay = 0.1 if ($delay *= 1.5) > 0.1;
    }
}

sub free_port {
    my ($addr) = @_;
    my $sock = IO::Socket::INET->new(
        LocalAddr => $addr // '127.0.0.1',
        LocalPort => 0,
        Proto     => 'tcp',
        Listen    => 1,
        ReuseAddr => 1,
    ) or die "cannot bind a loopback port: $!\n";
    my $port = $sock->sockport;
    close $sock;
    return $port;
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return '';
    local $/;
    my $s = <$fh>;
    close $fh;
    return defined $s ? $s : '';
}

sub spew {
    my ($path, $text, $mode) = @_;
    open my $fh, '>:raw', $path or die "cannot write $path: $!\n";
    print {$fh} $text;
    close $fh or die "cannot write $path: $!\n";
    chmod($mode, $path) if defined $mode;
    return;
}

# Runs a command with stdout and stderr sent to a file; returns
# (exit code, output). Exit code is 128+N when killed by signal N.
sub run_cmd {
    my ($outfile, @cmd) = @_;
    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN,  '<', '/dev/null';
        open STDOUT, '>', $outfile or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        apache2_child_env(0) if $cmd[0] eq apache2_bin();
        exec {$cmd[0]} @cmd or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    my $st = $?;
    my $rc = ($st & 127) ? 128 + ($st & 127) : $st >> 8;
    return ($rc, slurp($outfile));
}

sub proc_alive {
    my ($pid) = @_;
    return 0 unless $pid && kill(0, $pid);
    # A zombie nobody reaped is gone as far as we care.
    my $stat = slurp("/proc/$pid/stat");
    return 1 unless $stat;
    return $stat =~ /^\d+ \(.*\) Z /s ? 0 : 1;
}

sub children_of {
    my ($ppid) = @_;
    my @kids;
    opendir my $dh, '/proc' or return ();
    for my $p (grep { /^\d+$/ } readdir $dh) {
        my $stat = slurp("/proc/$p/stat");
        next unless $stat =~ /^\d+ \(.*\) \S+ (\d+) /s;
        push @kids, $p if $1 == $ppid;
    }
    closedir $dh;
    return sort { $a <=> $b } @kids;
}

# Copies a tree, keeping the execute bits, with modes readable by everyone
# (the server's children run as www-data when the tests run as root).
sub copy_tree {
    my ($from, $to) = @_;
    make_path($to, { mode => 0755 });
    chmod 0755, $to;
    find(
        {
            no_chdir => 1,
            wanted   => sub {
                my $rel = File::Spec->abs2rel($File::Find::name, $from);
                return if $rel eq '.';
                my $dst = File::Spec->catfile($to, $rel);
                if (-d $File::Find::name) {
                    make_path($dst);
                    chmod 0755, $dst;
                    return;
                }
                spew($dst, slurp($File::Find::name), (-x $File::Find::name) ? 0755 : 0644);
            },
        },
        $from
    );
    return;
}

# ---------------------------------------------------------------------------
# Construction and config generation
# ---------------------------------------------------------------------------

# Options:
#   mpm        'prefork' (default), 'worker' or 'event'
#   mpm_conf   MPM sizing directives replacing the defaults (StartServers, ...)
#   php        load mod_php (prefork only); default 1 for prefork
#   status     load mod_status with ExtendedStatus On and /server-status
#   errwatch   load mod_errwatch and conf/errwatch.conf (default 1)
#   loglevel   LogLevel (default 'warn')
#   modules    extra modules from /usr/lib/apache2/modules: [[name, file], ...]
#   extra_conf config text appended at the end
#   addr       the loopback address to listen on (default 127.0.0.1)
sub new {
    my ($class, %opt) = @_;
    my $mpm = $opt{mpm} || 'prefork';
    die "unknown mpm '$mpm'\n" unless $mpm =~ /^(?:prefork|worker|event)$/;
    my $self = bless {
        mpm        => $mpm,
        php        => exists $opt{php} ? $opt{php} : ($mpm eq 'prefork' ? 1 : 0),
        status     => $opt{status} ? 1 : 0,
        errwatch   => exists $opt{errwatch} ? $opt{errwatch} : 1,
        loglevel   => $opt{loglevel} || 'warn',
        extra_conf => defined $opt{extra_conf} ? $opt{extra_conf} : '',
        modules    => $opt{modules} || [],
        mpm_conf   => $opt{mpm_conf},
        addr       => $opt{addr} // '127.0.0.1',
        owner      => $$,
        sent       => {},
    }, $class;
    die "mod_php cannot run under the $mpm MPM\n" if $self->{php} && $mpm ne 'prefork';

    my $keep = $ENV{ERRWATCH_KEEP_TMP} ? 1 : 0;
    $self->{dir} = tempdir('errwatch-test-XXXXXX', TMPDIR => 1, CLEANUP => !$keep);
    chmod 0755, $self->{dir};
    diag("temp dir kept: $self->{dir}") if $keep;
    make_path("$self->{dir}/run", "$self->{dir}/logs");
    chmod 0755, "$self->{dir}/run", "$self->{dir}/logs";
    $self->{docroot} = "$self->{dir}/htdocs";
    copy_tree(File::Spec->catdir(repo_root(), 't', 'htdocs'), $self->{docroot});
    $self->{lsan_options} = lsan_options_in($self->{dir});
    # A file name with HTML metacharacters; made here rather than kept in git.
    spew("$self->{docroot}/php/x<y>&\"z.php",
        "<?php\nrequire_once __DIR__ . '/hostile-missing.phpp';\n", 0644);

    $self->{conf}      = "$self->{dir}/httpd.conf";
    $self->{error_log} = "$self->{dir}/logs/error.log";
    $self->{pid_file}  = "$self->{dir}/run/httpd.pid";
    $self->{port}      = free_port($self->{addr});
    $self->write_conf;
    return $self;
}

sub dir       { return $_[0]{dir} }
sub docroot   { return $_[0]{docroot} }
sub port      { return $_[0]{port} }
sub mpm       { return $_[0]{mpm} }
sub conf_path { return $_[0]{conf} }
sub error_log { return $_[0]{error_log} }
sub addr      { return $_[0]{addr} }
sub base_url  { return "http://$_[0]{addr}:$_[0]{port}" }

sub set_extra_conf {
    my ($self, $text) = @_;
    $self->{extra_conf} = $text;
    $self->write_conf;
    return;
}

sub load_module_line {
    my ($name, $file) = @_;
    my $path = $file =~ m{^/} ? $file : "$MODULES_DIR/$file";
    return qq{LoadModule $name "$path"\n};
}

sub config_text {
    my ($self) = @_;
    my ($dir, $docroot, $port) = @{$self}{qw(dir docroot port)};
    my $root = repo_root();
    my $c = '';

    $c .= <<"EOF";
# Generated by t/lib/ErrWatchTest.pm
ServerRoot "$dir"
ServerName $self->{addr}
Listen $self->{addr}:$port
PidFile "$self->{pid_file}"
ErrorLog "$self->{error_log}"
LogLevel $self->{loglevel}
DefaultRuntimeDir "$dir/run"
Mutex file:$dir/run default
CoreDumpDirectory "$dir"
Timeout 30
KeepAlive On
KeepAliveTimeout 5
MaxKeepAliveRequests 1000
EOF
    $c .= "User www-data\nGroup www-data\n" if $> == 0;

    $c .= load_module_line("mpm_$self->{mpm}_module", "mod_mpm_$self->{mpm}.so");
    if (defined $self->{mpm_conf}) {
        $c .= "$self->{mpm_conf}\n";
    } elsif ($self->{mpm} eq 'prefork') {
        $c .= <<'EOF';
StartServers 3
MinSpareServers 2
MaxSpareServers 6
ServerLimit 16
MaxRequestWorkers 16
MaxConnectionsPerChild 0
EOF
    } else {
        $c .= <<'EOF';
StartServers 2
ServerLimit 4
ThreadLimit 16
ThreadsPerChild 8
MinSpareThreads 8
MaxSpareThreads 32
MaxRequestWorkers 32
MaxConnectionsPerChild 0
EOF
    }

    $c .= load_module_line('authz_core_module', 'mod_authz_core.so');
    $c .= load_module_line('authz_host_module', 'mod_authz_host.so');
    $c .= load_module_line('mime_module',       'mod_mime.so');
    $c .= qq{TypesConfig /etc/mime.types\n};
    $c .= load_module_line('dir_module', 'mod_dir.so');
    $c .= qq{DirectoryIndex index.html index.php\n};
    $c .= load_module_line('alias_module',   'mod_alias.so');
    $c .= load_module_line('rewrite_module', 'mod_rewrite.so');
    if ($self->{mpm} eq 'prefork') {
        $c .= load_module_line('cgi_module', 'mod_cgi.so');
    } else {
        $c .= load_module_line('cgid_module', 'mod_cgid.so');
        $c .= qq{ScriptSock "$dir/run/cgid.sock"\n};
    }
    if ($self->{php}) {
        $c .= load_module_line('php_module', 'libphp8.2.so');
        $c .= <<'EOF';
<FilesMatch "\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>
EOF
    }
    if ($self->{status}) {
        $c .= load_module_line('status_module', 'mod_status.so');
        $c .= <<'EOF';
ExtendedStatus On
<Location "/server-status">
    SetHandler server-status
    Require local
</Location>
EOF
    }
    $c .= load_module_line(@$_) for @{ $self->{modules} };
    $c .= load_module_line('errwatch_test_module', test_module_path());
    if ($self->{errwatch}) {
        $c .= load_module_line('errwatch_module', module_path());
        $c .= qq{Include "$root/conf/errwatch.conf"\n};
    }

    # The fixtures' config (t/htdocs).
    $c .= <<"EOF";
DocumentRoot "$docroot"
<Directory />
    Options None
    AllowOverride None
    Require all denied
</Directory>
<Directory "$docroot">
    Options FollowSymLinks
    AllowOverride All
    Require all granted
</Directory>
ScriptAlias /cgi-bin/ "$docroot/cgi-bin/"
<Directory "$docroot/cgi-bin">
    AllowOverride None
    Options +ExecCGI
    Require all granted
</Directory>
<Location "/errwatch-test/fail">
    SetHandler errwatch-test-500
</Location>
<LocationMatch "^/errwatch-test/many-">
    SetHandler errwatch-test-500
</LocationMatch>
<Location "/errwatch-test/status">
    SetHandler errwatch-test-status
</Location>
<Location "/errwatch-test/subreq">
    SetHandler errwatch-test-subreq-500
</Location>
<Location "/errordoc/">
    ErrorDocument 500 /local/page.html
</Location>
<Location "/errordoc/fail">
    SetHandler errwatch-test-500
</Location>
<Location "/off/fail">
    SetHandler errwatch-test-500
</Location>
EOF
    if ($self->{errwatch}) {
        $c .= <<'EOF';
<IfModule errwatch_module>
    <Location "/off">
        ErrWatch Off
    </Location>
</IfModule>
EOF
    }
    $c .= "# extra_conf\n$self->{extra_conf}\n" if length $self->{extra_conf};
    return $c;
}

sub write_conf {
    my ($self) = @_;
    spew($self->{conf}, $self->config_text, 0644);
    return;
}

# `apache2 -t` on a generated config. Callable as a class method (makes a
# throwaway temp dir) or on an object. Returns (exit code, output).
sub configtest {
    my ($self, %opt) = @_;
    $self = ref $self ? $self : $self->new(%opt);
    $self->set_extra_conf($opt{extra_conf}) if ref $_[0] && exists $opt{extra_conf};
    return run_cmd("$self->{dir}/configtest.out", apache2_bin(), '-t', '-f', $self->{conf});
}

# ---------------------------------------------------------------------------
# Server lifecycle
# ---------------------------------------------------------------------------

sub read_pid {
    my ($self) = @_;
    my $s = slurp($self->{pid_file});
    return $s =~ /^(\d+)/ ? $1 : undef;
}

sub server_pid { return $_[0]{pid} }

# Starts apache2 -DFOREGROUND as a child of this process and waits until
# GET /ok.html answers 200. Records a test assertion; dies on failure.
sub start {
    my ($self) = @_;
    for my $attempt (1 .. 3) {
        my $ok = $self->try_start;
        if ($ok) {
            pass("apache2 ($self->{mpm}) started on port $self->{port}");
            return 1;
        }
        my $out = slurp("$self->{dir}/start.out") . slurp($self->{error_log});
        if ($attempt < 3 && $out =~ /Address already in use/ && !$self->{answered}) {
            diag("port $self->{port} taken, trying another");
            $self->{port} = free_port();
            $self->write_conf;
            truncate($self->{error_log}, 0);
            next;
        }
        fail("apache2 ($self->{mpm}) started on port $self->{port}");
        diag("apache2 output:\n" . slurp("$self->{dir}/start.out"));
        diag("error log:\n" . slurp($self->{error_log}));
        $self->stop;
        die "cannot continue without a server\n";
    }
    return 0;
}

sub try_start {
    my ($self) = @_;
    die "server already running\n" if $self->{pid} && proc_alive($self->{pid});
    $self->{answered} = 0;
    my $outfile = "$self->{dir}/start.out";
    my $pid     = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN,  '<', '/dev/null';
        open STDOUT, '>', $outfile or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        # Its own process group, so a terminal's Ctrl-C reaches it only
        # through our END block's orderly stop.
        setpgrp(0, 0);
        apache2_child_env(!$self->{php}, $self->{lsan_options});
        exec {apache2_bin()} apache2_bin(), '-f', $self->{conf}, '-DFOREGROUND'
          or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    $LIVE{"$self"} = $self;

    my $probe = HTTP::Tiny->new(timeout => 2, keep_alive => 0, max_redirect => 0);
    my $ok    = poll_until(
        $START_TIMEOUT,
        sub {
            if (waitpid($pid, WNOHANG) == $pid) {
                $self->{exit_status} = $?;
                delete $self->{pid};
                return -1;
            }
            my $res = $probe->get($self->base_url . '/ok.html');
            return 0 if $res->{status} == 599;
            $self->{answered} = 1;
            $self->count_response('GET', '/ok.html', $res);
            return $res->{status} == 200 ? 1 : 0;
        }
    );
    return 0 unless $ok && $ok > 0;
    $self->new_client;
    return 1;
}

# Sends `apache2 -k graceful` and waits until a new generation answers:
# ParentServerConfigGeneration in /errwatch?auto grows, or (when that key
# cannot be read) the set of the parent's children changes. Returns the
# list of ?auto readings ([[k, v], ...] each) seen while waiting.
sub graceful {
    my ($self) = @_;
    my $gen_before = $self->auto_value('ParentServerConfigGeneration');
    my @kids_before = children_of($self->{pid});
    # Drop our keep-alive connection: an old child serving it would linger.
    $self->new_client;
    my ($rc, $out) =
      run_cmd("$self->{dir}/graceful.out", apache2_bin(), '-f', $self->{conf}, '-k', 'graceful');
    is($rc, 0, 'apache2 -k graceful exit code') or diag($out);

    my @readings;
    my $probe = HTTP::Tiny->new(timeout => 5, keep_alive => 0, max_redirect => 0);
    my $done  = poll_until(
        $START_TIMEOUT,
        sub {
            return -1 unless proc_alive($self->{pid});
            if (defined $gen_before && $gen_before =~ /^\d+$/) {
                my $res = $probe->get($self->base_url . '/errwatch?auto');
                return 0 if $res->{status} == 599;
                $self->count_response('GET', '/errwatch?auto', $res);
                return 0 unless $res->{status} == 200;
                my $pairs = parse_auto($res->{content});
                push @readings, $pairs;
                my ($g) = map { $_->[1] } grep { $_->[0] eq 'ParentServerConfigGeneration' } @$pairs;
                return defined $g && $g =~ /^\d+$/ && $g > $gen_before ? 1 : 0;
            }
            my %before = map { $_ => 1 } @kids_before;
            my @now = children_of($self->{pid});
            return (@now && !grep { $before{$_} } @now) ? 1 : 0;
        }
    );
    ok($done && $done > 0, 'graceful restart: a new generation answers')
      or diag("error log:\n" . slurp($self->{error_log}));
    $self->{restarted} = 1;
    $self->new_client;
    return @readings;
}

# `apache2 -k restart` (SIGHUP: the parent stops every child at once,
# re-reads its config and starts a new generation), then waits until
# ParentServerConfigGeneration in /errwatch?auto grows. The parent keeps
# its pid. Returns (generation before, generation after); the latter is
# undef when no new generation answered.
sub restart {
    my ($self) = @_;
    my $gen_before = $self->auto_value('ParentServerConfigGeneration');
    $self->new_client;
    my ($rc, $out) =
      run_cmd("$self->{dir}/restart.out", apache2_bin(), '-f', $self->{conf}, '-k', 'restart');
    is($rc, 0, 'apache2 -k restart exit code') or diag($out);

    my $gen_after;
    my $probe = HTTP::Tiny->new(timeout => 5, keep_alive => 0, max_redirect => 0);
    my $done  = poll_until(
        $START_TIMEOUT,
        sub {
            return -1 unless proc_alive($self->{pid});
            return 0 unless defined $gen_before && $gen_before =~ /^\d+$/;
            my $res = $probe->get($self->base_url . '/errwatch?auto');
            return 0 if $res->{status} == 599;
            $self->count_response('GET', '/errwatch?auto', $res);
            return 0 unless $res->{status} == 200;
            my ($g) = map { $_->[1] } grep { $_->[0] eq 'ParentServerConfigGeneration' }
              @{ parse_auto($res->{content}) };
            return 0 unless defined $g && $g =~ /^\d+$/ && $g > $gen_before;
            $gen_after = $g;
            return 1;
        }
    );
    ok($done && $done > 0, 'plain restart: a new generation answers')
      or diag("error log:\n" . slurp($self->{error_log}));
    $self->{restarted} = 1;
    $self->new_client;
    return ($gen_before, $gen_after);
}

# `apache2 -k stop`, then waits until the parent process is gone.
sub stop {
    my ($self) = @_;
    return unless $$ == $self->{owner};
    my $pid = $self->{pid};
    delete $LIVE{"$self"};
    return unless $pid;
    if (proc_alive($pid)) {
        run_cmd("$self->{dir}/stop.out", apache2_bin(), '-f', $self->{conf}, '-k', 'stop');
        my $gone = poll_until($STOP_TIMEOUT, sub { waitpid($pid, WNOHANG) == $pid || !proc_alive($pid) });
        unless ($gone) {
            kill 'TERM', $pid;
            $gone = poll_until(5, sub { waitpid($pid, WNOHANG) == $pid || !proc_alive($pid) });
        }
        unless ($gone) {
            kill 'KILL', -$pid, $pid;
            waitpid($pid, 0);
        }
    }
    waitpid($pid, WNOHANG);
    delete $self->{pid};
    if ($ENV{ERRWATCH_SANITIZE}) {
        my @reports = $self->sanitizer_reports;
        fail("$self->{mpm} server: no sanitizer report") if @reports;
        diag(join "\n", @reports) if @reports;
    }
    return 1;
}

sub is_running {
    my ($self) = @_;
    return $self->{pid} && proc_alive($self->{pid}) ? 1 : 0;
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $@, $!);
    $self->stop if $self->{pid} && $$ == $self->{owner};
    return;
}

END {
    local $?;
    for my $s (values %LIVE) {
        eval { $s->stop };
    }
}

for my $sig (qw(INT TERM HUP)) {
    $SIG{$sig} = sub { die "caught SIG$sig\n" } unless $SIG{$sig};
}

# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

sub new_client {
    my ($self) = @_;
    $self->{ua} = HTTP::Tiny->new(
        keep_alive   => 1,
        timeout      => 15,
        max_redirect => 0,
        agent        => 'errwatch-test/1',
    );
    return $self->{ua};
}

sub class_of {
    my ($status) = @_;
    return 'other' unless $status =~ /^\d+$/ && $status >= 100 && $status <= 599;
    return int($status / 100) . 'xx';
}

# Every answer the harness got is tallied, so tests can state exact
# expectations: $s->sent('5xx'), $s->sent('2xx', 'status') (answers from the
# /errwatch status URL), $s->sent('2xx', 'other').
sub count_response {
    my ($self, $method, $path, $res) = @_;
    return if $res->{status} == 599;    # no answer from the server
    my $kind = $path =~ m{^/errwatch(?:\?|$)} ? 'status' : 'other';
    my $cls  = class_of($res->{status});
    $self->{sent}{$kind}{$cls}++;
    $self->{sent}{$kind}{total}++;
    return;
}

# Removes an answer from the tally (for requests the module is told not to
# count, such as those under ErrWatch Off).
sub uncount {
    my ($self, $path, $res) = @_;
    my $kind = $path =~ m{^/errwatch(?:\?|$)} ? 'status' : 'other';
    my $cls  = class_of($res->{status});
    $self->{sent}{$kind}{$cls}--;
    $self->{sent}{$kind}{total}--;
    return;
}

# Adds answers got elsewhere (forked clients): add_sent('2xx', 10).
sub add_sent {
    my ($self, $cls, $n) = @_;
    $self->{sent}{other}{$cls}   += $n;
    $self->{sent}{other}{total} += $n;
    return;
}

# sent($class [, 'status'|'other' [, $snapshot]]): answers of that class
# (or 'total') the harness got, now or in a snapshot.
sub sent {
    my ($self, $cls, $kind, $snap) = @_;
    $snap ||= $self->{sent};
    my @kinds = $kind ? ($kind) : ('status', 'other');
    my $n = 0;
    $n += $snap->{$_}{$cls} || 0 for @kinds;
    return $n;
}

# Forgets every answer tallied so far, for a server that was stopped and
# started again: its new store counts from zero, like a fresh server.
sub reset_sent {
    my ($self) = @_;
    $self->{sent}      = {};
    $self->{json_sent} = {};
    $self->{restarted} = 0;
    return;
}

sub request {
    my ($self, $method, $path, $opts) = @_;
    $self->new_client unless $self->{ua};
    my $res = $self->{ua}->request($method, $self->base_url . $path, $opts || {});
    $self->count_response($method, $path, $res);
    return $res;
}

sub get {
    my ($self, $path, $headers) = @_;
    return $self->request('GET', $path, $headers ? { headers => $headers } : {});
}

sub sent_snapshot {
    my ($self) = @_;
    return { map { $_ => { %{ $self->{sent}{$_} } } } keys %{ $self->{sent} } };
}

sub json {
    my ($self) = @_;
    my $before = $self->sent_snapshot;
    my $res = $self->get('/errwatch?json');
    $self->{last_json_res} = $res;
    unless ($res->{status} == 200) {
        diag("GET /errwatch?json: $res->{status} $res->{reason}\n$res->{content}");
        return undef;
    }
    my $doc = eval { JSON::PP->new->utf8->decode($res->{content}) };
    unless (ref $doc eq 'HASH') {
        diag("GET /errwatch?json: not a JSON object: $@\n$res->{content}");
        return undef;
    }
    # What the harness had got before asking: check_requests() compares to it.
    $self->{json_sent}{ refaddr($doc) } = $before;
    return $doc;
}

sub last_json_text {
    my ($self) = @_;
    return $self->{last_json_res} ? $self->{last_json_res}{content} : '';
}

# Polls /errwatch?json until $cond->($doc) is true (10 s at most), and
# returns the last document. Used instead of sleeping: a response reaches
# the client a moment before the server records it.
sub json_when {
    my ($self, $cond, $timeout) = @_;
    my $doc;
    poll_until(
        $timeout || 10,
        sub {
            $doc = $self->json;
            return $doc && $cond->($doc);
        }
    );
    return $doc;
}

# Polls until the store has counted at least every answer the harness had
# got before asking for the document (of every class: errwatch counts a
# response when httpd logs it, a moment after the client has its answer, so
# the next request, the status request included, may be answered before
# the previous one is counted) and recorded every 5xx in its tables.
sub json_settled {
    my ($self) = @_;
    return $self->json_when(
        sub {
            my ($doc) = @_;
            my $r = $doc->{requests};
            return 0 unless ref $r eq 'HASH' && ref $doc->{store} eq 'HASH';
            my $snap = $self->{json_sent}{ refaddr($doc) };
            for my $c (qw(1xx 2xx 3xx 4xx 5xx other)) {
                return 0 unless defined $r->{$c} && $r->{$c} >= $self->sent($c, undef, $snap);
            }
            my $rec = $doc->{store}{failures_recorded};
            return defined $rec && $rec >= $self->sent('5xx', undef, $snap);
        }
    );
}

# Asserts requests.{1xx..5xx,other,total} of a ?json document against the
# answers the harness had got when it asked for that document (the status
# request itself is counted when it is logged, after the page is made);
# after a graceful restart httpd's own "internal dummy connection" requests
# add 2xx answers nobody saw.
sub check_requests {
    my ($self, $doc, $name) = @_;
    my $r = ref $doc eq 'HASH' && ref $doc->{requests} eq 'HASH' ? $doc->{requests} : {};
    my $snap = ref $doc eq 'HASH' ? $self->{json_sent}{ refaddr($doc) } : undef;
    $snap ||= $self->{sent};
    for my $c (qw(1xx 3xx 4xx 5xx other)) {
        is($r->{$c}, $self->sent($c, undef, $snap), "$name: requests.$c");
    }
    my $n2  = $self->sent('2xx', undef, $snap);
    my $got = $r->{'2xx'};
    if ($self->{restarted}) {
        ok(defined $got && $got >= $n2, "$name: requests.2xx >= $n2 (after a restart)")
          or diag('got ' . (defined $got ? $got : 'undef'));
    } else {
        is($got, $n2, "$name: requests.2xx")
          or diag('got ' . (defined $got ? $got : 'undef'));
    }
    my $sum = 0;
    $sum += $r->{$_} || 0 for qw(1xx 2xx 3xx 4xx 5xx other);
    is($r->{total}, $sum, "$name: requests.total is the sum of the classes");
    return;
}

sub iso_ok {
    my ($v, $name) = @_;
    return like($v, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)$/, $name);
}

# Asserts one "recent" entry against a case:
#   { uri => '/x', status => 500, file => qr/.../, handler => 'h',
#     message => [qr/.../, ...] }
sub check_recent_entry {
    my ($self, $e, $case, $name) = @_;
    unless (ref $e eq 'HASH') {
        fail("$name: recorded in recent");
        return;
    }
    is($e->{uri},    $case->{uri},            "$name: uri");
    is($e->{status}, $case->{status} || 500, "$name: status");
    is($e->{method}, $case->{method} || 'GET', "$name: method");
    like($e->{file}, $case->{file}, "$name: file");
    is($e->{handler}, $case->{handler}, "$name: handler");
    for my $re (@{ $case->{message} || [] }) {
        like($e->{message}, $re, "$name: message matches $re");
    }
    like($e->{vhost}, qr/^127\.0\.0\.1(?::\d+)?$/, "$name: vhost");
    like($e->{pid}, qr/^\d+$/, "$name: pid is a number");
    isnt($e->{pid}, $self->{pid}, "$name: pid is a worker's, not the parent's");
    like($e->{duration_us}, qr/^\d+$/, "$name: duration_us");
    iso_ok($e->{time}, "$name: time is ISO 8601");
    my $now_us = int(time * 1e6);
    ok(defined $e->{time_us} && $e->{time_us} =~ /^\d+$/
          && $e->{time_us} <= $now_us + 2e6 && $e->{time_us} >= $now_us - 600e6,
        "$name: time_us is a recent wall-clock time in microseconds")
      or diag("time_us " . (defined $e->{time_us} ? $e->{time_us} : 'undef') . " now $now_us");
    return;
}

# Asserts the shape of an ?auto page: no bare first line, every line
# "Key: value", mod_status's keys in its order, the async block for event,
# then the errwatch keys given in @$tail. Returns {key => value}.
#
# Like mod_status, some lines come and go: CPULoad only when > 0 (right
# after CPUChildrenSystem), ReqPerSec and BytesPerSec only once a second
# has passed, BytesPerReq and DurationPerReq only once a request was
# counted; and "ServerUptime:" is empty at 0 seconds. With full => 1 every
# line but CPULoad must be there (wait for a second of uptime first).
sub check_auto_format {
    my ($self, $pairs, $text, $name, $tail, %opt) = @_;
    like($text, qr/\AServerVersion: /, "$name: first line is ServerVersion (no bare line)");
    like($text, qr/\n\z/, "$name: ends with a newline");
    my %v = map { $_->[0] => $_->[1] } grep { defined $_->[1] } @$pairs;
    my @bad = grep {
        !defined $_->[1]
          || $_->[0] !~ /^[A-Za-z][A-Za-z0-9 ]*$/
          || ($_->[1] eq '' && !($_->[0] eq 'ServerUptime' && ($v{ServerUptimeSeconds} // '') eq '0'))
    } @$pairs;
    ok(!@bad, "$name: every line is 'Key: value'")
      or diag(join "\n", map { defined $_->[1] ? "$_->[0]: $_->[1]" : $_->[0] } @bad);
    my @keys = map { $_->[0] } @$pairs;
    my $cpu = (grep { $keys[$_] eq 'CPULoad' } 0 .. $#keys)[0];
    if (defined $cpu) {
        is($keys[$cpu - 1], 'CPUChildrenSystem', "$name: CPULoad follows CPUChildrenSystem");
        ok($v{CPULoad} > 0, "$name: CPULoad is printed only when > 0");
    }
    my %skip = (CPULoad => 1);
    unless ($opt{full}) {
        if (!exists $v{ReqPerSec} || !exists $v{BytesPerSec}) {
            ok(!exists $v{ReqPerSec} && !exists $v{BytesPerSec}, "$name: ReqPerSec and BytesPerSec come together");
            ok(($v{Uptime} // 0) <= 1 || ($v{ErrWatchUptime} // 0) <= 1,
                "$name: ReqPerSec is left out only in the first second");
            $skip{ReqPerSec} = $skip{BytesPerSec} = 1;
        }
        if (!exists $v{BytesPerReq} || !exists $v{DurationPerReq}) {
            ok(!exists $v{BytesPerReq} && !exists $v{DurationPerReq},
                "$name: BytesPerReq and DurationPerReq come together");
            is($v{'Total Accesses'}, 0, "$name: BytesPerReq is left out only while Total Accesses is 0");
            $skip{BytesPerReq} = $skip{DurationPerReq} = 1;
        }
    }
    my @want = grep { !$skip{$_} } auto_base_keys();
    push @want, auto_async_keys() if $self->{mpm} eq 'event';
    push @want, 'Scoreboard', @{ $tail || [] };
    is_deeply([grep { $_ ne 'CPULoad' } @keys], \@want, "$name: keys in mod_status order")
      or diag("got:\n  " . join("\n  ", @keys));
    my %text = map { $_ => 1 } ('ServerVersion', 'ServerMPM', 'Server Built', 'CurrentTime',
        'RestartTime', 'ServerUptime', 'Scoreboard');
    my @nonnum = grep { !$text{$_} && $v{$_} !~ /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/ } keys %v;
    ok(!@nonnum, "$name: numeric keys have numeric values")
      or diag(join "\n", map { "$_: $v{$_}" } @nonnum);
    is($v{ServerMPM}, $self->{mpm}, "$name: ServerMPM");
    like($v{ServerVersion}, qr{^Apache/2\.4}, "$name: ServerVersion");
    like($v{Scoreboard}, qr/^[_SRWKDCLGI.]+$/, "$name: Scoreboard characters");
    return \%v;
}

# Polls ?auto (and, if given, another ?auto URL) until every optional rate
# line is printed: a second has passed and requests were counted.
sub wait_auto_full {
    my ($self, @paths) = @_;
    @paths = ('/errwatch?auto') unless @paths;
    return poll_until(
        5,
        sub {
            for my $p (@paths) {
                my %v = map { $_->[0] => 1 } grep { defined $_->[1] } @{ $self->auto($p) };
                return 0 unless $v{ReqPerSec} && $v{BytesPerReq};
            }
            return 1;
        }
    );
}

# Sends a raw HTTP request over a fresh connection and returns everything
# the server sent until it closed the connection.
sub raw_request {
    my ($self, $text) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => $self->{addr}, PeerPort => $self->{port}, Proto => 'tcp', Timeout => 10)
      or return undef;
    print {$sock} $text;
    local $/;
    my $got = <$sock>;
    close $sock;
    return $got;
}

sub parse_auto {
    my ($text) = @_;
    my @pairs;
    for my $line (split /\n/, $text) {
        if ($line =~ /^([^:]+): (.*)$/s) {
            push @pairs, [$1, $2];
        } elsif ($line =~ /^([^:]+):$/) {
            push @pairs, [$1, ''];    # mod_status prints "ServerUptime:" at 0 s
        } else {
            push @pairs, [$line, undef];
        }
    }
    return \@pairs;
}

# /errwatch?auto (or another ?auto URL) as [[key, value], ...]; lines that
# are not "Key: value" come back as [line, undef].
sub auto {
    my ($self, $path) = @_;
    $path ||= '/errwatch?auto';
    my $res = $self->get($path);
    $self->{last_auto_res} = $res;
    unless ($res->{status} == 200) {
        diag("GET $path: $res->{status} $res->{reason}\n$res->{content}");
        return [];
    }
    return parse_auto($res->{content});
}

sub last_auto_text {
    my ($self) = @_;
    return $self->{last_auto_res} ? $self->{last_auto_res}{content} : '';
}

# The keys of an ?auto page up to Scoreboard, without CPULoad (printed
# only when > 0) and without lines that are not "Key: value".
sub keys_upto_scoreboard {
    my ($pairs) = @_;
    my @k;
    for my $p (@$pairs) {
        next unless defined $p->[1];
        next if $p->[0] eq 'CPULoad';
        push @k, $p->[0];
        last if $p->[0] eq 'Scoreboard';
    }
    return \@k;
}

sub auto_value {
    my ($self, $key) = @_;
    for my $p (@{ $self->auto }) {
        return $p->[1] if $p->[0] eq $key;
    }
    return undef;
}

# ---------------------------------------------------------------------------
# ?metrics (Prometheus text 0.0.4 / OpenMetrics 1.0)
# ---------------------------------------------------------------------------

# GET /errwatch?metrics; with openmetrics => 1 the Accept header asks for
# OpenMetrics 1.0. Returns the HTTP::Tiny response.
sub metrics {
    my ($self, %opt) = @_;
    my %h;
    $h{Accept} = $opt{accept} if defined $opt{accept};
    $h{Accept} = 'application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
      if $opt{openmetrics} && !defined $opt{accept};
    return $self->get('/errwatch?metrics', %h ? \%h : undef);
}

# Undoes the exposition format's label-value escapes: \\ \" \n.
sub unescape_label_value {
    my ($v) = @_;
    $v =~ s/\\(["\\n])/$1 eq 'n' ? "\n" : $1/ge;
    return $v;
}

# Parses an exposition-format page (either flavour) into
#   { help    => {family => text},  type => {family => type},
#     samples => [{name, labels => {k => v}, value, line, typed_family}],
#     errors  => [line, ...], eof => 1 if the last line is "# EOF" }
# typed_family is the family of the latest TYPE line whose name is the
# sample's name or a prefix of it followed by a known suffix (_total,
# _created, _bucket, _count, _sum, _info), undef when there is none.
sub parse_metrics {
    my ($text) = @_;
    my %m = (help => {}, type => {}, samples => [], errors => [], order => []);
    my @lines = split /\n/, $text, -1;
    pop @lines if @lines && $lines[-1] eq '';
    $m{eof} = (@lines && $lines[-1] eq '# EOF') ? 1 : 0;
    my $current;    # family of the latest TYPE line
    for my $line (@lines) {
        if ($line =~ /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/) {
            $m{help}{$1} = $2;
            next;
        }
        if ($line =~ /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/) {
            $m{type}{$1} = $2;
            push @{ $m{order} }, $1;
            $current = $1;
            next;
        }
        next if $line eq '# EOF';
        next if $line =~ /^#/;
        if ($line =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \S+)?$/) {
            my ($name, $lab, $value) = ($1, $2, $3);
            my %labels;
            my $ok = 1;
            if (defined $lab && length $lab) {
                my $rest = $lab;
                while (length $rest) {
                    if ($rest =~ s/^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"(?:,|$)//) {
                        $labels{$1} = unescape_label_value($2);
                    } else {
                        $ok = 0;
                        last;
                    }
                }
            }
            unless ($ok) {
                push @{ $m{errors} }, $line;
                next;
            }
            my $fam;
            if (defined $current
                && ($name eq $current || $name =~ /^\Q$current\E_(?:total|created|bucket|count|sum|info)$/)) {
                $fam = $current;
            }
            push @{ $m{samples} }, { name => $name, labels => \%labels, value => $value, line => $line, typed_family => $fam };
            next;
        }
        push @{ $m{errors} }, $line;
    }
    return \%m;
}

# The value of the one sample called $name whose labels are exactly
# %$labels; undef when there is none (or more than one).
sub metric_value {
    my ($m, $name, $labels) = @_;
    $labels ||= {};
    my @hits = grep {
        my $l = $_->{labels};
        $_->{name} eq $name
          && keys(%$l) == keys(%$labels)
          && !grep { !exists $l->{$_} || $l->{$_} ne $labels->{$_} } keys %$labels
    } @{ $m->{samples} };
    return @hits == 1 ? $hits[0]{value} : undef;
}

# Samples called $name: [{labels, value}, ...].
sub metric_samples {
    my ($m, $name) = @_;
    return [grep { $_->{name} eq $name } @{ $m->{samples} }];
}

sub promtool_bin {
    return $ENV{PROMTOOL} || '/usr/bin/promtool';
}

# Pipes $text to `promtool check metrics`; returns (exit code, output).
# Dies when promtool is not installed (make test installs it).
sub promtool_check {
    my ($self, $text) = @_;
    my $bin = promtool_bin();
    die "promtool not found at $bin (Debian package prometheus; `make deps` installs it)\n" unless -x $bin;
    my $dir = ref $self ? $self->{dir} : tempdir('errwatch-promtool-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $in  = "$dir/promtool.in";
    spew($in, $text);
    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN,  '<', $in or POSIX::_exit(126);
        open STDOUT, '>', "$dir/promtool.out" or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        exec {$bin} $bin, 'check', 'metrics' or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    my $st = $?;
    my $rc = ($st & 127) ? 128 + ($st & 127) : $st >> 8;
    return ($rc, slurp("$dir/promtool.out"));
}


# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------

sub error_log_text {
    my ($self) = @_;
    return slurp($self->{error_log});
}

# Sanitizer reports in the error log and in apache2's own output files:
# each matching line with the 12 lines after it (the stack).
sub sanitizer_reports {
    my ($self) = @_;
    my @out;
    for my $file (grep { -f $_ } $self->{error_log}, glob("$self->{dir}/*.out")) {
        my @lines = split /\n/, slurp($file);
        for my $i (grep { $lines[$_] =~ $SANITIZER_RE } 0 .. $#lines) {
            my $last = $i + 12 > $#lines ? $#lines : $i + 12;
            push @out, "$file:", @lines[$i .. $last];
        }
    }
    return @out;
}

# Asserts that the error log shows no crash and that no core file was left.
sub scan_error_log {
    my ($self, $name) = @_;
    $name ||= "$self->{mpm} server";
    my @bad = grep {
        /Segmentation fault|exit signal|AH00052|double free|corrupted|free\(\): invalid|stack smashing|$SANITIZER_RE/
    } split /\n/, $self->error_log_text;
    ok(!@bad, "$name: error log shows no crash") or diag(join "\n", @bad);
    my @cores;
    find(sub { push @cores, $File::Find::name if -f $_ && /^core(?:\.\d+)?$/ }, $self->{dir});
    ok(!@cores, "$name: no core file") or diag(join "\n", @cores);
    return;
}

# scan_error_log, except that lines matching one of @$allow are not taken
# for a crash (e.g. the "exit signal Killed (9)" of a child the test killed).
sub scan_error_log_allowing {
    my ($self, $name, $allow) = @_;
    $name ||= "$self->{mpm} server";
    my @bad = grep {
        my $line = $_;
        /Segmentation fault|exit signal|AH00052|double free|corrupted|free\(\): invalid|stack smashing|$SANITIZER_RE/
          && !grep { $line =~ $_ } @{ $allow || [] }
    } split /\n/, $self->error_log_text;
    ok(!@bad, "$name: error log shows no crash") or diag(join "\n", @bad);
    my @cores;
    find(sub { push @cores, $File::Find::name if -f $_ && /^core(?:\.\d+)?$/ }, $self->{dir});
    ok(!@cores, "$name: no core file") or diag(join "\n", @cores);
    return;
}

# ---------------------------------------------------------------------------
# A php-fpm pool for the mod_proxy_fcgi tests
# ---------------------------------------------------------------------------
#
#   my $fpm = ErrWatchTest::PhpFpm->new(dir => $s->dir);  # writes the config
#   $fpm->start;           # php-fpm -F as our child; asserts the socket is up
#   $fpm->socket;          # the unix socket, for SetHandler "proxy:unix:...|fcgi://localhost"
#   ErrWatchTest::PhpFpm->new(dir => $d, tcp => 1)   # listens on a loopback port instead
#   $fpm->handler_target;  # what SetHandler takes to reach it, either way
#   $fpm->stop;            # QUIT, then TERM, then KILL; always waited for
#   $fpm->scan_log;        # asserts php-fpm's log shows no crash
#
# Environment: PHP_FPM, the php-fpm binary (default: the newest
# /usr/sbin/php-fpm*).
package ErrWatchTest::PhpFpm;

use strict;
use warnings;

use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(time sleep);

my %FPM_LIVE;

sub binary {
    return $ENV{PHP_FPM} if $ENV{PHP_FPM};
    my @found = sort { $b cmp $a } grep { -x $_ } glob('/usr/sbin/php-fpm*');
    return $found[0];
}

# Options: dir (required; run/ and logs/ are made in it), user (the pool's
# user when running as root, default www-data), max_children (2),
# php_admin (extra php_admin_value lines: {name => value}).
sub new {
    my ($class, %opt) = @_;
    my $dir = $opt{dir} or die "ErrWatchTest::PhpFpm->new: dir is required\n";
    my $self = bless {
        dir          => $dir,
        user         => $opt{user} || 'www-data',
        max_children => $opt{max_children} || 2,
        php_admin    => $opt{php_admin} || {},
        tcp          => $opt{tcp} ? 1 : 0,
        owner        => $$,
    }, $class;
    -d "$dir/$_" or mkdir "$dir/$_" for qw(run logs);
    chmod 0755, "$dir/run", "$dir/logs";
    $self->{conf}   = "$dir/php-fpm.conf";
    $self->{socket} = "$dir/run/php-fpm.sock";
    $self->{port}   = ErrWatchTest::free_port() if $self->{tcp};
    $self->{pid_file} = "$dir/run/php-fpm.pid";
    $self->{log}    = "$dir/logs/php-fpm.log";
    $self->write_conf;
    return $self;
}

sub socket   { return $_[0]{socket} }
# What SetHandler takes to reach the pool: its unix socket, or with
# tcp => 1 its loopback port.
sub handler_target {
    my ($self) = @_;
    return $self->{tcp} ? "proxy:fcgi://127.0.0.1:$self->{port}" : "proxy:unix:$self->{socket}|fcgi://localhost";
}
sub log_path { return $_[0]{log} }
sub pid      { return $_[0]{pid} }
sub log_text { return ErrWatchTest::slurp($_[0]{log}) }

sub config_text {
    my ($self) = @_;
    my $c = <<"EOF";
; Generated by t/lib/ErrWatchTest.pm
[global]
pid = $self->{pid_file}
error_log = $self->{log}
log_level = notice
daemonize = no

[errwatch]
listen = @{[ $self->{tcp} ? "127.0.0.1:$self->{port}\nlisten.allowed_clients = 127.0.0.1" : $self->{socket} ]}
listen.mode = 0660
pm = static
pm.max_children = $self->{max_children}
catch_workers_output = yes
decorate_workers_output = no
clear_env = yes
; PHP errors go to the web server as FastCGI stderr ("PHP message: ..."),
; which mod_proxy_fcgi logs as "AH01071: Got error '...'": that needs
; log_errors on, error_log unset (so PHP hands messages to the SAPI) and
; fastcgi.logging on (its default; set on the command line). display_errors
; off, or a fatal error answers 200 with the error in the body.
php_admin_flag[log_errors] = on
php_admin_flag[display_errors] = off
php_admin_value[error_reporting] = -1
EOF
    if ($> == 0) {
        $c .= "user = $self->{user}\ngroup = $self->{user}\n";
        $c .= "listen.owner = $self->{user}\nlisten.group = $self->{user}\n";
    }
    for my $k (sort keys %{ $self->{php_admin} }) {
        $c .= "php_admin_value[$k] = $self->{php_admin}{$k}\n";
    }
    return $c;
}

sub write_conf {
    my ($self) = @_;
    ErrWatchTest::spew($self->{conf}, $self->config_text, 0644);
    return;
}

# Starts php-fpm in the foreground as our child and polls until its socket
# accepts connections. Records a test assertion; dies on failure.
sub start {
    my ($self) = @_;
    my $bin = binary();
    unless ($bin && -x $bin) {
        fail('php-fpm binary found (package php-fpm)');
        die "cannot continue without php-fpm\n";
    }
    unlink $self->{socket};
    my $out = "$self->{dir}/logs/php-fpm.out";
    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN,  '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        setpgrp(0, 0);
        # -n: no php.ini, so the host's settings cannot change the outcome.
        exec {$bin} $bin, '-F', '-n', '-y', $self->{conf}, '-d', 'fastcgi.logging=1'
          or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    $FPM_LIVE{"$self"} = $self;
    my $up = ErrWatchTest::poll_until(
        20,
        sub {
            if (waitpid($pid, WNOHANG) == $pid) {
                delete $self->{pid};
                return -1;
            }
            my $c;
            if ($self->{tcp}) {
                $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Proto => 'tcp');
                return 0 unless $c;
                close $c;
                return 1;
            }
            return 0 unless -S $self->{socket};
            $c = IO::Socket::UNIX->new(Peer => $self->{socket}, Type => Socket::SOCK_STREAM());
            return 0 unless $c;
            close $c;
            return 1;
        }
    );
    if ($up && $up > 0) {
        pass("php-fpm started (pid $pid, $bin)");
        return 1;
    }
    fail("php-fpm started ($bin)");
    diag("php-fpm output:\n" . ErrWatchTest::slurp($out));
    diag("php-fpm log:\n" . $self->log_text);
    $self->stop;
    die "cannot continue without php-fpm\n";
}

sub is_running {
    my ($self) = @_;
    return $self->{pid} && ErrWatchTest::proc_alive($self->{pid}) ? 1 : 0;
}

# SIGQUIT (graceful), then SIGTERM, then SIGKILL to the process group;
# always reaps the master.
sub stop {
    my ($self) = @_;
    return unless $$ == $self->{owner};
    delete $FPM_LIVE{"$self"};
    my $pid = delete $self->{pid} or return;
    my $gone = sub { waitpid($pid, WNOHANG) == $pid || !ErrWatchTest::proc_alive($pid) };
    for my $sig (qw(QUIT TERM)) {
        kill $sig, $pid;
        return 1 if ErrWatchTest::poll_until($sig eq 'QUIT' ? 10 : 5, $gone);
    }
    kill 'KILL', -$pid, $pid;
    waitpid($pid, 0);
    return 1;
}

# Asserts that php-fpm's log shows no crashed or killed worker.
sub scan_log {
    my ($self, $name) = @_;
    $name ||= 'php-fpm';
    my @bad = grep { /SIGSEGV|SIGBUS|SIGABRT|core dumped|exited on signal|ERROR:|ALERT:/ } split /\n/, $self->log_text;
    ok(!@bad, "$name: log shows no crash") or diag(join "\n", @bad);
    return;
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $@, $!);
    $self->stop if $self->{pid} && $$ == $self->{owner};
    return;
}

END {
    local $?;
    for my $f (values %FPM_LIVE) {
        eval { $f->stop };
    }
}

package ErrWatchTest;

1;
