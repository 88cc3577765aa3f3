#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the procevent benchmark in QEMU and report it (make bench).
#
#   bench/run.sh [--out DIR] [--report] [KVER...]
#
# KVER defaults to every installed generic amd64 kernel with headers (a 6.1
# and a 6.12 kernel on Debian 12) and the newest generic 7.x kernel of
# scripts/kernels-7x.sh (sid or trixie-backports: its image, and the module
# built in its root; PEBENCH_7X=0 leaves it out).  A KVER of "7x" names
# that kernel among others.  For each kernel the script builds
# procevent.ko and bench/procevent_bench, packs a busybox initramfs whose
# /init runs only the benchmark, and boots it once per mode of
# PEBENCH_MODES (by default icount, smpicount, profile and tcg):
#   icount  -icount shift=0,sleep=off -smp 1: the guest clock advances one
#           ns per guest instruction, so a figure is a path length,
#           whatever else the host runs (two boots of a held exit still
#           differ by up to 0.5 us, on 6.12 by more: where the guest
#           schedules; PEBENCH_BOOTS below).  The headline.
#   tcg     plain TCG (PEBENCH_TCG_SMP CPUs, default 1): wall-clock time,
#           host time; noisy when the host is busy.
#   profile (also make profile alone) icount with the QEMU
#           plugin bench/profile/icount_prof.c: one marked run of the fork,
#           held-exit, pipe, seccomp and burst loops, counted instruction
#           by instruction; bench/profile/report.sh prints instructions per
#           function and per group (KVER/profile/report.txt), and per
#           iteration the events that cost an emulator time beyond the
#           instructions: mm switches, CR3 writes (each flushes QEMU's
#           software TLB), invlpg, flush_tlb_* calls, idle entries and the
#           idle time the clock skipped, timer interrupts, IPIs, memory
#           accesses and refills of a model of QEMU's TLB.
#   smp     plain TCG with PEBENCH_SMP_CPUS CPUs (default 2), section smp
#           only: each round trip with the answering side (pipe echo,
#           seccomp supervisor, subscriber) pinned to CPU 1 and the asking
#           side to CPU 0, seccomp also with SECCOMP_USER_NOTIF_FD_SYNC_
#           WAKE_UP (6.6+), and exits raised by 1, 2 and 4 processes at
#           once (pinned round-robin) with and without one subscriber
#           acking in batches.
#   smpicount  section smp under -icount shift=0,sleep=off with
#           PEBENCH_SMP_CPUS CPUs: the cross-CPU round trips and the
#           producers as path lengths (all CPUs' instructions, one after
#           the other: the vCPUs take turns in one host thread; when all
#           are idle the clock jumps to the next timer, at no host cost).
#           Debian 12's QEMU cannot boot a second CPU under -icount; this
#           boot uses the QEMU of Debian sid that bench/qemu-sid.sh makes
#           and caches (as root; without it the mode is left out).
#   smpprofile  the profile's loops with the same pinning, on plain TCG
#           with PEBENCH_SMP_CPUS CPUs run by one host thread
#           (thread=single): the plugin counts the instructions of both
#           CPUs (report.sh leaves the idle loop out), and with them
#           the tick and timer work of the host time an iteration takes.
#   smpicountprofile  (not in the default modes) the profile's loops with
#           the same pinning under -icount with PEBENCH_SMP_CPUS CPUs, on
#           the QEMU of smpicount, with the plugin built for its plugin
#           interface: the instructions of both CPUs per function, as a
#           path length (smpprofile's counts include what host time
#           brings).
#   tcgprofile  (not in the default modes) the same plugin on a plain TCG
#           boot, without its memory callbacks: which of those events the
#           wall clock brings about (timer ticks, idling, preemptions that
#           a guest 5 times slower than hardware meets 5 times as often).
# --report only reports on the consoles of an earlier run.
# Every ratio is taken within one boot.  Results, in DIR (build/bench):
#   bench.csv     kernel,clock,kind,name,value,op,target,verdict,description
#   samples.csv   kernel,clock,name,run,ns (every run of every figure)
#   bench.png     added cost per held exit against the number of held tasks
#   table.txt     the table printed at the end
#   KVER/CLOCK/console.log
#
# Environment:
#   PEBENCH_MODES     boots per kernel (default "icount smpicount profile tcg")
#   PEBENCH_REPS      runs per figure, the median is reported (default 7)
#   PEBENCH_SCALE     loop lengths in percent (default 50)
#   PEBENCH_TCG_REPS, PEBENCH_TCG_SCALE  the same for the plain TCG boot
#                     (default 5 and 25: wall-clock TCG is several times
#                     slower than icount on a busy host)
#   PEBENCH_TCG_SMP   CPUs of the plain TCG boot (default 1; with 2, every
#                     cross-CPU wake-up waits for the host to schedule the
#                     other vCPU thread, milliseconds on a busy host)
#   PEBENCH_ONLY      run only these sections (idle others subscribers
#                     exec burst scale; default all)
#   PEBENCH_TIMEOUT   limit per boot in seconds (default 1800: the icount,
#                     smpicount and profile boots of all kernels share the
#                     host at once)
#   PEBENCH_BOOTS     icount and smpicount boots per kernel (default 1).
#                     With more, the table shows per kernel and clock the
#                     median over the boots of each figure and of each
#                     ratio (every ratio is still taken within one boot),
#                     as clocks "icount-median" and "smpicount-median";
#                     bench.csv and samples.csv keep each boot (icount,
#                     icount-2, ...).  Boots can settle into different
#                     scheduling states (README: "One boot cheap, the next
#                     dear"); the median is the typical one.
#   PEBENCH_HOLD_WARN the module's hold_warn_secs for the sections that do
#                     not reload it (0: sleeping holds arm no timer)
#   PEBENCH_SLICE_US  a slice of this many us for the answering sides
#                     (subscriber, pipe echo, seccomp supervisor): 6.12 and
#                     later let a task with a shorter slice preempt on
#                     wake-up (README: "One boot cheap, the next dear")
#
# Exit status: 0 when every boot finished (targets missed or not), 1 when a
# boot failed, 2 on a usage or setup error.

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
here=$root/bench
out=$root/build/bench
report_only=0

