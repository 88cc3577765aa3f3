#!/bin/sh
# gzip (Debian source package): its test suite, shell scripts (make
# check), in the tree built on the host.  RB_GZIP_TESTS (comma list)
# chooses the tests; by default all but list-big, which spends minutes
# on one large file.  MAKEINFO=true: the manual is not part of it, and no
# makeinfo is there.
d=$(cat /rb/gzip.path)
t=${RB_GZIP_TESTS:-gzip-env,helin-segv,help-version,hufts,keep,list,memcpy-abuse,mixed,null-suffix-clobber,reproducible,stdin,timestamp,two-files,trailing-nul,unpack-invalid,unpack-valid,upper-suffix,z-suffix,zdiff,zgrep-f,zgrep-abuse,zgrep-binary,zgrep-context,zgrep-signal,znew-k}
exec make -C "$d" check MAKEINFO=true TESTS="$(echo "$t" | tr , ' ')"
