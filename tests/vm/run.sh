#!/usr/bin/env bash
# The Linux kernel NFS client against nfs4d, in a qemu guest (TCG, no KVM).
#
# Builds (once, cached under BUILD_DIR/vm-cache) a guest from Debian packages —
# the kernel of linux-image-amd64 and busybox-static, fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` — then packs an initramfs
# with nfs4d (and the shared libraries it needs), the NFS client modules, a
# static helper and the scenario scripts in tests/vm/guest/, boots it with a
# hard time limit and reads the results from the serial console.  nfs4d runs
# inside the guest; the guest's kernel mounts it over the guest's loopback.
#
# Usage: tests/vm/run.sh [options]
#   --nfs4d PATH        nfs4d binary (default: $NFS4D_BIN, else BUILD_DIR/src/main/nfs4d)
#   --build-dir DIR     build directory holding the cache (default: $BUILD_DIR, else build/release)
#   --scenarios "1 3"   scenarios to run (default: all, 1-7; 0 is a smoke test)
#   --backends "mem vfs" backends to run each scenario on (default: both)
#   --files N           files in scenario 1's tree (default 500)
#   --log-level LEVEL   nfs4d's --log-level in the guest (default info; debug is slower)
#   --timeout SECONDS   hard limit for the whole guest run (default 600)
#   --scenario-limit S  the guest's watchdog per scenario and backend (default 400)
#   --smp N             guest CPUs (default 2)
#   --verbose           echo the guest's console while it runs
# Exit status: 0 when every scenario passed on every backend, 1 otherwise,
# 2 on a usage or setup error.  On failure the guest's dmesg NFS/RPC lines and
# the tail of nfs4d's log are printed (the guest dumps them to the console).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

nfs4d=${NFS4D_BIN:-}
build_dir=${BUILD_DIR:-}
scenarios="1 2 3 4 5 6 7"
backends="mem vfs"
files=500
log_level=info
timeout_s=600
scenario_limit=400
smp=2
verbose=0
while [ $# -gt 0 ]; do
	case "$1" in
	--nfs4d) nfs4d=$2; shift 2 ;;
	--build-dir) build_dir=$2; shift 2 ;;
	--scenarios) scenarios=$2; shift 2 ;;
	--backends) backends=$2; shift 2 ;;
	--files) files=$2; shift 2 ;;
	--log-level) log_level=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--scenario-limit) scenario_limit=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--verbose) verbose=1; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ -n "$build_dir" ] || build_dir=$repo/build/release
build_dir=$(cd "$build_dir" && pwd)
[ -n "$nfs4d" ] || nfs4d=$build_dir/src/main/nfs4d
[ -x "$nfs4d" ] || { echo "run.sh: no nfs4d at $nfs4d (build first)" >&2; exit 2; }

say() { echo "vm: $*"; }
die() { echo "vm: setup error: $*" >&2; exit 2; }
for t in qemu-system-x86_64 cpio gzip objcopy gcc timeout ldd; do
	command -v "$t" >/dev/null || die "$t is missing (scripts/deps.sh installs it)"
done

cache=$build_dir/vm-cache
mkdir -p "$cache"
t_start=$(date +%s)

# ---- 1. The guest's packages (cached) --------------------------------------
# linux-image-amd64 is a metapackage; its Depends names the real kernel
# package (linux-image-6.1.0-N-amd64).  The cache is keyed by that name and
# its version, so a kernel update in the archive builds a new guest.
resolve_kernel() {
	apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1
}
apt_updated=0
apt_update() { # once, and only as root (scripts/deps.sh may have skipped it)
	[ "$apt_updated" = 0 ] && [ "$(id -u)" = 0 ] || return 1
	apt_updated=1
	say "apt-get update"
	apt-get update -qq >/dev/null 2>&1
}
kpkg=$(resolve_kernel)
if [ -z "$kpkg" ] && ! ls -d "$cache"/guest-*/.done >/dev/null 2>&1 && apt_update; then
	kpkg=$(resolve_kernel)
