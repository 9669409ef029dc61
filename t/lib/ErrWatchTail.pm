package ErrWatchTail;

# A client for errwatch's live tail (?tail) in the integration tests: one
# non-blocking socket, read with select() and timeouts, never with sleeps.
#
#   my $t = ErrWatchTail->open($s, 'tail&format=json');   # HTTP/1.0 GET
#   $t->status;                    # 200, 503, ... (waits for the headers)
#   my $line = $t->next_line(5);   # next line, or undef after 5 s / at EOF
#   my @l = $t->lines_until(5, sub { grep { /x/ } @_ });  # lines so far, until true
#   $t->eof; $t->close;
#   $t->arrival($line)             # Time::HiRes time when that line arrived
#   $t->socket                     # to select() on it with other sockets
#
# HTTP/1.0 keeps the body unchunked: the server streams it and closes the
# connection at the end.

use strict;
use warnings;

use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

sub open {
    my ($class, $s, $query, %opt) = @_;
    my $sock = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $s->port,
        Proto    => 'tcp',
        Timeout  => 10,
    ) or die "cannot connect to port " . $s->port . ": $!\n";
    my $method = $opt{method} || 'GET';
    my $path   = defined $query ? "/errwatch?$query" : '/errwatch';
    print {$sock} "$method $path HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: errwatch-tail-test\r\n\r\n";
    $sock->blocking(0);
    return bless {
        sock    => $sock,
        sel     => IO::Select->new($sock),
        buf     => '',
        lines   => [],
        arrival => {},
        eof     => 0,
        opened  => time,
    }, $class;
}

sub opened { return $_[0]{opened} }
sub socket { return $_[0]{sock} }
sub eof    { return $_[0]{eof} }

# Reads what is there, waiting at most $timeout seconds for the first
# bytes. Returns 1 if something (or EOF) arrived.
sub pump {
    my ($self, $timeout) = @_;
    return 0 if $self->{eof};
    my @ready = $self->{sel}->can_read($timeout);
    return 0 unless @ready;
    my $got = 0;
    while (1) {
        my $n = sysread($self->{sock}, my $chunk, 65536);
        if (!defined $n) {
            next if $! == EINTR;
            last if $! == EAGAIN || $! == EWOULDBLOCK;
            $self->{eof} = 1;    # reset by peer
            last;
        }
        if ($n == 0) {
            $self->{eof} = 1;
            last;
        }
        $got = 1;
        $self->{buf} .= $chunk;
    }
    $self->split_lines;
    return $got || $self->{eof};
}

sub split_lines {
    my ($self) = @_;
    my $now = time;
    if (!defined $self->{head}) {
        my $end = index($self->{buf}, "\r\n\r\n");
        return if $end < 0;
        $self->{head} = substr($self->{buf}, 0, $end);
        $self->{buf}  = substr($self->{buf}, $end + 4);
        ($self->{status}) = $self->{head} =~ m{^HTTP/\d\.\d (\d{3})};
    }
    while ((my $nl = index($self->{buf}, "\n")) >= 0) {
        my $line = substr($self->{buf}, 0, $nl);
        $self->{buf} = substr($self->{buf}, $nl + 1);
        push @{ $self->{lines} }, $line;
        push @{ $self->{arrival}{$line} }, $now;
    }
    return;
}

# The status code, after waiting up to $timeout (default 10) s for it.
sub status {
    my ($self, $timeout) = @_;
    my $deadline = time + ($timeout || 10);
    while (!defined $self->{head} && !$self->{eof} && time < $deadline) {
        $self->pump($deadline - time);
    }
    return $self->{status};
}

sub header {
    my ($self, $name) = @_;
    $self->status;
    return undef unless defined $self->{head};
    return $self->{head} =~ /^\Q$name\E:\s*(.*?)\r?$/mi ? $1 : undef;
}

# The body received so far, including an unterminated last line.
sub body_so_far {
    my ($self) = @_;
    return join('', map { "$_\n" } @{ $self->{all} || [] }, @{ $self->{lines} }) . $self->{buf};
}

# The next complete line, or undef after $timeout s or at EOF.
sub next_line {
    my ($self, $timeout) = @_;
    my $deadline = time + $timeout;
    while (!@{ $self->{lines} }) {
        return undef if $self->{eof};
        my $left = $deadline - time;
        return undef if $left <= 0;
        $self->pump($left);
    }
    my $line = shift @{ $self->{lines} };
    push @{ $self->{all} }, $line;
    return $line;
}

# Collects lines until $cond->(@lines so far) is true, $timeout s pass or
# the stream ends; returns every line collected.
sub lines_until {
    my ($self, $timeout, $cond) = @_;
    my $deadline = time + $timeout;
    my @got;
    while (1) {
        return @got if @got && $cond->(@got);
        my $left = $deadline - time;
        return @got if $left <= 0;
        my $line = $self->next_line($left);
        return @got unless defined $line;
        push @got, $line;
    }
}

# When $line (the first time it came) arrived.
sub arrival {
    my ($self, $line) = @_;
    my $t = $self->{arrival}{$line};
    return $t ? $t->[0] : undef;
}

# Waits up to $timeout s for the server to close the stream.
sub wait_eof {
    my ($self, $timeout) = @_;
    my $deadline = time + $timeout;
    while (!$self->{eof}) {
        my $left = $deadline - time;
        last if $left <= 0;
        $self->pump($left);
    }
    return $self->{eof};
}

sub close {
    my ($self) = @_;
    close $self->{sock} if $self->{sock};
    $self->{sock} = undef;
    $self->{eof}  = 1;
    return;
}

sub DESTROY { $_[0]->close }

1;
