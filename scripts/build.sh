#!/usr/bin/env bash
# Usage: scripts/build.sh CONFIG   (release | asan | tsan | fuzz)
# Configures and builds into build/CONFIG.
set -euo pipefail
cd "$(dirname "$0")/.."
cfg=${1:-release}
case "$cfg" in
release) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DNFS4D_VM_TESTS=ON) cc=gcc ;;
asan) args=(-DCMAKE_BUILD_TYPE=Debug -DNFS4D_SANITIZE=address) cc=gcc ;;
tsan) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DNFS4D_SANITIZE=thread) cc=clang ;;
fuzz) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DNFS4D_SANITIZE=fuzzer) cc=clang ;;
*) echo "unknown config: $cfg" >&2; exit 2 ;;
esac
cmake -S . -B "build/$cfg" -DCMAKE_C_COMPILER="$cc" "${args[@]}" >/dev/null
cmake --build "build/$cfg" -j "$(nproc)"
