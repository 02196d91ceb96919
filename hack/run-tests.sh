#!/usr/bin/env bash
# Runs every test and prints one summary line: "N passed, N failed, N skipped".
#
# Every test speaks TAP on stdout ("ok N - what", "not ok N - what",
# "ok N - what # SKIP why"). Unit tests are Check binaries (their TAP comes
# through CK_TAP_LOG_FILE_NAME); integration tests are test/integration/*.sh;
# the short fuzz runs are test/fuzz/run.sh. A test file that exits non-zero
# without reporting a failure counts as one failure (a crash is never a pass),
# and so does one that printed no TAP line at all (a test that ran nothing
# proved nothing; one that cannot run says "ok N - what # SKIP why").
# "not ok ... # TODO why" marks a known bug listed by the test: it is printed
# and counted with the skipped, never with the passed.
#
# Arguments: the unit test binaries. Environment: BUILD (default build),
# TESTS (globs on test names, separated by spaces, to run only some),
# TEST_TIMEOUT (seconds per test file, default 900).
set -u
BUILD=${BUILD:-build}
TEST_TIMEOUT=${TEST_TIMEOUT:-900}
TESTS=${TESTS:-*}
# The globs match test names, never the files here.
read -r -a test_globs <<<"$TESTS"
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export BUILD HOSTLANE_TOP="$top"
logs=$BUILD/test-logs
mkdir -p "$logs"

[ "$(id -u)" = 0 ] || echo "note: not root; tests that need root report SKIP" >&2
hack/hugepages.sh >/dev/null 2>&1 || true

pass=0 fail=0 skip=0
failed_names=()

run_one() { # name, command...
	local name=$1; shift
	local g hit=0
	for g in "${test_globs[@]}"; do
		# shellcheck disable=SC2053
		[[ $name == $g ]] && { hit=1; break; }
	done
	[ "$hit" = 1 ] || return 0
	local log=$logs/${name//\//_}.log tap=$logs/${name//\//_}.tap
	local t0=$SECONDS rc
	rm -f "$tap"
	CK_TAP_LOG_FILE_NAME=$tap CK_VERBOSITY=silent \
		timeout --kill-after=10 "$TEST_TIMEOUT" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	# Shell and C integration tests print TAP on stdout; Check writes the file.
	[ -s "$tap" ] || grep -E '^(not )?ok ' "$log" >"$tap" 2>/dev/null
	local p f s
	# A "not ok ... # TODO" is a known, listed bug: reported and counted with
	# the skipped, never as passed; an "ok ... # TODO" is a pass.
	local t
	p=$(grep -cE '^ok ' "$tap" | tr -d ' '); s=$(grep -cE '^ok .*# *(SKIP|skip)' "$tap" | tr -d ' ')
	t=$(grep -cE '^not ok .*# *TODO' "$tap" | tr -d ' ')
	f=$(grep -cE '^not ok ' "$tap" | tr -d ' ')
	p=$((p - s)) f=$((f - t)) s=$((s + t))
	if ! grep -qE '^(not )?ok ' "$tap"; then
		f=1
		echo "not ok - $name printed no TAP line (exit $rc)" >>"$tap"
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		[ "$rc" = 124 ] && echo "not ok - $name timed out after ${TEST_TIMEOUT}s" >>"$tap" \
			|| echo "not ok - $name exited $rc" >>"$tap"
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	local status=PASS
	[ "$s" != 0 ] && status="PASS ($s skipped)"
	if [ "$f" != 0 ]; then
		status=FAIL; failed_names+=("$name")
	fi
	printf '%-44s %-18s %3ss  (%d ok)\n' "$name" "$status" "$((SECONDS - t0))" "$p"
	grep -E '# *(SKIP|skip|TODO)' "$tap" | sed 's/^/    /'
	if [ "$f" != 0 ]; then
		grep -E '^not ok' "$tap" | grep -vE '# *TODO' | sed 's/^/    /'
		echo "    --- last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    | /'
	fi
}

for t in "$@"; do
	run_one "unit/$(basename "$t")" "$t"
done
for t in test/integration/*.sh; do
	[ -e "$t" ] || continue
	run_one "integration/$(basename "$t" .sh)" bash "$t"
done
if [ -x test/fuzz/run.sh ]; then
	run_one "fuzz/short" env FUZZ_SECONDS="${FUZZ_SECONDS:-10}" test/fuzz/run.sh
fi

echo
[ ${#failed_names[@]} = 0 ] || echo "failed: ${failed_names[*]} (logs in $logs/)"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
