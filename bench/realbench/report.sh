#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The realbench report: from DIR/KVER/{icount,tcg,tcg2}*/console.log to
# DIR/realbench.csv, DIR/table.txt (printed) and DIR/realbench.png.
#
#   bench/realbench/report.sh DIR KVER...
#
# realbench.csv, one row per kernel, workload and observer:
#   kernel,workload,observer,wall_ratio,events_seen,events_lost,late_exits,
#   exits_seen,wall_s,rc,tcg_wall_ratio,tcg_wall_s,tcg_events_seen,
#   tcg_events_lost,tcg_late_exits,tcg_exits_seen,tcg2_wall_ratio,
#   tcg2_wall_s,tcg2_events_seen,tcg2_events_lost,tcg2_late_exits,
#   tcg2_exits_seen
# wall_ratio and the counts are from the icount boot, tcg_* from the plain
# TCG boot with one CPU, tcg2_* from the plain TCG boot with two.  The ratio's base is the mean of the two runs with no observer
# (none, first, and none2, once everything is warm).  late_exits: process
# exits the observer's user space read after the parent's wait had
# returned (lnchk.c, pe_sub.c); "n/a" for strace, whose exit lines reach
# the checker through strace's buffered output (strace itself learns of
# each exit before the parent can reap it: ptrace holds the zombie).

set -euo pipefail

out=$1
shift
csv=$out/realbench.csv
echo "kernel,workload,observer,wall_ratio,events_seen,events_lost,late_exits,exits_seen,wall_s,rc,tcg_wall_ratio,tcg_wall_s,tcg_events_seen,tcg_events_lost,tcg_late_exits,tcg_exits_seen,tcg2_wall_ratio,tcg2_wall_s,tcg2_events_seen,tcg2_events_lost,tcg2_late_exits,tcg2_exits_seen" >"$csv"

