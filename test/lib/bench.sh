# shellcheck shell=bash
# What the benchmarks of hack/bench.d share at their start. Set top (the
# tree) first, then:
#
#   bench_env NAME ARGS...  BUILD made absolute and exported with
#                        HOSTLANE_TOP; json=1 when ARGS hold --json; secs
#                        (SECS, default 3) and rounds (ROUNDS, default 3)
#   bail WHY             prints "NAME: skipped: WHY" (or its JSON) and exits 0
bench_env() {
	local a
	BENCH_NAME=$1; shift
	BUILD=${BUILD:-build}
	case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
	export BUILD HOSTLANE_TOP=$top
	json=0
	for a in "$@"; do [ "$a" = --json ] && json=1; done
	secs=${SECS:-3} rounds=${ROUNDS:-3}
	return 0
}
bail() {
	if [ "$json" = 1 ]; then printf '{"bench":"%s","skipped":"%s"}\n' "$BENCH_NAME" "$1"
	else echo "$BENCH_NAME: skipped: $1"; fi
	exit 0
}
