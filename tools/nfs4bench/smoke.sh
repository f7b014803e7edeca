#!/usr/bin/env bash
# Smoke run of nfs4bench (ctest bench/nfs4bench-smoke): starts nfs4d on the mem
# backend, runs every workload for about a second with tiny sizes and 2
# connections x 2 sessions x 2 slots, and checks that no op failed (exit
# status 0), that the JSON parses and lists every workload, and that nfs4d
# exits cleanly on SIGTERM. Not a timing test: any speed passes.
# Usage: smoke.sh NFS4D NFS4BENCH
set -euo pipefail
nfs4d=$1 bench=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nfs4bench-smoke.XXXXXX")
pid=
cleanup() {
	[[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

"$nfs4d" --listen 127.0.0.1:0 --port-file "$tmp/port" --backend mem \
	--export '/ *(rw,no_root_squash)' --state-dir "$tmp/state" --log-level warn 2>"$tmp/nfs4d.log" &
pid=$!
for _ in $(seq 200); do
	[[ -s $tmp/port ]] && break
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/nfs4d.log"; echo "nfs4d died at start" >&2; exit 1; }
	sleep 0.05
done
port=$(cat "$tmp/port")

status=0
"$bench" --server "127.0.0.1:$port" --path / --conns 2 --sessions 2 --slots 2 \
	--duration 1 --workload all --file-size 8M --io-size 256K --readdir-entries 300 \
	--commit-every 1M --json >"$tmp/out.json" || status=$?
cat "$tmp/out.json"
"$bench" --server "127.0.0.1:$port" --workload clients --clients 50 --conns 2 --slots 4 \
	--rss-pid "$pid" >"$tmp/clients.json" || status=$?
cat "$tmp/clients.json"

kill -TERM "$pid"
wait "$pid" || { echo "nfs4d exited with status $?" >&2; cat "$tmp/nfs4d.log"; exit 1; }
pid=

if [[ $status -ne 0 ]]; then
	echo "nfs4bench exited with status $status" >&2
	cat "$tmp/nfs4d.log"
	exit 1
fi
python3 - "$tmp/out.json" "$tmp/clients.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
names = [x["workload"] for x in r["results"]]
want = ["null", "getattr", "lookup", "readdir", "open-close", "create", "read", "write", "mixed"]
assert names == want, names
for x in r["results"]:
    assert x["errors"] == 0 and x["ops"] > 0, x
c = json.load(open(sys.argv[2]))
assert c["errors"] == 0 and c["clients"] == 50, c
print("smoke: ok")
PY
