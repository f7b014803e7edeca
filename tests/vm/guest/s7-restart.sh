# Scenario 7: nfs4d killed with SIGKILL in the middle of client 1's workload
# (lib.sh; here keeping every iteration's files) and started again on the
# same port with the same --state-dir and export.
# nfs4d options: --grace 120
# (The grace period ends as soon as both clients have sent RECLAIM_COMPLETE,
# seconds after the restart; 120 s is only the bound within which client 2
# must be back, whatever the load: a call it sent while cut off is retried
# by TCP with a backoff that grows to many seconds. The default 30 s lease
# makes such calls, lease renewals, rare.)
#   vfs: a full reclaim by the Linux client.  Before the kill, a process on
#        client 2 holds LOCKED open with a POSIX write lock on bytes 0-999 and
#        WRITTEN open for writing, both written and fsync'ed (vmhelper
#        holder); client 1's F_SETLK on the range is denied by nfs4d.  Client
#        2's network path is cut (its end of the veth pair down) before the
#        kill, so that the new instance stays in grace until we let it back:
#        a. client 1 recovers and sends RECLAIM_COMPLETE (nfs4d's log), 1 of
#           2 clients still to finish;
#        b. a new file that client 1 creates meanwhile is not created: its
#           OPEN gets NFS4ERR_GRACE (nfs4d's OPEN error count grows) and the
#           kernel retries it;
#        c. client 2's link comes back; the holder, without reopening, reads
#           its files back and writes and fsyncs more; nfs4d's log says client
#           2 reclaimed 2 opens and 1 lock (OPEN CLAIM_PREVIOUS, LOCK with
#           reclaim) and sent RECLAIM_COMPLETE, which ends grace; nfs4ctl
#           shows its open and lock stateids;
#        d. client 1's delayed create then completes;
#        e. client 1's F_SETLK on the range is still denied by nfs4d (a LOCK
#           call), and granted once the holder unlocks;
#        f. the mount of client 1 recovered for new opens without a remount
#           (the workload completes iterations again), and every file written
#           and fsync'ed, before or after the kill, reads back intact through
#           the mount and in the exported directory, the holder's too.
#   mem: the files die with the process, and so do the handles (another
#        instance's are stale): the old mount must fail (ESTALE), not hang;
#        a fresh mount of the new instance works.
. /vm/lib.sh
mnt=$1
WL=/tmp/s7.log
HOLDER=/tmp/s7.holder
CTL="nfs4ctl --state-dir /tmp/nfs4d-state"

rm -f /tmp/stop-workload
: >$WL

# kill_nfs4d: SIGKILL; nfs4d must be gone with status 137.
kill_nfs4d() {
	local pid
	pid=$(srv_pid)
	kill -KILL "$pid"
	wait_until 100 srv_gone "$pid" || fail "nfs4d (pid $pid) still there 10 s after SIGKILL"
	[ "$(cat /run/nfs4d.rc."$pid")" = 137 ] || fail "nfs4d's status after SIGKILL: $(cat /run/nfs4d.rc."$pid")"
}
workload_gone() { ! kill -0 "$wl" 2>/dev/null; }
stop_workload() {
	touch /tmp/stop-workload
	wait_until 600 workload_gone || fail "the workload did not stop within 60 s"
	wait $wl
	! grep '^[0-9]* corrupt ' $WL || fail "the workload read back data that differs from what it wrote and fsync'ed"
}
# lock_calls MOUNTPOINT: the mount's LOCK calls so far (/proc/self/mountstats).
lock_calls() {
	awk -v m="$1" '$1 == "device" { on = ($5 == m) } on && $1 == "LOCK:" { n = $2 } END { print n + 0 }' \
		/proc/self/mountstats
}
# client1_lock WANT(locked|denied) WHAT: client 1 tries F_SETLK on the held
# range; the answer must be WANT and come from nfs4d (a LOCK call).
client1_lock() {
	local before out rc
	before=$(lock_calls "$mnt")
	out=$(vmhelper fcntl "$mnt/h/locked" 0 1000 w try 0 2>&1)
	rc=$?
	case "$1:$rc" in
	locked:0 | denied:3) ;;
	*) fail "$2: client 1's F_SETLK on bytes 0-999 -> exit $rc ($out), expected $1" ;;
	esac
	[ "$(lock_calls "$mnt")" -gt "$before" ] || fail "$2: client 1's F_SETLK -> $1 without a LOCK call"
	echo "ok: $2: client 1's F_SETLK on bytes 0-999 -> $1 by nfs4d"
}
# open_errors: OPENs nfs4d answered with an error since it started.
open_errors() {
	$CTL --json stats | sed -n 's/.*"op":"OPEN","calls":[0-9]*,"errors":\([0-9]*\).*/\1/p'
}
log_has() { grep -q "$1" "$SRV_LOG"; }
holder_says() { grep -q -e "^$1" -e FAIL $HOLDER; }
# holder_next LINE WHAT: signal the holder, then it must say LINE.
holder_next() {
	kill -USR1 $holder
	wait_until 1200 holder_says "$1" || fail "$2: the holder did not say '$1' within 120 s: $(cat $HOLDER)"
	! grep -q FAIL $HOLDER || fail "$2: the holder failed: $(cat $HOLDER)"
}

