#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: watch procevent hold and release processes, in a VM.
#
#   tools/demo/demo.sh
#
# 1. installs the packages it needs (scripts/deps.sh);
# 2. builds procevent.ko for the Debian 6.1 kernel in /boot, and the tools;
# 3. boots that kernel under QEMU (TCG: no KVM needed) with a small
#    busybox initramfs whose /init loads the module, starts
#    "proceventctl monitor --ack-delay 1s" and then a workload in which one
#    child catches SIGUSR1 and another exits with status 3, each timed by
#    their parent;
# 4. checks that the monitor printed those events and that every wait took
#    the monitor's ack delay.
# The module is never loaded into this machine's own kernel.
#
# Environment: PROCEVENT_DEMO_KVER (kernel release to boot, default the
# newest 6.1 in /boot), PROCEVENT_DEMO_ACK_MS (ack delay, default 1000).
# Exit status 0 only when every expected event was seen; the full console
# log is kept in build/demo/console.log.

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$root/build/demo
ack_ms=${PROCEVENT_DEMO_ACK_MS:-1000}
start=$SECONDS

if [[ -t 1 ]]; then
	bold=$'\e[1m' dim=$'\e[2m' green=$'\e[32m' red=$'\e[31m' cyan=$'\e[36m'
	yellow=$'\e[33m' off=$'\e[0m'
else
	bold='' dim='' green='' red='' cyan='' yellow='' off=''
fi

step() {
	printf '\n%s== %s%s %s(%ss)%s\n' "$bold" "$*" "$off" "$dim" "$((SECONDS - start))" "$off"
}

fail() {
	printf '%sdemo: %s%s\n' "$red" "$*" "$off" >&2
	exit 1
}

mkdir -p "$out"

step "Installing what the demo needs (scripts/deps.sh)"
"$root/scripts/deps.sh" 2>&1 | sed 's/^/   /'

kver=${PROCEVENT_DEMO_KVER:-}
if [[ -z $kver ]]; then
	for image in /boot/vmlinuz-6.1.*-amd64; do
		[[ -e $image ]] || continue
		r=${image#/boot/vmlinuz-}
		[[ -f /usr/src/linux-headers-$r/Makefile ]] && kver=$r
	done
fi
[[ -n $kver && -r /boot/vmlinuz-$kver ]] ||
	fail "no 6.1 kernel with headers in /boot (scripts/deps.sh installs linux-image-amd64)"

step "Building procevent.ko for Linux $kver, libprocevent and proceventctl"
if ! "$root/scripts/build-module.sh" "/usr/src/linux-headers-$kver" "$out/module" \
		2>"$out/module-build.err"; then
	cat "$out/module-build.err" >&2
	fail "the module did not build"
fi
echo "   module: build/demo/module/procevent.ko"
if ! make -s -C "$root/tools" O="$out/tools" lib proceventctl workload \
		>"$out/tools-build.log" 2>&1; then
	cat "$out/tools-build.log" >&2
	fail "the tools did not build"
fi
echo "   tools:  build/demo/tools/bin/proceventctl, build/demo/tools/lib/libprocevent.{a,so.0}"

# --- the initramfs ------------------------------------------------------

busybox=$(command -v busybox || true)
if [[ -z $busybox ]] || readelf -l "$busybox" | grep -q 'program interpreter'; then
	fail "a static busybox is needed (apt-get install busybox-static)"
fi

stage=$out/initramfs
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,usr/local/bin}
cp "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list); do
	[[ $applet == busybox ]] || ln -sf busybox "$stage/bin/$applet"
done
cp "$out/module/procevent.ko" "$stage/procevent.ko"
cp "$out/tools/bin/proceventctl" "$stage/usr/local/bin/"
cp "$out/tools/demo/procevent-demo-workload" "$stage/usr/local/bin/demo-workload"

