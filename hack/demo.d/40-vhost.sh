#!/usr/bin/env bash
# Optional DPDK part of the demo: two DPDK "pods" (dpdk-testpmd with
# virtio-user ports) talk through hostlane-vswitch over vhost-user sockets in
# the per-pod directories the agent uses; shows the ports, counters and
# learned MACs. Skips, saying why, without root, hugepages or DPDK.
set -u
top=${HOSTLANE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
sw=$BUILD/bin/hostlane-vswitch vswctl=$BUILD/bin/hostlane-vswctl
say() { printf '[vhost] %s\n' "$*"; }
skip() { say "SKIPPED: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root for hugepages"
[ -x "$sw" ] || skip "hostlane-vswitch not built: install libdpdk-dev (make deps) and rebuild"
command -v dpdk-testpmd >/dev/null || skip "dpdk-testpmd missing: apt-get install dpdk"
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
[ "${free:-0}" -ge 160 ] || skip "needs 160 free 2 MiB hugepages (have ${free:-0}): run hack/hugepages.sh"

id=hd$$
tmp=$(mktemp -d /tmp/hl-vdemo.XXXXXX)
pods=$tmp/pods
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
	sleep 1
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp" /var/run/dpdk/${id}* /dev/hugepages/${id}*
}
trap cleanup EXIT
ctl=$tmp/vswitch.sock
vsw() { "$vswctl" -s "$ctl" "$@"; }

say "starting hostlane-vswitch on core 1 (control socket $ctl)"
"$sw" -l 1 --no-pci --file-prefix "${id}sw" -m 64 --log-level=lib.eal:warning \
	--log-level=lib.vhost.config:warning -- --ctl "$ctl" >"$tmp/sw.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do vsw ping 2>/dev/null && break; sleep 0.1; done

i=0
for pod in web-a web-b; do
	read -r sock port <<<"$("$vswctl" sock-path "$pods" demo "$pod" net1)"
	mkdir -p "$(dirname "$sock")"
	mac=02:00:00:00:00:0$((i += 1))
	say "pod demo/$pod: socket $sock (port $port, MAC $mac)"
	say "  device-info: $("$vswctl" devinfo "$sock")"
	mode=rxonly; [ $i = 1 ] && mode=txonly
	dpdk-testpmd -l 0,1 --main-lcore 1 --no-pci --in-memory --single-file-segments \
		--file-prefix "${id}$i" -m 64 --log-level=lib.eal:warning \
		--vdev "net_virtio_user0,path=$sock,server=1,queues=1,mac=$mac" \
		-- --forward-mode=$mode --stats-period 1 --total-num-mbufs=2048 \
		--eth-peer=0,02:00:00:00:00:02 >"$tmp/$pod.log" 2>&1 &
	pids+=($!)
	vsw add-port "$port" "$sock"
done
sleep 3
say "switch ports (pod web-a sends txonly to web-b):"
vsw list | sed 's/^/    /'
say "learned MACs:"
vsw macs | sed 's/^/    /'
