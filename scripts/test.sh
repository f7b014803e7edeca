#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs dependencies, then builds and
# runs every test under each configuration (release with gcc, ASan+UBSan with
# gcc, TSan with clang, libFuzzer with clang), and ends with the totals.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
configs=${NFS4D_TEST_CONFIGS:-"release asan tsan fuzz"}
passed=0
failed=0
for cfg in $configs; do
	echo "=== $cfg: build"
	scripts/build.sh "$cfg"
	echo "=== $cfg: test"
	log="build/$cfg/ctest.log"
	if [ "$cfg" = fuzz ]; then
		# Everything else already ran under ASan+UBSan; this build adds the fuzzing.
		args=(-R '^fuzz/')
	else
		args=(-j 2)
	fi
	rc=0
	ctest --test-dir "build/$cfg" --output-on-failure "${args[@]}" 2>&1 | tee "$log" || rc=$?
	total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1 \2/p' "$log")
	if [ -n "$total" ]; then
		failed=$((failed + ${total% *}))
		passed=$((passed + ${total#* } - ${total% *}))
	fi
	[ "$rc" -eq 0 ] || { echo "TOTAL: $passed passed, $((failed > 0 ? failed : 1)) failed"; exit "$rc"; }
done
echo "TOTAL: $passed passed, $failed failed"
