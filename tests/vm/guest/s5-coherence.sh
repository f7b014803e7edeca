# Scenario 5: two clients, close-to-open coherence.  Client 1 is the mount at
# MNT (loopback), client 2 the mount at $MNT2 made from the second network
# namespace: to nfs4d two different NFS clients.  In each round a reader
# opens the shared file, reads it and keeps it open; the other client opens
# it for writing, writes and closes; the reader's next open must return the
# new contents.  Rounds alternate reader and writer and vary the write:
#   1 same size, moments after the last write (likely the same second:
#     the change attribute must tell)
#   2 append
#   3 O_TRUNC and shorter
#   4 256 KiB of new random data
#   5 4 KiB overwritten in the middle, no O_TRUNC (size unchanged)
#   6 truncate(2) to 1000 bytes
# Each round is checked with md5 against the same writes on a tmpfs file.
#
# Delegations: the reader's open gets a read delegation (on vfs held with
# an fcntl lease), which the other client's open for writing recalls
# (CB_RECALL): the clients' DELEGRETURN counts in /proc/self/mountstats must
# grow, and nfs4ctl stats must count the recalls (on both backends: the
# script's own reference copies are on the guest's tmpfs, not the export).
. /vm/lib.sh
mnt=$1
loc=$2
ROUNDS=12

[ -n "$NS2_PID" ] || fail "no second client: its network namespace could not be set up"
mount2 || fail "mount of the second client (namespace of pid $NS2_PID)"

# delegreturns MOUNTPOINT: the mount's DELEGRETURN calls so far.
delegreturns() {
	awk -v m="$1" '$1 == "device" { on = ($5 == m) } on && $1 == "DELEGRETURN:" { n = $2 }
		END { print n + 0 }' /proc/self/mountstats
}
d1=$(delegreturns "$mnt")
d2=$(delegreturns $MNT2)

dd if=/dev/urandom of=/tmp/s5-rand bs=1024 count=256 2>/dev/null || fail "make /tmp/s5-rand"
L=$loc/shared
printf 'round 000 %0100d\n' 0 >"$mnt/shared" || fail "create $mnt/shared"
cp "$mnt/shared" "$L" || fail "copy $mnt/shared"

# write_round R FILE: round R's write to FILE.
write_round() {
	case $(($1 % 6)) in
	1) printf 'round %03d %0100d\n' "$1" "$1" | dd of="$2" conv=notrunc 2>/dev/null ;;
	2) printf 'appended in round %d\n' "$1" >>"$2" ;;
	3) printf 'short %d\n' "$1" >"$2" ;;
	4) cat /tmp/s5-rand >"$2" && printf '%d\n' "$1" >>"$2" ;;
	5) dd if=/tmp/s5-rand of="$2" bs=4096 seek=10 skip=$(($1 % 50)) count=1 conv=notrunc 2>/dev/null ;;
	0) truncate -s 1000 "$2" ;;
	esac
}

r=1
while [ $r -le $ROUNDS ]; do
	if [ $((r % 2)) = 1 ]; then
		rd=$mnt wr=$MNT2 who="client 1 reads, client 2 writes"
	else
		rd=$MNT2 wr=$mnt who="client 2 reads, client 1 writes"
	fi
	exec 3<"$rd/shared" || fail "round $r: open $rd/shared"
	before=$(md5sum <&3) || fail "round $r: read $rd/shared"
	[ "${before%% *}" = "$(md5sum <"$L" | cut -d' ' -f1)" ] || fail "round $r ($who): $rd/shared before the write is not what was written last"
	write_round $r "$wr/shared" || fail "round $r: write $wr/shared"
	write_round $r "$L" || fail "round $r: write $L"
	want=$(md5sum <"$L")
	got=$(md5sum <"$rd/shared") || fail "round $r: reopen $rd/shared"
	[ "$got" = "$want" ] || fail "round $r ($who): the reader's next open sees md5 ${got%% *}, size $(stat -c %s "$rd/shared"); the writer wrote ${want%% *}, size $(stat -c %s "$L")"
	exec 3<&-
	echo "ok: round $r ($who, write $((r % 6))): new contents seen on the next open ($(stat -c %s "$L") bytes)"
	r=$((r + 1))
done

e1=$(delegreturns "$mnt")
e2=$(delegreturns $MNT2)
returned=$((e1 - d1 + e2 - d2))
echo "delegations: DELEGRETURN calls of client 1 $d1 -> $e1, of client 2 $d2 -> $e2;" \
	"nfs4d log lines about delegations or recalls: $(grep -ci 'deleg\|recall' "$SRV_LOG")"
# The first writer recalls the reader's delegation (later rounds may find
# none: nfs4d grants none on a file recalled within the last lease).
[ $returned -ge 1 ] || fail "no DELEGRETURN in $ROUNDS rounds: no recall reached a reader"
# nfs4d's own account: delegations granted and recalled (nfs4ctl stats).
st=$(nfs4ctl --state-dir /tmp/nfs4d-state --json stats) || fail "nfs4ctl stats: $st"
recalled=$(echo "$st" | sed -n 's/.*"delegations":{"granted":[0-9]*,"recalled":\([0-9]*\).*/\1/p')
echo "nfs4ctl stats: $(echo "$st" | grep -o '"delegations":{[^}]*}')"
[ "${recalled:-0}" -ge 1 ] || fail "nfs4ctl stats shows no recalled delegation: $st"
rm "$mnt/shared" || fail "rm $mnt/shared"
umount2 || fail "umount $MNT2"
exit 0
