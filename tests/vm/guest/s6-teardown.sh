# Scenario 6: session teardown under load, with a 10 s lease.
# nfs4d options: --lease 10
#   a. client 1 runs the workload (lib.sh) in a loop while its mount is taken
#      away with umount -f (MNT_FORCE: the client's RPCs in flight fail) and
#      mounted again, 3 times: after each remount the workload must complete
#      iterations again, and no file it wrote and fsync'ed may read back
#      different.  Then client 1 unmounts: within the lease (and some slack)
#      nfs4d's log must say that no client and no session is left.
#   b. client 2 runs the workload while its network path is down (nfs4d's
#      end of the veth pair, ip link set down) for longer than the lease:
#      nfs4d must expire it (its log: "lease expired", then no client and no
#      session left); once the link is up again the client must recover and
#      the workload complete iterations again.  (Client 1 reaches nfs4d over
#      the guest's loopback, which nfs4d itself needs: client 2 is the one
#      with a network path to cut.)
# Through it all nfs4d must keep serving (client 1 mounts and uses it at the
# end) and, when init stops it after the scenario, exit with status 0.
. /vm/lib.sh
mnt=$1
LEASE=10
SLACK=10 # seconds: the laundromat runs every second; TCG is slow

nfs4d_alive() {
	kill -0 "$(srv_pid)" 2>/dev/null || fail "$1: nfs4d is gone: $(tail -n 5 "$SRV_LOG")"
}
# left_after LINE: the last "N clients, M sessions" left that nfs4d logged
# after line LINE of its log.
left_after() {
	tail -n +$(($1 + 1)) "$SRV_LOG" | sed -n 's/.*: \([0-9]* clients, [0-9]* sessions\) left$/\1/p' | tail -n 1
}
none_left_after() { [ "$(left_after "$1")" = "0 clients, 0 sessions" ]; }
log_lines() { wc -l <"$SRV_LOG"; }
workload_gone() { ! kill -0 "$1" 2>/dev/null; }
# stop_workload PID LOG WHAT: stop it, then no iteration may have read back
# corrupt data.
stop_workload() {
	touch /tmp/stop-workload
	wait_until 600 workload_gone "$1" || fail "$3: the workload did not stop within 60 s"
	wait "$1"
	rm -f /tmp/stop-workload
	! grep '^[0-9]* corrupt ' "$2" || fail "$3: the workload read back data that differs from what it wrote and fsync'ed"
	echo "$3: workload: $(grep -c ' ok$' "$2") iterations ok, $(grep -c ' error ' "$2") failed:"
	grep ' error ' "$2" | cut -d' ' -f2- | sed 's/i[0-9][0-9]*/iN/g' | sort | uniq -c
}

# ---- a. umount -f and remount under load ----
rm -f /tmp/stop-workload
mkdir "$mnt/load" || fail "a. mkdir $mnt/load"
WL=/tmp/s6-a.log
: >$WL
workload "$mnt/load" $WL 1000 &
wl=$!
echo "mark start" >>$WL
wait_until 600 workload_ok $WL 2 start || fail "a. the workload did not complete 2 iterations in 60 s: $(tail -n 3 $WL)"
# umount -f can kill an OPEN whose reply is then dropped, or a CLOSE before it
# is sent: nfs4d keeps open state the client no longer knows, answers its
# DESTROY_CLIENTID with CLIENTID_BUSY (the kernel retries for 10 s, so the
# unmount takes that long, then gives up), and the lease expires the client.
c=1
while [ $c -le 3 ]; do
	k=0
	t0=$(now_ms)
	until vmhelper umount "$mnt" -f 2>/dev/null; do
		k=$((k + 1))
		[ $k -lt 100 ] || fail "a. umount -f $mnt: still busy after 100 tries"
		sleep 0.1
	done
	sleep 1 # the workload fails meanwhile
	[ -z "$(ls -A "$mnt")" ] || fail "a. the workload wrote into the bare mount point $mnt"
	nfs4d_alive "a. umount -f $c"
	mount1 || fail "a. mount after umount -f $c"
	echo "mark remount$c" >>$WL
	wait_until 600 workload_ok $WL 2 remount$c ||
		fail "a. the workload did not complete 2 iterations in 60 s after remount $c: $(tail -n 3 $WL)"
	echo "ok: a. umount -f $c ($k tries busy), remounted, the workload went on $(($(now_ms) - t0)) ms after the umount began"
	c=$((c + 1))