fi
guest=""
if [ -n "$kpkg" ]; then
	kver=$(apt-cache policy "$kpkg" | sed -n 's/^ *Candidate: //p')
	bver=$(apt-cache policy busybox-static | sed -n 's/^ *Candidate: //p')
	guest=$cache/guest-$kpkg-$kver-bb$bver
	guest=${guest//:/_}
elif ls -d "$cache"/guest-*/.done >/dev/null 2>&1; then
	# No package lists (apt-get update not run): use what was built before.
	guest=$(dirname "$(ls -d "$cache"/guest-*/.done | tail -1)")
	say "apt has no linux-image-amd64; reusing $guest"
else
	die "apt-cache knows no linux-image-amd64 (run scripts/deps.sh, which runs apt-get update)"
fi
if [ ! -e "$guest/.done" ]; then
	say "building the guest in $guest (apt-get download $kpkg busybox-static)"
	rm -rf "$guest"
	mkdir -p "$guest/debs" "$guest/x"
	download() {
		(cd "$guest/debs" && apt-get download -q "$kpkg" busybox-static 2>&1 |
			grep -v '^W: Download is performed unsandboxed' || true)
		[ "$(ls "$guest"/debs/*.deb 2>/dev/null | wc -l)" = 2 ]
	}
	# Stale package lists name versions the archive no longer has: update once.
	download || { apt_update && download; } || die "apt-get download $kpkg busybox-static failed"
	for d in "$guest"/debs/*.deb; do dpkg-deb -x "$d" "$guest/x"; done
	rm -rf "$guest/debs"
	touch "$guest/.done"
fi
vmlinuz=$(ls "$guest"/x/boot/vmlinuz-* | head -1)
moddir=$(ls -d "$guest"/x/lib/modules/*/ | head -1)
busybox=$guest/x/bin/busybox
[ -f "$vmlinuz" ] && [ -d "$moddir" ] && [ -x "$busybox" ] || die "incomplete guest in $guest"

# ---- 2. Modules in dependency order ----------------------------------------
# The package has no modules.dep (depmod runs at install time), so the
# dependencies are read from each module's .modinfo section.
declare -A modpath=() seen=()
while IFS= read -r f; do
	n=$(basename "$f" .ko)
	modpath[$n]=$f
