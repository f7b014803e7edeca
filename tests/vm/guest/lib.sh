# Shared by the guest's init and scenarios (busybox sh).
#
# Conventions: a scenario is /vm/sN-name.sh, run as `sh sN-name.sh MNT LOCAL`
# where MNT is the NFS mount of nfs4d's export and LOCAL an empty directory on
# the guest's tmpfs for comparisons.  It exits 0 on success; it explains every
# failure on stdout as "FAIL: ..." lines.  Every loop is bounded by a count.

. /vm/config
NFS_PORT=2049
MNT=/mnt/nfs
SRV_LOG=/tmp/nfs4d.log

fail() {
	echo "FAIL: $*"
	exit 1
}

now_ms() { vmhelper now; }

# The kernel's view of NFS and nfs4d's log, between markers the host prints.
dump_logs() {
	echo "VMTEST DUMP BEGIN dmesg (nfs/rpc/lockd lines)"
	dmesg | grep -E -i 'nfs|rpc|lockd|hung_task|blocked for more|call trace' | grep -v 'Registered .* transport module' | tail -n 100
	dmesg | grep -E 'BUG:|Oops|WARNING:' | tail -n 20
	echo "VMTEST DUMP END dmesg"
	echo "VMTEST DUMP BEGIN nfs4d log (last 200 lines of $SRV_LOG)"
	tail -n 200 "$SRV_LOG" 2>/dev/null
	echo "VMTEST DUMP END nfs4d log"
}

# A second NFS client: a network and UTS namespace of its own (the kernel
# client's identity is per network namespace and takes the hostname), joined
# to the guest by a veth pair; nfs4d also listens on NET2_SRV.  Its mount,
# made from inside that namespace, is at $MNT2 in the (shared) mount table.
MNT2=/mnt/nfs2
NET2_SRV=10.99.0.1
NET2_CLI=10.99.0.2
NS2_PID=${NS2_PID:-}
setup_net2() {
	# busybox ip cannot name the peer: the kernel calls it veth0.
	ip link add vh0 type veth || return 1
	ip link set veth0 name vg0 || return 1
	ip addr add $NET2_SRV/24 dev vh0 && ip link set vh0 up || return 1
	unshare -n -u sleep 100000 &
	NS2_PID=$!
	sleep 0.2
	ip link set vg0 netns $NS2_PID || return 1
	nsenter -t $NS2_PID -n -u sh -c "hostname vmclient2 && ip link set lo up &&
		ip addr add $NET2_CLI/24 dev vg0 && ip link set vg0 up" || return 1
	k=0
	until nsenter -t $NS2_PID -n ping -c 1 -W 1 $NET2_SRV >/dev/null 2>&1; do
		k=$((k + 1))
		[ $k -lt 10 ] || return 1
	done
}
mount2() {
	mkdir -p $MNT2
	nsenter -t $NS2_PID -n -u vmhelper mount $NET2_SRV:$NFS_SRC $MNT2 nfs4 \
		"vers=4.1,addr=$NET2_SRV,clientaddr=$NET2_CLI,port=$NFS_PORT"
}
umount2() {
	grep -q " $MNT2 " /proc/mounts || return 0
	vmhelper umount $MNT2 || vmhelper umount $MNT2 -f
}

