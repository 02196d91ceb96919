# shellcheck shell=bash
# What the benchmarks of hack/bench.d that run pods share. Set top (the
# tree) first, source this at the top level (the libraries it sources keep
# their tables global that way), then:
#
#   bench_env NAME ARGS...  BUILD made absolute and exported with
#                        HOSTLANE_TOP; json=1 when ARGS hold --json; secs
#                        (SECS, default 3) and rounds (ROUNDS, default 3)
#   bail WHY             prints "NAME: skipped: WHY" (or its JSON) and exits 0
#   bench_need TOOL...   root and each TOOL (a command, or a program of the
#                        build given as build/PATH), else bail
#   bench_pods           the report to fd 3, everything else to stderr; two
#                        shm pods srv and cli with the agent of the run;
#                        sets ip_s, port (a random base), tmp, SRV_CPU and
#                        CLI_CPU (last core and core 0), hl_ok (0 when the
#                        layer cannot run, hl_why says why)
# shellcheck source=test/lib/tap.sh
. "$top/test/lib/tap.sh"
# shellcheck source=test/lib/pods.sh
. "$top/test/lib/pods.sh"

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
bench_need() {
	local t
	[ "$(id -u)" = 0 ] || bail "needs root (network namespaces)"
	for t in "$@"; do
		case $t in
		build/*) [ -x "$BUILD/${t#build/}" ] || bail "$BUILD/${t#build/} not built" ;;
		*) command -v "$t" >/dev/null || bail "$t missing (make deps)" ;;
		esac
	done
}
bench_pods() {
	local ncpu
	exec 3>&1 1>&2
	pods_setup >/dev/null
	pod_create srv && pod_create cli || bail "cannot create the pods (see stderr)"
	ip_s=$(pod_ip srv)
	port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000))
	tmp=$CNI_TMP
	ncpu=$(nproc)
	SRV_CPU=$((ncpu > 1 ? ncpu - 1 : 0)) CLI_CPU=0
	hl_ok=1 hl_why=
	preload_ready || { hl_ok=0 hl_why=$PRELOAD_WHY; }
	return 0
}
