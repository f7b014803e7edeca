#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs dependencies, then builds and
# runs every test under each configuration (release with gcc, ASan+UBSan with
# gcc, TSan with clang, libFuzzer with clang).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
configs=${NFS4D_TEST_CONFIGS:-"release asan tsan fuzz"}
for cfg in $configs; do
	echo "=== $cfg: build"
	scripts/build.sh "$cfg"
	echo "=== $cfg: test"
	if [ "$cfg" = fuzz ]; then
		# Everything else already ran under ASan+UBSan; this build adds the fuzzing.
		ctest --test-dir "build/$cfg" --output-on-failure -R '^fuzz/'
	else
		ctest --test-dir "build/$cfg" --output-on-failure -j 2
	fi
done