# /init talks to the host through tagged console lines:
#   DEMO-SAY text    a heading        DEMO-CMD text   a command being run
#   DEMO-SHOW text   output to show   DEMO-<other>    data for the checks
# Lines of the monitor and the workload are shown as they are.  Nothing
# is piped while the monitor is subscribed: every process this shell
# starts then is an event source, and the story should hold only the
# workload's events.
cat >"$stage/init" <<EOF
#!/bin/sh
export PATH=/usr/local/bin:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
echo "DEMO-BOOTED \$(uname -r)"

echo "DEMO-SAY 1. Load the module"
echo "DEMO-CMD insmod /procevent.ko"
if ! insmod /procevent.ko; then
	echo "DEMO-INSMOD-FAILED"
	poweroff -f
fi
ls -l /dev/procevent | sed 's/^/DEMO-SHOW /'
sed 's/^/DEMO-SHOW /' /proc/procevent

echo "DEMO-SAY 2. Start a monitor that acks each event after $ack_ms ms"
echo "DEMO-CMD proceventctl monitor --ack-delay ${ack_ms}ms --count 4 --timestamps --pid-file /tmp/monitor.pid &"
proceventctl monitor --ack-delay ${ack_ms}ms --count 4 --timestamps --pid-file /tmp/monitor.pid &
monitor=\$!

echo "DEMO-SAY 3. Run a workload (its own process: it waits until the monitor is subscribed)"
echo "DEMO-CMD demo-workload $ack_ms /tmp/monitor.pid"
demo-workload $ack_ms /tmp/monitor.pid
echo "DEMO-WORKLOAD-RC \$?"
wait \$monitor
echo "DEMO-MONITOR-RC \$?"

echo "DEMO-SAY 4. After the monitor left: proceventctl status"
proceventctl status | sed 's/^/DEMO-SHOW /'
echo "DEMO-TAINT \$(cat /proc/sys/kernel/tainted)"
echo "DEMO-DONE"
poweroff -f
EOF
chmod 755 "$stage/init"

# A newc header for a file without data: /dev/console must exist before
# /init runs (the kernel opens it for init's stdio), and writing it by hand
# needs no mknod privilege.
newc_node() {
	local name=$1 mode=$2 major=$3 minor=$4 ino=$5
	local namesize=$((${#name} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		"$ino" "$mode" 0 0 1 0 0 0 0 "$major" "$minor" "$namesize" 0
	printf '%s\0' "$name"
	head -c $(((4 - (110 + namesize) % 4) % 4)) /dev/zero
}
initramfs=$out/initramfs.cpio.gz
{
	(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet)
	newc_node dev/console $((0020600)) 5 1 1
	newc_node 'TRAILER!!!' 0 0 0 0
} | gzip -1 >"$initramfs"

# --- the run ------------------------------------------------------------

step "Booting Linux $kver in QEMU (TCG) - what happens inside:"
console=$out/console.log
: >"$console"

show() {
	local line=$1
	case $line in
	DEMO-SAY\ *)	printf '\n   %s%s%s\n' "$bold" "${line#DEMO-SAY }" "$off" ;;
	DEMO-CMD\ *)	printf '   %s# %s%s\n' "$dim" "${line#DEMO-CMD }" "$off" ;;
	DEMO-SHOW\ *)	printf '     %s\n' "${line#DEMO-SHOW }" ;;
	DEMO-BOOTED\ *)	printf '   VM up: Linux %s\n' "${line#DEMO-BOOTED }" ;;
	DEMO-INSMOD-FAILED) printf '   %sinsmod failed%s\n' "$red" "$off" ;;
	workload\[*)	printf '     %s%s%s\n' "$yellow" "$line" "$off" ;;
	proceventctl:*)	printf '     %smonitor:  %s%s\n' "$cyan" "${line#proceventctl: }" "$off" ;;
	\[*\]\ exit\ *|\[*\]\ signal\ *)
			printf '     %smonitor:  %s%s\n' "$cyan" "$line" "$off" ;;
	esac
}

