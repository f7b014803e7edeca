# Scenario 7: nfs4d killed with SIGKILL in the middle of client 1's workload
# (lib.sh; here keeping every iteration's files) and started again on the
# same port with the same --state-dir and export.  The new instance has no
# grace period yet (reclaim comes with stable client records), so the
# client's open files of the moment are lost; what is asserted:
#   vfs: the mount recovers for new opens (the workload completes iterations
#        again without a remount), and every file written and fsync'ed
#        before the kill or after it reads back intact, through the mount and
#        in the exported directory
#   mem: the files die with the process, and so do the handles (another
#        instance's are stale): the old mount must fail (ESTALE), not hang;
#        a fresh mount of the new instance works
. /vm/lib.sh
mnt=$1
WL=/tmp/s7.log

rm -f /tmp/stop-workload
: >$WL
mkdir "$mnt/r" || fail "mkdir $mnt/r"
workload "$mnt/r" $WL 1000 keep &
wl=$!
echo "mark start" >>$WL
wait_until 600 workload_ok $WL 3 start || fail "the workload did not complete 3 iterations in 60 s: $(tail -n 3 $WL)"

pid=$(srv_pid)
kill -KILL "$pid"
wait_until 100 srv_gone "$pid" || fail "nfs4d (pid $pid) still there 10 s after SIGKILL"
[ "$(cat /run/nfs4d.rc."$pid")" = 137 ] || fail "nfs4d's status after SIGKILL: $(cat /run/nfs4d.rc."$pid")"
echo "mark kill" >>$WL
before=$(grep -c ' ok$' $WL)
echo "nfs4d killed after $before workload iterations"
sleep 1
nfs4d_start || fail "nfs4d did not start again"
t0=$(now_ms)
echo "mark restart" >>$WL

workload_gone() { ! kill -0 "$wl" 2>/dev/null; }
stop_workload() {
	touch /tmp/stop-workload
	wait_until 600 workload_gone || fail "the workload did not stop within 60 s"
	wait $wl
	! grep '^[0-9]* corrupt ' $WL || fail "the workload read back data that differs from what it wrote and fsync'ed"
}

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

wait_until 1200 workload_ok $WL 2 restart ||
	fail "the mount did not recover in 120 s: the workload completed no 2 iterations: $(tail -n 3 $WL)"
echo "ok: the mount recovered: the workload completes iterations again, $(($(now_ms) - t0)) ms after the restart"
stop_workload
n=0
for i in $(sed -n 's/^\([0-9]*\) ok$/\1/p' $WL); do
	for s in $WL_SIZES; do
		cmp -s /tmp/wl/$s "$mnt/r/i$i/f$s" || fail "$mnt/r/i$i/f$s (written and fsync'ed) is not intact"
		cmp -s /tmp/wl/$s "$NFS_SRC/r/i$i/f$s" || fail "$NFS_SRC/r/i$i/f$s (exported) is not intact"
		n=$((n + 1))
	done
done
echo "ok: all $n files of the $(grep -c ' ok$' $WL) complete iterations ($before before the kill) are intact;" \
	"$(grep -c ' error ' $WL) iterations failed"
rm -rf "$mnt/r" || fail "rm -rf $mnt/r"
[ -z "$(ls -A "$mnt")" ] || fail "$mnt not empty after rm -rf: $(ls -A "$mnt" | head -n 5)"
exit 0
