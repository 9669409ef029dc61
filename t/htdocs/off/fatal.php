<?php
// Fails under <Location /off>, where ErrWatch is Off.
require_once __DIR__ . '/missing.phpp';
