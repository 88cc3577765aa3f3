#!/bin/sh
# gzip: the tree configured and built on the host, fresh, at the path it
# was built at
set -e
d=$(cat /rb/gzip.path)
rm -rf "$d" && mkdir -p "$(dirname "$d")" && cp -a /rb/src/gzip "$d"
