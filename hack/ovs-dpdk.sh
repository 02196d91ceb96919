#!/usr/bin/env bash
# A private, throw-away OVS-DPDK instance (ovsdb-server + ovs-vswitchd-dpdk)
# living entirely in one directory: its own DB, unix sockets, pidfiles and
# logs. It never uses or disturbs the system's OVS service (/run/openvswitch,
# /etc/openvswitch): every daemon and client is pointed at DIR.
#
#   ovs-dpdk.sh start DIR CORE PREFIX   DB + switch, PMD and all threads on CORE,
#                                        EAL --file-prefix PREFIX; netdev bridge br0
#   ovs-dpdk.sh add-vhost DIR NAME SOCK dpdkvhostuserclient port on br0 (the pod's
#                                        virtio-user is the server of SOCK)
#   ovs-dpdk.sh reason DIR              why the switch did not come up (log line)
#   ovs-dpdk.sh stop DIR PREFIX         stop both daemons (by pidfile), remove DIR
#                                        and the EAL runtime/hugepage files of PREFIX
#   ovs-dpdk.sh vsctl|ofctl DIR ARGS... ovs-vsctl / ovs-ofctl on the instance
# Exit status 0 on success; start fails (status 1) if DPDK did not initialise.
set -u
VSWITCHD=${OVS_VSWITCHD_DPDK:-/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk}
SCHEMA=/usr/share/openvswitch/vswitch.ovsschema

# The tools find the bridge management sockets and daemons' control sockets
# in OVS_RUNDIR; without these they would talk to the system instance.
use_dir() {
	export OVS_RUNDIR=$1 OVS_LOGDIR=$1 OVS_DBDIR=$1 OVS_SYSCONFDIR=$1
}
vsctl() { ovs-vsctl --db="unix:$OVS_RUNDIR/db.sock" --timeout=10 "$@"; }

start() { # dir core prefix
	local dir=$1 core=$2 prefix=$3
	[ -x "$VSWITCHD" ] || { echo "$VSWITCHD missing (openvswitch-switch-dpdk)" >&2; return 1; }
	mkdir -p "$dir" && use_dir "$dir" || return 1
	ovsdb-tool create "$dir/conf.db" "$SCHEMA" || return 1
	ovsdb-server "$dir/conf.db" --remote="punix:$dir/db.sock" --unixctl="$dir/ovsdb.ctl" \
		--pidfile="$dir/ovsdb.pid" --log-file="$dir/ovsdb.log" -vconsole:off --detach --no-chdir || return 1
	vsctl --no-wait init || return 1
	# --in-memory (OVS adds it too): no hugepage files to leave behind;
	# small socket-mem: the pods and other DPDK processes share the pages
	vsctl --no-wait set Open_vSwitch . other_config:dpdk-init=true \
		other_config:dpdk-socket-mem=64 \
		"other_config:dpdk-extra=--no-pci --file-prefix=$prefix --single-file-segments --in-memory" \
		"other_config:pmd-cpu-mask=$(printf '0x%x' $((1 << core)))" || return 1
	# taskset: main, handler and vhost threads on the switch's core too,
	# the same footprint as hostlane-vswitch -l CORE
	taskset -c "$core" "$VSWITCHD" "unix:$dir/db.sock" --unixctl="$dir/vswitchd.ctl" \
		--pidfile="$dir/vswitchd.pid" --log-file="$dir/vswitchd.log" -vconsole:off \
		--detach --no-chdir || return 1
	vsctl wait-until Open_vSwitch . dpdk_initialized=true >/dev/null || return 1
	vsctl add-br br0 -- set bridge br0 datapath_type=netdev || return 1
	# L2 learning, like hostlane-vswitch (also OVS's default flow; explicit
	# so the measurement does not depend on that default)
	ovs-ofctl del-flows br0 && ovs-ofctl add-flow br0 actions=NORMAL
}

add_vhost() { # dir name sock
	use_dir "$1"
	vsctl add-port br0 "$2" -- set Interface "$2" type=dpdkvhostuserclient \
		"options:vhost-server-path=$3"
}

# first error-level line of the switch's (or DB's) log, without the timestamp
reason() { # dir
	local l
	l=$(grep -ahE '\|(EMER|ERR)\|' "$1/vswitchd.log" "$1/ovsdb.log" 2>/dev/null | head -1)
	[ -n "$l" ] || l=$(tail -n1 "$1/vswitchd.log" 2>/dev/null)
	printf '%s\n' "${l:-no log (ovs-vswitchd did not start)}" | cut -d'|' -f3-
}

stop_pidfile() { # pidfile
	local p
	p=$(cat "$1" 2>/dev/null) || return 0
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$p" 2>/dev/null
}

stop() { # dir prefix
	[ -d "$1" ] || return 0
	stop_pidfile "$1/vswitchd.pid"
	stop_pidfile "$1/ovsdb.pid"
	rm -rf "$1"
	[ -n "${2:-}" ] && rm -rf "/var/run/dpdk/$2" /dev/hugepages/"$2"*
	return 0
}

cmd=${1:-}; shift
case $cmd in
start) start "$@" ;;
add-vhost) add_vhost "$@" ;;
reason) reason "$@" ;;
stop) stop "$@" ;;
vsctl) use_dir "$1"; shift; vsctl "$@" ;;
ofctl) use_dir "$1"; shift; ovs-ofctl "$@" ;;
*) echo "usage: $0 start|add-vhost|reason|stop|vsctl|ofctl DIR ..." >&2; exit 2 ;;
esac
