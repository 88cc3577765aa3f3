#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Everything "make check" verifies, as counted test cases:
#   build-R        procevent.ko builds against kernel R without a warning
#   vm-R           kernel R ran the selftests without a splat or timeout
#   R/prog/test    each selftest result on kernel R (selftests/vm/run.sh)
#   selftests-build  the selftests compile
#   tools-build    libprocevent, proceventctl and their tests compile
#   tools-host-check  the library tests pass against libprocevent.so here
#   checkpatch     checkpatch.pl --strict is clean on the module and uapi
#   sparse         "make C=2" reports nothing (against the 6.1 headers)
# R is every installed generic amd64 kernel with both /boot/vmlinuz-R and
# /usr/src/linux-headers-R; a 6.1 and a 6.12 kernel must be among them.
#
# The last line is "N passed, N failed, N skipped"; the exit status is
# non-zero when anything failed.  Details are in build/check/ and
# build/vm/R/.

set -uo pipefail

start=$SECONDS
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$root/build/check
rm -rf "$out"
mkdir -p "$out"
# Cases of check.sh itself; each kernel's go to cases-R, all of them to
# cases at the end.
other=$out/cases-other
: >"$other"

record() {
	echo "$1 $2" >>"$other"
}

section() {
	echo
	echo "=== $* ($((SECONDS - start))s)"
}

counts() {
	local file=$1
	printf '%s passed, %s failed, %s skipped' \
		"$(grep -c '^PASS ' "$file")" "$(grep -c '^FAIL ' "$file")" \
		"$(grep -c '^SKIP ' "$file")"
}

section "dependencies"
if ! "$root/scripts/deps.sh"; then
	echo "check: installing the dependencies failed" >&2
	exit 1
fi
if ! ksrc=$("$root/scripts/ksrc.sh"); then
	echo "check: no linux-source-6.1 tree" >&2
	exit 1
fi
echo "check: kernel source tree $ksrc"

section "selftests build"
if [[ -f $root/selftests/Makefile ]]; then
	if make -C "$root/selftests" KSRC="$ksrc" -j"$(nproc)" >"$out/selftests-build.log" 2>&1; then
		record PASS selftests-build
	else
		record FAIL selftests-build
		echo "check: the selftests do not build:"
		tail -n 40 "$out/selftests-build.log" | sed 's/^/  /'
	fi
else
	echo "check: no selftests/Makefile yet"
fi

section "tools build"
# libprocevent (static and shared), proceventctl and their tests; the VM
# runs go on without them if this fails (their tests then go missing).
if make -C "$root/tools" KSRC="$ksrc" -j"$(nproc)" >"$out/tools-build.log" 2>&1; then
	record PASS tools-build
else
	record FAIL tools-build
	echo "check: the tools do not build:"
	tail -n 40 "$out/tools-build.log" | sed 's/^/  /'
fi
# The library tests once more, linked against libprocevent.so through its
# pkg-config file, on this machine (the device tests skip here).
if make -C "$root/tools" KSRC="$ksrc" host-check >"$out/tools-host.log" 2>&1; then
	record PASS tools-host-check
else
	record FAIL tools-host-check
	tail -n 40 "$out/tools-host.log" | sed 's/^/  /'
fi

section "kernels"
kernels=()
for image in /boot/vmlinuz-*; do
	[[ -e $image ]] || continue
	r=${image#/boot/vmlinuz-}
	case $r in
	*-cloud-amd64|*-rt-amd64) continue ;;
	*-amd64) ;;
	*) continue ;;
	esac
	[[ -f /usr/src/linux-headers-$r/Makefile ]] && kernels+=("$r")
done
if [[ ${#kernels[@]} -gt 0 ]]; then
	mapfile -t kernels < <(printf '%s\n' "${kernels[@]}" | sort -V)
fi
echo "check: kernels: ${kernels[*]:-none}"
for want in 6.1 6.12; do
	found=0
	for r in ${kernels[@]+"${kernels[@]}"}; do
		[[ $r == "$want".* ]] && found=1
	done
	if [[ $found -eq 0 ]]; then
		echo "check: no $want kernel with headers installed"
		record FAIL "kernel-$want-installed"
	fi
done

vm_failed=0
for r in ${kernels[@]+"${kernels[@]}"}; do
	section "kernel $r"
	"$root/selftests/vm/run.sh" "$r"
	rc=$?
	summary=$root/build/vm/$r/summary
	if [[ -f $summary ]]; then
		grep -E '^(PASS|FAIL|SKIP) ' "$summary" >"$out/cases-$r"
	else
		echo "FAIL vm-$r" >"$out/cases-$r"
	fi
	[[ $rc -eq 0 ]] || vm_failed=1
done

section "checkpatch"
files=()
for f in "$root"/module/*.c "$root"/module/*.h "$root"/uapi/linux/procevent.h; do
	[[ -f $f ]] && files+=("${f#"$root"/}")
done
if [[ ${#files[@]} -eq 0 ]]; then
	echo "check: no module sources to check"
	record FAIL checkpatch
elif (cd "$root" && perl "$ksrc/scripts/checkpatch.pl" --strict --no-tree \
		--no-summary --terse --show-types -f "${files[@]}") \
		>"$out/checkpatch.log" 2>&1; then
	record PASS checkpatch
	echo "check: checkpatch clean on ${#files[@]} files"
else
	record FAIL checkpatch
	sed 's/^/  /' "$out/checkpatch.log"
fi

section "sparse"
sparse_kernel=
for r in ${kernels[@]+"${kernels[@]}"}; do
	[[ $r == 6.1.* ]] && sparse_kernel=$r
done
if [[ -z $sparse_kernel ]]; then
	echo "check: no 6.1 kernel headers for sparse"
	record FAIL sparse
elif "$root/scripts/build-module.sh" "/usr/src/linux-headers-$sparse_kernel" \
		"$out/sparse" C=2 2>/dev/null && [[ ! -s $out/sparse/warnings.log ]]; then
	record PASS sparse
	echo "check: sparse clean against $sparse_kernel"
else
	record FAIL sparse
	echo "check: sparse (C=2) against $sparse_kernel:"
	if [[ -s $out/sparse/warnings.log ]]; then
		sed 's/^/  /' "$out/sparse/warnings.log"
	else
		tail -n 20 "$out/sparse/build.log" | sed 's/^/  /'
	fi
fi

section "results"
cases=$out/cases
: >"$cases"
for r in ${kernels[@]+"${kernels[@]}"}; do
	echo "  $r: $(counts "$out/cases-$r")"
	cat "$out/cases-$r" >>"$cases"
done
echo "  other: $(counts "$other")"
cat "$other" >>"$cases"
if grep -q '^FAIL ' "$cases"; then
	echo "failed:"
	sed -n 's/^FAIL /  /p' "$cases"
fi
echo "elapsed: $((SECONDS - start))s"
counts "$cases"
echo

if grep -q '^FAIL ' "$cases" || [[ $vm_failed -ne 0 ]]; then
	exit 1
fi
exit 0
