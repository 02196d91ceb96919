#!/usr/bin/env bash
# CNI ADD+DEL latency: hostlane standalone against Debian's reference
# bridge + host-local for the same network shape (a bridge with the gateway
# address, a default route in the pod, host-local IPAM on a /24), each on its
# own bridge and subnet. N pods (CNI_BENCH_PODS, default 50); for each pod
# both plugins get ADD then DEL, in rotating order (test/tools/cni-bench.c
# times each call from fork to exit). Prints median, p99 and the
# hostlane/bridge ratio; with --json one JSON object per line.
set -u
top=${HOSTLANE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
N=${CNI_BENCH_PODS:-50}
json=
for a in "$@"; do [ "$a" = --json ] && json=--json; done
HL_BIN=${HL_BIN:-$BUILD/bin/hostlane}
BENCH=$BUILD/bin/cni-bench
REF=${CNI_SYS_DIR:-/usr/lib/cni}

die() { echo "bench 10-cni: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, bridges)"
for f in "$HL_BIN" "$BENCH" "$REF/bridge" "$REF/host-local"; do
	[ -x "$f" ] || die "missing $f (make; hack/deps.sh)"
done

run=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
tmp=$(mktemp -d "/tmp/hlbench-$run.XXXXXX")
ns_prefix=hlbn-$run-
brh=hlbh$run brr=hlbr$run
a=$((100 + 0x${run:0:2} % 100)) b=$((0x${run:2:2}))
b2=$(((b + 1) % 256))
export HOSTLANE_CACHE_DIR=$tmp/cache CNI_PATH=$REF

cleanup() {
	local i
	for i in $(seq 0 "$N") warm; do ip netns del "$ns_prefix$i" 2>/dev/null; done
	for l in $(ip -o link show 2>/dev/null | awk -v p="alias hostlane:hlbench-$run" \
		'index($0, p) { n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); print n }') \
		$(ip -o link show master "$brh" 2>/dev/null | awk '{n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); print n}') \
		$(ip -o link show master "$brr" 2>/dev/null | awk '{n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); print n}'); do
		ip link del "$l" 2>/dev/null
	done
	ip link del "$brh" 2>/dev/null
	ip link del "$brr" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

conf() { # TYPE NAME BRIDGE SUBNET
	jq -nc --arg type "$1" --arg name "$2" --arg br "$3" --arg subnet "$4" --arg dir "$tmp/ipam" '
		{cniVersion: "1.0.0", name: $name, type: $type, bridge: $br, isGateway: true,
		 ipam: {type: "host-local", subnet: $subnet, dataDir: $dir}}
		| if $type == "bridge" then . + {isDefaultGateway: true} else . + {agentSocket: ""} end'
}
mkdir -p "$tmp/ipam" "$HOSTLANE_CACHE_DIR"
conf hostlane "hlbench-$run-h" "$brh" "10.$a.$b.0/24" >"$tmp/hostlane.json"
conf bridge "hlbench-$run-r" "$brr" "10.$a.$b2.0/24" >"$tmp/bridge.json"
for i in $(seq 0 "$N"); do ip netns add "$ns_prefix$i" || die "ip netns add failed"; done

# Warm-up on the extra pod N: creates both bridges, loads both binaries.
"$BENCH" --pods 1 --netns-prefix "/var/run/netns/$ns_prefix" \
	warm-h "$HL_BIN" "$tmp/hostlane.json" warm-r "$REF/bridge" "$tmp/bridge.json" >/dev/null ||
	die "warm-up failed"
"$BENCH" $json --pods "$N" --netns-prefix "/var/run/netns/$ns_prefix" \
	hostlane "$HL_BIN" "$tmp/hostlane.json" bridge "$REF/bridge" "$tmp/bridge.json"
