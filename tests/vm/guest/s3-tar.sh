# Scenario 3: a real source tree through tar.  /vm/tree.tar holds the
# project's own src/, tests/ and docs/ (run.sh packs them, owner 1000:100);
# the reference is the same archive extracted on the guest's tmpfs.
#   a. tar x onto the mount
#   b. diff -r against the reference, and the listing (type, mode, owner,
#      size, and the mtime tar restored on files) equal; on vfs the same for
#      the files nfs4d wrote to the exported directory
#   c. remount: the same again, from the server
#   d. tar c of the tree on the mount: its verbose listing equals that of the
#      reference's tar c (directories without their mtime, which tar x does
#      not restore), and it extracts to a tree diff -r equal to the reference
#   e. rm -rf: the mount (and on vfs the exported directory) empty, also
#      after a remount
. /vm/lib.sh
mnt=$1
loc=$2
T=/vm/tree.tar

# listing DIR: one sorted line per entry under DIR/t.
listing() {
	(cd "$1/t" && find . -exec stat -c '%n|%F|%a|%u|%g|%s|%Y' {} +) |
		awk -F'|' '$2 == "directory" { $6 = ""; $7 = "" } { print }' OFS='|' | sort
}
# tar_listing TARFILE: its tar tv lines, sorted, directories without mtime.
tar_listing() {
	tar -tvf "$1" | awk '$1 ~ /^d/ { $4 = ""; $5 = "" } { print }' | sort -k6
}
same_tree() { # WHAT REFERENCE DIR
	out=$(diff -r "$2/t" "$3/t" 2>&1) || {
		echo "$out" | head -n 30
		fail "$1: diff -r $2/t $3/t"
	}
	listing "$2" >/tmp/s3-list.ref || fail "$1: listing $2"
	listing "$3" >/tmp/s3-list.got || fail "$1: listing $3"
	if ! cmp -s /tmp/s3-list.ref /tmp/s3-list.got; then
		diff /tmp/s3-list.ref /tmp/s3-list.got | head -n 30
		fail "$1: the listing of $3/t differs from $2/t's"
	fi
	echo "ok: $1: $3/t equals the reference ($(wc -l </tmp/s3-list.got) entries)"
}

mkdir "$loc/t" && tar -xf $T -C "$loc/t" || fail "tar x into $loc"
n=$(find "$loc/t" -type f | wc -l)
[ "$n" -ge 100 ] || fail "only $n files in $T"

t0=$(now_ms)
mkdir "$mnt/t" && tar -xf $T -C "$mnt/t" || fail "a. tar x into $mnt"
echo "a. tar x of $n files ($(($(stat -c %s $T) / 1024)) KiB) took $(($(now_ms) - t0)) ms"

t0=$(now_ms)
same_tree "b. client cache" "$loc" "$mnt"
[ "$BACKEND" != vfs ] || same_tree "b. exported directory" "$loc" "$NFS_SRC"
echo "b. took $(($(now_ms) - t0)) ms"

remount || fail "c. remount"
same_tree "c. after remount" "$loc" "$mnt"

t0=$(now_ms)
tar -cf /tmp/s3-nfs.tar -C "$mnt" t || fail "d. tar c of $mnt/t"
echo "d. tar c took $(($(now_ms) - t0)) ms"
tar -cf /tmp/s3-loc.tar -C "$loc" t || fail "d. tar c of $loc/t"
tar_listing /tmp/s3-loc.tar >/tmp/s3-tv.ref
tar_listing /tmp/s3-nfs.tar >/tmp/s3-tv.got
if ! cmp -s /tmp/s3-tv.ref /tmp/s3-tv.got; then
	diff /tmp/s3-tv.ref /tmp/s3-tv.got | head -n 30
	fail "d. tar tv of the archive made from $mnt differs from the reference's"
fi
mkdir "$loc/back" && tar -xf /tmp/s3-nfs.tar -C "$loc/back" || fail "d. tar x of the archive made from $mnt"
same_tree "d. archive made from the mount" "$loc" "$loc/back"
rm -f /tmp/s3-nfs.tar /tmp/s3-loc.tar

t0=$(now_ms)
rm -rf "$mnt/t" || fail "e. rm -rf $mnt/t"
[ -z "$(ls -A "$mnt")" ] || fail "e. $mnt not empty after rm -rf: $(ls -A "$mnt" | head -n 5)"
[ "$BACKEND" != vfs ] || [ -z "$(ls -A "$NFS_SRC")" ] ||
	fail "e. exported $NFS_SRC not empty after rm -rf: $(ls -A "$NFS_SRC" | head -n 5)"
remount || fail "e. remount"
[ -z "$(ls -A "$mnt")" ] || fail "e. $mnt not empty after rm -rf and remount: $(ls -A "$mnt" | head -n 5)"
echo "e. rm -rf took $(($(now_ms) - t0)) ms"
exit 0
