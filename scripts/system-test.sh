#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The packages on a real Debian 12 system, booted in QEMU with systemd as
# PID 1 (make system-test):
#
#   scripts/system-test.sh [--debs DIR] [--out DIR] [RELEASE...]
#
# RELEASE defaults to every installed generic amd64 kernel with both
# /boot/vmlinuz-R and /usr/src/linux-headers-R (Debian 12's 6.1 and 6.12).
# For each kernel R, in parallel:
#   1. root: mmdebstrap --variant=minbase of bookworm from the mirrors of
#      this machine's own apt sources, with systemd, systemd-sysv, udev,
#      apt, dkms, kmod, initramfs-tools, linux-image-R and linux-headers-R
#      (so the root has its own /lib/modules/R and initramfs).  Cached as
#      a tarball in $PROCEVENT_CACHE/system-root/KEY.tar (default
#      /var/cache/procevent), KEY a hash of the package list, the sources
#      and R; reused while they stay the same;
#   2. image: the tarball unpacked, the four .deb files installed in a
#      chroot with "apt-get install ./x.deb ..." (DKMS builds the module
#      for R there, as for a user; the running kernel of this machine has
#      no headers in the root), the test (selftests/system/) installed as
#      a oneshot unit, and an ext4 disk image made with "mke2fs -d" (no
#      mount);
#   3. boot 1 and boot 2: QEMU (TCG, no KVM) boots the root's own
#      /boot/vmlinuz-R and initrd with root=/dev/vda (virtio), systemd as
#      PID 1, the serial console; the unit runs selftests/system/guest.sh
#      after multi-user.target and powers off.  Boot 2 is the same disk
#      booted again.
# The time of each step is printed.
#
# Test cases (system-R/NAME), besides the guest's (guest.sh lists them):
#   root           the root file system was made (or found in the cache)
#   apt-install    apt-get install of the four .deb files succeeded
#   dkms-image     DKMS installed procevent.ko for R, in /lib/modules/R/
#                  updates/dkms, and built for no other kernel (not for
#                  this machine's running one)
#   boot-1, boot-2 the VM booted, ran the checks to their end (result
#                  token) and powered off within the limit, with no kernel
#                  splat on the console
# Results: OUT/cases (PASS|FAIL|SKIP lines), OUT/R/ (logs, console-N.log,
# results-N); the last line "N passed, N failed, N skipped".  Exit status
# 0 when all passed.
#
# Options:
#   --debs DIR   the .deb files to install (default: built here with
#                scripts/build-deb.sh OUT/deb)
#   --out DIR    results (default build/system-test)
# Environment: PROCEVENT_CACHE, PROCEVENT_DEBIAN_MIRROR (a "deb ..." line
# or URI replacing the machine's sources), PROCEVENT_SYSTEST_TIMEOUT (per
# boot, seconds, default 600), PROCEVENT_SYSTEST_SMP (default 2),
# PROCEVENT_SYSTEST_MEM (default 1G).
# Needs root (chroot, and ownership in the image), mmdebstrap, e2fsprogs
# and qemu-system-x86_64.

set -euo pipefail

