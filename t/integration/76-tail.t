#!/usr/bin/perl
# Live tail (?tail), under prefork (mod_php) and event (cgid): one line per
# new failure in recording order, NDJSON, resume with since= (no gaps, no
# duplicates; a gap line when the ring lost some), the cap on open tails
# (503 past it; a slot comes back when a client hangs up or its child is
# SIGKILLed), keep-alive lines, the maximum duration, the end at a graceful
# restart, an idle tail's CPU use (none), and the latency from a 500 to its
# line (printed, asserted only against a generous bound).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use List::Util qw(max);
use POSIX ();
use Test::More;
use Time::HiRes qw(time);
use ErrWatchTest qw(poll_until);
use ErrWatchTail;

my $KEEPALIVE = 1;    # ErrWatchTailKeepAlive, s
my $MAX_TIME  = 4;    # ErrWatchTailMaxTime, s
my $CAP       = 2;    # ErrWatchTailMax
my $RING      = 8;    # ErrWatchRecent

my $json = JSON::PP->new->utf8;

# A failure line of the text format, by field.
sub parse_text_line {
    my ($line) = @_;
    return undef unless defined $line
      && $line =~ /^(\S+Z) (\d{3}) (\S+) (\S+) seq=(\d+) handler=(\S+) file=(\S+)(?: \w+=\S+)* msg="(.*)"$/;
    return {
        time    => $1, status => $2, method  => $3, uri => $4, seq => $5,
        handler => $6, file   => $7, message => $8,
    };
}

sub failure_lines { return grep { /^\d{4}-/ } @_ }

# Waits for the headers and the start line; returns (latest seq, pid).
sub start_line_ok {
    my ($t, $name) = @_;
    is($t->status, 200, "$name: 200");
    my $first = $t->next_line(5);
    like($first, qr/^# errwatch tail: latest seq \d+, served by pid \d+;/, "$name: start line")
      or return;
    $first =~ /latest seq (\d+), served by pid (\d+)/;
    return ($1, $2);
}

# Opens a tail once a slot is free: tails closed just before free theirs
# within about a second (the server notices the hang-up).
sub open_tail {
    my ($s, $query) = @_;
    my $t;
    poll_until(
        10,
        sub {
            $t = ErrWatchTail->open($s, $query);
            return 1 if ($t->status || 0) != 503;
            $t->close;
            return 0;
        }
    );
    return $t;
}

# The next failure line within 10 s.
sub next_failure {
    my ($t) = @_;
    my ($line) = failure_lines($t->lines_until(10, sub { failure_lines(@_) }));
    return $line;
}

# Sends GET $path (HTTP/1.0, its own connection) while reading the tail, and
# stamps when the first byte of the answer came and when the next failure
# line came, both read as soon as select() says they are there. Returns
# (status, request time, answer time, line time, line).
sub timed_failure {
    my ($s, $t, $path) = @_;
    my $req = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $s->port, Proto => 'tcp')
      or return;
    my $sent_at = time;
    print {$req} "GET $path HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    $req->blocking(0);
    my $sel = IO::Select->new($req, $t->socket);
    my ($answer, $answer_at, $line, $line_at) = ('');
    my $deadline = time + 10;
    while ((!defined $line || $sel->exists($req)) && time < $deadline) {
        for my $fh ($sel->can_read($deadline - time)) {
            if ($fh == $req) {
                my $n = sysread($req, my $chunk, 65536);
                next if !defined $n && $!{EAGAIN};
                $answer_at = time if !defined $answer_at && $n;
                if ($n) { $answer .= $chunk } else { $sel->remove($req); close $req }
            } elsif (!defined $line) {
                $t->pump(0);
                while (defined(my $l = $t->next_line(0))) {
                    next unless $l =~ /^\d{4}-/;
                    ($line, $line_at) = ($l, $t->arrival($l));
                    last;
                }
            } else {
                $sel->remove($fh);
            }
        }
    }
    my ($status) = $answer =~ m{^HTTP/\d\.\d (\d{3})};
    return ($status, $sent_at, $answer_at, $line_at, $line);
}

# Process CPU time (user + system) in clock ticks, from /proc/PID/stat.
sub cpu_ticks {
    my ($pid) = @_;
    my $stat = ErrWatchTest::slurp("/proc/$pid/stat");
    return undef unless $stat =~ /^\d+ \(.*\) (.*)$/s;
    my @f = split ' ', $1;
    return $f[11] + $f[12];    # fields 14 and 15: utime, stime
}

