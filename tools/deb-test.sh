#!/bin/sh
# make deb-test: installs the built .deb in a throwaway Debian 12 root and
# checks enable, a recorded PHP 500, a2dismod and purge. The debootstrap
# root is cached as a tarball under /var/cache/errwatch-deb-test (1-2 min the
# first time), and so are the downloaded .debs. Needs root and network.
set -eu
DEB=$(readlink -f "$1")
CACHE=/var/cache/errwatch-deb-test
BASE=$CACHE/bookworm-minbase.tar
mkdir -p "$CACHE/archives/partial"
if [ ! -f "$BASE" ]; then
    tmpbase=$(mktemp -d "$CACHE/build.XXXXXX")
    timeout 600 debootstrap --variant=minbase bookworm "$tmpbase" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 \
        || { tail -20 "$CACHE/debootstrap.log"; rm -rf "$tmpbase"; exit 1; }
    tar -C "$tmpbase" -cf "$BASE.tmp.$$" . && mv "$BASE.tmp.$$" "$BASE" && rm -rf "$tmpbase"
fi

ROOT=$(mktemp -d /tmp/errwatch-debroot.XXXXXX)
cleanup() {
    chroot "$ROOT" apache2ctl stop >/dev/null 2>&1 || true
    for m in var/cache/apt/archives dev proc; do umount "$ROOT/$m" 2>/dev/null || umount -l "$ROOT/$m" 2>/dev/null || true; done
    rm -rf "$ROOT"
}
trap cleanup EXIT INT TERM
tar -C "$ROOT" -xf "$BASE"
chmod 755 "$ROOT" # it is "/" for www-data (the tarball holds mktemp's 0700)
mount -t proc proc "$ROOT/proc"
mount --bind /dev "$ROOT/dev"
mount --bind "$CACHE/archives" "$ROOT/var/cache/apt/archives"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# No service starts during apt-get; the test starts Apache itself.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d" && chmod 755 "$ROOT/usr/sbin/policy-rc.d"
cp "$DEB" "$ROOT/tmp/"
in_root() { chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
fail() { echo "deb-test: FAIL: $*" >&2; exit 1; }
pass() { echo "deb-test: ok: $*"; }

timeout 600 chroot "$ROOT" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./tmp/'"$(basename "$DEB")"' libapache2-mod-php' \
    >"$ROOT/install.log" 2>&1 || { tail -30 "$ROOT/install.log"; fail "apt-get install ./$(basename "$DEB")"; }
pass "apt-get install ./$(basename "$DEB") (with apache2, libapache2-mod-php)"
[ -L "$ROOT/etc/apache2/mods-enabled/errwatch.load" ] || fail "postinst did not enable errwatch"
pass "module enabled by the maintainer script"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "Listen 127.0.0.1:$PORT" >"$ROOT/etc/apache2/ports.conf"
printf '<?php\nerrwatch_deb_test_undefined();\n' >"$ROOT/var/www/html/fail.php"
chmod 644 "$ROOT/var/www/html/fail.php"
echo "ServerName localhost" >"$ROOT/etc/apache2/conf-enabled/errwatch-deb-test.conf"
in_root apache2ctl start || fail "apache2ctl start"
URL=http://127.0.0.1:$PORT
i=0; until curl -sf -o /dev/null "$URL/errwatch?json"; do i=$((i+1)); [ $i -lt 100 ] || fail "/errwatch?json does not answer"; sleep 0.1; done
pass "/errwatch?json answers"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/fail.php")
[ "$code" = 500 ] || fail "fail.php answered $code, not 500"
i=0; until curl -s "$URL/errwatch?json" | jq -e '.files[] | select(.file == "/var/www/html/fail.php" and .count == 1)' >/dev/null; do
    i=$((i+1)); [ $i -lt 50 ] || fail "the PHP 500 was not recorded"; sleep 0.1; done
pass "the PHP 500 of /var/www/html/fail.php is recorded"

in_root a2dismod -q errwatch >/dev/null || fail "a2dismod errwatch"
in_root apache2ctl restart || fail "apache2ctl restart"
i=0; until [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/errwatch?json")" = 404 ]; do
    i=$((i+1)); [ $i -lt 100 ] || fail "/errwatch still answers after a2dismod"; sleep 0.1; done
in_root apache2ctl -M 2>/dev/null | grep -q errwatch && fail "errwatch_module still loaded"
pass "a2dismod errwatch + restart: module gone"
in_root apache2ctl stop

files=$(in_root dpkg -L libapache2-mod-errwatch | grep -v -x -e / -e /. -e /etc -e /usr -e /usr/bin -e /usr/lib -e /usr/share \
    -e /usr/share/doc -e /usr/share/man -e /usr/share/man/man1 -e /etc/apache2 -e /etc/apache2/mods-available \
    -e /usr/lib/apache2 -e /usr/lib/apache2/modules)
in_root apt-get purge -y -qq libapache2-mod-errwatch >/dev/null || fail "apt-get purge"
left=""
for f in $files; do [ -e "$ROOT$f" ] || [ -L "$ROOT$f" ] && left="$left $f"; done
for f in "$ROOT"/etc/apache2/mods-*/errwatch.*; do [ -e "$f" ] || [ -L "$f" ] && left="$left ${f#$ROOT}"; done
[ -z "$left" ] || fail "left after purge:$left"
pass "purge: no file of the package remains"
