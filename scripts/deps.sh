#!/usr/bin/env bash
# Installs what building and testing nfs4d needs, from Debian 12 packages.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
PKGS=(build-essential cmake pkg-config python3 clang llvm libclang-rt-14-dev
	liburcu-dev libsqlite3-dev libcmocka-dev systemtap-sdt-dev
	qemu-system-x86 cpio  # tests/vm: the guest's kernel and busybox are fetched by tests/vm/run.sh
	e2fsprogs btrfs-progs util-linux # test_files_errors.c, test_recovery_durable.c: filesystems to fill, break, crash
	man-db groff-base) # tests/packaging/man.sh: the man pages render without warnings
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