done < <(find "$moddir" -name '*.ko')
order=()
moddeps() {
	objcopy -O binary --only-section=.modinfo "${modpath[$1]}" /dev/stdout 2>/dev/null |
		tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' '
}
addmod() {
	local m=${1//-/_} d
	[ -n "${seen[$m]:-}" ] && return 0
	seen[$m]=1
	[ -n "${modpath[$m]:-}" ] || die "module $m not in $moddir"
	for d in $(moddeps "$m"); do addmod "$d"; done
	order+=("$m")
}
# nfsv4 pulls in nfs, sunrpc, lockd, grace, fscache, netfs, dns_resolver;
# veth is for the two-client scenarios (network namespaces).
for m in nfsv4 veth; do addmod "$m"; done

# ---- 3. The initramfs -------------------------------------------------------
work=$build_dir/vm-run
rm -rf "$work"
mkdir -p "$work"
root=$work/root
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,mnt,srv,lib/modules,vm}
cp "$busybox" "$root/bin/busybox"
for a in $("$busybox" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
done
for m in "${order[@]}"; do cp "${modpath[$m]}" "$root/lib/modules/$m.ko"; done
printf '%s\n' "${order[@]}" >"$root/lib/modules/load.order"
gcc -static -O2 -Wall -Werror -o "$root/bin/vmhelper" "$here/vmhelper.c"
cp "$nfs4d" "$root/bin/nfs4d"
# nfs4ctl: scenarios 6 and 7 check nfs4d's own account of its clients with it.
nfs4ctl=$build_dir/tools/nfs4ctl/nfs4ctl
[ -x "$nfs4ctl" ] || { echo "run.sh: no nfs4ctl at $nfs4ctl (build first)" >&2; exit 2; }
cp "$nfs4ctl" "$root/bin/nfs4ctl"
# nfs4d's shared libraries, at the paths the dynamic loader expects.
ldd "$nfs4d" | awk '/=>/ { print $3 } /^[ \t]*\/.*ld-linux/ { print $1 }' | while read -r lib; do
	[ -f "$lib" ] || continue
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
cp "$here"/guest/*.sh "$root/vm/"
# Scenario 3's real source tree: the project's own sources, as they are now.
tar -C "$repo" -cf "$root/vm/tree.tar" --exclude-vcs --numeric-owner --owner=1000 --group=100 \
	src tests docs
cp "$here/guest/init" "$root/init"
chmod +x "$root/init" "$root"/vm/*.sh
echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
ln -s /proc/self/mounts "$root/etc/mtab"
cat >"$root/vm/config" <<EOF
SCENARIOS="$scenarios"
BACKENDS="$backends"
FILES=$files
LOG_LEVEL=$log_level
SCENARIO_LIMIT=$scenario_limit
EOF
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 >"$work/initrd.gz")
t_built=$(date +%s)
say "guest ready ($(du -k "$work/initrd.gz" | cut -f1) KiB initramfs, modules: ${order[*]}) in $((t_built - t_start)) s"

# ---- 4. Boot --------------------------------------------------------------
# TCG only: /dev/kvm exists on these machines but hangs.  panic=1 with
# -no-reboot makes qemu exit if init dies; timeout(1) bounds everything else.
log=$work/console.log
say "booting (scenarios: $scenarios; backends: $backends; limit ${timeout_s}s)"
set +e
if [ "$verbose" = 1 ]; then
	timeout -k 10 "$timeout_s" qemu-system-x86_64 -accel tcg -cpu max -smp "$smp" -m 1024 \
		-nodefaults -display none -no-reboot -serial stdio \
		-kernel "$vmlinuz" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 panic=1 oops=panic loglevel=4 rdinit=/init" </dev/null 2>&1 | tee "$log"
	qrc=${PIPESTATUS[0]}
else
	timeout -k 10 "$timeout_s" qemu-system-x86_64 -accel tcg -cpu max -smp "$smp" -m 1024 \
		-nodefaults -display none -no-reboot -serial stdio \
		-kernel "$vmlinuz" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 panic=1 oops=panic loglevel=4 rdinit=/init" </dev/null >"$log" 2>&1
	qrc=$?
fi
set -e
t_end=$(date +%s)
tr -d '\r' <"$log" >"$log.txt"

# ---- 5. Results -----------------------------------------------------------
# The guest prints "VMTEST RESULT <scenario> <backend> PASS|FAIL <seconds>"
# per run and "VMTEST END" last.
fail=0
[ "$qrc" = 124 ] || [ "$qrc" = 137 ] && { echo "vm: FAIL: the guest did not finish within ${timeout_s}s"; fail=1; }
grep -q '^VMTEST END' "$log.txt" || { echo "vm: FAIL: the guest did not reach its end (qemu exit $qrc)"; fail=1; }
for b in $backends; do
	for s in $scenarios; do
		line=$(grep "^VMTEST RESULT $s $b " "$log.txt" | tail -1 || true)
		if [ -z "$line" ]; then
			echo "vm: FAIL: scenario $s on $b: no result"
			fail=1
		else
			echo "vm: ${line#VMTEST RESULT }"
			case "$line" in *" PASS "*) ;; *) fail=1 ;; esac
		fi
	done
done
grep -E '^VMTEST (NOTE|WARN)' "$log.txt" | sed 's/^VMTEST /vm: /' || true
if [ "$fail" = 0 ]; then
	# The scenarios' own reports (timings, notes).
	grep -E '^\[[0-9]+ [a-z]+\] ' "$log.txt" | grep -v '\] ok: ' || true
else
	echo "vm: ---- guest console (failure details; full log: $log.txt) ----"
	# Everything after init started (the scenarios' output, warnings of the
	# kernel — the guest boots with loglevel=4 — and, between VMTEST DUMP
	# markers, dmesg's NFS/RPC lines and the tail of nfs4d's log).
	if grep -q '^VMTEST INIT' "$log.txt"; then
		sed -n '/^VMTEST INIT/,$p' "$log.txt" | tail -n 600
	else
		tail -n 100 "$log.txt"
	fi
	echo "vm: ---- end of guest console ----"
fi
say "total $((t_end - t_start)) s (guest build $((t_built - t_start)) s, qemu $((t_end - t_built)) s)"
exit "$fail"