usage() {
	sed -n '4,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--report) report_only=1; shift ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) echo "bench: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done

modes=${PEBENCH_MODES:-icount smpicount profile tcg}
reps=${PEBENCH_REPS:-7}
scale=${PEBENCH_SCALE:-50}
tcg_reps=${PEBENCH_TCG_REPS:-5}
tcg_scale=${PEBENCH_TCG_SCALE:-25}
tcg_smp=${PEBENCH_TCG_SMP:-1}
smp_cpus=${PEBENCH_SMP_CPUS:-2}
timeout_s=${PEBENCH_TIMEOUT:-1800}
boots=${PEBENCH_BOOTS:-1}
if ! [[ $boots =~ ^[1-9][0-9]*$ ]]; then
	echo "bench: PEBENCH_BOOTS must be a positive number, not '$boots'" >&2
	exit 2
fi

# The boots of mode $1 of kernel $2 found in $out: icount-2... are the
# further icount (and smpicount) boots.  A run removes the further boots
# of an earlier run that it does not make again (below), so --report finds
# those of the last run, whatever PEBENCH_BOOTS it is given.
runs_of() {
	local d
	echo "$1"
	if [[ $1 == icount || $1 == smpicount ]]; then
		for d in "$out/$2/$1"-[0-9]*; do
			if [[ -d $d ]]; then
				echo "${d##*/}"
			fi
		done | sort -t- -k2,2n
	fi
}

kernels=()
want_7x=0
for k in "$@"; do
	if [[ $k == 7x ]]; then
		want_7x=1
	else
		kernels+=("$k")
	fi
done
if [[ $# -eq 0 ]]; then
	mapfile -t kernels < <("$root/scripts/installed-kernels.sh" --generic)
	if [[ ${#kernels[@]} -eq 0 ]]; then
		echo "bench: no kernel with /boot/vmlinuz-R and /usr/src/linux-headers-R (run scripts/deps.sh)" >&2
		exit 2
	fi
	[[ ${PEBENCH_7X:-1} == 0 ]] || want_7x=1
fi

# The newest generic 7.x kernel of scripts/kernels-7x.sh (sid or
# trixie-backports, whichever is newer), with the module built in its
# root: its image and module come from there, not from /boot.
declare -A k_image=() k_ko=()
if [[ $want_7x -eq 1 && $report_only -eq 0 ]]; then
	echo "bench: scripts/kernels-7x.sh: the newest 7.x kernel"
	mkdir -p "$out"
	if list=$("$root/scripts/kernels-7x.sh" 2>"$out/kernels-7x.log"); then
		newest=$(awk -F'\t' '$1 !~ /-rt-/ && $6 != "" { print $1 "\t" $2 "\t" $4 "\t" $6 }' <<<"$list" |
			sort -V | tail -n 1)
		IFS=$'\t' read -r r image ko res <<<"$newest"
		if [[ -n $r && $(cat "$res/build" 2>/dev/null) == pass ]]; then
			kernels+=("$r")
			k_image[$r]=$image
			k_ko[$r]=$ko
		else
			echo "bench: no 7.x kernel with a clean module build (log $out/kernels-7x.log)" >&2
			failed_7x=1
		fi
	else
		echo "bench: scripts/kernels-7x.sh failed (log $out/kernels-7x.log); no 7.x kernel" >&2
		failed_7x=1
	fi
elif [[ $want_7x -eq 1 ]]; then
	# --report: the 7.x kernels of the earlier run, by their directories.
	for d in "$out"/7.*; do
		[[ -d $d ]] && kernels+=("${d##*/}")
	done
fi

# --- tools ------------------------------------------------------------------

as_root=()
[[ $(id -u) -eq 0 ]] || as_root=(sudo)
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v busybox >/dev/null; then
	"$root/scripts/deps.sh"
fi
if ! command -v gnuplot >/dev/null; then
	echo "bench: installing gnuplot-nox for the plot"
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q gnuplot-nox >/dev/null
fi
busybox=$(command -v busybox)
if readelf -l "$busybox" 2>/dev/null | grep -q 'program interpreter'; then
	echo "bench: a static busybox is needed (apt-get install busybox-static)" >&2
	exit 2
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
[[ $report_only -eq 1 ]] || make -s -C "$here" OUTPUT="$out/bin"
bench_bin=$out/bin/procevent_bench
plugin=$out/bin/icount_prof.so
plugin7=$out/bin/icount_prof_v7.so
qemu_sid=
if [[ " $modes " == *" smpicount"* && $report_only -eq 0 ]]; then
	if ! qemu_sid=$("${as_root[@]}" "$here/qemu-sid.sh"); then
		echo "bench: no QEMU for the smpicount clocks (bench/qemu-sid.sh): leaving them out" >&2
		modes=$(echo " $modes " | sed 's/ smpicount / /; s/ smpicountprofile / /; s/^ *//; s/ *$//')
		failed=1
	fi
fi
if [[ " $modes " == *profile* && $report_only -eq 0 ]]; then
	cc -shared -fPIC -O2 -Wall -Wextra -Wno-unused-parameter -Werror \
		-o "$plugin" "$here/profile/icount_prof.c"
	cc -shared -fPIC -O2 -Wall -Wextra -Wno-unused-parameter -Werror \
		-DPE_PLUGIN_API=7 -o "$plugin7" "$here/profile/icount_prof.c"
fi

# --- one initramfs per kernel -----------------------------------------------

# A newc header for a file without data (the console node, the trailer):
# written by hand so that packing needs no mknod privilege.
newc_entry() {
	local name=$1 mode=$2 major=$3 minor=$4 ino=$5
	local namesize=$((${#name} + 1))
	local pad=$(((4 - (110 + namesize) % 4) % 4))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		"$ino" "$mode" 0 0 1 0 0 0 0 "$major" "$minor" "$namesize" 0
	printf '%s\0' "$name"
	head -c "$pad" /dev/zero
}

pack() {
	local kver=$1 dir=$out/$1 stage
	if [[ -n ${k_ko[$kver]:-} ]]; then
		mkdir -p "$dir/module"
		cp "${k_ko[$kver]}" "$dir/module/procevent.ko"
	else
		echo "bench: $kver: building procevent.ko"
		"$root/scripts/build-module.sh" "/usr/src/linux-headers-$kver" "$dir/module"
	fi
	stage=$dir/initramfs
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp}
	cp "$busybox" "$stage/bin/busybox"
	for applet in sh mount poweroff grep; do
		ln -sf busybox "$stage/bin/$applet"
	done
	cp "$dir/module/procevent.ko" "$stage/procevent.ko"
	cp "$bench_bin" "$stage/procevent_bench"
	cp "$here/init.sh" "$stage/init"
	chmod 755 "$stage/init"
	{
		(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
			cpio --null -o -H newc -R 0:0 --quiet)
		newc_entry dev/console $((0020600)) 5 1 1
		newc_entry 'TRAILER!!!' 0 0 0 0
	} | gzip -1 >"$dir/initramfs.cpio.gz"
}

# --- the boots --------------------------------------------------------------

# No debugging options here (run.sh for the tests adds slab poisoning and
# KFENCE sampling): they would be timed too.
append="console=ttyS0 quiet loglevel=3 panic=-1 oops=panic"

boot() {
	local kver=$1 mode=${2%%-*} dir=$out/$1/$2 accel qemu=qemu-system-x86_64
	mkdir -p "$dir"
	local args="PEBENCH_ONLY=${PEBENCH_ONLY:-}"
	[[ $mode == smp ]] && args="PEBENCH_ONLY=smp"
	[[ -n ${PEBENCH_HOLD_WARN:-} ]] && args+=" PEBENCH_HOLD_WARN=$PEBENCH_HOLD_WARN"
	[[ -n ${PEBENCH_SLICE_US:-} ]] && args+=" PEBENCH_SLICE_US=$PEBENCH_SLICE_US"
	case $mode in
	icount)
		accel=(-accel tcg -icount shift=0,sleep=off -smp 1)
		args+=" PEBENCH_REPS=$reps PEBENCH_SCALE=$scale"
		;;
	tcg)
		accel=(-accel tcg -smp "$tcg_smp")
		args+=" PEBENCH_REPS=$tcg_reps PEBENCH_SCALE=$tcg_scale"
		;;
	profile)
		accel=(-accel tcg -icount shift=0,sleep=off -smp 1
		       -plugin "$plugin,out=$dir/icount_prof.out")
		args+=" PEBENCH_PROFILE=1 PEBENCH_SCALE=$scale nokaslr"
		;;
	smp)
		accel=(-accel tcg,thread=multi -smp "$smp_cpus")
		args+=" PEBENCH_REPS=$tcg_reps PEBENCH_SCALE=$tcg_scale"
		;;
	smpicountprofile)
		accel=(-accel tcg -icount shift=0,sleep=off -smp "$smp_cpus"
		       -plugin "$plugin7,out=$dir/icount_prof.out")
		args+=" PEBENCH_PROFILE=1 PEBENCH_PEER=1 PEBENCH_SCALE=$scale nokaslr"
		qemu=$qemu_sid
		;;
	smpicount)
		accel=(-accel tcg -icount shift=0,sleep=off -smp "$smp_cpus")
		args="PEBENCH_ONLY=smp PEBENCH_REPS=$reps PEBENCH_SCALE=$scale"
		[[ -n ${PEBENCH_HOLD_WARN:-} ]] && args+=" PEBENCH_HOLD_WARN=$PEBENCH_HOLD_WARN"
		[[ -n ${PEBENCH_SLICE_US:-} ]] && args+=" PEBENCH_SLICE_US=$PEBENCH_SLICE_US"
		qemu=$qemu_sid
		;;
	smpprofile)
		accel=(-accel tcg,thread=single -smp "$smp_cpus"
		       -plugin "$plugin,out=$dir/icount_prof.out,mem=off")
		args+=" PEBENCH_PROFILE=1 PEBENCH_PEER=1 PEBENCH_SCALE=$scale nokaslr"
		;;
	tcgprofile)
		accel=(-accel tcg -smp 1
		       -plugin "$plugin,out=$dir/icount_prof.out,mem=off")
		args+=" PEBENCH_PROFILE=1 PEBENCH_SCALE=$scale nokaslr"
		;;
	*) echo "bench: unknown mode $mode" >&2; return 2 ;;
	esac
	local start=$SECONDS rc=0
	timeout -k 10 "$timeout_s" "$qemu" "${accel[@]}" -m 1G \
		-nodefaults -no-user-config -display none -serial stdio \
		-no-reboot -kernel "${k_image[$kver]:-/boot/vmlinuz-$kver}" \
		-initrd "$out/$kver/initramfs.cpio.gz" -append "$append $args" \
		</dev/null 2>&1 | tr -d '\r' >"$dir/console.log" || rc=$?
	echo "bench: $kver $2: VM ran $((SECONDS - start))s"
	if ! grep -q '^PEBENCH-DONE' "$dir/console.log"; then
		echo "bench: $kver $2: the benchmark did not finish (rc $rc):" >&2
		grep -E '^PEBENCH-(ERROR|SECTION)' "$dir/console.log" | tail -n 3 >&2 || true
		tail -n 15 "$dir/console.log" | sed 's/^/  | /' >&2
		return 1
	fi
}

