#!/bin/sh
# A CGI script whose first output line is not a valid header.
echo "this is not a header line"
echo
echo "body"
