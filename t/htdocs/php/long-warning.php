<?php
// A warning longer than errwatch keeps of a message (511 bytes), then a
// fatal error. Through php-fpm both reach Apache in one FastCGI stderr
// record, so mod_proxy_fcgi logs them as one "Got error '...'" line.
trigger_error(str_repeat('w', 800), E_USER_WARNING);
require_once __DIR__ . '/class-wp-locale.phpp';
echo "not reached\n";