failed=${failed_7x:-0}
if [[ $report_only -eq 0 ]]; then
for k in "${kernels[@]}"; do
	pack "$k"
	rm -rf "$out/$k"/icount-[0-9]* "$out/$k"/smpicount-[0-9]*
done

# icount (and profile) boots measure guest instructions, not host time:
# they may run side by side, the kernels of one wave at once.  The plain
# TCG boots run one at a time.
for ((wave = 1; wave <= boots; wave++)); do
	pids=()
	for k in "${kernels[@]}"; do
		for m in icount smpicount profile smpicountprofile; do
			[[ " $modes " == *" $m "* ]] || continue
			r=$m
			if [[ $wave -gt 1 ]]; then
				[[ $m == *profile ]] && continue
				r=$m-$wave
			fi
			echo "bench: $k $r: booting"
			boot "$k" "$r" &
			pids+=($!)
		done
	done
	for p in ${pids[@]+"${pids[@]}"}; do
		wait "$p" || failed=1
	done
done
for k in "${kernels[@]}"; do
	for m in $modes; do
		[[ $m == icount || $m == smpicount || $m == profile || $m == smpicountprofile ]] && continue
		echo "bench: $k $m: booting"
		boot "$k" "$m" || failed=1
	done
done
fi

# --- the report -------------------------------------------------------------

