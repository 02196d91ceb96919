#!/usr/bin/env bash
# The node agent's cost on the plugin's critical path. Three variants of the
# same standalone network (bridge + host-local, each on its own bridge and
# subnet):
#   plain       the plugin with no agent listening (fast path none: it notes
#               the agent is absent and goes on)
#   agent-none  the plugin + a running hostlaned, fast path none (the pod is
#               recorded and persisted)
#   agent-shm   the plugin + hostlaned, fast path shm (plus the @hostlane
#               endpoint bound in the pod's netns)
# 1) ADD/DEL/ADD+DEL p50/p99 per call, fork to exit (test/tools/cni-bench),
#    ratios against "plain"; 2) ADD+DEL rate with 16 concurrent plugin
#    processes. Acceptance: agent-none ADD+DEL p50 within 1.5x of plain.
# Env: AGENT_BENCH_PODS (default 50), AGENT_BENCH_RATE_PODS (default 160).
# With --json: one JSON object per line.
set -u
top=${HOSTLANE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
N=${AGENT_BENCH_PODS:-50}
R=${AGENT_BENCH_RATE_PODS:-160}
P=16
json=
for a in "$@"; do [ "$a" = --json ] && json=--json; done
HL_BIN=$BUILD/bin/hostlane AGENTD=$BUILD/bin/hostlaned BENCH=$BUILD/bin/cni-bench
REF=${CNI_SYS_DIR:-/usr/lib/cni}

die() { echo "bench 30-agent: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, bridges)"
for f in "$HL_BIN" "$AGENTD" "$BENCH" "$REF/host-local"; do [ -x "$f" ] || die "missing $f (make)"; done

run=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
tmp=$(mktemp -d "/tmp/hlabench-$run.XXXXXX")
nsp=hlan-$run-
agent_pid=
variants=(plain agent-none agent-shm)
export HOSTLANE_CACHE_DIR=$tmp/cache CNI_PATH=$REF

cleanup() {
	local i v l
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	for ((i = 0; i <= (N > R ? N : R); i++)); do ip netns del "$nsp$i" 2>/dev/null; done
	for v in 0 1 2; do
		for l in $(ip -o link show master "hlab$run$v" 2>/dev/null | awk '{n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); print n}'); do
			ip link del "$l" 2>/dev/null
		done
		ip link del "hlab$run$v" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$tmp/ipam" "$HOSTLANE_CACHE_DIR"
a=$((100 + 0x${run:0:2} % 100)) b=$((0x${run:2:2} % 200))
for v in 0 1 2; do
	sock=$tmp/agent.sock fp=none
	[ "$v" = 0 ] && sock=$tmp/no-agent.sock
	[ "$v" = 2 ] && fp=shm
	jq -nc --arg name "hlab-$run-$v" --arg br "hlab$run$v" --arg subnet "10.$a.$((b + v)).0/24" \
		--arg dir "$tmp/ipam" --arg sock "$sock" --arg fp "$fp" \
		'{cniVersion: "1.0.0", name: $name, type: "hostlane", bridge: $br, isGateway: true,
		  agentSocket: $sock, fastpath: $fp, ipam: {type: "host-local", subnet: $subnet, dataDir: $dir}}' \
		>"$tmp/${variants[$v]}.json"
done
printf '{"hugepages": {"defaultQuota": "2Mi"}, "logLevel": "warn"}' >"$tmp/agent.json"
"$AGENTD" --config "$tmp/agent.json" --socket "$tmp/agent.sock" --state-dir "$tmp/state" \
	--run-dir "$tmp/run" >"$tmp/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 200); do "$BUILD/bin/hostlanectl" --socket "$tmp/agent.sock" status >/dev/null 2>&1 && break; sleep 0.025; done
"$BUILD/bin/hostlanectl" --socket "$tmp/agent.sock" status >/dev/null 2>&1 || die "agent did not start: $(cat "$tmp/agent.log")"
for ((i = 0; i <= (N > R ? N : R); i++)); do ip netns add "$nsp$i" || die "ip netns add failed"; done

# cni-bench compares against its last plugin: plain.
args=()
for v in agent-none agent-shm plain; do args+=("$v" "$HL_BIN" "$tmp/$v.json"); done
# Warm-up on pod N (bridges, page cache), then the measured run.
"$BENCH" --pods 1 --netns-prefix "/var/run/netns/$nsp$N" "${args[@]}" >/dev/null 2>&1 || true
[ -z "$json" ] && echo "--- per call (fork to exit), $N pods; ratio = p50 / p50 of plain ---"
"$BENCH" $json --pods "$N" --netns-prefix "/var/run/netns/$nsp" "${args[@]}" || die "cni-bench failed"

# Rate: R pods, 16 plugin processes at a time, each ADD then DEL.
one() { # VARIANT I
	local env=(CNI_CONTAINERID="rate-$1-$2" CNI_NETNS="/var/run/netns/$nsp$2" CNI_IFNAME=eth0 CNI_PATH="$CNI_PATH")
	env CNI_COMMAND=ADD "${env[@]}" "$HL_BIN" <"$tmp/$1.json" >/dev/null 2>&1 &&
		env CNI_COMMAND=DEL "${env[@]}" "$HL_BIN" <"$tmp/$1.json" >/dev/null 2>&1
}
export -f one
export HL_BIN tmp nsp
[ -z "$json" ] && printf -- '--- ADD+DEL rate, %d pods, %d concurrent plugin processes ---\n%-12s %10s %8s\n' "$R" "$P" variant "pods/s" failed
for v in "${variants[@]}"; do
	t0=$(date +%s.%N)
	fails=$(seq 0 $((R - 1)) | xargs -P "$P" -I{} bash -c "one $v {} || echo x" | grep -c x)
	t1=$(date +%s.%N)
	rate=$(awk -v n="$R" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }')
	if [ -n "$json" ]; then
		printf '{"bench":"agent-rate","plugin":"%s","concurrency":%d,"pods":%d,"add_del_per_s":%s,"failed":%d}\n' \
			"$v" "$P" "$R" "$rate" "$fails"
	else
		printf '%-12s %10s %8d\n' "$v" "$rate" "$fails"
	fi
done
