#!/bin/sh
# pv (Debian source package, autoconf): configure, then build unless
# RB_PV_MAKE=0
set -e
cd /rb/w/pv
./configure --disable-nls
[ "${RB_PV_MAKE:-1}" = 1 ] || exit 0
make
