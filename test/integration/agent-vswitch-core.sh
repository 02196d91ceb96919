#!/usr/bin/env bash
# The switch's default core is inside the agent's cpuset (its CPU
# affinity, as a container's cpuset gives it), not the node's last online
# core: the agent pinned to CPU 0 starts its switch on core 0; given
# vhostUser.lcore, that core is used.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
cni_setup
agent_setup
command -v taskset >/dev/null || tap_skip_all "taskset (util-linux) is not installed"
[ -x "$BUILD/bin/hostlane-vswitch" ] || tap_skip_all "hostlane-vswitch is not built (DPDK missing)"
[ "$(nproc --all)" -ge 2 ] || tap_skip_all "needs 2 CPUs to tell the cores apart"
conf() { # LCORE-JSON
	jq -n --arg d "$AG_DIR/pods" --argjson l "$1" \
		'{vhostUser: ({backend: "builtin", socketDir: $d, switchArgs: ["-m", "32"]}
		  + (if $l == null then {} else {lcore: $l} end))}' >"$AG_DIR/conf.json"
}
core() { sed -n 's/.*vswitch .* running on core \([0-9]*\).*/\1/p' "$AG_DIR/agent.log" | tail -n1; }

conf null
AG_WRAP="taskset -c 0" agent_start --config "$AG_DIR/conf.json"; tap_eq "agent pinned to CPU 0 starts" 0 "$?"
tap_eq "its switch runs on core 0 (in its cpuset)" 0 "$(core)"
agent_stop
: >"$AG_DIR/agent.log"
conf 1
agent_start --config "$AG_DIR/conf.json"; tap_eq "agent with vhostUser.lcore 1 starts" 0 "$?"
tap_eq "its switch runs on core 1" 1 "$(core)"
agent_stop
tap_done
