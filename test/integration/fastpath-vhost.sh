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
need_root
[ -x "$BUILD/bin/hostlane-vswitch" ] || tap_skip_all "hostlane-vswitch not built (needs libdpdk)"
command -v dpdk-testpmd >/dev/null || tap_skip_all "dpdk-testpmd not installed"
[ -x "$HOSTLANE_TOP/hack/hugepages.sh" ] && "$HOSTLANE_TOP/hack/hugepages.sh" >/dev/null 2>&1
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
[ "${free:-0}" -ge 160 ] || tap_skip_all "needs 160 free 2 MiB hugepages (have ${free:-0}); run hack/hugepages.sh"
cni_setup
agent_setup

id=hfv$CNI_RUN
sockdir=/tmp/hfv$CNI_RUN        # short: socket paths must stay < 108 bytes
devinfo=$CNI_TMP/devinfo
export HOSTLANE_DEVINFO_DIR=$devinfo
declare -A podpid
on_exit "rm -rf '$sockdir' /var/run/dpdk/${id}* /dev/hugepages/${id}*"
stop_pods() {
	local p
	for p in "${podpid[@]}"; do kill -INT "$p" 2>/dev/null; done
	sleep 1
	for p in "${podpid[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	podpid=()
}
on_exit stop_pods

jq -n --arg d "$sockdir" '{vhostUser: {backend: "builtin", socketDir: $d, lcore: 1,
	switchArgs: ["-m", "64", "--log-level=lib.eal:warning", "--log-level=lib.vhost.config:warning"]}}' \
	>"$AG_DIR/conf.json"
agent_start --config "$AG_DIR/conf.json"; tap_eq "agent starts with its switch" 0 "$?"
swpid() { ctl --json status 2>/dev/null | jq -r '.vhostUser.switchPid // 0' 2>/dev/null; }
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
pod() { # NAME SOCK MODE MAC [args]
	local name=$1 sock=$2 mode=$3 mac=$4; shift 4
	dpdk-testpmd -l 0,1 --main-lcore 1 --no-pci --in-memory --single-file-segments \
		--file-prefix "${id}$name" -m 64 --log-level=lib.eal:warning \
		--vdev "net_virtio_user0,path=$sock,server=1,queues=1,mac=$mac" \
		-- --forward-mode="$mode" --stats-period 1 --total-num-mbufs=2048 \
		--txpkts=64 "$@" >"$CNI_TMP/$name.log" 2>&1 &
	podpid[$name]=$!
}
vctl() { "$BUILD/bin/hostlane-vswctl" -s "$AG_DIR/run/vswitch.sock" "$@"; }
# list lines: NAME up|down client|server PATH rx_packets=.. tx_packets=.. ...
port_of() { vctl list 2>/dev/null | awk -v s="$1" '$4 == s {print $1}'; }
counter() { # SOCK FIELD
	vctl list 2>/dev/null | awk -v s="$1" -v k="$2" '$4 == s { for (i = 5; i <= NF; i++)
		if (index($i, k "=") == 1) { sub(k "=", "", $i); print $i } }'
}
wait_up() { # SOCK...
	local i s all
	for i in $(seq 100); do
		all=1
		for s in "$@"; do
			[ "$(vctl list 2>/dev/null | awk -v s="$s" '$4 == s {print $2}')" = up ] || all=0
		done
		[ $all = 1 ] && return 0
		sleep 0.2
	done
	return 1
}
wait_grow() { # SOCK FIELD FROM: until the counter exceeds FROM (bounded, not timed)
	local i v
	for i in $(seq 100); do
		v=$(counter "$1" "$2")
		[ "${v:-0}" -gt "$3" ] && return 0
		sleep 0.2
	done
	return 1
}
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
