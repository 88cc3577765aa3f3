#!/bin/sh
# hello (GNU hello, Debian source package): configure, then build when
# RB_HELLO_MAKE=1
set -e
cd /rb/w/hello
./configure
[ "${RB_HELLO_MAKE:-1}" = 1 ] || exit 0
make
