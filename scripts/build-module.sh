#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build procevent.ko against one kernel build tree, outside the checkout.
#
#   scripts/build-module.sh KDIR OUTDIR [extra make arguments, e.g. C=2]
#
# The module sources (Kbuild, module/, uapi/) are copied afresh into
# OUTDIR/src and built there, so that builds for different kernels never
# share objects and every build compiles every file: a warning in a file
# that did not change is reported again rather than hidden by an
# incremental build.
#
# Results:
#   OUTDIR/procevent.ko   the module
#   OUTDIR/build.log      full output of the build
#   OUTDIR/warnings.log   compiler, sparse and modpost warnings (empty: clean)
# Exit status: non-zero when the build failed; warnings alone do not fail it,
# the caller decides (they are printed on stderr).

set -euo pipefail

if [[ $# -lt 2 ]]; then
	echo "usage: $0 KDIR OUTDIR [make args...]" >&2
	exit 2
fi
kdir=$1
out=$2
shift 2

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ ! -f $kdir/Makefile ]]; then
	echo "build-module: $kdir is not a kernel build tree (no Makefile)" >&2
	exit 1
fi
if [[ ! -f $root/Kbuild || ! -d $root/module ]]; then
	echo "build-module: no Kbuild or module/ in $root" >&2
	exit 1
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$out/src
rm -rf "$src" "$out/procevent.ko"
mkdir -p "$src"

# Copy only the sources: objects left by a build in the checkout must not
# leak into this one.
parts=(Kbuild module)
[[ -d $root/uapi ]] && parts+=(uapi)
tar -C "$root" \
	--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
	--exclude='.*.cmd' --exclude='*.a' --exclude='modules.order' \
	--exclude='Module.symvers' --exclude='.tmp_versions' \
	-cf - "${parts[@]}" |
	tar -C "$src" -xf -

jobs=$(nproc 2>/dev/null || echo 2)
status=0
make -C "$kdir" M="$src" -j"$jobs" "$@" modules >"$out/build.log" 2>&1 ||
	status=$?

# "warning:" covers gcc and sparse diagnostics, "WARNING:" modpost's.
grep -iE 'warning:|^WARNING' "$out/build.log" >"$out/warnings.log" || true

if [[ $status -ne 0 ]]; then
	echo "build-module: build against $kdir failed:" >&2
	grep -E 'error|Error' "$out/build.log" | head -50 >&2 || true
	echo "build-module: full log in $out/build.log" >&2
	exit "$status"
fi
if [[ ! -f $src/procevent.ko ]]; then
	echo "build-module: no procevent.ko produced (see $out/build.log)" >&2
	exit 1
fi
cp "$src/procevent.ko" "$out/procevent.ko"

if [[ -s $out/warnings.log ]]; then
	echo "build-module: $(wc -l <"$out/warnings.log") warning line(s) building against $kdir:" >&2
	cat "$out/warnings.log" >&2
fi
exit 0