csv=$out/bench.csv
samples=$out/samples.csv
echo "kernel,clock,kind,name,value,op,target,verdict,description" >"$csv"
echo "kernel,clock,name,run,ns" >"$samples"
for k in "${kernels[@]}"; do
	for m in profile tcgprofile smpprofile smpicountprofile; do
		[[ " $modes " == *" $m "* ]] || continue
		d=$out/$k/$m
		[[ -s $d/icount_prof.out ]] || continue
		"$here/profile/report.sh" "$d/console.log" "$d/icount_prof.out" \
			>"$d/report.txt"
		echo "bench: $k: guest instructions per iteration ($m)"
		cat "$d/report.txt"
		echo
	done
done

columns=()
for k in "${kernels[@]}"; do
	for m in $(for m in $modes; do runs_of "$m" "$k"; done); do
		[[ $m == *profile ]] && continue
		log=$out/$k/$m/console.log
		grep -q '^PEBENCH-DONE' "$log" 2>/dev/null || continue
		n=$(runs_of "${m%%-*}" "$k" | wc -l)
		[[ $n -gt 1 ]] || columns+=("$k/$m")
		awk -F, -v k="$k" -v m="$m" '
		/^PEBENCH-METRIC,/ {
			print k "," m ",metric," $2 "," $3 ",,,," $4
		}
		/^PEBENCH-RATIO,/ {
			v = "-"
			if ($4 == "le") v = ($3 <= $5) ? "met" : "MISSED"
			if ($4 == "ge") v = ($3 >= $5) ? "met" : "MISSED"
			t = ($4 == "info") ? "" : $5
			print k "," m ",ratio," $2 "," $3 "," $4 "," t "," v "," $6
		}' "$log" >>"$csv"
		awk -F, -v k="$k" -v m="$m" '/^PEBENCH-SAMPLE,/ {
			print k "," m "," $2 "," $3 "," $4 }' "$log" >>"$samples"
	done
