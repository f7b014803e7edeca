# Scenario 1: a tree of $FILES files in nested directories on the mount, and
# the very same operations on a local tmpfs directory as the reference.
#   A. create: $FILES files of sizes 0 B..128 KiB (+ one of 1 MiB and a few
#      odd names) in 5 directories x 4 subdirectories
#   B. remount; stat every entry and read every file back: listing and
#      checksums must equal the local tree's
#   C. rename (same directory, across directories, over an existing file, a
#      whole directory), hard links, symlinks (relative, absolute, dangling),
#      chmod (incl. setuid, sticky), chown, truncate (shrink, extend),
#      touch -d (files, a symlink itself, directories), rm, rm -r, rmdir
#   D. listing and checksums equal the local tree's, first through the
#      client's caches, then again after a remount (what the server kept)
# The listing has, per entry: path (and link target), type, mode, owner,
# group, link count; plus size for non-directories, and mtime for the entries
# given one with touch -d.  Directory sizes are the server's to choose (tmpfs
# counts entries, others report a block): they are compared separately and a
# difference is a NOTE, not a failure.
. /vm/lib.sh
mnt=$1
loc=$2
N=$FILES
D=5
S=4
STAMP='2001-02-03 04:05:06'
DSTAMP='1999-12-31 23:59:59'

dd if=/dev/urandom of=/tmp/blk bs=1024 count=128 2>/dev/null || fail "make /tmp/blk"

# path_of I: sets P, file I's path relative to tree/ (no subshell).
# Directory d1 is renamed first thing in mutate (D1 follows it).
D1=d1
path_of() {
	dd=d$(($1 % D))
	[ $dd = d1 ] && dd=$D1
	if [ $(($1 % 10)) = 9 ]; then
		P=$dd/f$1
	else
		P=$dd/s$(($1 / D % S))/f$1
	fi
}

size_of() {
	case $(($1 % 10)) in
	0) SZ=0 ;; 1) SZ=1 ;; 2) SZ=100 ;; 3) SZ=4095 ;; 4) SZ=4096 ;;
	5) SZ=4097 ;; 6) SZ=10000 ;; 7) SZ=65537 ;; 8) SZ=777 ;; 9) SZ=131072 ;;
	esac
}

LONG=$(printf '%0255d' 0 | tr 0 x)
UNAME=$(printf 'u\303\274n\303\257c\303\266d\303\251')

create_tree() { # DIR
	cd "$1" || fail "cd $1"
	mkdir tree || fail "mkdir $1/tree"
	d=0
	while [ $d -lt $D ]; do
		mkdir tree/d$d || fail "mkdir tree/d$d in $1"
		s=0
		while [ $s -lt $S ]; do
			mkdir tree/d$d/s$s || fail "mkdir tree/d$d/s$s in $1"
			s=$((s + 1))
		done
		d=$((d + 1))
	done
	i=0
	while [ $i -lt $N ]; do
		path_of $i
		size_of $i
		{ printf 'file %d\n' $i; [ $SZ = 0 ] || head -c $SZ /tmp/blk; } >"tree/$P" || fail "create tree/$P in $1"
		i=$((i + 1))
	done
	k=0
	while [ $k -lt 8 ]; do cat /tmp/blk; k=$((k + 1)); done >tree/big || fail "write tree/big in $1"
	printf abc >>tree/big || fail "append tree/big in $1"
	echo spaces >"tree/name with spaces" || fail "create 'name with spaces' in $1"
	echo unicode >"tree/$UNAME" || fail "create $UNAME in $1"
	echo long >"tree/$LONG" || fail "create a 255-byte name in $1"
}

# The paths (relative to tree/) whose mtime is compared: set by touch -d.
TOUCHED=/tmp/s1-touched
touch_d() { # STAMP PATH [-h]
	if [ "$3" = -h ]; then
		touch -h -d "$1" "$2" || fail "touch -h -d '$1' $2 in $PWD"
	else
		touch -d "$1" "$2" || fail "touch -d '$1' $2 in $PWD"
	fi
	echo "$2" >>$TOUCHED
}

