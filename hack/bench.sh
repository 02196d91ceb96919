#!/usr/bin/env bash
# make bench: runs every benchmark in hack/bench.d/ in order. Each prints a
# table; with --json (BENCH_ARGS=--json) one JSON object per line instead.
# BENCHES=glob selects some of them.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export BUILD=${BUILD:-build} HOSTLANE_TOP=$top
rc=0
for b in hack/bench.d/*.sh; do
	[ -e "$b" ] || continue
	name=$(basename "$b" .sh)
	# shellcheck disable=SC2053
	[[ $name == ${BENCHES:-*} ]] || continue
	case " $* " in *" --json "*) ;; *) printf '\n=== %s ===\n' "$name" ;; esac
	bash "$b" "$@" || { echo "bench $name failed" >&2; rc=1; }
done
exit $rc
