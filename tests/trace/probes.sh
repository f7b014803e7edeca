#!/bin/sh
# The USDT probes docs/tracing.md lists are in the nfs4d binary (its
# .note.stapsdt section), each under provider "nfs4d".
# Usage: probes.sh NFS4D_BINARY TRACING_MD
set -eu
bin=$1
doc=$2
have=$(readelf -n "$bin" | awk '/Provider: nfs4d/ { getline; if ($1 == "Name:") print $2 }' | sort -u)
want=$(sed -n 's/^| `\([a-z_]*\)` |.*/\1/p' "$doc" | sort -u)
[ -n "$want" ] || { echo "no probes listed in $doc"; exit 1; }
missing=$(printf '%s\n' "$want" | grep -vxF "$have" || true)
extra=$(printf '%s\n' "$have" | grep -vxF "$want" || true)
[ -z "$missing" ] || { echo "probes listed in $doc but not in $bin: $missing"; exit 1; }
[ -z "$extra" ] || { echo "probes in $bin not listed in $doc: $extra"; exit 1; }
echo "$(printf '%s\n' "$have" | wc -l) probes, as documented"
