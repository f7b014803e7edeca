# Scenario 4: locks.  Processes of the guest lock one file on the mount.
# nfs4d options: --max-delegations 0
# (Under a delegation the Linux client keeps byte-range locks to itself until
# the delegation is recalled; this scenario checks that locks travel to the
# server, so it runs without delegations. Scenario 5 has them.)
#   a. fcntl write lock vs overlapping write/read locks: denied; a
#      non-overlapping range: granted; F_GETLK reports the holder's range
#   b. read locks share; a write lock is denied while they are held
#   c. a blocking F_SETLKW waits for the holder and then gets the lock
#   d. flock: exclusive vs exclusive/shared denied, shared+shared granted,
#      granted again after release
#   e. two clients (the second in its own network+UTS namespace): a lock held
#      through one mount denies the other's, fcntl and flock, both ways; the
#      denial is nfs4d's (the denied client's LOCK count grows)
#   f. vfs only: nfs4d mirrors NFS locks as OFD locks on the exported file,
#      so a process locking the backing file directly is denied while an NFS
#      client holds the range, and the other way round
# Within one client (a-d) the kernel checks its own lock table first
# (FL_ACCESS in _nfs4_proc_setlk), so a conflict between two processes of the
# same client is denied without a call; every granted lock must reach the
# server (the mount's LOCK count in /proc/self/mountstats grows).
. /vm/lib.sh
mnt=$1
F=$mnt/lockfile
# Holders keep their lock until release() signals them (at most 60 s).
HOLD=-60000

head -c 8192 /dev/zero >"$F" || fail "create $F"

lockops() { # MOUNTPOINT: its LOCK, LOCKT and LOCKU calls so far
	awk -v m="$1" '
		$1 == "device" { on = ($5 == m) }
		on && ($1 == "LOCK:" || $1 == "LOCKT:" || $1 == "LOCKU:") { n[$1] = $2 }
		END { printf "%d %d %d\n", n["LOCK:"], n["LOCKT:"], n["LOCKU:"] }' /proc/self/mountstats
}
set -- $(lockops $mnt)
lock0=$1 locku0=$3

