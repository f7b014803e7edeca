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

# wait_until TENTHS CMD...: poll CMD every 0.1 s until it succeeds, at most
# TENTHS times; returns CMD's last status.
wait_until() {
	local left=$1
	shift
	while ! "$@"; do
		left=$((left - 1))
		[ $left -gt 0 ] || return 1
		sleep 0.1
	done
}

# nfs4d runs under a small sh that writes its exit status to
# /run/nfs4d.rc.PID: only a parent can wait(2) for a process, and scenario 7
# restarts nfs4d itself while init stops it.  /run/nfs4d.pid names the
# current instance.
SRV_PIDFILE=/run/nfs4d.pid
srv_pid() { cat $SRV_PIDFILE 2>/dev/null; }
srv_gone() { [ -e /run/nfs4d.rc.$1 ]; }
srv_ready() { [ -s /tmp/nfs4d.port ] && [ -s $SRV_PIDFILE ]; }
srv_ready_or_dead() { srv_ready || ! kill -0 "$wrapper" 2>/dev/null; }

# nfs4d_start: nfs4d for $BACKEND exporting $NFS_SRC on 127.0.0.1:2049 (and
# $NET2_SRV for the second client) with the scenario's $SRV_OPTS last (a later
# option wins), its log appended to $SRV_LOG; returns once it serves.
nfs4d_start() {
	local listen2=
	rm -f /tmp/nfs4d.port $SRV_PIDFILE
	[ -z "$NS2_PID" ] || listen2="--listen $NET2_SRV:$NFS_PORT"
	sh -c 'nfs4d "$@" & echo $! >'$SRV_PIDFILE'; wait $!; echo $? >/run/nfs4d.rc.$!' nfs4d \
		--listen 127.0.0.1:$NFS_PORT $listen2 --backend "$BACKEND" \
		--export "$NFS_SRC *(rw,no_root_squash)" --lease 30 --log-level "$LOG_LEVEL" \
		--port-file /tmp/nfs4d.port --state-dir /tmp/nfs4d-state $SRV_OPTS >>"$SRV_LOG" 2>&1 &
	wrapper=$!
	wait_until 300 srv_ready_or_dead
	srv_ready || { echo "FAIL: nfs4d did not start: $(tail -n 3 "$SRV_LOG")"; return 1; }
}

# nfs4d_stop: SIGTERM; nfs4d must exit with status 0 within 10 s.  Returns 1
# otherwise, with the reason on stdout.
nfs4d_stop() {
	local pid rc
	pid=$(srv_pid)
	[ -n "$pid" ] || return 0
	rm -f $SRV_PIDFILE
	kill -TERM "$pid" 2>/dev/null
	if ! wait_until 100 srv_gone "$pid"; then
		kill -KILL "$pid"
		echo "nfs4d did not exit within 10 s of SIGTERM"
		return 1
	fi
	rc=$(cat /run/nfs4d.rc."$pid")
	[ "$rc" = 0 ] || { echo "nfs4d's exit status was $rc (stopped with SIGTERM)"; return 1; }
}

# mount1: client 1, over the guest's loopback, at $MNT.
mount1() {
	mkdir -p $MNT
	vmhelper mount 127.0.0.1:$NFS_SRC $MNT nfs4 \
		"vers=4.1,addr=127.0.0.1,clientaddr=127.0.0.1,port=$NFS_PORT"
}
umount1() {
	grep -q " $MNT " /proc/mounts || return 0
	vmhelper umount $MNT || vmhelper umount $MNT -f
}

# start_server: a fresh export for $BACKEND (vfs: an empty tmpfs), nfs4d
# with a fresh state directory (no client records of an earlier scenario, so
# no grace period), and client 1's mount.
start_server() {
	local t0
	: >"$SRV_LOG"
	rm -rf /tmp/nfs4d-state
	if [ "$BACKEND" = vfs ]; then
		mkdir -p /srv/export
		umount /srv/export 2>/dev/null
		mount -t tmpfs -o mode=0755 export /srv/export || return 1
	fi
	nfs4d_start || return 1
	t0=$(now_ms)
	mount1 || { echo "FAIL: mount 127.0.0.1:$NFS_SRC"; return 1; }
	echo "nfs4d --backend $BACKEND${SRV_OPTS:+ $SRV_OPTS}: serving; mount took $(($(now_ms) - t0)) ms"
}

# remount: unmount and mount again (a fresh client cache: close-to-open and
# attributes come from the server).
remount() {
	sync
	vmhelper umount $MNT || return 1
	mount1
}

# stop_server: unmount both clients, stop nfs4d (it must exit 0).  If nfs4d
# is already gone, a new instance answers the clients' last calls (an unmount
# would wait for a server for minutes), and the scenario fails.
stop_server() {
	local pid gone=
	pid=$(srv_pid)
	if [ -z "$pid" ] || srv_gone "$pid"; then
		gone="nfs4d was gone before the end of the scenario"
		nfs4d_start >/dev/null
	fi
	umount2
	umount1
	nfs4d_stop || return 1
	[ -z "$gone" ] || { echo "$gone"; return 1; }
}