if [ "$BACKEND" = vfs ]; then
	[ -n "$NS2_PID" ] || fail "no second client: its network namespace could not be set up"
	mkdir "$mnt/h" || fail "mkdir $mnt/h"
	mount2 || fail "mount of the second client"
	vmhelper holder "$MNT2/h/locked" "$MNT2/h/written" >$HOLDER 2>&1 &
	holder=$!
	wait_until 300 holder_says ready || fail "the holder on client 2 was not ready in 30 s: $(cat $HOLDER)"
	! grep -q FAIL $HOLDER || fail "the holder failed: $(cat $HOLDER)"
	client1_lock denied "before the kill"
fi

mkdir "$mnt/r" || fail "mkdir $mnt/r"
workload "$mnt/r" $WL 1000 keep &
wl=$!
echo "mark start" >>$WL
wait_until 600 workload_ok $WL 3 start || fail "the workload did not complete 3 iterations in 60 s: $(tail -n 3 $WL)"

if [ "$BACKEND" = vfs ]; then
	nsenter -t $NS2_PID -n ip link set vg0 down || fail "ip link set vg0 down (client 2's namespace)"
fi
kill_nfs4d
echo "mark kill" >>$WL
before=$(grep -c ' ok$' $WL)
echo "nfs4d killed after $before workload iterations"
sleep 1
nfs4d_start || fail "nfs4d did not start again"
t0=$(now_ms)
echo "mark restart" >>$WL

if [ "$BACKEND" = mem ]; then
	failing() { [ "$(workload_after $WL restart error)" -ge 1 ]; }
	wait_until 600 failing ||
		fail "the old mount still works after a restart of mem (files and handles gone): $(tail -n 3 $WL)"
	stop_workload
	out=$(ls "$mnt" 2>&1) && fail "ls of the old mount works: $out"
	case $out in
	*"Stale file handle"*) echo "ok: the old mount fails: $out" ;;
	*) fail "the old mount fails, but not with ESTALE: $out" ;;
	esac
	umount1 || fail "umount of the old mount"
	mount1 || fail "a fresh mount after the restart"
	[ -z "$(ls -A "$mnt")" ] || fail "the new mem instance is not empty: $(ls -A "$mnt" | head -n 5)"
	echo new >"$mnt/new" && [ "$(cat "$mnt/new")" = new ] && rm "$mnt/new" || fail "a new file on the fresh mount"
	echo "ok: a fresh mount of the new instance works"
	exit 0
fi

# ---- vfs: the reclaim ----
log_has "grace period: 2 clients may reclaim" || fail "nfs4d did not start a grace period for 2 clients: $(grep grace "$SRV_LOG" | tail -n 2)"
c1_done() { log_has "RECLAIM_COMPLETE: it reclaimed .*; 1 of 2 clients"; }
wait_until 600 c1_done || fail "a. client 1 sent no RECLAIM_COMPLETE within 60 s: $(grep -e grace -e RECLAIM "$SRV_LOG" | tail -n 3)"
echo "ok: a. client 1 recovered: $(grep 'RECLAIM_COMPLETE: it reclaimed' "$SRV_LOG" | tail -n 1 | sed 's/.*\(clientid=\)/\1/')"

(echo created in grace >"$mnt/h/new" && touch /tmp/s7.created) &
creator=$!
graced() { [ "$(open_errors)" -ge 1 ]; }
wait_until 300 graced || fail "b. nfs4d answered no OPEN with an error within 30 s of client 1's create"
log_has "grace period ended" && fail "b. grace ended before client 2 came back: $(grep 'grace period ended' "$SRV_LOG")"
kill -0 $creator 2>/dev/null && [ ! -e "$NFS_SRC/h/new" ] ||
	fail "b. client 1 created $mnt/h/new in grace (while client 2 may still reclaim)"
echo "ok: b. client 1's create waits: nfs4d answered $(open_errors) OPENs with an error (NFS4ERR_GRACE), the file is not there"

