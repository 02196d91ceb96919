#!/usr/bin/env bash
# hostlane-vswitch end to end with real DPDK pods: dpdk-testpmd processes
# with virtio-user ports (--vdev net_virtio_user0,...,server=1) as the pods,
# the switch under the hl_vsw supervisor (hostlane-vswctl supervise).
#   1. two pods: txonly in A, rxonly in B: frames to an unknown MAC are
#      flooded and arrive in B;
#   2. a third pod C (macswap, so it answers and gets learned): unicast to
#      C's MAC reaches only C, never B;
#   3. the switch is killed: the supervisor restarts it, the ports come back
#      and traffic flows again;
#   4. del-port removes the port; a server-mode port's socket file goes with
#      it; the switch's hugepage files do not grow and no pod leaves any.
# Each run is a few seconds of busy polling; counters are read from the
# switch (list) and from testpmd's final statistics.
. "$(dirname "$0")/../lib/tap.sh"
need_root
sw=$BUILD/bin/hostlane-vswitch ctl_bin=$BUILD/bin/hostlane-vswctl
[ -x "$sw" ] || tap_skip_all "hostlane-vswitch not built (needs libdpdk)"
command -v dpdk-testpmd >/dev/null || tap_skip_all "dpdk-testpmd not installed"
hack=$HOSTLANE_TOP/hack/hugepages.sh
[ -x "$hack" ] && "$hack" >/dev/null 2>&1
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
[ "${free:-0}" -ge 160 ] || tap_skip_all "needs 160 free 2 MiB hugepages (have ${free:-0}); run hack/hugepages.sh"

id=h7v$$
tmp=$(mktemp -d /tmp/hl-vhost.XXXXXX)
ctl=$tmp/ctl.sock
swprefix=${id}sw
MAC_A=02:00:00:00:00:0a MAC_B=02:00:00:00:00:0b MAC_C=02:00:00:00:00:0c
declare -A podpid
suppid=

on_exit "rm -rf '$tmp'"
on_exit "rm -rf /var/run/dpdk/${id}* /dev/hugepages/${id}*"
cleanup_procs() {
	local p
	for p in "${podpid[@]}" $suppid; do kill -INT "$p" 2>/dev/null; done
	sleep 1
	for p in "${podpid[@]}" $suppid; do kill -9 "$p" 2>/dev/null; done
	# the switch is the supervisor's child: it stops it; if the supervisor
	# was killed hard, end the switch we know of by pid
	[ -n "${swpid:-}" ] && kill -9 "$swpid" 2>/dev/null
	wait 2>/dev/null
}
on_exit cleanup_procs

vsw() { "$ctl_bin" -s "$ctl" "$@"; }

# pod NAME MODE MAC [testpmd args...]: a DPDK "pod" with a virtio-user port
# that creates (server=1) its vhost-user socket; --in-memory: no hugepage
# files at all, as a pod's emptyDir would be gone with the pod anyway.
pod() {
	local name=$1 mode=$2 mac=$3; shift 3
	dpdk-testpmd -l 0,1 --main-lcore 1 --no-pci --in-memory --single-file-segments \
		--file-prefix "${id}$name" -m 64 --log-level=lib.eal:warning \
		--vdev "net_virtio_user0,path=$tmp/$name.sock,server=1,queues=1,mac=$mac" \
		-- --forward-mode="$mode" --stats-period 1 --total-num-mbufs=2048 \
		--txpkts=64 "$@" >"$tmp/$name.log" 2>&1 &
	podpid[$name]=$!
}

# stop_pod NAME: SIGINT makes testpmd print its final statistics.
stop_pod() {
	local p=${podpid[$1]} i
	kill -INT "$p" 2>/dev/null
	for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	unset "podpid[$1]"
}

# final_stat NAME RX|TX: from testpmd's "Forward statistics for port 0".
final_stat() {
	awk -v k="$2-packets:" '/Forward statistics for port 0/ {f=1} f && $1 == k {print $2; exit}' "$tmp/$1.log"
}

# counter PORT FIELD: a field of the switch's list output.
counter() {
	vsw list 2>/dev/null | awk -v p="$1" -v k="$2" '$1 == p { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) { sub(k "=", "", $i); print $i } }'
}

wait_up() { # PORT...: until all are up (20 s)
	local i p ok
	for i in $(seq 100); do
		ok=1
		for p in "$@"; do vsw list 2>/dev/null | grep -q "^$p up " || ok=0; done
		[ $ok = 1 ] && return 0
		sleep 0.2
	done
	return 1
}

hp_files() { ls /dev/hugepages 2>/dev/null | grep -c "^$1" || true; }

# --- start the switch under the supervisor ---------------------------------
cat >"$tmp/ports" <<PORTS
pa $tmp/a.sock client
pb $tmp/b.sock client
pc $tmp/c.sock client
PORTS
"$ctl_bin" -s "$ctl" supervise "$tmp/ports" -- "$sw" -l 1 --no-pci --file-prefix "$swprefix" \
	-m 64 --log-level=lib.eal:warning --log-level=lib.vhost.config:warning \
	-- --ctl "$ctl" --mbufs 4095 >"$tmp/sup.out" 2>"$tmp/sup.err" &
