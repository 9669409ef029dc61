#!/bin/sh
# A CGI script whose first output line is not a header.
echo "Hello from a script that forgot its Content-Type header"
echo
echo "body"