# All of it in one block, read before it runs: editing this file while it
# runs does not change the run.
{
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${PROCEVENT_CACHE:-/var/cache/procevent}/system-root
timeout_s=${PROCEVENT_SYSTEST_TIMEOUT:-600}
smp=${PROCEVENT_SYSTEST_SMP:-2}
mem=${PROCEVENT_SYSTEST_MEM:-1G}
debs=
out=$root/build/system-test
while [[ $# -gt 0 ]]; do
	case $1 in
	--debs) debs=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) echo "system-test: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done

log() {
	echo "system-test: $*"
}

if [[ $(id -u) -ne 0 ]]; then
	log "needs root (chroot, file ownership in the image)" >&2
	exit 2
fi
for tool in mmdebstrap mke2fs debugfs qemu-system-x86_64 unshare; do
	command -v "$tool" >/dev/null || { log "$tool is missing (scripts/deps.sh)" >&2; exit 2; }
done

kernels=("$@")
if [[ ${#kernels[@]} -eq 0 ]]; then
	mapfile -t kernels < <("$root/scripts/installed-kernels.sh" --generic)
	if [[ ${#kernels[@]} -eq 0 ]]; then
		log "no generic amd64 kernel with headers installed" >&2
		exit 2
	fi
fi

mkdir -p "$out" "$cache"
out=$(cd "$out" && pwd)
start=$SECONDS
times=$out/times
: >"$times"
: >"$out/cases"
# Each step's time: to fd 4 (the run's log, whatever the step's own output
# goes to) and to OUT/times for the table at the end.
exec 4>&1
timed() {
	local what=$1 t0=$SECONDS rc=0
	shift
	"$@" || rc=$?
	printf '%6ds  %s\n' $((SECONDS - t0)) "$what" >>"$times"
	log "$what: $((SECONDS - t0))s$([[ $rc -eq 0 ]] || echo " (failed, status $rc)")" >&4
	return $rc
}

# --- the packages -----------------------------------------------------------

if [[ -z $debs ]]; then
	debs=$out/deb
	if ! timed "build the .deb files" "$root/scripts/build-deb.sh" "$debs" >"$out/deb-build.log" 2>&1; then
		tail -n 30 "$out/deb-build.log" | sed 's/^/  /'
		echo "FAIL system-deb-build" >>"$out/cases"
	fi
fi
debs=$(cd "$debs" && pwd)
deb_files=()
for p in procevent-dkms procevent-tools libprocevent0 libprocevent-dev; do
	f=$(compgen -G "$debs/${p}_*.deb" | head -n 1) && deb_files+=("$f")
done
if [[ ${#deb_files[@]} -ne 4 ]]; then
	log "the four .deb files are not all in $debs" >&2
	echo "FAIL system-deb-build" >>"$out/cases"
	exit 1
fi

# --- the root's recipe ------------------------------------------------------

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
suite=bookworm
[[ $codename == "$suite" ]] || log "note: this machine runs $codename; the roots are $suite"

# The Debian sources of this machine for the suite, its updates and its
# security suite, as one-line "deb" entries for mmdebstrap.
host_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f $f ]] || continue
		sed -n -E 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+([^[:space:]]+)[[:space:]]+(.*)$/\2 \3 \4/p' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		awk 'BEGIN { RS = "" }
			{
				uris = ""; suites = ""; comps = ""; types = ""; on = 1
				n = split($0, l, "\n")
				for (i = 1; i <= n; i++) {
					v = l[i]; sub(/^[^:]*:[ \t]*/, "", v)
					if (l[i] ~ /^Types:/) types = v
					if (l[i] ~ /^URIs:/) uris = v
					if (l[i] ~ /^Suites:/) suites = v
					if (l[i] ~ /^Components:/) comps = v
					if (l[i] ~ /^Enabled:[ \t]*no/) on = 0
				}
				if (!on || types !~ /(^| )deb( |$)/) next
				nu = split(uris, u, " "); ns = split(suites, s, " ")
				for (a = 1; a <= nu; a++)
					for (b = 1; b <= ns; b++)
						print u[a], s[b], comps
			}' "$f"
	done
}
mirrors=()
if [[ -n ${PROCEVENT_DEBIAN_MIRROR:-} ]]; then
	case $PROCEVENT_DEBIAN_MIRROR in
	deb\ *) mirrors=("$PROCEVENT_DEBIAN_MIRROR") ;;
	*) for s in $suite $suite-updates; do
		mirrors+=("deb ${PROCEVENT_DEBIAN_MIRROR%/} $s main")
	done ;;
	esac
else
	while read -r uri s comps; do
		case $s in
		"$suite"|"$suite"-updates|"$suite"-security|"$suite"/updates) ;;
		*) continue ;;
		esac
		mirrors+=("deb $uri $s ${comps:-main}")
	done < <(host_sources | sort -u)
fi
if [[ ${#mirrors[@]} -eq 0 ]]; then
	mirrors=("deb http://deb.debian.org/debian $suite main"
		"deb http://deb.debian.org/debian $suite-updates main"
		"deb http://deb.debian.org/debian-security $suite-security main")
fi
log "sources: $(printf '%s; ' "${mirrors[@]}")"

# What the root holds besides minbase: what a user of the packages has
# (systemd, udev, apt, DKMS and the kernel's image and headers), and what
# the test uses (procps).
base_packages=(systemd systemd-sysv udev apt dkms kmod initramfs-tools
	zstd xz-utils procps)
# Removed from the root once it is made, to keep unpacking, the image and
# the initramfs small: translations, and the modules of hardware this
# QEMU machine does not have (graphics, network, sound, media, SCSI, USB,
# ...); then depmod and update-initramfs run again.  The modules kept
# (block, virtio, char, input, fs, ...) are the ones a virtio machine
# loads.  (dpkg's path-exclude cannot do it: it fails on nested
# directories such as /usr/share/locale/be@latin/LC_MESSAGES.)
trim_dirs=(usr/share/locale)
for m in net gpu media scsi infiniband usb iio staging comedi isdn \
		bluetooth mtd hwmon target atm thunderbolt; do
	trim_dirs+=("lib/modules/R/kernel/drivers/$m")
done
trim_dirs+=(lib/modules/R/kernel/sound)
recipe_version=3

root_key() {
	{
		echo "recipe $recipe_version suite $suite kernel $1"
		printf '%s\n' "${base_packages[@]}" "linux-image-$1" "linux-headers-$1"
		printf 'trim %s\n' "${trim_dirs[@]}"
		printf '%s\n' "${mirrors[@]}"
	} | sha256sum | cut -c1-16
}

# The root of kernel R as a tarball in the cache; made when missing.
make_root() {
	local r=$1 key tar pkgs trim p
	key=$(root_key "$r")
	tar=$cache/$key.tar
	echo "$tar" >"$out/$r/root-tarball"
	exec 9>"$cache/$key.lock"
	flock 9
	if [[ -f $tar ]]; then
		log "$r: root from the cache ($tar)"
		touch "$tar"
		exec 9>&-
		return 0
	fi
	pkgs=$(IFS=,; echo "${base_packages[*]},linux-image-$r,linux-headers-$r")
	log "$r: mmdebstrap $suite ($pkgs)"
	# The kernel's postinst makes the initramfs (initramfs-tools); the
	# hook makes sure of it.
	trim=
	for p in "${trim_dirs[@]}"; do
		trim+=" \"\$1/${p//\/R\//\/$r\/}\""
	done
	# The archive may serve Release files past their Valid-Until (a
	# snapshot): the machine's own apt reads them, so may this root's.
	if mmdebstrap --variant=minbase --include="$pkgs" \
			--aptopt='Acquire::Check-Valid-Until "false"' \
			--customize-hook="test -f \"\$1/boot/vmlinuz-$r\" && test -f \"\$1/boot/initrd.img-$r\"" \
			--customize-hook="rm -rf$trim" \
			--customize-hook="chroot \"\$1\" depmod -a $r" \
			--customize-hook="chroot \"\$1\" update-initramfs -u -k $r" \
			"$suite" "$cache/$key.tmp.tar" "${mirrors[@]}" >"$out/$r/mmdebstrap.log" 2>&1; then
		mv "$cache/$key.tmp.tar" "$tar"
		echo "$r ${mirrors[*]}" >"$cache/$key.info"
	else
		rm -f "$cache/$key.tmp.tar"
		tail -n 30 "$out/$r/mmdebstrap.log" | sed "s/^/  $r: /"
		exec 9>&-
		return 1
	fi
	exec 9>&-
}

# --- the image --------------------------------------------------------------

# In the unpacked root: apt installs the packages (DKMS builds for R), then
# the test goes in.  /proc, /sys and /dev are mounted in a private mount
# namespace of the chroot only.
in_root() {
	local dir=$1
	shift
	unshare --mount --propagation private -- sh -c '
		dir=$1; shift
		mount -t proc proc "$dir/proc" &&
		mount -t sysfs sys "$dir/sys" &&
		mount --rbind /dev "$dir/dev" &&
		exec chroot "$dir" "$@"' sh "$dir" "$@"
}

install_debs() {
	local r=$1 dir=$2 d args=()
	mkdir -p "$dir/tmp/debs"
	for d in "${deb_files[@]}"; do
		cp "$d" "$dir/tmp/debs/"
		args+=("/tmp/debs/${d##*/}")
	done
	in_root "$dir" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -o Debug::pkgProblemResolver=0 "${args[@]}"
}

# DKMS built for R, installed it where modprobe looks, and built for no
# other kernel.
check_dkms() {
	local r=$1 dir=$2 st ko
	st=$(in_root "$dir" dkms status procevent)
	echo "dkms status: $st"
	ko=$(in_root "$dir" modinfo -k "$r" -n procevent)
	echo "modinfo -k $r -n procevent: $ko"
	ls "$dir/lib/modules"
	[[ $st == "procevent/"*", $r, x86_64: installed" ]] &&
		[[ $(echo "$st" | wc -l) -eq 1 ]] &&
		[[ $ko == /lib/modules/$r/updates/dkms/procevent.ko* && -f $dir$ko ]] &&
		[[ $(ls "$dir/lib/modules") == "$r" ]]
}

# The test unit and script, and what a booted test machine needs.
install_test() {
	local dir=$1 d=/usr/local/lib/procevent-system-test
	install -d "$dir$d"
	install -m 755 "$root/selftests/system/guest.sh" "$dir$d/"
	install -m 644 "$root/selftests/system/procevent-system-test.service" \
		"$dir/etc/systemd/system/"
	mkdir -p "$dir/etc/systemd/system/multi-user.target.wants"
	ln -sf /etc/systemd/system/procevent-system-test.service \
		"$dir/etc/systemd/system/multi-user.target.wants/procevent-system-test.service"
	echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" >"$dir/etc/fstab"
	echo procevent-test >"$dir/etc/hostname"
	# Not a first boot (no firstboot prompts); the same id on both boots.
	echo "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$dir/etc/machine-id"
	# Nothing reads a login prompt; no timer starts work in the middle.
	local u
	for u in serial-getty@ttyS0.service getty@tty1.service systemd-firstboot.service \
			apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
		ln -sf /dev/null "$dir/etc/systemd/system/$u"
	done
	rm -rf "$dir/tmp/debs"
}

make_image() {
	local r=$1 dir=$2 img=$3 kb
	kb=$(du -sk "$dir" | cut -f1)
	rm -f "$img"
	# Room for the tests' writes (journal, apt) beside the files.
	truncate -s $(((kb * 12 / 10 + 256 * 1024) * 1024)) "$img"
	mke2fs -q -t ext4 -L root -d "$dir" -F "$img"
}

# --- the boots --------------------------------------------------------------

splat='BUG:|WARNING:|Oops|KASAN|UBSAN|possible circular locking'
splat+='|sleeping function called from invalid context|hung task'
splat+='|blocked for more than|Call Trace|general protection'
splat+='|[Kk]ernel panic|detected stall|possible recursive locking'
splat+='|inconsistent lock state|suspicious RCU usage|list_(add|del) corruption'
splat+='|scheduling while atomic'

boot() {
	local r=$1 n=$2 purge=$3 d=$out/$1 rc=0 console
	console=$d/console-$n.log
	timeout -k 10 "$timeout_s" qemu-system-x86_64 \
		-accel tcg -m "$mem" -smp "$smp" -nodefaults -no-user-config \
		-display none -serial stdio -no-reboot \
		-drive "file=$d/disk.img,format=raw,if=virtio,cache=unsafe" \
		-kernel "$d/vmlinuz" -initrd "$d/initrd.img" \
		-append "root=/dev/vda rw console=ttyS0 panic=-1 systest.boot=$n systest.purge=$purge" \
		</dev/null 2>&1 | tr -d '\r' >"$console" || rc=$?
	# The results file, read from the disk without mounting it.
	debugfs -R "cat /var/lib/procevent-system-test/results-$n" "$d/disk.img" \
		>"$d/results-$n" 2>/dev/null || true
	return $rc
}

judge_boot() {
	local r=$1 n=$2 d=$out/$1 ok=1
	local console=$d/console-$n.log
	if grep -nE "\[ *[0-9]+\.[0-9]+\].*($splat)" "$console" >"$d/splats-$n"; then
		ok=0
		log "$r: boot $n: kernel problems on the console:"
		head -n 20 "$d/splats-$n" | sed 's/^/  /'
	fi
	if ! grep -q '^SYSTEST-DONE ' "$d/results-$n"; then
		ok=0
		log "$r: boot $n: no result token (timeout, hang or panic); console tail:"
		tail -n 30 "$console" | sed 's/^/  /'
	fi
	sed -n -E "s/^SYSTEST (PASS|FAIL) ([^ ]+).*/\1 system-$r\/\2/p" "$d/results-$n" >>"$d/cases"
	sed "s/^/  $r: /" "$d/results-$n"
	if grep -q '^SYSTEST FAIL ' "$d/results-$n"; then
		# The failed checks' output, from the guest's log.
		debugfs -R "cat /var/lib/procevent-system-test/log-$n" "$d/disk.img" \
			>"$d/log-$n" 2>/dev/null || true
	fi
	if [[ $ok -eq 1 ]]; then
		echo "PASS system-$r/boot-$n" >>"$d/cases"
	else
		echo "FAIL system-$r/boot-$n" >>"$d/cases"
	fi
	[[ $ok -eq 1 ]]
}

# --- one kernel ---------------------------------------------------------------

one_kernel() {
	local r=$1 purge=$2 d=$out/$1 dir tar
	exec 4>&1
	dir=$d/root
	: >"$d/cases"
	record() {
		echo "$1 system-$r/$2" >>"$d/cases"
	}
	if [[ ! -f /boot/vmlinuz-$r ]]; then
		log "$r: not an installed kernel"
		record FAIL root
		return 1
	fi
	if timed "$r: root (mmdebstrap or cache)" make_root "$r"; then
		record PASS root
	else
		record FAIL root
		return 1
	fi
	tar=$(cat "$d/root-tarball")
	rm -rf "$dir"
	mkdir -p "$dir"
	timed "$r: unpack the root" tar -C "$dir" -xf "$tar" || { record FAIL apt-install; return 1; }
	if timed "$r: apt-get install ./*.deb (DKMS build)" install_debs "$r" "$dir" >"$d/apt-install.log" 2>&1; then
		record PASS apt-install
	else
		record FAIL apt-install
		tail -n 30 "$d/apt-install.log" | sed "s/^/  $r: /"
		return 1
	fi
	if check_dkms "$r" "$dir" >"$d/dkms.log" 2>&1; then
		record PASS dkms-image
	else
		record FAIL dkms-image
		sed "s/^/  $r: /" "$d/dkms.log"
		sed "s/^/  $r: /" "$d/apt-install.log" | grep -i -e dkms -e 'kernel' | tail -n 20
	fi
	install_test "$dir"
	cp "$dir/boot/vmlinuz-$r" "$d/vmlinuz"
	cp "$dir/boot/initrd.img-$r" "$d/initrd.img"
	timed "$r: mke2fs -d (image)" make_image "$r" "$dir" "$d/disk.img" >"$d/mke2fs.log" 2>&1 || {
		record FAIL boot-1
		sed "s/^/  $r: /" "$d/mke2fs.log"
		return 1
	}
	rm -rf "$dir"
	local n
	for n in 1 2; do
		timed "$r: boot $n" boot "$r" "$n" "$purge" || true
		judge_boot "$r" "$n" || return 1
	done
}

log "kernels: ${kernels[*]}"
# Roots no run has used for two weeks (an older recipe, sources or kernel).
find "$cache" -maxdepth 1 -name '*.tar' -mtime +14 -printf '%f\n' 2>/dev/null |
	while read -r old; do
		log "removing the unused root ${old%.tar}"
		rm -f "$cache/$old" "$cache/${old%.tar}".{info,lock}
	done
find "$cache" -maxdepth 1 -name '*.lock' -mtime +14 -delete 2>/dev/null || true
pids=()
# The first kernel's purge runs with the service stopped, the others'
# with it running (guest.sh: purge-idle, purge-busy).
purge=idle
for r in "${kernels[@]}"; do
	mkdir -p "$out/$r"
	one_kernel "$r" "$purge" >"$out/$r/run.log" 2>&1 &
	purge=busy
	pids+=($!)
done
# Each kernel's progress as it comes.
logs=()
for r in "${kernels[@]}"; do
	logs+=("$out/$r/run.log")
done
tail -q -n +1 -F "${logs[@]}" 2>/dev/null &
tailer=$!
rc=0
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done
sleep 1
kill "$tailer" 2>/dev/null
wait "$tailer" 2>/dev/null || true

for r in "${kernels[@]}"; do
	cat "$out/$r/cases" >>"$out/cases"
done
echo
echo "system-test: step times"
cat "$times"
if grep -q '^FAIL ' "$out/cases"; then
	echo "failed:"
	sed -n 's/^FAIL /  /p' "$out/cases"
fi
echo "elapsed: $((SECONDS - start))s"
printf '%s passed, %s failed, %s skipped\n' "$(grep -c '^PASS ' "$out/cases")" \
	"$(grep -c '^FAIL ' "$out/cases")" "$(grep -c '^SKIP ' "$out/cases")"
grep -q '^FAIL ' "$out/cases" && exit 1
[[ $rc -eq 0 ]] || exit 1
exit 0
}
