# Scenario 0 (smoke): one file written and read back through the mount.
. /vm/lib.sh
mnt=$1
echo hello >"$mnt/smoke" || fail "write $mnt/smoke"
[ "$(cat "$mnt/smoke")" = hello ] || fail "read back $mnt/smoke"
rm "$mnt/smoke" || fail "rm $mnt/smoke"
t0=$(now_ms); i=0; while [ $i -lt 100 ]; do true >/dev/null; /bin/true; i=$((i+1)); done
echo "100 fork+exec: $(($(now_ms) - t0)) ms"
t0=$(now_ms); i=0; while [ $i -lt 100 ]; do echo $i >"$mnt/f$i"; i=$((i+1)); done
echo "100 creates (builtin echo) on nfs: $(($(now_ms) - t0)) ms"
t0=$(now_ms); i=0; while [ $i -lt 100 ]; do echo $i >"$2/f$i"; i=$((i+1)); done
echo "100 creates (builtin echo) on tmpfs: $(($(now_ms) - t0)) ms"
rm -f "$mnt"/f*
