#!/usr/bin/env bash
# Demo: unmodified redis-server in one pod, redis-benchmark in
# another, first over the kernel path (veth + bridge), then with both under
# LD_PRELOAD=libhostlane.so (pod-to-pod TCP over shared memory), side by
# side. Pods are made by the real plugin with the run's own agent; all of it
# is removed at the end. DEMO_REQUESTS=N requests per test (default 100000).
set -u
top=${HOSTLANE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
export BUILD HOSTLANE_TOP=$top
n=${DEMO_REQUESTS:-100000}

say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&3; }
exec 3>&1
[ "$(id -u)" = 0 ] || { echo "redis demo: skipped (needs root for network namespaces)"; exit 0; }
for p in redis-server redis-benchmark redis-cli jq; do
	command -v "$p" >/dev/null || { echo "redis demo: skipped ($p missing; make deps)"; exit 0; }
done
. "$top/test/lib/tap.sh"
. "$top/test/lib/pods.sh"
exec 1>/dev/null

say "redis over hostlane: two pods from the hostlane CNI plugin (fast path shm) and a private agent"
pods_setup
pod_create server && pod_create client || { echo "redis demo: could not create the pods" >&3; exit 1; }
ip_s=$(pod_ip server)
echo "   pod server: $(pod_ns server) $ip_s      pod client: $(pod_ns client) $(pod_ip client)" >&3
echo "   both netns have the agent's endpoint @hostlane; the programs are Debian's, unmodified" >&3
port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000))
hl=1
preload_ready || { hl=0; echo "   hostlane half skipped: $PRELOAD_WHY" >&3; }

# run MODE: start redis-server in the server pod, benchmark it from the client pod.
declare -A res=()
run() {
	local mode=$1 p=$((port += 1)) pre=() spid out
	[ "$mode" = hostlane ] && { preload_env; pre=(env "${HL_ENV[@]}"); }
	cni_bg ip netns exec "$(pod_ns server)" "${pre[@]}" redis-server --bind "$ip_s" --port "$p" \
		--save '' --appendonly no --protected-mode no --dir "$CNI_TMP" --logfile "$CNI_TMP/redis-$mode.log"
	spid=$CNI_BG_PID
	for _ in $(seq 200); do
		[ "$(ip netns exec "$(pod_ns client)" "${pre[@]}" redis-cli -h "$ip_s" -p "$p" ping 2>/dev/null)" = PONG ] && break
		sleep 0.05
	done
	echo "   \$ ip netns exec client ${pre[*]} redis-cli -h $ip_s -p $p set greeting hello" >&3
	echo "     $(ip netns exec "$(pod_ns client)" "${pre[@]}" redis-cli -h "$ip_s" -p "$p" set greeting "hello from $mode" 2>&1)" >&3
	echo "     GET greeting -> $(ip netns exec "$(pod_ns client)" "${pre[@]}" redis-cli -h "$ip_s" -p "$p" get greeting 2>&1)" >&3
	for c in 1 50; do
		out=$(timeout 300 ip netns exec "$(pod_ns client)" "${pre[@]}" redis-benchmark -h "$ip_s" -p "$p" \
			-t set,get -n "$n" -c "$c" -q --csv 2>&1)
		res[$mode,SET,$c]=$(awk -F'"' '$2 == "SET" { printf "%.0f", $4 }' <<<"$out")
		res[$mode,GET,$c]=$(awk -F'"' '$2 == "GET" { printf "%.0f", $4 }' <<<"$out")
		echo "   redis-benchmark -c $c: SET ${res[$mode,SET,$c]:-failed} req/s, GET ${res[$mode,GET,$c]:-failed} req/s" >&3
	done
	pod_kill "$spid"
}

say "1. kernel path: redis-server and redis-benchmark as they are"
run kernel
if [ $hl = 1 ]; then
	say "2. hostlane: the same binaries with LD_PRELOAD=$HL_PRELOAD"
	run hostlane
fi

say "side by side ($n requests per test)"
printf '   %-14s %14s %14s %8s\n' test kernel hostlane gain >&3
for k in "GET 1" "GET 50" "SET 1" "SET 50"; do
	set -- $k
	kv=${res[kernel,$1,$2]:-} hv=${res[hostlane,$1,$2]:-}
	g=$(awk -v k="$kv" -v h="$hv" 'BEGIN { if (k > 0 && h > 0) printf "%.1fx", h / k; else print "-" }')
	printf '   %-14s %14s %14s %8s\n' "$1 -c $2" "${kv:-n/a}" "${hv:-n/a}" "$g" >&3
done
say "cleaning up: pods deleted through the plugin, agent stopped, namespaces and bridge removed"
