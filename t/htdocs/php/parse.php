<?php
// A syntax error: PHP cannot compile this file.
echo "missing semicolon"
function broken( {