done
stop_workload $wl $WL "a."
rm -rf "$mnt/load" || fail "a. rm -rf $mnt/load"
[ -z "$(ls -A "$mnt")" ] || fail "a. $mnt not empty after rm -rf: $(ls -A "$mnt" | head -n 5)"
from=$(log_lines)
umount1 || fail "a. umount $mnt"
t0=$(now_ms)
wait_until $(((LEASE + SLACK) * 10)) none_left_after "$from" ||
	fail "a. $((LEASE + SLACK)) s after client 1 unmounted nfs4d still has $(left_after "$from" | grep . || echo 'its clients (nothing logged)')"
echo "ok: a. nfs4d has no client and no session left $(($(now_ms) - t0)) ms after the unmount;" \
	"$(grep -c 'lease expired' "$SRV_LOG") clients expired by the lease during a."
# The admin view agrees: nothing left at all (clients, sessions, state, callbacks).
st=$(nfs4ctl --state-dir /tmp/nfs4d-state --json stats) || fail "a. nfs4ctl stats: $st"
case "$st" in
*'"state":{"clients":0,"sessions":0,"stateids":0,"files":0,"delegations":0,"kept_delegations":0,"callbacks":0}'*)
	echo "ok: a. nfs4ctl stats: no client, session, stateid, file, delegation (kept or not) or callback left" ;;
*) fail "a. nfs4ctl stats after the unmount: $st" ;;
esac

# ---- b. client 2's network path down for longer than the lease ----
[ -n "$NS2_PID" ] || fail "b. no second client: its network namespace could not be set up"
mount2 || fail "b. mount of the second client"
mkdir $MNT2/load || fail "b. mkdir $MNT2/load"
WL=/tmp/s6-b.log
: >$WL
workload $MNT2/load $WL 1000 &
wl=$!
echo "mark start" >>$WL
wait_until 600 workload_ok $WL 2 start || fail "b. the workload did not complete 2 iterations in 60 s: $(tail -n 3 $WL)"
from=$(log_lines)
ip link set vh0 down || fail "b. ip link set vh0 down"
t0=$(now_ms)
expired() { none_left_after "$from" && tail -n +$((from + 1)) "$SRV_LOG" | grep -q 'lease expired'; }
wait_until $(((LEASE + SLACK) * 10)) expired ||
	fail "b. $((LEASE + SLACK)) s after client 2's link went down nfs4d has not expired it: $(left_after "$from" | grep . || echo 'nothing logged')"
t1=$(now_ms)
echo "ok: b. link down; $((t1 - t0)) ms later nfs4d expired client 2: no client and no session left"
nfs4d_alive "b. link down"
ip link set vh0 up || fail "b. ip link set vh0 up"
echo "mark linkup" >>$WL
wait_until 1200 workload_ok $WL 2 linkup ||
	fail "b. the workload of client 2 did not complete 2 iterations in 120 s after the link came back: $(tail -n 3 $WL)"
echo "ok: b. link up; client 2 recovered in $(($(now_ms) - t1)) ms"
stop_workload $wl $WL "b."
echo new >$MNT2/after && [ "$(cat $MNT2/after)" = new ] || fail "b. a new file on $MNT2"
rm -rf $MNT2/load $MNT2/after || fail "b. rm -rf $MNT2/load"
umount2 || fail "b. umount $MNT2"

# nfs4d still serves: client 1 again.
mount1 || fail "mount $mnt at the end"
echo end >"$mnt/end" && [ "$(cat "$mnt/end")" = end ] && rm "$mnt/end" || fail "a new file on $mnt at the end"
[ -z "$(ls -A "$mnt")" ] || fail "$mnt not empty at the end: $(ls -A "$mnt" | head -n 5)"
nfs4d_alive "the end"
exit 0
