#!/bin/sh
# gzip (Debian source package): its test suite, shell scripts (make check)
# (MAKEINFO=true: the manual is not part of it, and no makeinfo is there)
exec make -C "$(cat /rb/gzip.path)" check MAKEINFO=true
