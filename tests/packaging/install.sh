#!/bin/sh
# cmake --install puts the binaries, the systemd unit, the man pages and the
# example exports file in place (into a DESTDIR, never the system); the
# installed nfs4d accepts the example with --check-config; and, where systemd
# is installed, systemd-analyze verify finds nothing wrong with the unit.
# Usage: install.sh BUILD_DIR PREFIX (CMAKE_INSTALL_PREFIX: the unit names PREFIX/sbin/nfs4d)
set -eu
build=$1
prefix=$2
dest=$(mktemp -d "${TMPDIR:-/tmp}/nfs4d-install-XXXXXX")
trap 'rm -rf "$dest"' EXIT
DESTDIR=$dest cmake --install "$build" >/dev/null
root=$dest$prefix
fail=0
for f in sbin/nfs4d sbin/nfs4ctl lib/systemd/system/nfs4d.service \
	share/man/man8/nfs4d.8 share/man/man8/nfs4ctl.8 \
	share/man/man5/nfs4d.exports.5 share/doc/nfs4d/exports.example; do
	[ -s "$root/$f" ] || { echo "missing: $prefix/$f"; fail=1; }
done
for f in sbin/nfs4d sbin/nfs4ctl; do
	[ -x "$root/$f" ] || { echo "not executable: $prefix/$f"; fail=1; }
done
[ $fail -eq 0 ] || exit 1
unit=$root/lib/systemd/system/nfs4d.service
grep -qxF "ExecStart=$prefix/sbin/nfs4d --exports /etc/nfs4d/exports --state-dir /var/lib/nfs4d" \
	"$unit" || { echo "ExecStart does not name $prefix/sbin/nfs4d:"; grep ExecStart "$unit"; exit 1; }
grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$unit" || { echo "no SIGHUP reload"; exit 1; }
# The example is a valid exports file (mem: its paths need not exist here).
"$root/sbin/nfs4d" --check-config --backend mem \
	--exports "$root/share/doc/nfs4d/exports.example" >/dev/null
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify wants the binaries the unit names at their real paths: point it at the DESTDIR's.
	sed "s|$prefix/sbin/|$root/sbin/|g" "$unit" >"$dest/nfs4d.service"
	out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$dest/nfs4d.service" 2>&1 || true)
	# Outside a booted systemd (containers, CI) verify also complains about the host; keep
	# only what is about our unit.
	bad=$(printf '%s\n' "$out" | grep 'nfs4d.service' || true)
	[ -z "$bad" ] || { echo "systemd-analyze verify:"; echo "$out"; exit 1; }
	echo "systemd-analyze verify: no complaints about the unit"
else
	echo "systemd-analyze not installed: unit not verified"
fi
echo "installed and checked"
