# Scenario 2: a 64 MiB file ($BIGFILE_MB) on the mount, against the same
# bytes in a file on the guest's tmpfs:
#   a. written sequentially (dd, 1 MiB blocks, then fsync), read back with
#      the page cache dropped: md5
#   b. 2000 random 4 KiB pwrites on one open file, then fsync; an extending
#      write past the end (a hole, then data); md5 through the client's cache
#      and again with the page cache dropped
#   c. remount (close-to-open from a fresh mount): size, mtime and md5 equal
#      what the first mount saw
. /vm/lib.sh
mnt=$1
loc=$2
MB=${BIGFILE_MB:-64}
R=2000
f=$mnt/big
l=$loc/big

dd if=/dev/urandom of="$l" bs=1M count=$MB 2>/dev/null || fail "make $l"
t0=$(now_ms)
dd if="$l" of="$f" bs=1M 2>/dev/null || fail "dd $l -> $f"
vmhelper fsync "$f" || fail "fsync $f"
echo "a. wrote $MB MiB sequentially in $(($(now_ms) - t0)) ms"
sync
echo 3 >/proc/sys/vm/drop_caches # read from the server, not the page cache
t0=$(now_ms)
[ "$(md5sum <"$f")" = "$(md5sum <"$l")" ] || fail "a. md5 of $f differs from what was written"
echo "a. read it back in $(($(now_ms) - t0)) ms"

t0=$(now_ms)
vmhelper randwrite "$f" $((MB * 256)) $R 42 || fail "b. random writes to $f"
echo "b. $R random 4 KiB writes + fsync in $(($(now_ms) - t0)) ms"
vmhelper randwrite "$l" $((MB * 256)) $R 42 || fail "b. random writes to $l"
# Past the end: one block at MB MiB + 10 blocks (a 40 KiB hole first).
vmhelper randwrite "$f" 1 1 7 && dd if="$f" of="$f" bs=4096 count=1 seek=$((MB * 256 + 10)) conv=notrunc 2>/dev/null ||
	fail "b. extending write to $f"
vmhelper randwrite "$l" 1 1 7 && dd if="$l" of="$l" bs=4096 count=1 seek=$((MB * 256 + 10)) conv=notrunc 2>/dev/null ||
	fail "b. extending write to $l"
size=$(stat -c %s "$f")
[ "$size" = "$(stat -c %s "$l")" ] || fail "b. size of $f is $size, local $(stat -c %s "$l")"
[ "$size" = $(((MB * 256 + 11) * 4096)) ] || fail "b. size of $f is $size after the extending write"
sum=$(md5sum <"$f")
[ "$sum" = "$(md5sum <"$l")" ] || fail "b. md5 of $f differs after random writes (client cache)"
echo 3 >/proc/sys/vm/drop_caches
t0=$(now_ms)
[ "$(md5sum <"$f")" = "$sum" ] || fail "b. md5 of $f differs after random writes (page cache dropped)"
echo "b. read back in $(($(now_ms) - t0)) ms"
mtime=$(stat -c %y "$f")

t0=$(now_ms)
remount || fail "c. remount"
[ "$(stat -c %s "$f")" = "$size" ] || fail "c. size after remount $(stat -c %s "$f"), was $size"
[ "$(stat -c %y "$f")" = "$mtime" ] || fail "c. mtime after remount $(stat -c %y "$f"), was $mtime"
[ "$(md5sum <"$f")" = "$sum" ] || fail "c. md5 of $f differs after remount"
echo "c. remount, stat and read back in $(($(now_ms) - t0)) ms"
rm "$f" "$l" || fail "rm $f $l"
exit 0
