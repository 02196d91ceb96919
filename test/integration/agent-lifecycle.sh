#!/usr/bin/env bash
# The agent's life: down (plugin ADD -> 11 whatever the fast path, DEL none
# -> succeeds, STATUS -> 50 naming the socket), SIGTERM keeps pod state and a restart re-creates
# the endpoints, SIGHUP reloads the config (default quota, fast path), a bad
# config on SIGHUP keeps the running one, a second agent on the same socket
# is refused, and CHECK/GC go through the agent.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
cni_setup
agent_setup
a=$(cni_pod a) b=$(cni_pod b) c=$(cni_pod c)
for p in "$a" "$b" "$c"; do cni_netns_add "$p"; done

# ---- agent down ----
cni_add cid-a "$a" eth0 "$(agent_conf shm)"
cni_err_code "agent down: ADD with fastpath shm fails with 11" 11
ok_not "... and leaves no interface in the pod" ip -n "$a" link show eth0
cni_add cid-b "$b" eth0 "$(agent_conf none)"
cni_err_code "agent down: ADD with fastpath none fails with 11 too (the pod's annotation, which only the agent reads, may ask for shm)" 11
ok_not "... and leaves no interface in the pod" ip -n "$b" link show eth0
cni_del cid-b "$b" eth0 "$(agent_conf none)"
cni_ok_rc "agent down: DEL with fastpath none succeeds"
cni_exec hostlane STATUS "" "" "" "$(agent_conf shm)"
cni_err_code "agent down, fastpath shm: STATUS is 50 naming the socket" 50 "$AG_SOCK"
cni_exec hostlane STATUS "" "" "" "$(agent_conf none)"
cni_err_code "agent down, fastpath none: STATUS is still 50 (annotations and pod records need the agent)" 50 "$AG_SOCK"

# ---- SIGTERM keeps state; restart restores ----
printf '{"hugepages": {"defaultQuota": "16Mi"}}' >"$AG_DIR/agent.json"
agent_start --config "$AG_DIR/agent.json"
cni_exec hostlane STATUS "" "" "" "$(agent_conf shm)"
cni_ok_rc "agent up: STATUS succeeds"
cni_add cid-a "$a" eth0 "$(agent_conf shm)"
cni_ok_rc "ADD pod A (shm)"
res_a=$CNI_STDOUT
tap_eq "quota from the config file" 16 "$(agent_pods '.[0].quotaBytes / 1048576')"
cni_exec hostlane CHECK cid-a "$a" eth0 "$(cni_with_prev "$(agent_conf shm)" "$res_a")"
cni_ok_rc "CHECK pod A passes (agent has it, endpoint live)"
agent_stop
tap_eq "SIGTERM: clean exit" 0 "$AG_RC"
ok_not "SIGTERM: the endpoint closes with the agent" pod_has_endpoint "$a"
tap_eq "SIGTERM: the pod's record is kept" 1 "$(agent_state_files | wc -l)"
cni_exec hostlane CHECK cid-a "$a" eth0 "$(cni_with_prev "$(agent_conf shm)" "$res_a")"
cni_err_code "CHECK with the agent down fails with 11" 11
agent_start --config "$AG_DIR/agent.json"
tap_eq "restart: pod A is back" "cid-a shm" "$(agent_pods '.[] | "\(.containerID) \(.fastpath)"')"
ok "restart: pod A's endpoint is re-created" pod_has_endpoint "$a"
cni_exec hostlane CHECK cid-a "$a" eth0 "$(cni_with_prev "$(agent_conf shm)" "$res_a")"
cni_ok_rc "CHECK after restart passes"

