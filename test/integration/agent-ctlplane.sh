#!/usr/bin/env bash
# The agent's control-plane engine ("controlPlane"): with the default
# (software) the monitor writes the engine's pods table through the admin
# queue as shm pods come and go and reads every write back; `hostlanectl
# fpga` shows backend, device, occupancy and counters; the engine decides
# a CONNECT to a pod's address (one connected over hostlane, one refused)
# and serves LISTEN beside the monitor, alike. With "fpga" and
# "device": "model:SOCK" the agent drives the device model (the RTL under
# Verilator) and programs its pods table through the register window. A
# device that is not there, or "fpga" without a device, stops the start.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
cni_setup
agent_setup
model_bin=$BUILD/bin/hostlane-fpga-model
conf=$(agent_conf shm)
fp() { ctl --json fpga | jq -r "$@"; }

add() { # POD NAME
	cni_netns_add "$(cni_pod "$1")"
	CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=cp-$CNI_RUN;K8S_POD_NAME=$1;K8S_POD_UID=u$1")
	cni_add "cid-$1-$CNI_RUN" "$(cni_pod "$1")" eth0 "$conf"
	CNI_EXTRA_ENV=()
	cni_ok_rc "ADD pod $1 (shm)"
}
del() { cni_del "cid-$1-$CNI_RUN" "$(cni_pod "$1")" eth0 "$conf"; cni_ok_rc "DEL pod $1"; }

# --- software (the default) ---
agent_start; tap_eq "the agent starts with the default control plane" 0 "$?"
tap_eq "fpga: backend software, engine software, serves its queues" "software software true" \
	"$(fp '"\(.backend) \(.engine) \(.servesQueues)"')"
add a
add b
tap_eq "two shm pods: two pods-table entries, written and read back" "2 0 0" \
	"$(fp '"\(.tables.pods.entries) \(.mismatches) \(.writeErrors)"')"
ok "every write verified" test "$(fp .verified)" -ge 2
ok "the engine served the admin queue's writes (requests counter)" test "$(fp .counters.requests)" -ge 2
ok "hostlanectl fpga (text) names the backend and the tables" sh -c \
	"'$HL_CTL' --socket '$AG_SOCK' fpga | grep -q '^backend: *software' && '$HL_CTL' --socket '$AG_SOCK' fpga | grep -q 'pods 2/'"
# The engine decides LISTEN and CONNECT beside the monitor (same verdicts)
example=$BUILD/bin/hostlane-example
if [ -x "$example" ]; then
	ip_b=$(agent_pods --arg n b '.[] | select(.name == $n) | .ips[0]' | cut -d/ -f1)
	cni_bg ip netns exec "$(cni_pod b)" "$example" listen 7001 1
	lpid=$CNI_BG_PID
	for _ in $(seq 1 100); do
		ip netns exec "$(cni_pod a)" "$example" connect "$ip_b" 7001 64Ki >"$CNI_TMP/xfer.out" 2>&1 && break
		sleep 0.05
	done
	ok "pod a connects to pod b's listener over hostlane" grep -q checksum "$CNI_TMP/xfer.out"
	wait "$lpid" 2>/dev/null
	ip netns exec "$(cni_pod a)" "$example" connect "$ip_b" 7002 64Ki >/dev/null 2>&1
	ok "the engine decided the CONNECTs (one to the listener, one to a port nobody listens on)" \
		test "$(fp .connectsDecided)" -ge 2
	ok "the LISTEN served by the monitor and the engine" test "$(fp .listensChecked)" -ge 1
	tap_eq "... the same way (no disagreement)" 0 "$(fp .listensDisagreed)"
else
	tap_skip "the engine beside the monitor" "hostlane-example is not built"
fi
del a
tap_eq "a pod gone: its entry gone" "1 0" "$(fp '"\(.tables.pods.entries) \(.mismatches)"')"
del b
agent_stop
tap_eq "the agent stops cleanly" 0 "$AG_RC"

# --- bad settings stop the start ---
printf '{"controlPlane": {"backend": "fpga"}}' >"$AG_DIR/nodev.json"
ok_not "backend fpga without a device: the config is refused" \
	"$HL_AGENTD" --check-config --config "$AG_DIR/nodev.json"
printf '{"controlPlane": {"backend": "fpga", "device": "model:%s/absent.sock"}}' "$AG_DIR" >"$AG_DIR/absent.json"
agent_start --config "$AG_DIR/absent.json"
agent_wait_exit
ok "a device that is not there stops the start (no silent fallback)" test "$AG_RC" != 0
ok "... and says why" grep -q "controlPlane: backend fpga, device model:.*absent.sock" "$AG_DIR/agent.log"

# --- the device model ---
if [ ! -x "$model_bin" ]; then
	tap_skip "the device model" "$model_bin is not built (make fpga)"
	tap_done
	exit 0
fi
msock=$AG_DIR/model.sock
"$model_bin" "$msock" >"$AG_DIR/model.log" 2>&1 &
mpid=$!
on_exit "kill $mpid 2>/dev/null; wait $mpid 2>/dev/null; rm -f '$msock'"
for _ in $(seq 1 200); do [ -S "$msock" ] && break; sleep 0.025; done
printf '{"controlPlane": {"backend": "fpga", "device": "model:%s"}}' "$msock" >"$AG_DIR/model.json"
agent_start --config "$AG_DIR/model.json"; tap_eq "the agent starts on the device model" 0 "$?"
tap_eq "fpga: backend fpga, engine model, tables through the window" "fpga model model:$msock false" \
	"$(fp '"\(.backend) \(.engine) \(.device) \(.servesQueues)"')"
add c
tap_eq "an shm pod: its address in the device's pods table, read back" "1 0 0" \
	"$(fp '"\(.tables.pods.entries) \(.mismatches) \(.writeErrors)"')"
ok "the device's cycle counter runs" test "$(fp .counters.cycles)" -gt 0
del c
tap_eq "the pod gone: the device's entry gone" "0 0" "$(fp '"\(.tables.pods.entries) \(.mismatches)"')"
agent_stop
tap_eq "the agent stops cleanly" 0 "$AG_RC"
tap_done