mutate() { # DIR
	cd "$1/tree" || fail "cd $1/tree"
	mkdir moved links over empty empty2 sticky || fail "mkdir moved... in $1"
	mv d1 d1renamed || fail "rename directory d1 (with its files) in $1"
	D1=d1renamed
	i=0
	while [ $i -lt $N ]; do
		path_of $i
		dir=${P%/*}
		new=$P
		case $((i % 7)) in
		0) new=$dir/r$i; mv "$P" "$new" || fail "rename $P $new in $1" ;;
		1) new=moved/m$i; mv "$P" "$new" || fail "rename $P $new in $1" ;;
		2)
			ln "$P" links/h$i || fail "link $P links/h$i in $1"
			if [ $((i % 14)) = 2 ]; then
				ln "$P" links/h${i}b || fail "link $P links/h${i}b in $1"
			fi
			if [ $((i % 21)) = 2 ]; then
				rm "$P" || fail "rm $P (linked) in $1"
				new=links/h$i
			fi
			;;
		3)
			ln -s "../$P" links/sym$i || fail "symlink ../$P links/sym$i in $1"
			if [ $((i % 3)) = 0 ]; then
				rm "$P" || fail "rm $P (symlink target) in $1"
			fi
			new=links/sym$i
			;;
		4)
			case $((i % 4)) in
			0) chown 1000:1000 "$P" && chmod 600 "$P" ;;
			1) chown 12345:54321 "$P" && chmod 755 "$P" ;;
			2) chmod 4755 "$P" && chown 0:100 "$P" ;;
			3) chmod 2640 "$P" && chown 2000:2000 "$P" ;;
			esac || fail "chown/chmod $P (case $((i % 4))) in $1"
			;;
		5)
			if [ $((i % 2)) = 0 ]; then
				truncate -s 10 "$P" || fail "truncate -s 10 $P in $1"
			else
				truncate -s 100000 "$P" || fail "truncate -s 100000 $P in $1"
			fi
			;;
		6) rm "$P" || fail "rm $P in $1"; new= ;;
		esac
		if [ -n "$new" ] && [ $((i % 8)) = 0 ]; then
			if [ $((i % 7)) = 3 ]; then
				touch_d "$STAMP" "$new" -h
			else
				touch_d "$STAMP" "$new"
			fi
		fi
		i=$((i + 1))
	done
	ln -s /absolute/target links/abs || fail "symlink /absolute/target in $1"
	echo a >over/a && echo bb >over/b || fail "write over/a over/b in $1"
	mv over/a over/b || fail "rename over/a over an existing over/b in $1"
	[ "$(cat over/b)" = a ] || fail "over/b is not the renamed over/a in $1"
	rmdir empty2 || fail "rmdir empty2 in $1"
	rm -r d2/s3 || fail "rm -r d2/s3 in $1"
	chmod 700 d3 || fail "chmod 700 d3 in $1"
	chmod 1777 sticky || fail "chmod 1777 sticky in $1"
	chown 4242:4343 d4/s0 || fail "chown d4/s0 in $1"
	truncate -s 0 big || fail "truncate big in $1"
	printf 'new content' >"name with spaces" || fail "rewrite 'name with spaces' in $1"
	mv "$UNAME" "$UNAME.renamed" || fail "rename $UNAME in $1"
	# Directory mtimes last: nothing changes these directories afterwards.
	touch_d "$DSTAMP" d4/s1
	touch_d "$DSTAMP" empty
	cd /
}

# listing DIR: one line per entry under DIR/tree, sorted; directories' size
# and link count go to stdout only with ALL=1.
listing() {
	(cd "$1/tree" && find . -exec stat -c '%N|%F|%a|%u|%g|%s|%h|%Y' {} +) |
		awk -F'|' -v all="${ALL:-0}" -v tf=$TOUCHED '
		BEGIN { while ((getline t < tf) > 0) touched[t] = 1 }
		{
			name = $1; n = name; sub(/'"'"' -> .*/, "", n); gsub(/'"'"'/, "", n)
			sub(/^\.\//, "", n)
			out = $1 "|" $2 "|" $3 "|" $4 "|" $5
			if ($2 == "directory") {
				out = out "|nlink=" $7
				if (all) out = out "|size=" $6
			} else {
				out = out "|" $6 "|" $7
			}
			if (n in touched) out = out "|mtime=" $8
			print out
		}' | sort
}

sums() { # DIR
	(cd "$1/tree" && find . -type f -exec md5sum {} +) | sort -k2
}

compare() { # WHAT
	listing "$mnt" >/tmp/s1-list.nfs || fail "listing $mnt ($1)"
	listing "$loc" >/tmp/s1-list.loc || fail "listing $loc ($1)"
	if ! cmp -s /tmp/s1-list.loc /tmp/s1-list.nfs; then
		echo "listing differs ($1): --- local +++ nfs"
		diff /tmp/s1-list.loc /tmp/s1-list.nfs | head -n 60
		fail "listing differs ($1)"
	fi
	sums "$mnt" >/tmp/s1-sums.nfs || fail "md5sum on $mnt ($1)"
	sums "$loc" >/tmp/s1-sums.loc || fail "md5sum on $loc ($1)"
	if ! cmp -s /tmp/s1-sums.loc /tmp/s1-sums.nfs; then
		echo "checksums differ ($1): --- local +++ nfs"
		diff /tmp/s1-sums.loc /tmp/s1-sums.nfs | head -n 40
		fail "checksums differ ($1)"
	fi
	ALL=1 listing "$mnt" >/tmp/s1-all.nfs
	ALL=1 listing "$loc" >/tmp/s1-all.loc
	if ! cmp -s /tmp/s1-all.loc /tmp/s1-all.nfs; then
		echo "NOTE: $(diff /tmp/s1-all.loc /tmp/s1-all.nfs | grep -c '^-\.') directory sizes differ from tmpfs's ($1), e.g." \
			"$(diff /tmp/s1-all.loc /tmp/s1-all.nfs | grep '^[-+]\.' | head -n 2 | sed 's/.*|size=/size=/' | tr '\n' ' ')(local, nfs)"
	fi
	echo "$1: $(wc -l </tmp/s1-list.nfs) entries and $(wc -l </tmp/s1-sums.nfs) files match"
}

: >$TOUCHED
t0=$(now_ms)
create_tree "$mnt"
t1=$(now_ms)
D1=d1
create_tree "$loc"
echo "A. created $N files (+4) on nfs in $((t1 - t0)) ms"
n=$(find "$mnt/tree" -type f | wc -l)
[ "$n" = $((N + 4)) ] || fail "expected $((N + 4)) files on the mount, found $n"

t0=$(now_ms)
remount || fail "remount after creating"
compare "B. after create and remount"
echo "B. took $(($(now_ms) - t0)) ms"

t0=$(now_ms)
mutate "$mnt"
t1=$(now_ms)
: >$TOUCHED
D1=d1
mutate "$loc"
echo "C. mutations on nfs took $((t1 - t0)) ms"
t0=$(now_ms)
compare "D. after mutations (client cache)"
remount || fail "remount after mutations"
compare "D. after mutations and remount"
echo "D. took $(($(now_ms) - t0)) ms"

t0=$(now_ms)
rm -r "$mnt/tree" || fail "rm -r $mnt/tree"
[ -z "$(ls -A "$mnt")" ] || fail "$mnt not empty after rm -r: $(ls -A "$mnt" | head -n 5)"
remount || fail "remount after rm -r"
[ -z "$(ls -A "$mnt")" ] || fail "$mnt not empty after rm -r and remount: $(ls -A "$mnt" | head -n 5)"
echo "E. rm -r of the tree took $(($(now_ms) - t0)) ms"
exit 0