# ---- SIGHUP ----
printf '{"fastpath": "shm", "hugepages": {"defaultQuota": "4Mi"}}' >"$AG_DIR/agent.json"
kill -HUP "$AG_PID"
for _ in $(seq 200); do grep -q "config reloaded" "$AG_DIR/agent.log" && break; sleep 0.025; done
ok "SIGHUP: reload logged" grep -q "config reloaded" "$AG_DIR/agent.log"
cni_add cid-b "$b" eth0 "$(agent_conf "")"
cni_ok_rc "ADD pod B after SIGHUP"
tap_eq "SIGHUP: new default fast path and quota apply" "shm default 4" \
	"$(agent_pods '.[] | select(.containerID == "cid-b") | "\(.fastpath) \(.fastpathSource) \(.quotaBytes / 1048576)"')"
tap_eq "SIGHUP: pod A keeps its quota" 16 "$(agent_pods '.[] | select(.containerID == "cid-a") | .quotaBytes / 1048576')"
echo '{"hugepages": {"defaultQuota": "a lot"}}' >"$AG_DIR/agent.json"
kill -HUP "$AG_PID"
for _ in $(seq 200); do grep -q "config not reloaded" "$AG_DIR/agent.log" && break; sleep 0.025; done
ok "SIGHUP with a bad config: error logged, agent still serving" \
	sh -c "grep -q 'config not reloaded' '$AG_DIR/agent.log' && '$HL_CTL' --socket '$AG_SOCK' status"
tap_eq "... counted as a failed reload" 1 \
	"$(ctl metrics | awk '$1 == "hostlane_agent_reloads_total{result=\"error\"}" { print $2 }')"
cni_add cid-c "$c" eth0 "$(agent_conf "")"
tap_eq "... and the running config is kept (shm, 4Mi)" "shm 4" \
	"$(agent_pods '.[] | select(.containerID == "cid-c") | "\(.fastpath) \(.quotaBytes / 1048576)"')"
cni_del cid-c "$c" eth0 "$(agent_conf "")"

# ---- one agent per socket ----
"$HL_AGENTD" --socket "$AG_SOCK" --state-dir "$AG_DIR/state2" --run-dir "$AG_DIR/run2" \
	>"$AG_DIR/second.log" 2>&1 &
second=$!
on_exit "kill -9 $second"
wait "$second"
tap_eq "a second agent on a live socket exits with an error" 1 "$?"
ok "... saying the address is in use" grep -qi "in use" "$AG_DIR/second.log"
ok "the first agent still serves" ctl status

# ---- GC ----
cni_exec hostlane GC "" "" "" "$(agent_conf shm '. + {cniVersion: "1.1.0", "cni.dev/valid-attachments": [{containerID: "cid-a", ifname: "eth0"}]}')"
cni_ok_rc "GC keeping only pod A"
tap_eq "GC released pod B in the agent" "cid-a" "$(agent_pods '.[].containerID')"
ok_not "GC removed pod B's endpoint" pod_has_endpoint "$b"
cni_del cid-a "$a" eth0 "$(agent_conf shm)"
cni_ok_rc "DEL pod A"
tap_eq "no state files left" "" "$(agent_state_files)"
agent_stop

# ---- the sweeper: a pod whose netns vanished without a DEL reaching us ----
printf '{"sweepIntervalMs": 100}' >"$AG_DIR/agent.json"
agent_start --config "$AG_DIR/agent.json"
d=$(cni_pod d)
cni_netns_add "$d"
CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;HOSTLANE_FASTPATH=shm")
cni_add cid-d "$d" eth0 "$(agent_conf none)"
CNI_EXTRA_ENV=()
cni_ok_rc "ADD pod D (shm from CNI_ARGS)"
tap_eq "pod D recorded" 1 "$(agent_pods length)"
ip netns del "$d"
for _ in $(seq 400); do [ "$(agent_pods length)" = 0 ] && break; sleep 0.025; done
tap_eq "netns deleted behind our back: the sweeper releases the pod" "0 " \
	"$(agent_pods length) $(agent_state_files)"
tap_eq "... and its quota (the shm pods' quotas add up to 0)" 0 "$(ctl --json status | jq -r .hugepageQuotaBytes)"
agent_stop
tap_done