nsenter -t $NS2_PID -n ip link set vg0 up || fail "ip link set vg0 up (client 2's namespace)"
t1=$(now_ms)
echo 3 >/proc/sys/vm/drop_caches # the holder's reads go to nfs4d
holder_next "io ok" "c."
echo "ok: c. client 2 is back; the holder read, wrote and fsync'ed through its descriptors, $(($(now_ms) - t1)) ms after its link came up"
log_has "RECLAIM_COMPLETE: it reclaimed 2 opens and 1 locks; 0 of 2 clients" ||
	fail "c. nfs4d did not log client 2's reclaim of 2 opens and 1 lock: $(grep -e RECLAIM -e grace "$SRV_LOG" | tail -n 4)"
log_has "grace period ended: every client that may reclaim is done" ||
	fail "c. grace did not end with client 2's RECLAIM_COMPLETE: $(grep grace "$SRV_LOG" | tail -n 2)"
rcs=$($CTL --json stats | sed -n 's/.*"op":"RECLAIM_COMPLETE","calls":\([0-9]*\),"errors":0,.*/\1/p')
[ "${rcs:-0}" -ge 2 ] || fail "c. nfs4ctl stats: ${rcs:-no} RECLAIM_COMPLETE calls without error, expected 2 or more"
c2=$($CTL --json clients | grep '"owner":"[^"]*vmclient2')
id=$(echo "$c2" | sed -n 's/.*"clientid":"\([0-9a-f]*\)".*/\1/p')
case $c2 in
*'"opens":2,"locks":1,'*) ;;
*) fail "c. nfs4ctl clients: client 2 should hold 2 opens and 1 lock: ${c2:-no client 2}" ;;
esac
detail=$($CTL --json client "$id") || fail "c. nfs4ctl client $id: $detail"
locks=$(echo "$detail" | sed -n '/^"locks":/,/^"delegations":/p')
echo "$locks" | grep -q '"ranges":1' || fail "c. nfs4ctl client $id shows no lock range: $detail"
echo "ok: c. nfs4d: $(grep 'RECLAIM_COMPLETE: it reclaimed 2' "$SRV_LOG" | tail -n 1 | sed 's/.*\(clientid=\)/\1/');" \
	"nfs4ctl: $rcs RECLAIM_COMPLETE calls; client $id holds $(echo "$detail" | grep -c '"access":') open and" \
	"$(echo "$locks" | grep -c '"ranges":') lock stateids"

created() { [ -e /tmp/s7.created ]; }
wait_until 600 created || fail "d. client 1's create did not complete within 60 s after grace"
wait $creator
[ "$(cat "$NFS_SRC/h/new")" = "created in grace" ] || fail "d. $NFS_SRC/h/new: $(cat "$NFS_SRC/h/new")"
echo "ok: d. client 1's create completed after grace"

client1_lock denied "e. after the restart"
holder_next unlocked "e."
client1_lock locked "e. after the holder's unlock"
holder_next closed "e."
wait $holder || fail "e. the holder's exit status: $? ($(cat $HOLDER))"

wait_until 1200 workload_ok $WL 2 restart ||
	fail "f. the mount did not recover in 120 s: the workload completed no 2 iterations: $(tail -n 3 $WL)"
echo "ok: f. the mount recovered: the workload completes iterations again, $(($(now_ms) - t0)) ms after the restart"
stop_workload
n=0
for i in $(sed -n 's/^\([0-9]*\) ok$/\1/p' $WL); do
	for s in $WL_SIZES; do
		cmp -s /tmp/wl/$s "$mnt/r/i$i/f$s" || fail "f. $mnt/r/i$i/f$s (written and fsync'ed) is not intact"
		cmp -s /tmp/wl/$s "$NFS_SRC/r/i$i/f$s" || fail "f. $NFS_SRC/r/i$i/f$s (exported) is not intact"
		n=$((n + 1))
	done
done
for f in locked written; do
	[ "$(wc -c <"$NFS_SRC/h/$f")" = 140000 ] || fail "f. $NFS_SRC/h/$f has $(wc -c <"$NFS_SRC/h/$f") bytes, not 140000"
	cmp -s "$mnt/h/$f" "$NFS_SRC/h/$f" || fail "f. $mnt/h/$f differs from the exported file"
done
echo "ok: f. all $n files of the $(grep -c ' ok$' $WL) complete iterations ($before before the kill) are intact;" \
	"$(grep -c ' error ' $WL) iterations failed; the holder's files are intact"
rm -rf "$mnt/r" "$mnt/h" || fail "rm -rf $mnt/r $mnt/h"
[ -z "$(ls -A "$mnt")" ] || fail "$mnt not empty after rm -rf: $(ls -A "$mnt" | head -n 5)"
exit 0
