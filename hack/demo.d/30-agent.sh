#!/usr/bin/env bash
# Demo, part 3: the node agent. hostlaned runs (private socket and state
# dirs), the plugin wires two pods with fastpath shm, hostlanectl shows them,
# each pod has its own @hostlane endpoint, a client in pod A sends data to a
# listener in pod B through the queues the agent handed out, then DEL
# releases everything.
. "$(dirname "$0")/../../test/lib/tap.sh"
. "$(dirname "$0")/../../test/lib/cni.sh"
. "$(dirname "$0")/../../test/lib/agent.sh"
[ "$(id -u)" = 0 ] || { echo "demo 30-agent: needs root (network namespaces)" >&2; exit 1; }
cni_setup >/dev/null
agent_setup >/dev/null
example=$BUILD/bin/hostlane-example

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s# %s%s\n' "$bold" "$*" "$plain"; }
step_failed() { echo "demo 30-agent: $*" >&2; [ -f "$AG_DIR/agent.log" ] && tail -5 "$AG_DIR/agent.log" >&2; exit 1; }
run() { printf '$ %s\n' "$*"; "$@" 2>&1 | sed 's/^/  /'; }

say "Start the node agent (foreground daemon; here with run-private paths)"
echo "$ hostlaned --socket $AG_SOCK --state-dir $AG_STATE --metrics-addr $AG_METRICS"
agent_start || step_failed "hostlaned did not start"
run "$HL_CTL" --socket "$AG_SOCK" status

conf=$(agent_conf shm)
say "The network config asks for the shm fast path and names the agent's socket"
jq '{name, type, bridge, fastpath, agentSocket}' <<<"$conf"
pa=$(cni_pod a) pb=$(cni_pod b)
declare -A ip
for p in a b; do
	ns=$(cni_pod $p)
	cni_netns_add "$ns" || step_failed "ip netns add failed"
	CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=pod-$p")
	cni_add "demo-$CNI_RUN-$p" "$ns" eth0 "$conf"
	CNI_EXTRA_ENV=()
	[ "$CNI_RC" = 0 ] || step_failed "ADD $p failed: $CNI_STDOUT"
	ip[$p]=$(cni_result_ip "$CNI_STDOUT")
	say "ADD pod $p -> ${ip[$p]}; the result names its endpoint"
	jq -c '.interfaces[] | select(.socketPath)' <<<"$CNI_STDOUT"
done

say "hostlanectl pods: every pod the agent knows, with IPs and fast path"
run "$HL_CTL" --socket "$AG_SOCK" pods
say "Each pod's netns has its own abstract socket @hostlane (reachable from that pod only)"
run ip netns exec "$pa" sh -c "grep -c ' @hostlane$' /proc/net/unix"

if [ -x "$example" ]; then
	say "In pod a, the native API (libhostlane) gets the pod's identity and quota from @hostlane"
	run ip netns exec "$pa" "$example" info
	say "Pod b listens; pod a sends 64 MiB through the handed-out shm queues"
	cni_bg ip netns exec "$pb" "$example" listen 7000 1
	for _ in $(seq 100); do
		ip netns exec "$pa" "$example" connect "${ip[b]}" 7000 64Mi >"$CNI_TMP/xfer" 2>&1 && break
		sleep 0.05
	done
	sed 's/^/  /' "$CNI_TMP/xfer"
	grep -q checksum "$CNI_TMP/xfer" || step_failed "transfer failed"
	wait "$CNI_BG_PID" 2>/dev/null
else
	say "(hostlane-example is not built: skipping the data transfer)"
fi

say "Metrics (Prometheus text on http://$AG_METRICS/metrics)"
curl -s "http://$AG_METRICS/metrics" | grep -E '^hostlane_agent_(pods|hugepages_bytes|requests_total\{op="ADD")' | sed 's/^/  /'

say "DEL both pods: endpoints, quota and records are released"
for p in a b; do
	cni_del "demo-$CNI_RUN-$p" "$(cni_pod $p)" eth0 "$conf"
	[ "$CNI_RC" = 0 ] || step_failed "DEL $p failed: $CNI_STDOUT"
done
run "$HL_CTL" --socket "$AG_SOCK" status
agent_stop
echo
echo "demo 30-agent: ok"