done

# Several icount boots: per kernel and clock, the median of each figure
# and ratio over the boots that finished, its verdict taken again.
medians=
for k in "${kernels[@]}"; do
	for clock in icount smpicount; do
		[[ " $modes " == *" $clock "* ]] || continue
		[[ $(runs_of "$clock" "$k" | wc -l) -gt 1 ]] || continue
		awk -F, -v k="$k" -v c="$clock" '
		$1 == k && ($2 == c || substr($2, 1, length(c) + 1) == c "-") &&
		$2 !~ /-median$/ && $3 != "kind" {
			key = $3 "," $4
			if (!(key in seen)) { seen[key] = 1; order[++n] = key }
			nv[key]++; v[key, nv[key]] = $5
			op[key] = $6; tg[key] = $7; desc[key] = $9
			for (i = 10; i <= NF; i++) desc[key] = desc[key] "," $i
		}
		END {
			for (j = 1; j <= n; j++) {
				key = order[j]; m = nv[key]
				for (a = 1; a <= m; a++) x[a] = v[key, a] + 0
				for (a = 2; a <= m; a++)
					for (b = a; b > 1 && x[b - 1] > x[b]; b--) {
						t = x[b]; x[b] = x[b - 1]; x[b - 1] = t
					}
				med = (m % 2) ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2
				split(key, kk, ",")
				verdict = "-"
				if (kk[1] == "ratio" && op[key] == "le") verdict = (med <= tg[key]) ? "met" : "MISSED"
				if (kk[1] == "ratio" && op[key] == "ge") verdict = (med >= tg[key]) ? "met" : "MISSED"
				if (kk[1] == "metric") verdict = ""
				printf "%s,%s-median,%s,%s,%.*f,%s,%s,%s,%s\n", k, c, kk[1], kk[2], (kk[1] == "ratio" ? 3 : 1), med, op[key], tg[key], verdict, desc[key]
			}
		}' "$csv" >"$csv.median"
		if [[ -s $csv.median ]]; then
			cat "$csv.median" >>"$csv"
			columns+=("$k/$clock-median")
			medians+=" $k/$clock: $(awk -F, -v k="$k" -v c="$clock" '$1 == k && ($2 == c || substr($2, 1, length(c) + 1) == c "-") && $2 !~ /-median$/ && !($2 in b) { b[$2] = 1; n++ } END { print n + 0 }' "$csv") boots;"
		fi
		rm -f "$csv.median"
	done