SRV_PID=
# start_server BACKEND: nfs4d on 127.0.0.1:2049, then mount it on $MNT.
start_server() {
	b=$1
	rm -f /tmp/nfs4d.port
	case "$b" in
	mem) export_line='/ *(rw,no_root_squash)'; src=/ ;;
	vfs)
		mkdir -p /srv/export
		umount /srv/export 2>/dev/null
		mount -t tmpfs -o mode=0755 export /srv/export || return 1
		export_line='/srv/export *(rw,no_root_squash)'; src=/srv/export ;;
	*) echo "unknown backend $b"; return 1 ;;
	esac
	echo "VMTEST NOTE starting nfs4d --backend $b --export '$export_line'"
	listen2=
	[ -n "$NS2_PID" ] && listen2="--listen $NET2_SRV:$NFS_PORT"
	nfs4d --listen 127.0.0.1:$NFS_PORT $listen2 --backend "$b" --export "$export_line" \
		--lease 30 --log-level "$LOG_LEVEL" --port-file /tmp/nfs4d.port \
		--state-dir /tmp/nfs4d-state >"$SRV_LOG" 2>&1 &
	SRV_PID=$!
	i=0
	while [ ! -s /tmp/nfs4d.port ]; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 $SRV_PID 2>/dev/null; then
			echo "VMTEST FAIL nfs4d did not start (waited $i tenths of a second)"
			return 1
		fi
		sleep 0.1
	done
	mkdir -p $MNT
	t0=$(now_ms)
	if ! vmhelper mount 127.0.0.1:$src $MNT nfs4 \
		"vers=4.1,addr=127.0.0.1,clientaddr=127.0.0.1,port=$NFS_PORT"; then
		echo "VMTEST FAIL mount 127.0.0.1:$src"
		return 1
	fi
	echo "VMTEST NOTE mounted 127.0.0.1:$src in $(($(now_ms) - t0)) ms: $(grep " $MNT " /proc/mounts)"
	return 0
}

# remount: unmount and mount again (a fresh client cache: close-to-open and
# attributes come from the server).
remount() {
	sync
	vmhelper umount $MNT || return 1
	vmhelper mount 127.0.0.1:$NFS_SRC $MNT nfs4 \
		"vers=4.1,addr=127.0.0.1,clientaddr=127.0.0.1,port=$NFS_PORT"
}

# stop_server BACKEND: unmount, SIGTERM nfs4d, which must exit 0 in time.
stop_server() {
	umount2
	grep -q " $MNT " /proc/mounts && { vmhelper umount $MNT || vmhelper umount $MNT -f; }
	[ -n "$SRV_PID" ] || return 0
	kill -TERM $SRV_PID
	i=0
	while kill -0 $SRV_PID 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 $SRV_PID 2>/dev/null; then
		echo "VMTEST WARN nfs4d ($1) did not exit within 10 s of SIGTERM"
		kill -KILL $SRV_PID
	else
		wait $SRV_PID
		rc=$?
		[ $rc = 0 ] || echo "VMTEST WARN nfs4d ($1) exited with status $rc after SIGTERM"
	fi
	SRV_PID=
}

# run_scenario N BACKEND SCRIPT: run it under a watchdog, report the result.
run_scenario() {
	n=$1 b=$2 script=$3
	local_dir=/tmp/local-$n-$b
	rm -rf "$local_dir"
	mkdir -p "$local_dir"
	echo "VMTEST BEGIN $n $b $(basename $script)"
	t0=$(now_ms)
	# In a session of its own, so that the watchdog kills all of it.
	NFS_SRC=$src BACKEND=$b NS2_PID=$NS2_PID setsid sh "$script" "$MNT" "$local_dir" >/tmp/scenario.out 2>&1 &
	pid=$!
	ticks=0 limit=$((SCENARIO_LIMIT * 5))
	while kill -0 $pid 2>/dev/null && [ $ticks -lt $limit ]; do
		sleep 0.2
		ticks=$((ticks + 1))
	done
	if kill -0 $pid 2>/dev/null; then
		rc=timeout
		kill -KILL -$pid 2>/dev/null || kill -KILL $pid 2>/dev/null
		wait $pid 2>/dev/null
	else
		wait $pid
		rc=$?
	fi
	secs=$((($(now_ms) - t0) / 1000))
	sed "s/^/[$n $b] /" /tmp/scenario.out
	if [ "$rc" = 0 ]; then
		echo "VMTEST RESULT $n $b PASS $secs s"
	else
		echo "VMTEST RESULT $n $b FAIL $secs s (exit $rc)"
		ps | grep -v ' \[' | head -n 40
		dump_logs
	fi
}
