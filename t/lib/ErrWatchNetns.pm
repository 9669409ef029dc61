package ErrWatchNetns;
# A remote client for the access tests: a network namespace with a veth
# pair (names and a private /30 unique to this run), the root namespace's
# end at host_ip and the client's at client_ip. setup() plans skip_all
# with the reason when it cannot be made (not root, no ip(8), a kernel that
# refuses namespaces), and fails the test on any other error. The namespace
# and the veth pair are removed by cleanup(), also when the test fails or is
# interrupted (END block, signal handlers).
use strict;
use warnings;

use Exporter 'import';
use Test::More;

our @EXPORT_OK = qw(sh);

my $ID   = $$ % 100000;
my %net  = (ns => "ewt$ID", host_if => "ewh$ID", peer_if => "ewc$ID");    # IFNAMSIZ: 15 at most
my ($made_ns, $made_veth) = (0, 0);

# Runs a command without a shell: (exit code, stdout and stderr).
sub sh {
    my (@cmd) = @_;
    my $out = `@{[join ' ', map { quotemeta } @cmd]} 2>&1`;
    return ($? >> 8, $out);
}

sub cleanup {
    sh('ip', 'link', 'del', $net{host_if}) if $made_veth;
    sh('ip', 'netns', 'del', $net{ns})     if $made_ns;
    ($made_ns, $made_veth) = (0, 0);
    return;
}
END { local $?; cleanup() }

sub fail_setup {
    my ($what, $out) = @_;
    fail($what);
    diag($out) if defined $out;
    cleanup();
    done_testing;
    exit 1;
}

# The namespace: {ns, host_if, peer_if, host_ip, client_ip}.
sub setup {
    # Interrupted: remove them at once, then die so that the harness's END
    # stops the servers.
    for my $sig (qw(INT TERM HUP)) {
        $SIG{$sig} = sub { cleanup(); die "caught SIG$sig\n" };
    }
    plan skip_all => 'needs root to create a network namespace and a veth pair (run make test as root)'
      if $> != 0;
    plan skip_all => 'needs ip(8) (package iproute2)'
      unless -x '/usr/sbin/ip' || -x '/sbin/ip' || -x '/usr/bin/ip';
    my ($rc, $out) = sh('ip', 'netns', 'add', $net{ns});
    plan skip_all => "the kernel refused a network namespace (ip netns add: $out)" if $rc;
    $made_ns = 1;

    # A /30 from 10.0.0.0/8 that no interface uses yet.
    my (undef, $addrs) = sh('ip', '-4', '-o', 'addr', 'show');
    for my $try (0 .. 50) {
        my $n = ($ID + $try * 7919) % (1 << 22);
        my ($b, $c, $d) = (200 + ($n >> 16) % 50, ($n >> 8) & 255, ($n & 63) << 2);
        next if $addrs =~ /\b10\.$b\.$c\.(\d+)\// && $1 >= $d && $1 < $d + 4;
        ($net{host_ip}, $net{client_ip}) = ("10.$b.$c." . ($d + 1), "10.$b.$c." . ($d + 2));
        last;
    }
    fail_setup('a free /30 for the veth pair (10.200.0.0 - 10.249.255.255)') unless $net{host_ip};

    my ($ns, $host, $peer) = @net{qw(ns host_if peer_if)};
    for my $cmd (
        ['ip', 'link', 'add', $host, 'type', 'veth', 'peer', 'name', $peer],
        ['ip', 'link', 'set', $peer, 'netns', $ns],
        ['ip', 'addr', 'add', "$net{host_ip}/30", 'dev', $host],
        ['ip', 'link', 'set', $host, 'up'],
        ['ip', 'netns', 'exec', $ns, 'ip', 'addr', 'add', "$net{client_ip}/30", 'dev', $peer],
        ['ip', 'netns', 'exec', $ns, 'ip', 'link', 'set', $peer, 'up'],
        ['ip', 'netns', 'exec', $ns, 'ip', 'link', 'set', 'lo', 'up'],
        )
    {
        my ($r, $o) = sh(@$cmd);
        $made_veth = 1 if $cmd->[2] eq 'add' && $cmd->[1] eq 'link' && !$r;
        fail_setup("@$cmd", $o) if $r;
    }
    pass("namespace $ns with veth $host ($net{host_ip}) <-> $peer ($net{client_ip})");
    return {%net};
}

1;
