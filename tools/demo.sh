#!/bin/sh
# Runs a throwaway Apache (prefork + mod_php + mod_cgi) with mod_errwatch on
# 127.0.0.1:$PORT, in the foreground, with a few broken pages to try.
# Ctrl-C stops it and removes its temporary directory.
#
#   PORT=8080 tools/demo.sh        (or: make run PORT=8080)
#
# Environment: PORT (default 8080), APACHE2 (default /usr/sbin/apache2).
set -eu

PORT=${PORT:-8080}
APACHE2=${APACHE2:-/usr/sbin/apache2}
MODDIR=/usr/lib/apache2/modules

repo=$(cd "$(dirname "$0")/.." && pwd)
module=$repo/.libs/mod_errwatch.so

case $PORT in
    '' | *[!0-9]*)
        echo "demo: PORT must be a number, not '$PORT'" >&2
        exit 2
        ;;
esac
if [ ! -f "$module" ]; then
    echo "demo: $module not found; build it first with: make" >&2
    exit 1
fi
for f in "$APACHE2" "$MODDIR/mod_mpm_prefork.so" "$MODDIR/libphp8.2.so" "$MODDIR/mod_cgi.so"; do
    if [ ! -e "$f" ]; then
        echo "demo: $f not found (Debian packages: apache2 libapache2-mod-php)" >&2
        exit 1
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/errwatch-demo.XXXXXX")
pid=
# shellcheck disable=SC2317 # called from the traps
cleanup() {
    trap - EXIT
    trap '' INT TERM HUP
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM HUP

# Readable by www-data, which the server's children run as under root.
chmod 755 "$tmp"
mkdir "$tmp/run"
cp -R "$repo/tools/demo/htdocs" "$tmp/htdocs"
chmod -R a+rX "$tmp/htdocs"

user_conf=
if [ "$(id -u)" -eq 0 ]; then
    user_conf="User www-data
Group www-data"
fi

cat >"$tmp/httpd.conf" <<EOF
ServerRoot "$tmp"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
PidFile "$tmp/run/httpd.pid"
ErrorLog /dev/stderr
LogLevel warn
DefaultRuntimeDir "$tmp/run"
Mutex file:$tmp/run default
$user_conf
LoadModule mpm_prefork_module $MODDIR/mod_mpm_prefork.so
StartServers 2
MinSpareServers 1
MaxSpareServers 4
MaxRequestWorkers 16
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule authz_host_module $MODDIR/mod_authz_host.so
LoadModule mime_module $MODDIR/mod_mime.so
TypesConfig /etc/mime.types
LoadModule dir_module $MODDIR/mod_dir.so
DirectoryIndex index.html index.php
LoadModule alias_module $MODDIR/mod_alias.so
LoadModule cgi_module $MODDIR/mod_cgi.so
LoadModule php_module $MODDIR/libphp8.2.so
<FilesMatch "\.php\$">
    SetHandler application/x-httpd-php
</FilesMatch>
LoadModule errwatch_module "$module"
Include "$repo/conf/errwatch.conf"

DocumentRoot "$tmp/htdocs"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "$tmp/htdocs">
    AllowOverride None
    Require all granted
</Directory>
ScriptAlias /cgi-bin/ "$tmp/htdocs/cgi-bin/"
<Directory "$tmp/htdocs/cgi-bin">
    Options +ExecCGI
    Require all granted
</Directory>
EOF

if ! out=$("$APACHE2" -t -f "$tmp/httpd.conf" 2>&1); then
    echo "$out" >&2
    exit 1
fi

base=http://127.0.0.1:$PORT
cat <<EOF
mod_errwatch demo on $base (config: $tmp/httpd.conf)

  working page:      $base/
  PHP fatal error:   $base/fatal.php
  PHP parse error:   $base/parse.php
  CGI bad header:    $base/cgi-bin/broken.cgi

  status page:       $base/errwatch
  JSON:              curl -s $base/errwatch?json | jq .
  mod_status format: curl -s $base/errwatch?auto
  Prometheus:        curl -s $base/errwatch?metrics

  try:  for p in fatal.php parse.php cgi-bin/broken.cgi; do curl -s -o /dev/null -w '%{http_code} /\$p\n' $base/\$p; done

Error log below. Ctrl-C stops the server.

EOF

# In its own session: on shutdown httpd signals its whole process group,
# which must not include this script or the make that runs it.
setsid "$APACHE2" -f "$tmp/httpd.conf" -DFOREGROUND &
pid=$!
status=0
wait "$pid" || status=$?
pid=
exit "$status"
