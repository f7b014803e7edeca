#!/usr/bin/env bash
# Quick start: installs dependencies, builds nfs4d and serves an example
# export in the foreground (Ctrl-C stops it). Extra arguments go to nfs4d.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh release
export_dir=${NFS4D_EXAMPLE_EXPORT:-/tmp/nfs4d-example}
mkdir -p "$export_dir"
echo "hello from nfs4d" >"$export_dir/README.txt"
# Client records in a directory any user may create (a later --state-dir in "$@" wins).
state_dir=${NFS4D_EXAMPLE_STATE:-/tmp/nfs4d-example-state}
exec build/release/src/main/nfs4d --export "$export_dir" --state-dir "$state_dir" "$@"
