#!/bin/bash
# tools/fresh-root.sh: runs a check of a git tree the way a newcomer meets
# it: as root, on a fresh Debian 12 (bookworm) minbase root that has only
# make and git added, from a clone at /root/project (mode 0700, like /root
# itself, so the web server's www-data children cannot read the checkout).
#
#   tools/fresh-root.sh [options] [run | test | all | -- COMMAND...]
#
#   run    the `make run` check: start the demo on a free loopback port, ask
#          for its PHP pages and expect 500 (not 403) with their messages
#          recorded in /errwatch?json, then stop it
#   test   make test (the default)
#   all    run, then test, in the same root
#   -- COMMAND...  any shell command, run in /root/project
#
# Options:
#   --tree DIR     git tree to clone (default: the checkout this script is in)
#   --rev REV      revision to clone (default HEAD; uncommitted changes are
#                  never included)
#   --timeout SEC  stop the whole run after SEC seconds (default 7200)
#   --keep         keep the run's root (its path is printed) instead of
#                  deleting it
#
# Needs root (debootstrap, chroot, mounts), debootstrap and unshare on the
# host, and network access to the mirror (FRESH_ROOT_MIRROR, default
# http://deb.debian.org/debian).
#
# The base root is made once with debootstrap and kept in
# $FRESH_ROOT_CACHE/base (default /var/cache/errwatch-fresh-root); delete
# that directory to rebuild it. Every run copies it to a run directory of
# its own, so runs never see each other's packages or files, and several
# runs can go at once. Inside a private mount namespace (unshare), the run's
# root is bind-mounted onto itself (so that / is a mount point, as `ip netns`
# needs), and proc, sys, dev, devpts, a tmpfs on /dev/shm and a tmpfs on
# /run are mounted; the namespace and its mounts go away when the run ends,
# however it ends. Any process still running in the root afterwards (a
# server that outlived a killed test) is killed, by pid, and the run
# directory is removed (a run killed before it could do that is removed by
# the next run). Package scripts cannot start services in the root
# (usr/sbin/policy-rc.d), so installing apache2 starts no server on the
# host's port 80. The root shares the host's network, as tests expect to
# reach deb.debian.org and use kernel-chosen loopback ports.
#
# Exit code: 0 pass, 1 the check failed, 2 the run could not be set up,
# 124 the time limit was reached. The log's path is printed first and last.
set -uo pipefail

CACHE=${FRESH_ROOT_CACHE:-/var/cache/errwatch-fresh-root}
MIRROR=${FRESH_ROOT_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
self=$(readlink -f "${BASH_SOURCE[0]}")

die() {
    echo "fresh-root: $*" >&2
    exit 2
}

# ---- inside the private mount namespace: mounts, then chroot ----
if [ "${1:-}" = --inner ]; then
    root=$2
    shift 2
    mount --bind "$root" "$root" || exit 2
    mount -t proc proc "$root/proc" || exit 2
    mount -t sysfs sys "$root/sys" || exit 2
    mount --bind /dev "$root/dev" || exit 2
    mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$root/dev/pts" || exit 2
    mount -t tmpfs -o mode=1777 shm "$root/dev/shm" || exit 2
    mount -t tmpfs -o mode=0755 run "$root/run" || exit 2
    # What a login shell of root gets on Debian: /etc/profile sets PATH
    # with the sbin directories.
    exec chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb \
        /bin/bash -l -c "$1"
fi

# ---- outside: arguments ----
tree=$(cd "$(dirname "$self")/.." && pwd)
rev=HEAD
timeout_s=7200
keep=0
mode="test"
user_cmd=
while [ $# -gt 0 ]; do
    case $1 in
        --tree) tree=${2:?--tree needs a directory}; shift 2 ;;
        --rev) rev=${2:?--rev needs a revision}; shift 2 ;;
        --timeout) timeout_s=${2:?--timeout needs seconds}; shift 2 ;;
        --keep) keep=1; shift ;;
        run | test | all) mode=$1; shift ;;
        --) shift; mode=cmd; user_cmd="$*"; break ;;
        -h | --help) sed -n '2,/^set -uo/p' "$self" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
