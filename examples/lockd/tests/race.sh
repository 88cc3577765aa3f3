#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make race: the lockd race benchmark, one VM boot per kernel (the
# installed 6.1 and 6.12 generic amd64 kernels), with the race program
# alone in the VM.  Prints the table of each run and keeps it in
# $O/race/<kernel>/table.md beside the console log.
#
# Environment: O (build/lockd), TRIALS (10000: exit trials with procevent),
# ASYNC_TRIALS (TRIALS: with cn_proc and pidfd), SIGNAL_TRIALS (300),
# KERNELS (default: the newest installed 6.1 and 6.12 kernels).

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
O=${O:-$root/build/lockd}
trials=${TRIALS:-10000}
async_trials=${ASYNC_TRIALS:-$trials}
signal_trials=${SIGNAL_TRIALS:-300}

if [[ -z ${KERNELS:-} ]]; then
	KERNELS=
	for want in 6.1 6.12; do
		k=$(ls /boot/vmlinuz-"$want".* 2>/dev/null | sed 's|/boot/vmlinuz-||' |
			grep -e '-amd64$' | grep -v -e '-rt-amd64$' -e '-cloud-amd64$' |
			sort -V | tail -n 1 || true)
		if [[ -z $k || ! -f /usr/src/linux-headers-$k/Makefile ]]; then
			echo "race: no $want kernel with headers installed" >&2
			exit 2
		fi
		KERNELS+=" $k"
	done
fi

# The VM runs exactly one program: a wrapper with the full trial counts.
stage=$O/race-tests
rm -rf "$stage" "$O/race-none"
mkdir -p "$stage" "$O/race-none"
cp "$O/tests/lockd_race" "$stage/"
printf '#!/bin/sh\nexec ./lockd_race --trials %d --async-trials %d --signal-trials %d\n' \
	"$trials" "$async_trials" "$signal_trials" >"$stage/lockd_race_full"
chmod 755 "$stage/lockd_race_full"

# Under TCG a trial costs a few milliseconds; leave plenty of room.
timeout_s=$(( 600 + (trials + 2 * async_trials + 3 * signal_trials) * 60 / 1000 ))

rc=0
for k in $KERNELS; do
	out=$O/race/$k
	echo "race: $k: exit trials: $trials with procevent, $async_trials with cn_proc and pidfd;" \
		"$signal_trials signal trials each"
	if ! PROCEVENT_TESTS=lockd_race_full PROCEVENT_VM_TIMEOUT=$timeout_s \
		"$root/selftests/vm/run.sh" --tests "$stage" --tools "$O/bin" \
			--tool-tests "$O/race-none" --out "$out" "$k"; then
		rc=1
	fi
	grep -aE '^# (\||lockd race on)' "$out/console.log" | sed 's/^# //' \
		>"$out/table.md" || true
	echo
	if [[ -s $out/table.md ]]; then
		cat "$out/table.md"
	else
		echo "race: $k: no table in $out/console.log" >&2
		rc=1
	fi
	echo
done
exit $rc
