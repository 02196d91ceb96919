#!/usr/bin/env bash
# The node agent's cost on the plugin's critical path. Three variants of the
# same standalone network (bridge + host-local, each on its own bridge and
# subnet):
#   plain       the plugin with no agent ("agentSocket": "", fast path none)
#   agent-none  the plugin + a running hostlaned, fast path none (the pod is
#               recorded and persisted)
#   agent-shm   the plugin + hostlaned, fast path shm (plus the @hostlane
#               endpoint bound in the pod's netns)
# 1) ADD/DEL/ADD+DEL p50/p99 per call, fork to exit (test/tools/cni-bench),
#    ratios against "plain"; 2) ADD+DEL rate with 16 concurrent plugin
#    processes; 3) many pods: a second agent with the shipped defaults (no
#    config) and M shm pods ADDed one after the other and kept, then all
#    DELed, in rounds: the ADD of the first pod (an empty node) against the
#    ADD of the M-th (M-1 pods there): the plugin's, fork to exit, and the
#    agent's part (its request time, from its histogram's sum around that
#    ADD), and the agent alone (the same ADDs straight to its socket: no
#    veth, bridge or IPAM), medians over the rounds (each round has the
#    first and the last: interleaved).
#    Acceptance: agent-none ADD+DEL p50 within 1.5x of plain; the M-th
#    pod's ADD p50 within 1.2x of the first's.
# Env: AGENT_BENCH_PODS (default 50), AGENT_BENCH_RATE_PODS (default 160),
# AGENT_BENCH_MANY (default 100), AGENT_BENCH_MANY_ROUNDS (default 7).
# With --json: one JSON object per line.
set -u
top=${HOSTLANE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
N=${AGENT_BENCH_PODS:-50}
R=${AGENT_BENCH_RATE_PODS:-160}
M=${AGENT_BENCH_MANY:-100}
ROUNDS=${AGENT_BENCH_MANY_ROUNDS:-7}
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
agent_pid= many_pid=
variants=(plain agent-none agent-shm)
export HOSTLANE_CACHE_DIR=$tmp/cache CNI_PATH=$REF

cleanup() {
	local i v l
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	[ -n "$many_pid" ] && kill "$many_pid" 2>/dev/null && wait "$many_pid" 2>/dev/null
	for ((i = 0; i <= (N > R ? N : R) || i < M; i++)); do ip netns del "$nsp$i" 2>/dev/null; done
	for v in 0 1 2 3; do
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
	[ "$v" = 0 ] && sock=""   # "": no agent (a named one that is away fails ADD with 11)
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
for ((i = 0; i <= (N > R ? N : R) || i < M; i++)); do ip netns add "$nsp$i" || die "ip netns add failed"; done

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

# Many pods: the shipped defaults (64Mi quota, pool = free hugepages,
# overcommit 8), its own agent, bridge and subnet.
jq -nc --arg name "hlab-$run-3" --arg br "hlab${run}3" --arg subnet "10.$a.$((b + 3)).0/24" \
	--arg dir "$tmp/ipam" --arg sock "$tmp/many.sock" \
	'{cniVersion: "1.0.0", name: $name, type: "hostlane", bridge: $br, isGateway: true,
	  agentSocket: $sock, fastpath: "shm", ipam: {type: "host-local", subnet: $subnet, dataDir: $dir}}' \
	>"$tmp/many.json"
"$AGENTD" --socket "$tmp/many.sock" --state-dir "$tmp/many-state" --run-dir "$tmp/many-run" \
	--log-level warn >"$tmp/many.log" 2>&1 &
many_pid=$!
for _ in $(seq 200); do "$BUILD/bin/hostlanectl" --socket "$tmp/many.sock" status >/dev/null 2>&1 && break; sleep 0.025; done
many_call() { # COMMAND I: prints the call's microseconds, fork to exit
	local t0 t1
	t0=$(date +%s%N)
	env CNI_COMMAND="$1" CNI_CONTAINERID="many-$2" CNI_NETNS="/var/run/netns/$nsp$2" CNI_IFNAME=eth0 \
		CNI_PATH="$CNI_PATH" "$HL_BIN" <"$tmp/many.json" >/dev/null 2>"$tmp/many.err" || return 1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'; }
# The agent's own time for its ADDs so far (its request histogram's sum), us.
agent_add_us() {
	"$BUILD/bin/hostlanectl" --socket "$tmp/many.sock" metrics |
		awk '$1 == "hostlane_agent_request_duration_seconds_sum{op=\"ADD\"}" { printf "%d\n", $2 * 1e6 }'
}
# ADD of pod I, timed: the plugin's fork to exit into $1[], the agent's part into $2[].
timed_add() { # CALL-ARRAY AGENT-ARRAY I
	local a0 a1 us
	a0=$(agent_add_us)
	us=$(many_call ADD "$3") || return 1
	a1=$(agent_add_us)
	eval "$1+=($us); $2+=($((a1 - a0)))"
}
first=() last=() afirst=() alast=() fails=0
many_call ADD 0 >/dev/null && many_call DEL 0 >/dev/null   # warm-up: the bridge
for ((r = 0; r < ROUNDS; r++)); do
	for ((i = 0; i < M; i++)); do
		if [ "$i" = 0 ]; then timed_add first afirst "$i" || fails=$((fails + 1))
		elif [ "$i" = $((M - 1)) ]; then timed_add last alast "$i" || fails=$((fails + 1))
		else many_call ADD "$i" >/dev/null || fails=$((fails + 1)); fi
	done
	for ((i = 0; i < M; i++)); do many_call DEL "$i" >/dev/null || fails=$((fails + 1)); done
done
# The agent alone: the same ADDs straight to its socket (no veth, no
# bridge, no IPAM), so that what the kernel does for 100 veths on a bridge
# (their address set-up, the bridge's ports) is not in the figure.
raw_call() { # OP I
	printf '{"hostlane":1,"op":"%s","network":"many-raw","containerID":"raw-%s","ifname":"eth0","netns":"/var/run/netns/%s%s","ips":["10.249.%d.%d/16"],"fastpath":{"config":"shm"}}' \
		"$1" "$2" "$nsp" "$2" $(($2 / 250)) $(($2 % 250 + 1)) |
		"$BUILD/bin/hostlanectl" --socket "$tmp/many.sock" raw >/dev/null
}
rfirst=() rlast=()
for ((r = 0; r < ROUNDS; r++)); do
	for ((i = 0; i < M; i++)); do
		if [ "$i" = 0 ] || [ "$i" = $((M - 1)) ]; then
			a0=$(agent_add_us)
			raw_call ADD "$i" || fails=$((fails + 1))
			a1=$(agent_add_us)
			if [ "$i" = 0 ]; then rfirst+=($((a1 - a0))); else rlast+=($((a1 - a0))); fi
		else
			raw_call ADD "$i" || fails=$((fails + 1))
		fi
	done
	for ((i = 0; i < M; i++)); do raw_call DEL "$i" || fails=$((fails + 1)); done
done
r1=$(printf '%s\n' "${rfirst[@]}" | median) rm_=$(printf '%s\n' "${rlast[@]}" | median)
rratio=$(awk -v a="$rm_" -v b="$r1" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
p1=$(printf '%s\n' "${first[@]}" | median) pm=$(printf '%s\n' "${last[@]}" | median)
q1=$(printf '%s\n' "${afirst[@]}" | median) qm=$(printf '%s\n' "${alast[@]}" | median)
ratio=$(awk -v a="$pm" -v b="$p1" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
aratio=$(awk -v a="$qm" -v b="$q1" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
if [ -n "$json" ]; then
	printf '{"bench":"agent-many-pods","pods":%d,"rounds":%d,"add_first_p50_us":%d,"add_last_p50_us":%d,"ratio":%s,"agent_first_p50_us":%d,"agent_last_p50_us":%d,"agent_ratio":%s,"agent_alone_first_p50_us":%d,"agent_alone_last_p50_us":%d,"agent_alone_ratio":%s,"bar":1.2,"failed":%d}\n' \
		"$M" "$ROUNDS" "$p1" "$pm" "$ratio" "$q1" "$qm" "$aratio" "$r1" "$rm_" "$rratio" "$fails"
else
	printf -- '--- many pods: shipped defaults, %d shm pods kept, %d rounds, p50 (bar: pod %d <= 1.2x pod 1) ---\n' \
		"$M" "$ROUNDS" "$M"
	printf '%-34s %12s %12s %7s\n' "ADD" "pod 1 (us)" "pod $M (us)" ratio
	printf '%-34s %12d %12d %7s\n' "plugin, fork to exit" "$p1" "$pm" "$ratio" \
		"agent's part (its request time)" "$q1" "$qm" "$aratio" \
		"agent alone (ADD to its socket)" "$r1" "$rm_" "$rratio"
	printf 'failed calls: %d\n' "$fails"
fi
