#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lintian on every .deb that scripts/build-deb.sh built, at every level
# (lintian -EvIL +pedantic), failing on any tag that is not overridden,
# and on any override in debian/*.lintian-overrides without a reason (a
# "# ..." comment line right above it).
#
#   scripts/deb-lintian.sh [OUTDIR]   (default build/deb)
#
# The output, overridden tags included ("N:" lines show the reasons), goes
# to stdout.  Needs lintian (scripts/deps.sh installs it).

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/build/deb}
status=0

# Each override carries its reason.
for f in "$root"/debian/*.lintian-overrides; do
	[[ -e $f ]] || continue
	if ! awk -v f="${f#"$root"/}" '
		/^[[:space:]]*$/ { prev = ""; next }
		/^[[:space:]]*#/ { prev = "comment"; next }
		prev != "comment" && prev != "override" {
			printf "deb-lintian: %s:%d: override without a reason comment: %s\n", f, NR, $0 > "/dev/stderr"
			bad = 1
		}
		{ prev = "override" }
		END { exit bad }' "$f"; then
		status=1
	fi
done

shopt -s nullglob
debs=("$out"/*.deb)
if [[ ${#debs[@]} -eq 0 ]]; then
	echo "deb-lintian: no .deb in $out (run scripts/build-deb.sh first)" >&2
	exit 1
fi

# Every level, the overridden tags shown ("O:", their reasons as "N:"
# lines); then the verdict: --fail-on every level, where only overridden
# tags may remain.  (Two runs: --show-overrides makes lintian's exit status
# count the overridden tags too.)
lintian -EvIL +pedantic --show-overrides --tag-display-limit 0 "${debs[@]}" || true
if ! lintian -EIL +pedantic --tag-display-limit 0 \
		--fail-on error,warning,info,pedantic,experimental \
		"${debs[@]}" >/dev/null; then
	echo "deb-lintian: lintian reports tags that are not overridden (above)" >&2
	status=1
fi
exit $status
