<?php
// A front controller that dies the way a half-updated WordPress does.
require_once __DIR__ . '/wp-includes/class-wp-locale.phpp';
