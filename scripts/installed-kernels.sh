#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the installed Debian amd64 kernels that the module can be built
# for and booted with: every release R with both /boot/vmlinuz-R and
# /usr/src/linux-headers-R/Makefile, one a line, oldest first, but the
# cloud flavour.
#
#   scripts/installed-kernels.sh [--generic]
#
# --generic leaves out the PREEMPT_RT flavours too.  Prints nothing (and
# exits 0) when there is none: the caller says what that means for it.

set -euo pipefail

generic=0
case ${1:-} in
--generic) generic=1 ;;
'') ;;
*) echo "usage: $0 [--generic]" >&2; exit 2 ;;
esac

for image in /boot/vmlinuz-*; do
	[[ -e $image ]] || continue
	r=${image#/boot/vmlinuz-}
	case $r in
	*-cloud-amd64) continue ;;
	*-rt-amd64) [[ $generic == 1 ]] && continue ;;
	*-amd64) ;;
	*) continue ;;
	esac
	[[ -f /usr/src/linux-headers-$r/Makefile ]] && echo "$r"
done | sort -V