sub run_suite {
    my ($mpm) = @_;
    my $s = ErrWatchTest->new(
        mpm        => $mpm,
        extra_conf => "ErrWatchTailKeepAlive $KEEPALIVE\nErrWatchTailMaxTime $MAX_TIME\n"
          . "ErrWatchTailMax $CAP\nErrWatchRecent $RING\n",
    );
    $s->start;
    my @failing = ('/errwatch-test/fail', '/cgi-bin/bad.cgi');
    push @failing, '/php/fatal.php' if $mpm eq 'prefork';
    my %handler = (
        '/errwatch-test/fail' => 'errwatch-test-500',
        '/cgi-bin/bad.cgi'    => 'cgi-script',
        '/php/fatal.php'      => 'application/x-httpd-php',
    );

    # ---- bad queries --------------------------------------------------------
    for my $q ('format=json', 'since=1', 'tail&format=xml', 'tail&since=-1', 'tail&since=1&since=2') {
        my $res = $s->get("/errwatch?$q");
        is($res->{status}, 400, "$mpm: ?$q answers 400");
        like($res->{content}, qr/\?tail \(live stream/, "$mpm: ?$q: the 400 names the valid forms");
    }
    like($s->get('/errwatch?tail&since=x')->{content}, qr/since must be a seq/,
        "$mpm: the 400 says what is wrong with since");

    # ---- one line per failure, every field; latency -------------------------
    {
        my $t = open_tail($s, 'tail');
        my ($latest) = start_line_ok($t, "$mpm text tail");
        like($t->header('Content-Type'), qr{^text/plain; charset=utf-8}, "$mpm: text/plain");
        my (@latency, $n);
        for my $path (@failing) {
            is($s->get($path)->{status}, 500, "$mpm: GET $path answers 500");
            my $line = next_failure($t);
            my $f    = parse_text_line($line);
            ok($f, "$mpm: a line for $path that parses") or diag($line) or next;
            is($f->{uri},     $path,           "$mpm: uri $path");
            is($f->{status},  500,             "$mpm: status");
            is($f->{method},  'GET',           "$mpm: method");
            is($f->{handler}, $handler{$path}, "$mpm: handler of $path");
            like($f->{file}, qr{\Q$path\E$}, "$mpm: file of $path");
            is($f->{seq}, $latest + ++$n, "$mpm: seq of $path");
            like($f->{message}, qr/\S/, "$mpm: message of $path");
        }
        # Latency: the answer and the line read as they come, 20 times.
        my @since_request;
        for my $i (1 .. 20) {
            my ($status, $sent_at, $answer_at, $line_at, $line) = timed_failure($s, $t, '/errwatch-test/fail');
            last unless $status && $status == 500 && $line && $line =~ / seq=(\d+) / && $1 == $latest + ++$n;
            push @latency,       $line_at - $answer_at;
            push @since_request, $line_at - $sent_at;
        }
        is(scalar @latency, 20, "$mpm: 20 timed failures, each with its own line");
        my @ms  = sort { $a <=> $b } map { $_ * 1000 } @latency;
        my @rms = sort { $a <=> $b } map { $_ * 1000 } @since_request;
        # <= 0: the line was there in the same select() round as the answer.
        diag(sprintf("%s: 500 reaches the client -> its tail line: median %.2f ms, max %.2f ms; "
              . "request sent -> tail line: median %.2f ms, max %.2f ms (%d failures)",
            $mpm, $ms[ int(@ms / 2) ], $ms[-1], $rms[ int(@rms / 2) ], $rms[-1], scalar @ms)) if @ms;
        ok(@ms && $ms[-1] < 2000, "$mpm: every tail line came within 2 s of its 500 (generous bound)");
        $t->close;
    }

    # ---- several failures at once: order and seqs ---------------------------
    {
        my $t = open_tail($s, 'tail');
        my ($latest) = start_line_ok($t, "$mpm order");
        $s->get($_) for @failing;
        my @f = map { parse_text_line($_) }
          failure_lines($t->lines_until(10, sub { failure_lines(@_) >= @failing }));
        is_deeply([map { $_->{seq} } @f], [map { $latest + $_ } 1 .. @failing],
            "$mpm: consecutive seqs, one line each");
        # A failure is recorded when httpd logs it, just after the client has
        # its answer, so two children may record back-to-back failures in
        # either order: the lines follow the seqs, the set is the requests'.
        is_deeply([sort map { $_->{uri} } @f], [sort @failing], "$mpm: one line for each of the 500s");
        $t->close;
    }

    # ---- NDJSON, equal to ?json ---------------------------------------------
    {
        my $t = open_tail($s, 'tail&format=json');
        is($t->status, 200, "$mpm: json tail 200");
        like($t->header('Content-Type'), qr{^application/x-ndjson}, "$mpm: application/x-ndjson");
        my $start = eval { $json->decode($t->next_line(5)) } || {};
        is($start->{type}, 'start', "$mpm: NDJSON start object");
        $s->get('/errwatch-test/fail');
        my @l = $t->lines_until(10, sub { grep { /"type":"failure"/ } @_ });
        my ($obj) = grep { $_->{type} eq 'failure' } map { $json->decode($_) } @l;
        ok($obj, "$mpm: NDJSON failure object") or diag(explain \@l);
        is($obj->{seq}, $start->{latest_seq} + 1, "$mpm: its seq");
        my $doc = $s->json;
        is($doc->{latest_seq}, $obj->{seq}, "$mpm: ?json latest_seq is that seq");
        my ($entry) = grep { $_->{seq} == $obj->{seq} } @{ $doc->{recent} };
        delete $obj->{type};
        # ?json adds the error story (messages); a tail line keeps message.
        my %without_story = %{ $entry || {} };
        ok(delete $without_story{messages}, "$mpm: ?json's entry has its story");
        is_deeply($obj, \%without_story, "$mpm: the NDJSON object equals ?json's recent entry, story aside");
        $t->close;
    }

    # ---- since: replay, then live; no gaps, no duplicates -------------------
    {
        my $before = $s->json_settled->{latest_seq};
        $s->get('/errwatch-test/fail') for 1 .. 3;
        $s->json_settled;
        my $t = open_tail($s, "since=$before&tail");
        my ($latest) = start_line_ok($t, "$mpm since");
        is($latest, $before + 3, "$mpm: the start line's latest seq");
        my @l = failure_lines($t->lines_until(10, sub { failure_lines(@_) >= 3 }));
        is_deeply([map { parse_text_line($_)->{seq} } @l], [$before + 1 .. $before + 3],
            "$mpm: since=$before replays exactly the 3 failures after it");
        $s->get('/cgi-bin/bad.cgi');
        my @more = failure_lines($t->lines_until(10, sub { failure_lines(@_) }));
        is(scalar @more, 1, "$mpm: then one live line");
        is((parse_text_line($more[0]) || {})->{seq}, $before + 4, "$mpm: with the next seq");
        my @dup = failure_lines($t->lines_until(1.5, sub { failure_lines(@_) }));
        is(scalar @dup, 0, "$mpm: nothing is sent twice");
        $t->close;

        my $t2 = open_tail($s, 'tail&since=' . ($before + 4));
        start_line_ok($t2, "$mpm since=latest");
        my @none = failure_lines($t2->lines_until(1.2, sub { failure_lines(@_) }));
        is(scalar @none, 0, "$mpm: since=latest replays nothing");
        $t2->close;

        my $t3 = open_tail($s, 'tail&since=999999999');
        start_line_ok($t3, "$mpm since ahead");
        like($t3->next_line(5), qr/^# since=999999999 is past the latest seq \d+/,
            "$mpm: a since past the latest seq is answered with a line saying so");
        $t3->close;
    }

    # ---- the ring no longer holds everything after since --------------------
    {
        my $before = $s->json_settled->{latest_seq};
        $s->get('/errwatch-test/fail') for 1 .. $RING + 3;
        $s->json_settled;
        my $t = open_tail($s, "tail&since=$before&format=json");
        my @objs = map { $json->decode($_) }
          $t->lines_until(10, sub { (grep { /"failure"/ } @_) >= $RING });
        my ($gap) = grep { $_->{type} eq 'gap' } @objs;
        is_deeply(
            $gap,
            { type => 'gap', first_seq => $before + 1, last_seq => $before + 3, ring_capacity => $RING },
            "$mpm: a gap object names the lost seqs"
        );
        my @seqs = map { $_->{seq} } grep { $_->{type} eq 'failure' } @objs;
        is_deeply(\@seqs, [$before + 4 .. $before + 3 + $RING], "$mpm: then the ring's failures in order");
        $t->close;
        my $tt = open_tail($s, "tail&since=$before");
        my @l  = $tt->lines_until(10, sub { failure_lines(@_) });
        my ($from, $to) = ($before + 1, $before + 3);
        like(join("\n", @l),
            qr/^# gap: failures seq $from to $to were recorded but the ring no longer holds them/m,
            "$mpm: the text tail says so in a line");
        $tt->close;
    }

    # ---- a burst: every seq once, as a line or inside a gap -----------------
    {
        my $t = open_tail($s, 'tail&format=json');
        my $start = eval { $json->decode($t->next_line(5)) } || {};
        my $from  = $start->{latest_seq};
        my $burst = 100;
        $s->get('/errwatch-test/fail') for 1 .. $burst;
        my $to = $from + $burst;
        my @objs = map { $json->decode($_) } $t->lines_until(
            20,
            sub {
                my $o = eval { $json->decode($_[-1]) } || {};
                return ($o->{seq} || $o->{last_seq} || 0) >= $to;
            }
        );
        my (@covered, $dups, $lines);
        my $expect = $from + 1;
        my $in_order = 1;
        for my $o (@objs) {
            if ($o->{type} eq 'failure') {
                $in_order = 0 unless $o->{seq} == $expect;
                $expect = $o->{seq} + 1;
                $lines++;
            } elsif ($o->{type} eq 'gap') {
                $in_order = 0 unless $o->{first_seq} == $expect && $o->{last_seq} >= $o->{first_seq};
                $expect = $o->{last_seq} + 1;
            }
        }
        ok($in_order && $expect == $to + 1,
            "$mpm: a burst of $burst: every seq exactly once, in order, as a line or in a gap")
          or diag(explain [map { $_->{type} eq 'failure' ? $_->{seq} : $_ } @objs]);
        diag("$mpm: a burst of $burst failures (ring of $RING): " . ($lines || 0) . " lines, the rest in gap lines");
        $t->close;
    }

    # ---- keep-alive lines and the maximum duration --------------------------
    {
        my $t = open_tail($s, 'tail');
        start_line_ok($t, "$mpm idle");
        my @l  = $t->lines_until($MAX_TIME + 5, sub { grep { /^# end:/ } @_ });
        my @ka = grep { /^# keep-alive \d{4}-\d\d-\d\dT\S+Z$/ } @l;
        cmp_ok(scalar @ka, '>=', $MAX_TIME - 2, "$mpm: keep-alive lines while idle");
        my @at   = map { $t->arrival($_) } @ka;
        my @gaps = map { $at[$_] - $at[ $_ - 1 ] } 1 .. $#at;
        ok(@gaps && max(@gaps) < $KEEPALIVE + 0.9, "$mpm: one every $KEEPALIVE s (ErrWatchTailKeepAlive)")
          or diag("gaps: @gaps");
        like($l[-1] || '', qr/^# end: open for ErrWatchTailMaxTime; resume with \?tail&since=\d+$/,
            "$mpm: the last line says why it ended and how to resume");
        ok($t->wait_eof(5), "$mpm: the server closes the stream");
        my $open_for = time - $t->opened;
        ok($open_for >= $MAX_TIME - 0.5 && $open_for < $MAX_TIME + 3,
            "$mpm: closed after ErrWatchTailMaxTime $MAX_TIME s")
          or diag("open for $open_for s");
    }

    # ---- an idle tail sleeps in the kernel ----------------------------------
    {
        my $t = open_tail($s, 'tail');
        my (undef, $pid) = start_line_ok($t, "$mpm cpu");
        my $before = cpu_ticks($pid);
        my $t0     = time;
        my @l      = $t->lines_until(2.5, sub { 0 });    # idle: keep-alives only
        my $after  = cpu_ticks($pid);
        my $spent  = (defined $before && defined $after) ? $after - $before : undef;
        my $hz     = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
        diag(sprintf("%s: the child serving an idle tail used %s clock ticks (1/%d s) in %.1f s",
            $mpm, defined $spent ? $spent : '?', $hz, time - $t0));
        ok(defined $spent && $spent <= 3, "$mpm: an idle tail uses no measurable CPU (<= 3 ticks in 2.5 s)");
        ok(!failure_lines(@l), "$mpm: (nothing failed meanwhile)");
        if ($mpm eq 'prefork') {
            # One thread per child: where it sleeps is where the tail waits.
            my $wchan = ErrWatchTest::slurp("/proc/$pid/wchan");
            like($wchan, qr/futex/, "$mpm: the idle child sleeps in a futex wait (wchan '$wchan')");
        }
        $t->close;
    }

    # ---- the cap --------------------------------------------------------------
    {
        my @t = map { open_tail($s, 'tail') } 1 .. $CAP;
        start_line_ok($_, "$mpm cap") for @t;
        my $over = ErrWatchTail->open($s, 'tail');
        is($over->status, 503, "$mpm: tail number " . ($CAP + 1) . " gets 503");
        $over->wait_eof(5);
        like($over->body_so_far, qr/$CAP live tails are open already, the most ErrWatchTailMax allows/,
            "$mpm: with a message that names ErrWatchTailMax");
        $over->close;

        # A client that hangs up frees its slot within about a second.
        my $hung_up = time;
        $t[0]->close;
        my $again;
        poll_until(
            10,
            sub {
                $again = ErrWatchTail->open($s, 'tail');
                return 1 if ($again->status || 0) == 200;
                $again->close;
                return 0;
            }
        );
        is($again->status, 200, "$mpm: a slot is free again once a client hangs up");
        diag(sprintf("%s: slot free again %.2f s after the client hung up", $mpm, time - $hung_up));
        my (undef, $pid) = start_line_ok($again, "$mpm reopened");

        # A child SIGKILLed while serving a tail does not keep its slot.
        kill 'KILL', $pid;
        $again->wait_eof(5);
        $t[1]->close;
        my @new = map { open_tail($s, 'tail') } 1 .. $CAP;
        is_deeply([map { $_->status } @new], [(200) x $CAP],
            "$mpm: after a SIGKILLed tailing child, $CAP tails open again");
        $_->close for @new;
    }

    # ---- curl -N: chunked HTTP/1.1 ------------------------------------------
    {
        my $latest = $s->json_settled->{latest_seq};
        my $url    = $s->base_url . '/errwatch?tail&since=' . ($latest - 1);
        my ($rc, $out);
        poll_until(
            10,
            sub {
                ($rc, $out) =
                  ErrWatchTest::run_cmd($s->dir . '/curl.out', 'curl', '-sN', '--max-time', '2', $url);
                return $out !~ /live tails are open already/;
            }
        );
        is($rc, 28, "$mpm: curl -N is still streaming when --max-time stops it");
        like($out, qr/^# errwatch tail: .*\n\S+Z 5\d\d GET \S+ seq=$latest /m, "$mpm: curl -N gets the lines");
    }

    # ---- a graceful restart ends open tails ---------------------------------
    {
        my $t = open_tail($s, 'tail');
        start_line_ok($t, "$mpm graceful");
        $s->graceful;
        my @l = $t->lines_until(10, sub { grep { /^# end:/ } @_ });
        like($l[-1] || '', qr/^# end: the server is restarting or stopping; resume with \?tail&since=\d+$/,
            "$mpm: a graceful restart ends the tail with a line saying so");
        $t->close;
    }

    $s->stop;
    $s->scan_error_log_allowing("$mpm tail server", [qr/exit signal Killed \(9\)/]);
    return;
}

# ---- the directives refuse bad values, naming themselves -----------------
{
    my $c = ErrWatchTest->new(mpm => 'prefork', php => 0);
    for my $good ('ErrWatchTailMax 0', 'ErrWatchTailMax 64', 'ErrWatchTailMaxTime 86400',
        'ErrWatchTailKeepAlive 1', 'ErrWatchTailKeepAlive 300')
    {
        $c->set_extra_conf($good);
        my ($rc, $out) = $c->configtest;
        is($rc, 0, "apache2 -t passes: '$good'") or diag($out);
    }
    for my $bad ('ErrWatchTailMax 65', 'ErrWatchTailMax -1', 'ErrWatchTailMax four',
        'ErrWatchTailMaxTime 0', 'ErrWatchTailMaxTime 86401', 'ErrWatchTailMaxTime 10s',
        'ErrWatchTailKeepAlive 0', 'ErrWatchTailKeepAlive 301',
        "<Location /x>\nErrWatchTailMax 2\n</Location>")
    {
        $c->set_extra_conf($bad);
        my ($rc, $out) = $c->configtest;
        my ($directive) = $bad =~ /(ErrWatch\w+)/;
        (my $label = $bad) =~ s/\s+/ /g;
        isnt($rc, 0, "apache2 -t fails: '$label'");
        like($out, qr/\b$directive\b/, "the message names $directive: '$label'") or diag($out);
        unlike($out, qr/Invalid command/, "$directive is a known directive") or diag($out);
    }
}

# ---- ErrWatchTailMax 0 turns ?tail off ------------------------------------
{
    my $s = ErrWatchTest->new(mpm => 'prefork', php => 0, extra_conf => "ErrWatchTailMax 0\n");
    $s->start;
    my $res = $s->get('/errwatch?tail');
    is($res->{status}, 503, 'ErrWatchTailMax 0: ?tail answers 503');
    like($res->{content}, qr/\?tail is turned off here \(ErrWatchTailMax 0\)/, 'saying why');
    is($s->get('/errwatch?json')->{status}, 200, 'the other formats still answer');
    $s->stop;
}

run_suite($_) for qw(prefork event);
done_testing;
