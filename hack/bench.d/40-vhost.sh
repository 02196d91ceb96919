#!/usr/bin/env bash
# vhost-user fast path: packets/s between two testpmd pods through
#   hostlane  - hostlane-vswitch (MAC learning L2 switch, vhost library)
#   bridge    - testpmd io-forward between two net_vhost ports: no lookup at
#               all, the upper bound a switch on the same core can approach
#   ovs-dpdk  - a private OVS-DPDK instance (hack/ovs-dpdk.sh): netdev
#               bridge, two dpdkvhostuserclient ports, actions=NORMAL; if it
#               cannot run, the reason from its log is printed instead
# for 64 B and 512 B frames.
# On 2 cores three busy pollers (tx pod, switch, rx pod) would time-slice
# and measure the scheduler, so the two pods are two virtio-user ports of ONE
# testpmd (core 0) in io mode started with --tx-first: frames injected by
# each pod (MAC A -> MAC B and back) circulate pod -> switch -> pod, and the
# switch, bridge or ovs-vswitchd (PMD and all other threads) gets core 1 to
# itself. Same pinning for all three systems.
# Rate: mean of the summed per-second Rx-pps of both pod ports, first 2
# samples dropped. Each system runs REPS times (default 3), interleaved, and
# the median of the runs that moved frames is reported: on a shared 2-core
# machine one run can read 0 (the --tx-first frames are lost when a port
# connects late) or be an outlier. Bar: hostlane >= 80% of bridge.
#   --json: one JSON object per line.   SECS=N: seconds per run (default 6)
set -u
top=${HOSTLANE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
json=0
for a in "$@"; do [ "$a" = --json ] && json=1; done
secs=${SECS:-6}
sw=$BUILD/bin/hostlane-vswitch vswctl=$BUILD/bin/hostlane-vswctl
ovs=$top/hack/ovs-dpdk.sh

skip() {
	if [ $json = 1 ]; then printf '{"bench":"vhost","skipped":"%s"}\n' "$1"
	else echo "vhost: skipped: $1"; fi
	exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root (hugepages)"
[ -x "$sw" ] || skip "hostlane-vswitch not built (libdpdk missing)"
command -v dpdk-testpmd >/dev/null || skip "dpdk-testpmd missing"
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
[ "${free:-0}" -ge 160 ] || skip "needs 160 free 2 MiB hugepages (have ${free:-0})"

id=hb$$
tmp=$(mktemp -d /tmp/hl-vbench.XXXXXX)
pids=()
# The runs execute in $(...) subshells, whose pids the EXIT trap below cannot
# see: every background pid is also appended to $tmp/pids (emptied once the
# run has stopped them) so a TERM of the bench still stops them all.
bg_pid() { pids+=("$1"); echo "$1" >>"$tmp/pids"; }
cleanup() {
	local p
	[ -f "$tmp/pids" ] && mapfile -t -O "${#pids[@]}" pids <"$tmp/pids"
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
	sleep 1
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$ovs" stop "$tmp/ovs" "${id}ovs"
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"; rm -rf /var/run/dpdk/${id}* /dev/hugepages/${id}*
}
trap cleanup EXIT
trap 'exit 130' INT TERM

MAC_A=02:00:00:00:00:0a MAC_B=02:00:00:00:00:0b
pods() { # size: both pods, one testpmd on core 0
	dpdk-testpmd -l 0,1 --main-lcore 1 --no-pci --in-memory --single-file-segments \
		--file-prefix "${id}pods" -m 128 --log-level=lib.eal:warning \
		--vdev "net_virtio_user0,path=$tmp/a.sock,server=1,queues=1,mac=$MAC_A" \
		--vdev "net_virtio_user1,path=$tmp/b.sock,server=1,queues=1,mac=$MAC_B" \
		-- --forward-mode=io --stats-period 1 --total-num-mbufs=8192 --burst=64 \
		--tx-first --eth-peer="0,$MAC_B" --eth-peer="1,$MAC_A" \
		--txpkts="$1" >"$tmp/pods.log" 2>&1 &
	bg_pid $!
}

stop_all() {
	local p
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	pids=()
	: >"$tmp/pids"
	rm -f "$tmp"/*.sock
}

# mean summed Rx-pps of the two pod ports, first 2 samples and zeros
# (before the link came up) left out
rx_pps() {
	# each stats period prints Rx-pps for port 0 then port 1
	awk '/Rx-pps:/ { k++; sum[int((k - 1) / 2)] += $2 } END {
		n = int(k / 2); s = 0; c = 0
		for (i = 2; i < n; i++) if (sum[i] > 0) { s += sum[i]; c++ }
		if (c) printf "%.0f", s / c; else print 0 }' "$tmp/pods.log"
}

run_hostlane() { # size
	"$sw" -l 1 --no-pci --file-prefix "${id}sw" -m 64 --log-level=lib.eal:warning \
		--log-level=lib.vhost.config:warning -- --ctl "$tmp/ctl.sock" >"$tmp/sw.log" 2>&1 &
	bg_pid $!
	for _ in $(seq 100); do "$vswctl" -s "$tmp/ctl.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
	# like the bridge: the pods' sockets exist before the switch connects
	# (--tx-first frames sent before any backend is there are lost)
	pods "$1"
	for _ in $(seq 100); do [ -S "$tmp/a.sock" ] && [ -S "$tmp/b.sock" ] && break; sleep 0.05; done
	"$vswctl" -s "$tmp/ctl.sock" add-port pa "$tmp/a.sock" >/dev/null
	"$vswctl" -s "$tmp/ctl.sock" add-port pb "$tmp/b.sock" >/dev/null
	sleep "$secs"
	stop_all
	rx_pps
}

run_bridge() { # size
	pods "$1"
	sleep 0.5
	dpdk-testpmd -l 0,1 --main-lcore 0 --no-pci --file-prefix "${id}br" -m 64 \
		--log-level=lib.eal:warning --log-level=lib.vhost.config:warning \
		--vdev "net_vhost0,iface=$tmp/a.sock,client=1,queues=1" \
		--vdev "net_vhost1,iface=$tmp/b.sock,client=1,queues=1" \
		-- --forward-mode=io --stats-period 1 --total-num-mbufs=8192 >"$tmp/br.log" 2>&1 &
	bg_pid $!
	sleep "$secs"
	stop_all
	rx_pps
}

# prints the rate, or "na: REASON" when OVS-DPDK cannot run here
run_ovs() { # size
	local why=
	[ -x "${OVS_VSWITCHD_DPDK:-/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk}" ] ||
		{ echo "na: openvswitch-switch-dpdk not installed"; return; }
	if ! "$ovs" start "$tmp/ovs" 1 "${id}ovs" >"$tmp/ovs-start.log" 2>&1; then
		why=$("$ovs" reason "$tmp/ovs")
		"$ovs" stop "$tmp/ovs" "${id}ovs"
		echo "na: $why"
		return
	fi
	pods "$1"
	for _ in $(seq 100); do [ -S "$tmp/a.sock" ] && [ -S "$tmp/b.sock" ] && break; sleep 0.05; done
	{ "$ovs" add-vhost "$tmp/ovs" pa "$tmp/a.sock" && "$ovs" add-vhost "$tmp/ovs" pb "$tmp/b.sock"; } \
		>/dev/null 2>&1 || why="add-port: $("$ovs" reason "$tmp/ovs")"
	[ -n "$why" ] || sleep "$secs"
	stop_all
	"$ovs" stop "$tmp/ovs" "${id}ovs"
	if [ -n "$why" ]; then echo "na: $why"; else rx_pps; fi
}

emit() { # system size pps ratio
	local mpps
	mpps=$(awk -v p="$3" 'BEGIN { printf "%.3f", p / 1e6 }')
	if [ $json = 1 ]; then
		printf '{"bench":"vhost","system":"%s","frame_bytes":%s,"mpps":%s,"ratio_to_bridge":%s}\n' \
			"$1" "$2" "$mpps" "$4"
	else
		printf '%-10s %6s B %10s Mpps %8s\n' "$1" "$2" "$mpps" "$4"
	fi
}

# median of the positive numbers among the arguments; 0 when there is none
median() {
	printf '%s\n' "$@" | awk '$1 > 0' | sort -g |
		awk '{ v[NR] = $1 } END { if (!NR) print 0; else if (NR % 2) print v[(NR + 1) / 2];
			else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio_of() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "null" }'; }

[ $json = 1 ] || printf '%-10s %8s %15s %8s   (median of %s runs)\n' system frame rate "vs bridge" "${REPS:-3}"
rc=0
for size in ${SIZES:-64 512}; do
	brs=() hls=() ovss=() od=
	for ((rep = 0; rep < ${REPS:-3}; rep++)); do
		brs+=("$(run_bridge "$size")")
		hls+=("$(run_hostlane "$size")")
		case $od in na:*) continue ;; esac
		od=$(run_ovs "$size")
		case $od in na:*) ;; *) ovss+=("$od") ;; esac
	done
	br=$(median "${brs[@]}") hl=$(median "${hls[@]}")
	ratio=$(ratio_of "$hl" "$br")
	emit bridge "$size" "$br" 1.00
	emit hostlane "$size" "$hl" "$ratio"
	case $od in
	na:*)
		if [ $json = 1 ]; then
			printf '{"bench":"vhost","system":"ovs-dpdk","frame_bytes":%s,"unavailable":"%s"}\n' \
				"$size" "$(printf '%s' "${od#na: }" | sed 's/["\\]/\\&/g')"
		else
			echo "OVS-DPDK: not available here: ${od#na: }"
		fi ;;
	*)
		ov=$(median "${ovss[@]}")
		emit ovs-dpdk "$size" "$ov" "$(ratio_of "$ov" "$br")" ;;
	esac
	if [ "$br" = 0 ]; then
		echo "vhost: the testpmd bridge moved no frames in ${REPS:-3} runs at $size B: no comparison" >&2
		rc=1
	elif ! awk -v r="$ratio" 'BEGIN { exit !(r != "null" && r >= 0.80) }'; then
		echo "vhost: hostlane below 80% of the testpmd bridge at $size B" >&2
		rc=1
	fi
done
exit $rc