done

if [[ ${#columns[@]} -eq 0 ]]; then
	only_profiles=1
	for m in $modes; do
		[[ $m == *profile ]] || only_profiles=0
	done
	[[ $only_profiles -eq 1 ]] && exit $failed
	echo "bench: no boot finished" >&2
	exit 1
fi

# One row per figure, one column per boot.  Ratios carry their verdict.
[[ -n $medians ]] && echo "bench: medians over the boots that finished (each boot in $csv):$medians"
awk -F, -v cols="${columns[*]}" '
function short(kc,   a, b) {
	split(kc, a, "/"); split(a[1], b, ".")
	return b[1] "." b[2] " " a[2]
}
NR > 1 {
	key = $1 "/" $2
	if (!($4 in seen)) { seen[$4] = 1; order[++n] = $4; kind[$4] = $3 }
	val[$4, key] = $5; verdict[$4, key] = $8
	op[$4] = $6; target[$4] = $7; desc[$4] = $9
}
END {
	nc = split(cols, c, " ")
	printf "%-26s %-8s", "ratio", "target"
	for (i = 1; i <= nc; i++) printf " %19s", short(c[i])
	printf "\n"
	for (j = 1; j <= n; j++) {
		r = order[j]
		if (kind[r] != "ratio") continue
		t = op[r] == "le" ? "<= " target[r] : op[r] == "ge" ? ">= " target[r] : "-"
		printf "%-26s %-8s", r, t
		for (i = 1; i <= nc; i++) {
			v = val[r, c[i]]
			if (v == "") { printf " %19s", "?"; continue }
			m = verdict[r, c[i]]
			printf " %12.3f %-6s", v, (m == "-" ? "" : m)
		}
		printf "  %s\n", desc[r]
	}
	printf "\n%-26s %-8s", "figure (us)", ""
	for (i = 1; i <= nc; i++) printf " %19s", short(c[i])
	printf "\n"
	for (j = 1; j <= n; j++) {
		r = order[j]
		if (kind[r] != "metric") continue
		printf "%-26s %-8s", r, ""
		for (i = 1; i <= nc; i++) {
			v = val[r, c[i]]
			if (v == "") printf " %19s", "?"
			else printf " %19.2f", v / 1000
		}
		printf "  %s\n", desc[r]
	}
}' "$csv" | tee "$out/table.txt"

# The plot: added cost per held exit against the number of held tasks,
# one panel per clock (icount figures are path lengths, TCG ones host time).
dat=$out/scale.dat
: >"$dat"
declare -A plots=()
idx=0
for col in "${columns[@]}"; do
	k=${col%/*}
	m=${col#*/}
	pts=
	for h in 1 10 100 1000; do
		v=$(awk -F, -v k="$k" -v m="$m" -v n="held${h}_added" \
			'$1 == k && $2 == m && $4 == n { print $5 / 1000 }' "$csv")
		[[ -n $v ]] && pts+="$h $v"$'\n'
	done
	# A boot without section scale has nothing to plot.
	[[ -n $pts ]] || continue
	printf '# %s\n%s\n\n' "$col" "$pts" >>"$dat"
	short=$(echo "$k" | cut -d. -f1,2)
	m=${m%%-*}
	plots[$m]+="${plots[$m]:+,} '$dat' index $idx with linespoints lw 2 pt 7 title '$short'"
	idx=$((idx + 1))
done
[[ ${#plots[@]} -gt 0 ]] && {
	echo "set terminal pngcairo size 1100,520 font 'sans,10'"
	echo "set output '$out/bench.png'"
	echo "set multiplot layout 1,${#plots[@]} title 'procevent: added cost per held exit (one subscriber, RECV+ACK) against tasks held at once'"
	echo "set xlabel 'tasks held at once'"
	echo "set ylabel 'microseconds per event'"
	echo "set logscale x"
	echo "set xrange [0.7:1500]"
	echo "set key bottom right"
	echo "set grid"
	for m in $modes; do
		[[ -n ${plots[$m]:-} ]] || continue
		case $m in
		icount) echo "set title 'icount: guest instructions (1 ns each)'; set yrange [0:*]" ;;
		*) echo "set title 'plain TCG: host time (noisy)'; set autoscale y" ;;
		esac
		echo "plot ${plots[$m]}"
	done
	echo "unset multiplot"
} | gnuplot

echo
echo "bench: $csv"
echo "bench: $samples"
[[ ${#plots[@]} -gt 0 ]] && echo "bench: $out/bench.png"
exit $failed
