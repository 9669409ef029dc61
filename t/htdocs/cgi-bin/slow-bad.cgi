#!/bin/sh
# Fails slowly: in flight for 2 s, then a malformed header (mod_cgi: 500).
sleep 2
echo "this line is not a header"
echo
echo "body"