set +e
timeout -k 5 100 qemu-system-x86_64 -accel tcg -m 512M -smp 2 \
	-nodefaults -no-user-config -display none -serial stdio -no-reboot \
	-kernel "/boot/vmlinuz-$kver" -initrd "$initramfs" \
	-append "console=ttyS0 quiet loglevel=4 panic=-1 oops=panic" \
	</dev/null 2>&1 |
	while IFS= read -r line; do
		line=${line%$'\r'}
		printf '%s\n' "$line" >>"$console"
		show "$line"
	done
qemu_rc=${PIPESTATUS[0]}
set -e

# --- the verdict --------------------------------------------------------

step "Checking what the monitor and the workload reported"
ok=1
check() {
	if eval "$2"; then
		printf '   %sok%s    %s\n' "$green" "$off" "$1"
	else
		printf '   %sFAIL%s  %s\n' "$red" "$off" "$1"
		ok=0
	fi
}

grep -q '^DEMO-DONE' "$console" || {
	echo "   the VM did not finish (qemu exit $qemu_rc); last console lines:"
	tail -n 20 "$console" | sed 's/^/   | /'
	fail "see $console"
}
result=$(grep -m1 '^DEMO-RESULT ' "$console" || true)
val() {
	sed -n "s/.* $1=\\(-\\{0,1\\}[0-9]*\\).*/\\1/p" <<<"$result"
}
catcher=$(val catcher)
exiter=$(val exiter)
handler_ms=$(val handler_ms)
catcher_ms=$(val catcher_wait_ms)
exiter_ms=$(val exiter_wait_ms)
exiter_status=$(val exiter_status)
workload=$(grep -m1 -o '^workload\[[0-9]*\]' "$console" | tr -dc 0-9)
events=$(grep -E '^\[ *[0-9]+\.[0-9]{3}\] (exit|signal) ' "$console" || true)
# A hold "matches" the delay when it is at least the delay (less a little
# clock slack) and not much more (the VM is emulated, so allow 750 ms).
in_range() {
	[[ -n $1 ]] && (($1 >= ack_ms - 50 && $1 <= ack_ms + 750))
}

check "the workload ran (catcher pid ${catcher:-?}, exiter pid ${exiter:-?})" \
	'[[ -n $catcher && -n $exiter ]] && grep -q "^DEMO-WORKLOAD-RC 0" "$console"'
check "monitor saw: signal SIGUSR1 to the catcher, sent by its parent" \
	'grep -qE "\] signal pid $catcher \(catcher\) .*: SIGUSR1 from pid $workload " <<<"$events"'
check "monitor saw: the catcher exit with status 0" \
	'grep -qE "\] exit pid $catcher \(catcher\) .*: exited with status 0 " <<<"$events"'
check "monitor saw: the exiter exit with status 3" \
	'grep -qE "\] exit pid $exiter \(exiter\) .*: exited with status 3 " <<<"$events"'
check "the catcher's handler ran after the ack delay: ${handler_ms:-?} ms (delay $ack_ms ms)" \
	'in_range "$handler_ms"'
check "waitpid(catcher) took the ack delay: ${catcher_ms:-?} ms" \
	'in_range "$catcher_ms"'
check "waitpid(exiter) took the ack delay: ${exiter_ms:-?} ms, status ${exiter_status:-?}" \
	'in_range "$exiter_ms" && [[ $exiter_status == 3 ]]'
check "the monitor stopped by itself after --count 4 (exit status 0)" \
	'grep -q "^DEMO-MONITOR-RC 0" "$console"'
check "no kernel warning or oops (taint $(sed -n 's/^DEMO-TAINT //p' "$console"))" \
	'! grep -qE "^\[ *[0-9]+\.[0-9]+\].*(BUG:|WARNING:|Oops|Call Trace)" "$console" &&
	 (( ($(sed -n "s/^DEMO-TAINT //p" "$console") & 17080) == 0 ))'

echo
if [[ $ok -eq 1 ]]; then
	printf '%sdemo: the monitor saw every expected event, and each one held its process for the %d ms ack delay (%ss in all).%s\n' \
		"$green" "$ack_ms" "$((SECONDS - start))" "$off"
	echo "      Full console log: build/demo/console.log"
	exit 0
fi
fail "something expected was not seen; full console log: $console"