case $timeout_s in '' | *[!0-9]*) die "--timeout must be a number of seconds, not '$timeout_s'" ;; esac
[ "$mode" != cmd ] || [ -n "$user_cmd" ] || die "-- needs a command"
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mounts)"
for t in debootstrap unshare chroot timeout git flock; do
    command -v "$t" >/dev/null || die "$t not found on the host"
done
sha=$(git -C "$tree" rev-parse --verify "$rev^{commit}" 2>/dev/null) || die "$tree: no revision '$rev'"

mkdir -p "$CACHE/logs" "$CACHE/runs" || die "cannot create $CACHE"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
log=$CACHE/logs/fresh-root-$stamp-$$.log
run_dir=$CACHE/runs/$stamp-$$
root=$run_dir/root
echo "fresh-root: log: $log"
exec > >(tee -a "$log") 2>&1

note() { echo "fresh-root: $(date -u +%T) $*"; }

# ---- cleanup: leftover processes in the root, then the run directory ----
cleanup() {
    trap - EXIT INT TERM HUP
    [ -d "$root" ] || return 0
    local pass pid pids
    for pass in TERM KILL; do
        pids=
        for pid in /proc/[0-9]*; do
            pid=${pid#/proc/}
            [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$root" ] && pids="$pids $pid"
        done
        [ -z "$pids" ] && break
        note "killing ($pass) processes left in the root:$pids"
        # shellcheck disable=SC2086 # a list of pids
        kill -s "$pass" $pids 2>/dev/null
        sleep 2
    done
    # The mounts lived in the private namespace; this only matters if that
    # namespace could not be made private.
    if grep -q " ${root}[/ ]" /proc/self/mounts; then
        umount -R -l "$root" 2>/dev/null
    fi
    if [ "$keep" = 1 ]; then
        note "root kept: $root"
    elif grep -q " ${root}[/ ]" /proc/self/mounts; then
        note "mounts still under $root; not deleting it"
    else
        rm -rf --one-file-system "$run_dir"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# ---- runs that were killed before they could clean up ----
for stale in "$CACHE"/runs/*-[0-9]*; do
    [ -d "$stale" ] || continue
    kill -0 "${stale##*-}" 2>/dev/null && continue
    in_use=0
    for pid in /proc/[0-9]*; do
        case $(readlink "$pid/root" 2>/dev/null) in "$stale"/*) in_use=1; break ;; esac
    done
    if [ $in_use = 0 ] && ! grep -q " ${stale}/" /proc/self/mounts; then
        note "removing $stale, left by a run that was killed"
        rm -rf --one-file-system "$stale"
    fi
done

# ---- the base root, made once ----
base=$CACHE/base
(
    flock 9
    [ -f "$base/.errwatch-fresh-base" ] && exit 0
    note "debootstrap $SUITE minbase + make git into $base (once)"
    rm -rf --one-file-system "$base.new"
    timeout 1800 debootstrap --variant=minbase --include=make,git "$SUITE" "$base.new" "$MIRROR" ||
        { rm -rf --one-file-system "$base.new"; exit 1; }
    rm -f "$base.new"/var/cache/apt/archives/*.deb
    echo "debootstrap --variant=minbase --include=make,git $SUITE $MIRROR $(date -u +%FT%TZ)" \
        >"$base.new/.errwatch-fresh-base"
    rm -rf --one-file-system "$base"
    mv "$base.new" "$base"
) 9>"$CACHE/base.lock" || die "debootstrap failed (see $log)"
note "base: $(cat "$base/.errwatch-fresh-base")"

# ---- this run's root: a copy of the base, and the tree to clone ----
start=$SECONDS
mkdir -p "$run_dir" || die "cannot create $run_dir"
cp -a "$base" "$root" || die "cannot copy $base to $root"
cp -L /etc/resolv.conf "$root/etc/resolv.conf" || die "cannot copy /etc/resolv.conf"
printf '#!/bin/sh\n# fresh-root.sh: no service starts in this root\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
if ! git init -q --bare "$root/srv/source.git" ||
    ! git -C "$tree" push -q "$root/srv/source.git" "$sha:refs/heads/fresh"; then
    die "cannot copy $tree at $sha"
fi
note "tree: $tree at $(git -C "$tree" log -1 --format='%h %s' "$sha")"

# The script run in the root (bash -l, in /root). Every step says what it
# does; the first failure ends it with its exit code.
read -r -d '' prologue <<'EOF'
set -eu
cd /root
echo "fresh-root(in): $(. /etc/os-release; echo "$PRETTY_NAME"), PATH=$PATH, uid=$(id -u)"
git clone -q -b fresh /srv/source.git project
chmod 0700 /root/project
cd /root/project
echo "fresh-root(in): /root is $(stat -c %a /root), /root/project is $(stat -c %a /root/project)"
EOF
read -r -d '' run_check <<'EOF'
# The packages and the build first, so that the port is picked just before
# the demo takes it (the host's loopback is shared).
echo "fresh-root(in): make deps all"
if ! make deps all >/tmp/make-deps.out 2>&1; then
    echo "fresh-root(in): FAIL: make deps all"; cat /tmp/make-deps.out; exit 1
fi
port=$(perl -MIO::Socket::INET -e \
    'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0) or die; print $s->sockport')
echo "fresh-root(in): make run PORT=$port"
setsid make run PORT=$port >/tmp/make-run.out 2>&1 &
mk=$!
stop_demo() { kill -TERM -- -$mk 2>/dev/null || true; wait $mk 2>/dev/null || true; }
trap stop_demo EXIT
base=http://127.0.0.1:$port
up=0
for _ in $(seq 1 300); do
    if ! kill -0 $mk 2>/dev/null; then break; fi
    if [ -x /usr/bin/curl ] && curl -s -o /dev/null --max-time 5 $base/; then up=1; break; fi
    sleep 1
done
if [ $up != 1 ]; then
    echo "fresh-root(in): FAIL: the demo did not answer on $base"; cat /tmp/make-run.out; exit 1
fi
fail=0
for page in fatal.php parse.php; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 $base/$page)
    echo "fresh-root(in): /$page answered $code"
    [ "$code" = 500 ] || fail=1
done
json=$(curl -s --max-time 30 "$base/errwatch?json")
for want in fatal.php class-wp-locale.phpp parse.php 'syntax error'; do
    if printf '%s' "$json" | grep -qF "$want"; then
        echo "fresh-root(in): /errwatch?json records '$want'"
    else
        echo "fresh-root(in): FAIL: /errwatch?json does not record '$want'"; fail=1
    fi
done
stop_demo
trap - EXIT
if curl -s -o /dev/null --max-time 5 $base/; then
    echo "fresh-root(in): FAIL: the demo still answers after stopping"; fail=1
fi
if [ $fail != 0 ]; then
    echo "fresh-root(in): make run output:"; cat /tmp/make-run.out; exit 1
fi
echo "fresh-root(in): make run check passed"
EOF
test_check='echo "fresh-root(in): make test"; make test'

case $mode in
    run) script="$prologue"$'\n'"$run_check" ;;
    test) script="$prologue"$'\n'"$test_check" ;;
    all) script="$prologue"$'\n'"$run_check"$'\n'"$test_check" ;;
    cmd) script="$prologue"$'\n'"$user_cmd" ;;
esac

note "running '$mode' in $root (limit ${timeout_s}s)"
# In the background and waited for, so that a TERM to this script runs its
# cleanup at once (bash delays traps until a foreground command ends).
timeout --kill-after=30 "$timeout_s" unshare --mount --propagation private -- "$self" --inner "$root" "$script" &
wait $!
rc=$?
elapsed=$((SECONDS - start))
wall="$((elapsed / 60)) min $((elapsed % 60)) s"
if [ $rc -eq 0 ]; then
    note "PASS: '$mode' at $(git -C "$tree" rev-parse --short "$sha") in $wall"
elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    note "FAIL: '$mode' stopped at the ${timeout_s}s limit after $wall"
    rc=124
else
    note "FAIL: '$mode' exited $rc after $wall"
    rc=1
fi
cleanup
echo "fresh-root: log: $log"
exit $rc
