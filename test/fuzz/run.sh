#!/usr/bin/env bash
# Runs every libFuzzer harness in $BUILD/fuzz/ for FUZZ_SECONDS each (default
# 10: the short run in make test; make fuzz uses 300), starting from the seed
# corpus in test/fuzz/corpus/<harness>/. New inputs go to a scratch copy, so
# the committed seeds never change behind your back. Prints TAP.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
secs=${FUZZ_SECONDS:-10}
n=0 failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in "$BUILD"/fuzz/*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	n=$((n + 1))
	mkdir -p "$work/$name" "$work/art-$name"
	[ -d "test/fuzz/corpus/$name" ] && cp -r "test/fuzz/corpus/$name/." "$work/$name/"
	if "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/art-$name/" "$work/$name" >"$work/$name.log" 2>&1; then
		echo "ok $n - fuzz $name ${secs}s ($(grep -oE 'stat::number_of_executed_units: [0-9]+' "$work/$name.log" | grep -oE '[0-9]+' || echo '?') runs)"
	else
		failed=$((failed + 1))
		echo "not ok $n - fuzz $name"
		tail -n 40 "$work/$name.log" | sed 's/^/#   /'
		mkdir -p "$BUILD/fuzz-artifacts" && cp -r "$work/art-$name/." "$BUILD/fuzz-artifacts/" 2>/dev/null
	fi
done
[ $n = 0 ] && echo "ok 1 - no fuzz harnesses built # SKIP none built"
echo "1..$n"
[ $failed = 0 ]
