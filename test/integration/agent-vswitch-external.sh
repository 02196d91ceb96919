#!/usr/bin/env bash
# vhostUser.backend "external": the switch is started apart from the agent
# (in Kubernetes, a container of its own, so that its core and hugepages are
# accounted apart). The agent adds and deletes pod ports over the switch's
# control socket; when the switch is restarted (a new process, a new
# control socket) the agent gives it every pod's port again; DEL removes
# the port. STATUS says backend external, switch up, resyncs.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
cni_setup
agent_setup
sw=$BUILD/bin/hostlane-vswitch vswctl=$BUILD/bin/hostlane-vswctl
[ -x "$sw" ] && [ -x "$vswctl" ] || tap_skip_all "hostlane-vswitch is not built (DPDK missing)"
ctlsock=$AG_DIR/run/vswitch.sock
mkdir -p "$AG_DIR/run"
sw_pid=
# DPDK keeps a run dir per file prefix; the switch is killed here, so remove it.
on_exit "rm -rf /var/run/dpdk/hlext$$"
start_switch() {
	cni_bg "$sw" -l 0 --no-huge -m 64 --no-pci --file-prefix "hlext$$" -- --ctl "$ctlsock" \
		>>"$AG_DIR/switch.log" 2>&1
	sw_pid=$CNI_BG_PID
	for _ in $(seq 200); do "$vswctl" -s "$ctlsock" list >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}
stop_switch() { kill "$sw_pid" 2>/dev/null; wait "$sw_pid" 2>/dev/null; }
ports() { "$vswctl" -s "$ctlsock" list 2>/dev/null | awk '{ print $1 }' | sort; }

start_switch; tap_eq "a switch started on its own" 0 "$?"
jq -n --arg d "$AG_DIR/pods" '{vhostUser: {backend: "external", socketDir: $d}}' >"$AG_DIR/conf.json"
agent_start --config "$AG_DIR/conf.json"; tap_eq "agent with an external switch starts" 0 "$?"
tap_eq "STATUS: backend external" external "$(ctl --json status | jq -r .vhostUser.backend)"
for _ in $(seq 100); do [ "$(ctl --json status | jq -r .vhostUser.switchUp)" = true ] && break; sleep 0.05; done
tap_eq "STATUS: the switch is up" true "$(ctl --json status | jq -r .vhostUser.switchUp)"

pod=$(cni_pod a)
cni_netns_add "$pod"
conf=$(agent_conf vhost-user)
cni_add "cid-$CNI_RUN" "$pod" eth0 "$conf"; cni_ok_rc "ADD a vhost-user pod"
res=$CNI_STDOUT
port=$(ctl --json pods | jq -r '.[0].vhostUser.port // .[0].port // empty')
ok "the agent names the pod's port ($port)" test -n "$port"
tap_eq "the switch has the pod's port" "$port" "$(ports)"
ok "the port's socket is the pod's" sh -c "'$vswctl' -s '$ctlsock' list | grep -q '$AG_DIR/pods/'"

stop_switch
start_switch; tap_eq "a new switch" 0 "$?"
for _ in $(seq 300); do [ "$(ports)" = "$port" ] && break; sleep 0.05; done
tap_eq "the agent gave the new switch the pod's port" "$port" "$(ports)"
tap_eq "STATUS: two switches found (resyncs)" 2 "$(ctl --json status | jq -r .vhostUser.switchResyncs)"

cni_del "cid-$CNI_RUN" "$pod" eth0 "$(cni_with_prev "$conf" "$res")"; cni_ok_rc "DEL"
tap_eq "DEL removed the port from the switch" "" "$(ports)"
agent_stop
stop_switch
tap_done