# hold TAG CMD...: start a lock holder in the background, wait until it holds.
hold() {
	tag=$1
	shift
	rm -f /tmp/hold.$tag
	vmhelper "$@" >/tmp/hold.$tag 2>&1 &
	eval "HOLDER_$tag=$!"
	k=0
	while ! grep -q locked /tmp/hold.$tag 2>/dev/null; do
		k=$((k + 1))
		[ $k -le 200 ] || fail "holder $tag ($*) did not get its lock in 20 s: $(cat /tmp/hold.$tag)"
		sleep 0.1
	done
}
# release TAG: tell the holder to unlock, wait for it.
release() {
	eval "p=\$HOLDER_$1"
	kill -USR1 $p
	wait $p || fail "holder $1 failed: $(cat /tmp/hold.$1)"
}
# expect OUTCOME(locked|denied) CMD FILE ...: a non-blocking attempt from
# another process, with a zero hold.  On a mount, a granted lock must have been
# a LOCK call; with VIA_SERVER=1 so must a denied one.
expect() {
	want=$1
	shift
	case "$2" in
	$MNT2/*) m=$MNT2 ;;
	$mnt/*) m=$mnt ;;
	*) m= ;;
	esac
	before=0
	[ -z "$m" ] || before=$(lockops $m | cut -d' ' -f1)
	out=$(vmhelper "$@" 2>&1)
	rc=$?
	case "$want:$rc" in
	locked:0 | denied:3) ;;
	*) fail "$* -> exit $rc ($out), expected $want" ;;
	esac
	calls=0
	[ -z "$m" ] || calls=$(($(lockops $m | cut -d' ' -f1) - before))
	if [ -n "$m" ] && { [ "$want" = locked ] || [ -n "$VIA_SERVER" ]; }; then
		[ $calls -ge 1 ] || fail "$* -> $want without a LOCK call from $m"
	fi
	echo "ok: $* -> $want ($calls LOCK calls)"
}

# a. write lock vs others
hold a fcntl "$F" 0 100 w try $HOLD
expect denied fcntl "$F" 50 100 w try 0
expect denied fcntl "$F" 99 1 r try 0
expect locked fcntl "$F" 100 100 w try 0
expect locked fcntl "$F" 4096 0 w try 0
out=$(vmhelper fcntl-test "$F" 0 8192 w) || fail "F_GETLK: $out"
[ "$out" = "conflict w 0 100" ] || fail "F_GETLK while 0-99 is write-locked: '$out', expected 'conflict w 0 100'"
echo "ok: F_GETLK -> $out"
release a
expect locked fcntl "$F" 0 100 w try 0

# b. shared read locks
hold b fcntl "$F" 0 1000 r try $HOLD
expect locked fcntl "$F" 500 1000 r try 0
expect denied fcntl "$F" 999 1 w try 0
release b

# c. a blocking lock waits for the holder, and gets the lock once it goes
hold c fcntl "$F" 0 0 w try $HOLD
vmhelper fcntl "$F" 0 0 w wait 0 >/tmp/waiter.out 2>&1 &
waiter=$!
sleep 1.5
kill -0 $waiter 2>/dev/null || fail "F_SETLKW returned while the lock was held: $(cat /tmp/waiter.out)"
t0=$(now_ms)
release c
k=0
while kill -0 $waiter 2>/dev/null; do
	k=$((k + 1))
	[ $k -le 300 ] || fail "F_SETLKW still waiting 30 s after the holder unlocked"
	sleep 0.1
done
wait $waiter || fail "F_SETLKW failed: $(cat /tmp/waiter.out)"
echo "ok: F_SETLKW waited while the lock was held, got it $(($(now_ms) - t0)) ms after the unlock"

# d. flock
hold d flock "$F" ex try $HOLD
expect denied flock "$F" ex try 0
expect denied flock "$F" sh try 0
release d
expect locked flock "$F" ex try 0
hold d2 flock "$F" sh try $HOLD
expect locked flock "$F" sh try 0
expect denied flock "$F" ex try 0
release d2

# e. two clients
if [ -n "$NS2_PID" ]; then
	mount2 || fail "mount of the second client (namespace of pid $NS2_PID)"
	F2=$MNT2/lockfile
	[ "$(head -c 8192 "$F2" | wc -c)" = 8192 ] || fail "the second client does not see $F2"
	hold e1 fcntl "$F" 0 100 w try $HOLD
	VIA_SERVER=1 expect denied fcntl "$F2" 50 10 w try 0
	VIA_SERVER=1 expect denied fcntl "$F2" 0 1 r try 0
	expect locked fcntl "$F2" 100 10 w try 0
	release e1
	expect locked fcntl "$F2" 0 100 w try 0
	hold e2 fcntl "$F2" 0 0 r try $HOLD
	VIA_SERVER=1 expect denied fcntl "$F" 10 10 w try 0
	expect locked fcntl "$F" 10 10 r try 0
	release e2
	hold e3 flock "$F2" ex try $HOLD
	VIA_SERVER=1 expect denied flock "$F" ex try 0
	VIA_SERVER=1 expect denied flock "$F" sh try 0
	release e3
	expect locked flock "$F" ex try 0
	umount2 || fail "umount $MNT2"
else
	# Without a second client nothing shows that the server enforces locks: fail, never skip.
	fail "no second client: its network namespace could not be set up"
fi

# f. vfs: NFS locks and local POSIX locks on the exported file exclude each other
if [ "$BACKEND" = vfs ]; then
	B=$NFS_SRC/lockfile
	[ -f "$B" ] || fail "backing file $B not found"
	hold f1 fcntl "$F" 0 100 w try $HOLD
	expect denied fcntl "$B" 0 10 w try 0
	expect denied fcntl "$B" 99 10 r try 0
	vmhelper fcntl "$B" 200 10 w try 0 >/dev/null || fail "local lock of 200-209 of $B denied"
	release f1
	hold f2 fcntl "$B" 0 100 w try $HOLD
	VIA_SERVER=1 expect denied fcntl "$F" 50 10 w try 0
	expect locked fcntl "$F" 100 10 w try 0
	release f2
	vmhelper fcntl "$B" 0 100 w try 0 >/dev/null || fail "local lock of 0-99 of $B denied after the NFS locks went"
	echo "ok: local locks on $B and NFS locks on $F exclude each other"
fi

set -- $(lockops $mnt)
echo "mountstats of $mnt: LOCK $lock0 -> $1, LOCKU $locku0 -> $3"
rm "$F" || fail "rm $F"
exit 0
