#!/usr/bin/env bash
# Fast-path selection through the plugin and the agent: pod annotation
# (read from a local fake API server) > CNI_ARGS HOSTLANE_FASTPATH > network
# config fastpath > agent config > none; unknown values are error 7 naming
# the value; the hugepages annotation sets the quota; an API server that does
# not answer never fails the ADD (fallback to CNI_ARGS/config, warning).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
. "$(dirname "$0")/../lib/k8s.sh"
cni_setup
agent_setup
n=0

# try NAME CONF CNI_ARGS: ADD + report "fastpath source quotaMi", then DEL.
try() {
	local ns cid
	n=$((n + 1)); ns=$(cni_pod "s$n"); cid=cid-s$n-$CNI_RUN
	cni_netns_add "$ns"
	CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=ns-$CNI_RUN;K8S_POD_NAME=$1${3:+;$3}")
	cni_add "$cid" "$ns" eth0 "$2"
	CNI_EXTRA_ENV=()
	TRY_RC=$CNI_RC TRY_OUT=$CNI_STDOUT
	TRY=$(agent_pods --arg c "$cid" '.[] | select(.containerID == $c) | "\(.fastpath) \(.fastpathSource) \(.quotaBytes / 1048576)"')
	cni_del "$cid" "$ns" eth0 "$2"
	ip netns del "$ns"
}

printf '{"hugepages": {"defaultQuota": "16Mi"}}' >"$AG_DIR/agent.json"
agent_start --config "$AG_DIR/agent.json"
try p1 "$(agent_conf "")" ""
tap_eq "nothing set: none from the agent default" "none default 0" "$TRY"
try p2 "$(agent_conf shm)" ""
tap_eq "network config fastpath shm, default quota from agent config" "shm config 16" "$TRY"
try p3 "$(agent_conf shm)" "HOSTLANE_FASTPATH=none"
tap_eq "CNI_ARGS beats the network config" "none cniArgs 0" "$TRY"
try p4 "$(agent_conf none)" "HOSTLANE_FASTPATH=shm"
tap_eq "CNI_ARGS shm over config none" "shm cniArgs 16" "$TRY"
try p5 "$(agent_conf none)" "HOSTLANE_FASTPATH=warp"
CNI_RC=$TRY_RC CNI_STDOUT=$TRY_OUT cni_err_code "unknown CNI_ARGS value: error 7 naming it" 7 warp
try p6 "$(agent_conf vf)" ""
tap_eq "vf without a VF pool: error, not silently another fast path" "" "$TRY"
agent_stop

# The agent's own default (config "fastpath") applies when nothing else is set.
printf '{"fastpath": "shm", "hugepages": {"defaultQuota": "8Mi"}}' >"$AG_DIR/agent.json"
agent_start --config "$AG_DIR/agent.json"
try p7 "$(agent_conf "")" ""
tap_eq "agent config fastpath applies last" "shm default 8" "$TRY"
agent_stop

# ---- the annotation, from a fake API server ----
if ! k8s_setup; then
	tap_skip "annotation selection" "$K8S_WHY"
	tap_done; exit
fi
if ! "$HL_AGENTD" --help | grep -q kubeconfig; then
	tap_fail "agent has --kubeconfig"; tap_done; exit 1
fi
srv_pid=$K8S_PID
fake() { k8s_fake "$@"; }
pod() { k8s_pod "$@"; }
printf '{"k8sTimeoutMs": 1000, "hugepages": {"defaultQuota": "16Mi"}}' >"$AG_DIR/agent.json"
agent_start --config "$AG_DIR/agent.json" --kubeconfig "$K8S_KUBECONFIG"
for _ in $(seq 100); do
	[ "$(ctl --json status | jq -r .kubernetes.state)" = synced ] && break
	sleep 0.05
done
tap_eq "agent with --kubeconfig is up and synced" synced "$(ctl --json status | jq -r .kubernetes.state)"
pod k1 '{"hostlane.io/fastpath":"shm","hostlane.io/hugepages":"32Mi"}'
try k1 "$(agent_conf none)" "HOSTLANE_FASTPATH=none"
tap_eq "annotation beats CNI_ARGS and config; hugepages annotation sets the quota" "shm annotation 32" "$TRY"
pod k2 '{"hostlane.io/fastpath":"hyperspace"}'
try k2 "$(agent_conf none)" ""
CNI_RC=$TRY_RC CNI_STDOUT=$TRY_OUT cni_err_code "unknown annotation value: error 7 naming it" 7 hyperspace
pod k3 '{"hostlane.io/hugepages":"lots"}'
try k3 "$(agent_conf shm)" ""
CNI_RC=$TRY_RC CNI_STDOUT=$TRY_OUT cni_err_code "invalid hugepages annotation: error 7 naming it" 7 lots
try k4 "$(agent_conf none)" "HOSTLANE_FASTPATH=shm"
tap_eq "pod without annotations (404): CNI_ARGS applies" "shm cniArgs 16" "$TRY"
fake stall '{"on": true}'
try k5 "$(agent_conf none)" "HOSTLANE_FASTPATH=shm"
fake stall '{"on": false}'
tap_eq "API server not answering: ADD falls back to CNI_ARGS" "shm cniArgs 16" "$TRY"
ok "the fallback is logged as a warning" grep -q "falling back" "$AG_DIR/agent.log"
kill "$srv_pid"; wait "$srv_pid" 2>/dev/null
try k6 "$(agent_conf shm)" ""
tap_eq "API server gone: ADD falls back to config" "shm config 16" "$TRY"
agent_stop
tap_done