suppid=$!
for i in $(seq 100); do grep -q '^pid [1-9]' "$tmp/sup.out" 2>/dev/null && break; sleep 0.2; done
swpid=$(awk '/^pid/ {p=$2} END {print p}' "$tmp/sup.out")
ok "switch started under the supervisor (pid ${swpid:-none})" test -n "$swpid" -a "${swpid:-0}" != 0
ok "control socket answers ping" vsw ping
tap_eq "three registered ports, all down before the pods exist" "3 0" \
	"$(vsw list | wc -l) $(vsw list | grep -c ' up ')"
hp_before=$(hp_files "$swprefix")

# --- 1. two pods: txonly -> rxonly -------------------------------------------
pod a txonly "$MAC_A" --eth-peer="0,$MAC_C"
pod b rxonly "$MAC_B"
ok "pods A and B connected (switch reconnected to their sockets)" wait_up pa pb
sleep 2
b_tx=$(counter pb tx_packets)
a_rx=$(counter pa rx_packets)
ok "switch received frames from A (rx_packets=$a_rx)" test "${a_rx:-0}" -gt 0
ok "frames to an unknown MAC were flooded to B (tx_packets=$b_tx)" test "${b_tx:-0}" -gt 0

# --- 2. unicast to a learned MAC reaches only its owner ---------------------
pod c macswap "$MAC_C"
ok "pod C connected" wait_up pc
learned=0
for i in $(seq 50); do
	vsw macs | grep -q "^$MAC_C pc " && { learned=1; break; }
	sleep 0.2
done
tap_eq "C's MAC learned on port pc" 1 "$learned"
b0=$(counter pb tx_packets) c0=$(counter pc tx_packets)
sleep 2
b1=$(counter pb tx_packets) c1=$(counter pc tx_packets)
tap_eq "B gets nothing once C is learned (pb tx $b0 -> $b1)" "$b0" "$b1"
ok "C keeps receiving its unicast (pc tx $c0 -> $c1)" test "${c1:-0}" -gt "${c0:-0}"
ok "A is learned too (C's answers go back to it)" sh -c "'$ctl_bin' -s '$ctl' macs | grep -q '^$MAC_A pa '"

# --- 3. kill the switch: restarted, ports re-created, traffic resumes -------
kill -9 "$swpid"
newpid=
for i in $(seq 100); do
	newpid=$(awk '/^pid/ {p=$2} END {print p}' "$tmp/sup.out")
	[ -n "$newpid" ] && [ "$newpid" != 0 ] && [ "$newpid" != "$swpid" ] && break
	sleep 0.2
done
ok "supervisor restarted the switch ($swpid -> $newpid)" test -n "$newpid" -a "$newpid" != "$swpid" -a "$newpid" != 0
swpid=$newpid
ok "ports re-created and pods reconnected" wait_up pa pb pc
c_before=$(counter pc tx_packets)
sleep 2
c_after=$(counter pc tx_packets)
ok "traffic resumed after the restart (pc tx $c_before -> $c_after)" test "${c_after:-0}" -gt "${c_before:-0}"

# --- 4. DEL -------------------------------------------------------------------
ok "del-port pc" vsw del-port pc
ok_not "pc no longer listed" sh -c "'$ctl_bin' -s '$ctl' list | grep -q '^pc '"
ok_not "del-port of a missing port fails" vsw del-port pc
stop_pod c
stop_pod a
stop_pod b
c_rx=$(final_stat c RX) b_rx=$(final_stat b RX) a_tx=$(final_stat a TX)
ok "testpmd A sent frames (TX-packets=$a_tx)" test "${a_tx:-0}" -gt 0
ok "testpmd B received frames (RX-packets=$b_rx)" test "${b_rx:-0}" -gt 0
ok "testpmd C received frames (RX-packets=$c_rx)" test "${c_rx:-0}" -gt 0
ok "switch still serves the remaining ports" vsw ping
tap_eq "switch hugepage files unchanged by port add/del" "$hp_before" "$(hp_files "$swprefix")"
tap_eq "no hugepage files left by the pods" 0 "$(ls /dev/hugepages | grep -cE "^${id}[abc]" || true)"
# server mode: the switch creates the socket and removes it on DEL
ok "add-port in server mode" vsw add-port ps "$tmp/s.sock" server
ok "server-mode socket created by the switch" test -S "$tmp/s.sock"
ok "del-port ps" vsw del-port ps
ok_not "server-mode socket removed on DEL" test -e "$tmp/s.sock"
ok_not "a duplicate socket path is refused" sh -c "'$ctl_bin' -s '$ctl' add-port pz '$tmp/a.sock'"

# --- supervisor stop ----------------------------------------------------------
kill -TERM "$suppid"
for i in $(seq 50); do kill -0 "$suppid" 2>/dev/null || break; sleep 0.2; done
wait "$suppid" 2>/dev/null
ok_not "supervisor stopped the switch" kill -0 "$swpid"
suppid=
ok_not "control socket removed on exit" test -e "$ctl"
tap_done
