# shellcheck shell=bash
# Helpers for the vhost-user tests through the agent: dpdk-testpmd "pods"
# (virtio-user, server=1) on the sockets of the agent's switch. Source
# test/lib/tap.sh, cni.sh and agent.sh first; call vhost_need, then cni_setup,
# agent_setup and vhost_setup ID.
#
#   vhost_need PAGES        skip the file without the switch, testpmd or
#                           PAGES free 2 MiB hugepages
#   vhost_setup ID          ID prefixes the pods' DPDK names; registers the
#                           cleanup of the pods and their DPDK run files
#   pod NAME SOCK MODE MAC [testpmd args]   start a testpmd pod (podpid[NAME])
#   stop_pods               SIGINT (final statistics), then SIGKILL, by pid
#   vctl ARGS...            hostlane-vswctl on the agent's switch
#   swpid                   the switch's pid from the agent's STATUS
#   port_of SOCK            the switch port on SOCK
#   counter SOCK FIELD      a counter of that port
#   wait_up SOCK...         bounded wait until those ports are up
#   wait_grow SOCK FIELD N  bounded wait until the counter exceeds N

declare -A podpid

vhost_need() {
	need_root
	[ -x "$BUILD/bin/hostlane-vswitch" ] || tap_skip_all "hostlane-vswitch not built (needs libdpdk)"
	command -v dpdk-testpmd >/dev/null || tap_skip_all "dpdk-testpmd not installed"
	[ -x "$HOSTLANE_TOP/hack/hugepages.sh" ] && "$HOSTLANE_TOP/hack/hugepages.sh" >/dev/null 2>&1
	local free
	free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
	[ "${free:-0}" -ge "$1" ] ||
		tap_skip_all "needs $1 free 2 MiB hugepages (have ${free:-0}); run hack/hugepages.sh"
}

vhost_setup() {
	VH_ID=$1
	on_exit "rm -rf /var/run/dpdk/${VH_ID}* /dev/hugepages/${VH_ID}*"
	on_exit stop_pods
}

stop_pods() {
	local p
	for p in "${podpid[@]}"; do kill -INT "$p" 2>/dev/null; done
	sleep 1
	for p in "${podpid[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	podpid=()
}

# --in-memory: no hugepage files at all, as a pod's emptyDir would be gone
# with the pod anyway.
pod() { # NAME SOCK MODE MAC [args]
	local name=$1 sock=$2 mode=$3 mac=$4; shift 4
	dpdk-testpmd -l 0,1 --main-lcore 1 --no-pci --in-memory --single-file-segments \
		--file-prefix "${VH_ID}$name" -m 64 --log-level=lib.eal:warning \
		--vdev "net_virtio_user0,path=$sock,server=1,queues=1,mac=$mac" \
		-- --forward-mode="$mode" --stats-period 1 --total-num-mbufs=2048 \
		--txpkts=64 "$@" >"$CNI_TMP/$name.log" 2>&1 &
	podpid[$name]=$!
}

vctl() { "$BUILD/bin/hostlane-vswctl" -s "$AG_DIR/run/vswitch.sock" "$@"; }
swpid() { ctl --json status 2>/dev/null | jq -r '.vhostUser.switchPid // 0' 2>/dev/null; }

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
