# Helpers for the node agent's integration tests, benchmark and demo. Source
# test/lib/tap.sh and test/lib/cni.sh first and call cni_setup; then
# agent_setup. Every agent runs with run-private --socket/--state-dir/--run-dir
# under $CNI_TMP/agent and is stopped by pid in the cleanup.
#
#   AG_DIR AG_SOCK AG_STATE AG_METRICS   the agent's private paths/address
#   agent_start [ARGS...]   start hostlaned (env AG_ENV=(K=V ...) is added),
#                           wait until it answers; sets AG_PID
#   agent_stop              SIGTERM and wait;  agent_kill: SIGKILL and wait
#   ctl ARGS...             hostlanectl against the run's agent
#   agent_conf FASTPATH [JQ-FILTER]   the run's network config with
#                           agentSocket (and fastpath unless FASTPATH is "")
#   agent_state_files       the pod records on disk, one a line
#   hp_free                 HugePages_Free

HL_AGENTD=${HL_AGENTD:-$BUILD/bin/hostlaned}
HL_CTL=${HL_CTL:-$BUILD/bin/hostlanectl}
AG_ENV=()
AG_PID=

agent_setup() {
	[ -x "$HL_AGENTD" ] && [ -x "$HL_CTL" ] || {
		tap_fail "agent is built" "missing $HL_AGENTD or $HL_CTL"
		tap_done
		exit 1
	}
	AG_DIR=$CNI_TMP/agent
	AG_SOCK=$AG_DIR/agent.sock
	AG_STATE=$AG_DIR/state
	# Below the kernel's ephemeral range (32768-60999): an outgoing
	# connection of another test can never be holding the port.
	AG_METRICS=127.0.0.1:$((10000 + $(od -An -N2 -tu2 /dev/urandom) % 22000))
	mkdir -p "$AG_DIR"
	on_exit agent_cleanup
}

# Also by the pid file, in case agent_start ran in a subshell.
agent_cleanup() {
	local p
	for p in $AG_PID $(cat "$AG_DIR/pids" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	AG_PID=
}

ctl() { "$HL_CTL" --socket "$AG_SOCK" "$@"; }

# agent_wait_ready: bounded wait for the socket to answer (readiness, not timing).
agent_wait_ready() {
	local i
	for ((i = 0; i < 400; i++)); do
		ctl status >/dev/null 2>&1 && return 0
		kill -0 "$AG_PID" 2>/dev/null || return 1
		sleep 0.025
	done
	return 1
}

agent_start() {
	env "${AG_ENV[@]}" ${AG_WRAP:-} "$HL_AGENTD" --socket "$AG_SOCK" --state-dir "$AG_STATE" \
		--run-dir "$AG_DIR/run" --node-name "node-$CNI_RUN" --metrics-addr "$AG_METRICS" \
		"$@" >>"$AG_DIR/agent.log" 2>&1 &
	AG_PID=$!
	echo "$AG_PID" >>"$AG_DIR/pids"
	agent_wait_ready
}

# agent_wait_exit: the agent process is gone (reaped); its exit status in AG_RC.
agent_wait_exit() {
	wait "$AG_PID" 2>/dev/null
	AG_RC=$?
	sed -i "/^$AG_PID\$/d" "$AG_DIR/pids"
	AG_PID=
}
agent_stop() { kill -TERM "$AG_PID" 2>/dev/null; agent_wait_exit; }
agent_kill() { kill -KILL "$AG_PID" 2>/dev/null; agent_wait_exit; }

agent_conf() {
	local fp=$1 filter=${2:-.}
	cni_conf ". + {agentSocket: \$s} | if \$fp != \"\" then . + {fastpath: \$fp} else . end | $filter" \
		--arg s "$AG_SOCK" --arg fp "$fp"
}

agent_state_files() { find "$AG_STATE/pods" -type f 2>/dev/null | sort; }
hp_free() { awk '$1 == "HugePages_Free:" { print $2 }' /proc/meminfo; }

# pod_has_endpoint NETNS: @hostlane is bound in that netns.
pod_has_endpoint() { ip netns exec "$1" cat /proc/net/unix | grep -q ' @hostlane$'; }

# agent_pods_field JQ: hostlanectl --json pods | jq -r JQ
agent_pods() { ctl --json pods | jq -r "$@"; }
