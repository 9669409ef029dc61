<?php
// What a half-finished WordPress update looks like: wp-settings.php
// requires a file that is not there, and every page is a blank 500.
require_once __DIR__ . '/wp-includes/class-wp-locale.phpp';
