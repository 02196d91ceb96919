#!/usr/bin/env bash
# make demo: the main job end to end. Runs each part in hack/demo.d/ in order.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export BUILD=${BUILD:-build} HOSTLANE_TOP=$top
rc=0
for d in hack/demo.d/*.sh; do
	[ -e "$d" ] || continue
	bash "$d" || { echo "demo part $(basename "$d") failed" >&2; rc=1; }
done
exit $rc