# run_scenario N BACKEND SCRIPT: a fresh export and nfs4d (with the options
# of the script's "# nfs4d options: ..." line, if any), client 1 mounted; the
# script under a watchdog; then unmount and stop nfs4d, which must exit 0.
# Reports "VMTEST RESULT N BACKEND PASS|FAIL SECONDS s".
run_scenario() {
	n=$1
	export BACKEND=$2 NS2_PID
	case $BACKEND in
	mem) NFS_SRC=/ ;;
	vfs) NFS_SRC=/srv/export ;;
	esac
	SRV_OPTS=$(sed -n 's/^# nfs4d options: //p' "$3")
	export NFS_SRC SRV_OPTS
	local_dir=/tmp/local-$n-$BACKEND
	rm -rf "$local_dir"
	mkdir -p "$local_dir"
	echo "VMTEST BEGIN $n $BACKEND $(basename "$3")"
	t0=$(now_ms)
	rc=0
	if ! start_server >/tmp/scenario.out 2>&1; then
		rc="setup"
	else
		# In a session of its own, so that the watchdog kills all of it.
		setsid sh "$3" "$MNT" "$local_dir" >>/tmp/scenario.out 2>&1 &
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
	fi
	sed "s/^/[$n $BACKEND] /" /tmp/scenario.out
	# nfs4d must exit cleanly after every scenario, as in every other test of the project.
	stopped=$(stop_server 2>&1) || { [ "$rc" != 0 ] || rc="stop"; }
	secs=$((($(now_ms) - t0) / 1000))
	if [ "$rc" = 0 ]; then
		echo "VMTEST RESULT $n $BACKEND PASS $secs s"
	else
		echo "VMTEST RESULT $n $BACKEND FAIL $secs s (exit $rc)${stopped:+; $stopped}"
		ps | grep -v ' \[' | head -n 40
		dump_logs
	fi
}

# workload DIR LOG MAX [keep]: a small file-tree workload in a loop, for
# scenarios 6 and 7: at most MAX iterations, and none once /tmp/stop-workload
# exists.  Iteration N: mkdir DIR/iN (never mkdir -p: with the mount gone
# DIR is missing and nothing lands in the bare mount point), 6 files of 0 B
# to 200 KiB written with dd conv=fsync, read back and compared, listed,
# then removed with rm -r unless "keep".  It appends "N ok", "N error STEP:
# MESSAGE" (then pauses 0.5 s) or "N corrupt FILE: MESSAGE" (a file written
# and fsync'ed without error reads back different: never allowed) to LOG.
WL_SIZES="0 1 4095 4097 70000 200000"
workload() {
	local dir=$1 log=$2 max=$3 keep=$4 i=0 s what out
	mkdir -p /tmp/wl
	for s in $WL_SIZES; do
		[ -f /tmp/wl/$s ] || head -c "$s" /dev/urandom >/tmp/wl/$s
	done
	while [ $i -lt "$max" ] && [ ! -e /tmp/stop-workload ]; do
		i=$((i + 1))
		what=
		out=$(mkdir "$dir/i$i" 2>&1) || what="error mkdir"
		for s in $WL_SIZES; do
			[ -z "$what" ] || break
			out=$(dd if=/tmp/wl/$s of="$dir/i$i/f$s" conv=fsync 2>&1) || { what="error write"; break; }
			out=$(cmp /tmp/wl/$s "$dir/i$i/f$s" 2>&1)
			case $? in
			0) ;;
			1) what="corrupt f$s" ;;
			*) what="error read" ;;
			esac
		done
		[ -n "$what" ] || [ "$(ls "$dir/i$i" 2>/dev/null | wc -l)" = 6 ] || what="error ls"
		[ -n "$what" ] || [ "$keep" = keep ] || out=$(rm -r "$dir/i$i" 2>&1) || what="error rm"
		[ -z "$what" ] || what="$what: $(echo "$out" | tail -n 1)"
		echo "$i ${what:-ok}" >>"$log"
		[ -z "$what" ] || sleep 0.5
	done
}
# workload_after LOG MARK STATUS: how many iterations ended with STATUS (ok,
# error) after the line "mark MARK" (the scenario appends marks to LOG).
workload_after() {
	awk -v m="mark $2" -v st="$3" '$0 == m { n = 0; on = 1; next } on && $2 == st { n++ }
		END { print n + 0 }' "$1"
}
# workload_ok LOG N MARK: at least N iterations ended ok after "mark MARK".
workload_ok() { [ "$(workload_after "$1" "$3" ok)" -ge "$2" ]; }
