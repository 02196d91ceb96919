#!/usr/bin/env bash
# fastpath vhost-user end to end through the real plugin and agent: the agent
# (vhostUser: builtin) starts and supervises hostlane-vswitch; two pods ADDed
# with fastpath vhost-user get socketPath (< 108 bytes, also for a 250-char
# pod name) and a device-info file of type vhost-user; dpdk-testpmd "pods"
# (virtio-user, server=1, on those sockets) pass traffic through the agent's
# switch (txonly -> rxonly); kill -9 of the switch: the agent restarts it and
# traffic resumes; agent restart: persisted ports re-created; DEL removes
# port, socket dir and device-info file.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
. "$(dirname "$0")/../lib/vhost.sh"
vhost_need 160
cni_setup
agent_setup

id=hfv$CNI_RUN
sockdir=/tmp/hfv$CNI_RUN        # short: socket paths must stay < 108 bytes
devinfo=$CNI_TMP/devinfo
export HOSTLANE_DEVINFO_DIR=$devinfo
on_exit "rm -rf '$sockdir'"
vhost_setup "$id"

jq -n --arg d "$sockdir" '{vhostUser: {backend: "builtin", socketDir: $d, lcore: 1,
	switchArgs: ["-m", "64", "--log-level=lib.eal:warning", "--log-level=lib.vhost.config:warning"]}}' \
	>"$AG_DIR/conf.json"
agent_start --config "$AG_DIR/conf.json"; tap_eq "agent starts with its switch" 0 "$?"
sw1=$(swpid)
ok "the switch runs as the agent's child (pid $sw1)" \
	sh -c "[ '${sw1:-0}' != 0 ] && [ \"\$(ps -o ppid= -p '$sw1' | tr -d ' ')\" = '$AG_PID' ]"

conf=$(agent_conf vhost-user)
a=$(cni_pod a) b=$(cni_pod b) c=$(cni_pod c)
for p in "$a" "$b" "$c"; do cni_netns_add "$p"; done
long=$(printf 'p%.0s' $(seq 250))
add() { # CID NETNS NAME
	CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=ns$CNI_RUN;K8S_POD_NAME=$3;K8S_POD_UID=u-$1")
	cni_add "$1" "$2" eth0 "$conf"
	CNI_EXTRA_ENV=()
}
sock_of() { jq -r '.interfaces[] | select(.socketPath) | .socketPath' <<<"$1" 2>/dev/null; }
add "cid-a-$CNI_RUN" "$a" pa; cni_ok_rc "ADD pod A (vhost-user)"; res_a=$CNI_STDOUT
add "cid-b-$CNI_RUN" "$b" pb; cni_ok_rc "ADD pod B (vhost-user)"; res_b=$CNI_STDOUT
add "cid-c-$CNI_RUN" "$c" "$long"; cni_ok_rc "ADD pod C (250-char name)"; res_c=$CNI_STDOUT
sa=$(sock_of "$res_a") sb=$(sock_of "$res_b") sc=$(sock_of "$res_c")
tap_eq "A's socketPath under the configured dir" "$sockdir/ns${CNI_RUN}_pa/eth0.sock" "$sa"
ok "B's socketPath differs and is under the dir" sh -c "case '$sb' in '$sockdir'/*) [ '$sb' != '$sa' ];; *) false;; esac"
ok "C's socketPath fits in 108 bytes (${#sc})" test -n "$sc" -a "${#sc}" -lt 108
ok "C's socketPath is under the dir" sh -c "case '$sc' in '$sockdir'/*) true;; *) false;; esac"
ok "pod A still gets its veth + IP" test -n "$(cni_result_ip "$res_a")"
tap_eq "the vhost-user entry's sandbox is the pod" "/var/run/netns/$a" \
	"$(jq -r '.interfaces[] | select(.socketPath) | .sandbox' <<<"$res_a" 2>/dev/null)"
di_a=$devinfo/$CNI_NET-cid-a-$CNI_RUN-eth0-device-info.json
tap_eq "device-info file: vhost-user, pod is the server, A's socket" "vhost-user server $sa" \
	"$(jq -r '"\(.type) \(.["vhost-user"].mode) \(.["vhost-user"].path)"' "$di_a" 2>/dev/null)"
ok "socket directories exist" test -d "$(dirname "$sa")" -a -d "$(dirname "$sc")"

# --- traffic: testpmd pods on the sockets ------------------------------------
tap_eq "the switch has three ports, one per pod" 3 "$(vctl list 2>/dev/null | wc -l)"
pod a "$sa" txonly 02:00:00:00:0f:0a --eth-peer=0,02:00:00:00:0f:0b
pod b "$sb" rxonly 02:00:00:00:0f:0b
ok "pods A and B connected to the agent's switch" wait_up "$sa" "$sb"
ok "frames from A reach B through the switch" wait_grow "$sb" tx_packets 0

# --- kill -9 the switch: the agent restarts it -----------------------------------
kill -9 "$sw1"
sw2=
for i in $(seq 150); do
	sw2=$(swpid)
	[ -n "$sw2" ] && [ "$sw2" != 0 ] && [ "$sw2" != "$sw1" ] && break
	sleep 0.2
done
ok "agent restarted the switch ($sw1 -> $sw2)" test -n "$sw2" -a "$sw2" != 0 -a "$sw2" != "$sw1"
tap_eq "STATUS counts the restart" 1 "$(ctl --json status 2>/dev/null | jq -r '.vhostUser.switchRestarts')"
ok "ports re-created, pods reconnected" wait_up "$sa" "$sb"
ok "traffic resumed after the restart" wait_grow "$sb" tx_packets 0
stop_pods
ok "testpmd B received frames" sh -c "awk '/Forward statistics for port 0/ {f=1} f && \$1 == \"RX-packets:\" {print \$2; exit}' '$CNI_TMP/b.log' | grep -q '^[1-9]'"

# --- agent restart: persisted ports re-created -----------------------------------
agent_stop
ok_not "the switch stopped with the agent" kill -0 "$sw2"
agent_start --config "$AG_DIR/conf.json"; tap_eq "agent restarts" 0 "$?"
tap_eq "persisted ports re-created in the new switch" 3 "$(vctl list 2>/dev/null | wc -l)"
ok "A's port is back on A's socket" test -n "$(port_of "$sa")"

# --- DEL ----------------------------------------------------------------------
cni_del "cid-a-$CNI_RUN" "$a" eth0 "$conf"; cni_ok_rc "DEL pod A"
ok_not "A's port is gone from the switch" test -n "$(port_of "$sa")"
ok_not "A's socket directory is gone" test -e "$(dirname "$sa")"
ok_not "A's device-info file is gone" test -e "$di_a"
cni_del "cid-a-$CNI_RUN" "$a" eth0 "$conf"; cni_ok_rc "DEL pod A again (idempotent)"
cni_del "cid-b-$CNI_RUN" "$b" eth0 "$conf"; cni_ok_rc "DEL pod B"
cni_del "cid-c-$CNI_RUN" "$c" eth0 "$conf"; cni_ok_rc "DEL pod C"
tap_eq "no ports left" 0 "$(vctl list 2>/dev/null | wc -l)"
tap_eq "no pod directories left" 0 "$(find "$sockdir" -mindepth 1 2>/dev/null | wc -l)"
tap_eq "no hugepage files left by the pods" 0 "$(ls /dev/hugepages | grep -c "^${id}" || true)"
agent_stop
tap_done