for k in "$@"; do
	logs=()
	for f in "$out/$k"/icount*/console.log "$out/$k"/tcg*/console.log; do
		# tcg*/ also matches tcg2*/
		[[ -f $f ]] && logs+=("$f")
	done
	[[ ${#logs[@]} -gt 0 ]] || continue
	awk -F, -v k="$k" '
	FNR == 1 {
		m = "t"
		if (FILENAME ~ /\/icount[^\/]*\//) m = "i"
		if (FILENAME ~ /\/tcg2[^\/]*\//) m = "2"
	}
	/^RB-RESULT,/ {
		w = $2; o = $3
		if (!((w, o) in seen)) { seen[w, o] = 1 }
		if (!(w in wseen)) { wseen[w] = 1; wl[++nw] = w }
		if (!(o in oseen) && o != "none2") { oseen[o] = 1; ol[++no] = o }
		us[m, w, o] = $4; rc[m, w, o] = $5; ev[m, w, o] = $6
		ex[m, w, o] = $7; late[m, w, o] = $8; lost[m, w, o] = $9
	}
	function base(m, w,   a, b) {
		a = us[m, w, "none"]; b = us[m, w, "none2"]
		if (a == "" && b == "") return 0
		if (a == "") return b
		if (b == "") return a
		return (a + b) / 2
	}
	function ratio(m, w, o,   b) {
		b = base(m, w)
		if (us[m, w, o] == "" || b == 0) return ""
		if (o == "none") return "1.000"
		return sprintf("%.3f", us[m, w, o] / b)
	}
	function secs(m, w, o) {
		if (o == "none") return base(m, w) == 0 ? "" : sprintf("%.2f", base(m, w) / 1e6)
		return us[m, w, o] == "" ? "" : sprintf("%.2f", us[m, w, o] / 1e6)
	}
	function lt(m, w, o) {
		if (o == "strace" && late[m, w, o] != "") return "n/a"
		return late[m, w, o]
	}
	END {
		for (i = 1; i <= nw; i++) for (j = 1; j <= no; j++) {
			w = wl[i]; o = ol[j]
			r = rc["i", w, o]
			if (o == "none" && rc["i", w, "none2"] != "" && rc["i", w, "none2"] != 0)
				r = rc["i", w, "none2"]
			print k "," w "," o "," ratio("i", w, o) "," ev["i", w, o] "," lost["i", w, o] "," \
				lt("i", w, o) "," ex["i", w, o] "," secs("i", w, o) "," r "," \
				ratio("t", w, o) "," secs("t", w, o) "," ev["t", w, o] "," \
				lost["t", w, o] "," lt("t", w, o) "," ex["t", w, o] "," \
				ratio("2", w, o) "," secs("2", w, o) "," ev["2", w, o] "," \
				lost["2", w, o] "," lt("2", w, o) "," ex["2", w, o]
		}
	}' "${logs[@]}" >>"$csv"
done

# The table: the icount figures, the TCG ratios (one and two CPUs) beside.
awk -F, '
function late(a, b) {
	if (a == "-" || a == "") return "-"
	return a == "n/a" ? "n/a" : a "/" b
}
NR > 1 {
	if ($1 != k) {
		k = $1
		printf "\nkernel %s\n", k
		printf "%-8s %-10s %8s %7s %7s %7s %7s %5s %11s %11s %11s\n", "workload", "observer", \
			"wall_s", "ratio", "tcg", "tcg2", "seen", "lost", "late/exits", "tcg_late", "tcg2_late"
	}
	l = late($7, $8); tl = late($15, $16); t2l = late($21, $22)
	if ($4 == "") l = "(not run)"
	if ($11 == "") tl = "(not run)"
	if ($17 == "") t2l = "(not run)"
	printf "%-8s %-10s %8s %7s %7s %7s %7s %5s %11s %11s %11s%s\n", $2, $3, $9, $4, $11, $17, \
		$5, $6, l, tl, t2l, ($10 != "" && $10 != 0) ? "  (workload failed: " $10 ")" : ""
}' "$csv" | tee "$out/table.txt"

# The plot: wall time against no observer, one group of bars per
# workload, one panel per clock (icount: path length; TCG: host time, one
# CPU and two).
if command -v gnuplot >/dev/null; then
	dat=$out/realbench.dat
	first=${1:-}
	awk -F, -v k="$first" '
	NR > 1 && $1 == k && $3 != "none" {
		if (!($2 in ws)) { ws[$2] = 1; wl[++nw] = $2 }
		if (!($3 in os)) { os[$3] = 1; ol[++no] = $3 }
		r[0, $2, $3] = $4; r[1, $2, $3] = $11; r[2, $2, $3] = $17
	}
	END {
		for (p = 0; p < 3; p++) {
			if (p) printf "\n\n"
			printf "workload"
			for (j = 1; j <= no; j++) printf " %s", ol[j]
			printf "\n"
			for (i = 1; i <= nw; i++) {
				printf "%s", wl[i]
				for (j = 1; j <= no; j++)
					printf " %s", (r[p, wl[i], ol[j]] == "" ? 0 : r[p, wl[i], ol[j]])
				printf "\n"
			}
		}
	}' "$out/realbench.csv" >"$dat"
	nobs=$(head -n 1 "$dat" | wc -w)
	{
		echo "set terminal pngcairo size 1500,520 font 'sans,10'"
		echo "set output '$out/realbench.png'"
		echo "set multiplot layout 1,3 title 'realbench ($first): wall time with each observer / no observer'"
		echo "set style data histogram"
		echo "set style histogram clustered gap 1"
		echo "set style fill solid 0.8 border -1"
		echo "set key top left autotitle columnhead"
		echo "set grid ytics"
		echo "set yrange [0:*]"
		echo "set ylabel 'wall time / no observer (no bar: not run)'"
		echo "set title 'icount: guest instructions'"
		echo "plot for [c=2:$nobs] '$dat' index 0 using c:xtic(1)"
		echo "set title 'plain TCG, 1 CPU: host time (noisy)'"
		echo "plot for [c=2:$nobs] '$dat' index 1 using c:xtic(1)"
		echo "set title 'plain TCG, 2 CPUs: host time (noisy)'"
		echo "plot for [c=2:$nobs] '$dat' index 2 using c:xtic(1)"
		echo "unset multiplot"
	} | gnuplot 2>"$out/gnuplot.log" || echo "realbench: the plot failed (see $out/gnuplot.log)" >&2
	echo
	echo "realbench: $out/realbench.png"
fi
echo "realbench: $csv"
