<?php
// Mimics a WordPress upgrade gone wrong: wp-settings.php requires a file
// that is not there, so PHP raises a fatal error and the answer is a 500.
require_once __DIR__ . '/class-wp-locale.phpp';
echo "not reached\n";
