#!/usr/bin/env bash
# hostlane as a Multus secondary network. Each pod gets eth0 from the
# reference `bridge` plugin with host-local IPAM (the primary network, a
# bridge of this run), then net1 from hostlane (fast path shm) in a separate
# ADD with its own config and CNI_IFNAME=net1, as Multus calls it. The fake
# API server reports each pod's status.podIPs as its eth0 address, as
# kubelet does with the primary CNI's result, and the agent of the run
# follows it. A preloaded client connecting to the server's *eth0* address
# goes over hostlane (the server process's hostlane accepts in `hostlanectl
# conns`, the client's layer counters); a client without the layer reaches
# the same address over the kernel bridge (packets counted on the server's
# eth0). The addresses each end sees are the kernel's (eth0 to eth0, net1
# to net1). A Service whose endpoint is b's eth0 address (the slices carry
# the primary network's addresses) goes over hostlane, and its ends see
# what they see through kube-proxy's DNAT on the primary bridge. DEL of
# both networks, in Multus' order (net1, then eth0), leaves nothing behind:
# links, IPAM allocations, the plugin's cache, the agent's records, the
# endpoint.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
. "$(dirname "$0")/../lib/k8s.sh"
preload_require python3 jq curl

pods_pre_agent() {
	k8s_setup || tap_skip_all "$K8S_WHY"
	PODS_AGENT_ARGS=(--kubeconfig "$K8S_KUBECONFIG")
}
pods_setup
[ -x "$CNI_SYS_DIR/bridge" ] || tap_skip_all "the reference bridge plugin is missing in $CNI_SYS_DIR"
ns=ns-$CNI_RUN node=node-$CNI_RUN

# The primary network: Debian's reference bridge + host-local on a bridge
# and subnet of this run (cni_cleanup removes CNI_BR2).
CNI_BR2=hlm$CNI_RUN
prim_net=prim-$CNI_RUN
prim_pfx=10.$((0x${CNI_RUN:0:2} % 90 + 10)).$((0x${CNI_RUN:2:2}))
prim_conf=$(jq -nc --arg name "$prim_net" --arg br "$CNI_BR2" --arg subnet "$prim_pfx.0/24" \
	--arg dir "$CNI_IPAM_DIR" \
	'{cniVersion: "1.0.0", name: $name, type: "bridge", bridge: $br, isGateway: true,
	  isDefaultGateway: true, ipam: {type: "host-local", subnet: $subnet, dataDir: $dir}}')
# hostlane's NetworkAttachmentDefinition: its own bridge, no default route
# (eth0 has it), fast path shm.
hl_conf=$(agent_conf shm 'del(.isGateway)')

declare -A eth0_ip=() net1_ip=() prim_res=() hl_res=()
pods=()
# multus_add NAME: the pod's netns, then ADD eth0 (bridge) and ADD net1
# (hostlane) with the same container id and CNI_ARGS, as Multus does.
multus_add() {
	local p=$1 pns cid=cid-$1-$CNI_RUN
	pns=$(pod_ns "$p")
	cni_netns_add "$pns" || return 1
	pods+=("$p")
	CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=$ns;K8S_POD_NAME=$p;K8S_POD_UID=uid-$p-$CNI_RUN")
	cni_exec bridge ADD "$cid" "$pns" eth0 "$prim_conf"
	[ "$CNI_RC" = 0 ] || { echo "pod $p: bridge ADD ($CNI_RC): $CNI_STDOUT $CNI_STDERR" >&2; CNI_EXTRA_ENV=(); return 1; }
	prim_res[$p]=$CNI_STDOUT
	eth0_ip[$p]=$(cni_result_ip "$CNI_STDOUT")
	cni_exec hostlane ADD "$cid" "$pns" net1 "$hl_conf"
	CNI_EXTRA_ENV=()
	[ "$CNI_RC" = 0 ] || { echo "pod $p: hostlane ADD ($CNI_RC): $CNI_STDOUT $CNI_STDERR" >&2; return 1; }
	hl_res[$p]=$CNI_STDOUT
	net1_ip[$p]=$(cni_result_ip "$CNI_STDOUT")
}
# multus_del NAME: DEL net1 then eth0, each with its ADD result as
# prevResult (as the runtime passes it). Idempotent: also the cleanup.
multus_del() {
	local p=$1 pns cid=cid-$1-$CNI_RUN rc=0
	pns=$(pod_ns "$p")
	CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=$ns;K8S_POD_NAME=$p;K8S_POD_UID=uid-$p-$CNI_RUN")
	cni_exec hostlane DEL "$cid" "$pns" net1 "$(cni_with_prev "$hl_conf" "${hl_res[$p]:-null}")"
	[ "$CNI_RC" = 0 ] || rc=1
	cni_exec bridge DEL "$cid" "$pns" eth0 "$(cni_with_prev "$prim_conf" "${prim_res[$p]:-null}")"
	[ "$CNI_RC" = 0 ] || rc=1
	CNI_EXTRA_ENV=()
	return $rc
}
# Before the agent stops (on_exit runs last-in first-out).
multus_cleanup() { local p; for p in "${pods[@]}"; do multus_del "$p"; done; }
on_exit multus_cleanup

for p in a b; do
	multus_add $p || { tap_fail "pod $p: eth0 from bridge, net1 from hostlane"; tap_done; exit 1; }
done
tap_ok "two pods: eth0 from the reference bridge plugin, net1 from hostlane (shm)"
ip_b=${eth0_ip[b]} ip_a=${eth0_ip[a]}
echo "# a: eth0 ${eth0_ip[a]} net1 ${net1_ip[a]}; b: eth0 ${eth0_ip[b]} net1 ${net1_ip[b]}"
ok "eth0 is on the primary bridge's subnet, net1 on hostlane's" \
	test "${ip_b%.*}" = "$prim_pfx" -a "${net1_ip[b]%.*}" = "$CNI_PFX"
tap_eq "a reaches b's eth0 address through eth0 (the primary network's route)" eth0 \
	"$(pod_exec a ip -o route get "$ip_b" | sed -n 's/.* dev \([^ ]*\).*/\1/p')"
ok "both pods have the @hostlane endpoint" bash -c \
	"ip netns exec $(pod_ns a) cat /proc/net/unix | grep -q ' @hostlane\$' && ip netns exec $(pod_ns b) cat /proc/net/unix | grep -q ' @hostlane\$'"

# kubelet's view: status.podIPs is the primary network's address only.
for p in a b; do
	k8s_fake pods "{\"namespace\":\"$ns\",\"name\":\"$p\",\"node\":\"$node\",\"ips\":[\"${eth0_ip[$p]}\"]}"
done
k8s_wait_pods 2

# Server in b: answers "<peer address> <local address>" on 8080, every address.
srv='
import socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 8080)); l.listen(64)
while True:
    c, peer = l.accept()
    c.sendall(("%s %s\n" % (peer[0], c.getsockname()[0])).encode()); c.close()
'
pod_bg_hl b python3 -c "$srv"
srv_pid=$POD_BG_PID
wait_tcp a "$ip_b" 8080 >/dev/null 2>&1
# Client: N connections to HOST:8080; JSON with what each end saw.
cli='
import json, socket, sys
host, n = sys.argv[1], int(sys.argv[2])
got = {"answers": 0, "peers": [], "locals": [], "mine": [], "peer_ok": True}
for i in range(n):
    s = socket.create_connection((host, 8080), timeout=5)
    got["peer_ok"] = got["peer_ok"] and s.getpeername() == (host, 8080)
    mine = s.getsockname()[0]
    line = s.makefile().readline().split()
    s.close()
    if len(line) == 2:
        got["answers"] += 1
        for k, v in (("peers", line[0]), ("locals", line[1]), ("mine", mine)):
            if v not in got[k]: got[k].append(v)
print(json.dumps(got))
'
accepts() { # the hostlane accepts of pod $1's processes
	ctl --json conns | jq --arg p "cid-$1-$CNI_RUN" \
		'[.[] | select(.pod | contains($p)) | .processes[].conns] | add // 0'
}
rx() { pod_exec b cat /sys/class/net/eth0/statistics/rx_packets; }
# st_sum FILE: "conns fallbacks off" of the layer's HOSTLANE_STATS lines.
st_sum() {
	awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] += kv[2] } }
		END { printf "%d %d %d", v["conns"], v["fallbacks"], v["off"] }' "$1" 2>/dev/null
}

# ---- preloaded: b's eth0 address over hostlane ----
n=20
a0=$(accepts b) r0=$(rx)
out=$(pod_exec_hl a env HOSTLANE_STATS="$CNI_TMP/cli.st" python3 -c "$cli" "$ip_b" $n)
r1=$(rx)
echo "# preloaded: $out; client layer conns/fallbacks/off: $(st_sum "$CNI_TMP/cli.st"); b eth0 rx +$((r1 - r0))"
tap_eq "preloaded client -> b's eth0 address: $n answers" $n "$(jq .answers <<<"$out")"
tap_eq "... b's process accepted $n hostlane connections" $n $(($(accepts b) - a0))
tap_eq "... the client's layer made them over hostlane (conns fallbacks off)" "$n 0 0" "$(st_sum "$CNI_TMP/cli.st")"
ok "... client getpeername() is b's eth0 address" jq -e .peer_ok <<<"$out"
# As through the kernel: the listener's local end is the address connected
# to, its peer and the client's own address the client pod's eth0 address
# (the source the kernel's route to b's eth0 address picks).
tap_eq "... b's local end is its eth0 address" "[\"$ip_b\"]" "$(jq -c .locals <<<"$out")"
tap_eq "... b sees a's eth0 address as the peer" "[\"$ip_a\"]" "$(jq -c .peers <<<"$out")"
tap_eq "... a's getsockname() is its eth0 address" "[\"$ip_a\"]" "$(jq -c .mine <<<"$out")"
seen_hl=$(jq -c '[.locals, .peers, .mine]' <<<"$out")
ok "... hostlanectl conns lists b's listener process with pod connections" \
	bash -c "'$HL_CTL' --socket '$AG_SOCK' conns | grep -q 'cid-b-$CNI_RUN'"

# ---- without the layer: the same address over the kernel bridge ----
a0=$(accepts b) r0=$(rx)
out=$(pod_exec a python3 -c "$cli" "$ip_b" $n)
r1=$(rx)
echo "# kernel: $out; b eth0 rx +$((r1 - r0))"
tap_eq "client without the layer -> b's eth0 address: $n answers" $n "$(jq .answers <<<"$out")"
tap_eq "... no hostlane accept" 0 $(($(accepts b) - a0))
ok "... over b's eth0 (>= 3 packets a connection arrived there: $((r1 - r0)))" test $((r1 - r0)) -ge $((3 * n))
tap_eq "... b sees a's eth0 address as the peer" "[\"$ip_a\"]" "$(jq -c .peers <<<"$out")"
tap_eq "... the addresses each end saw are those of the hostlane run" "$seen_hl" "$(jq -c '[.locals, .peers, .mine]' <<<"$out")"

# ---- preloaded, to b's net1 address: the ends are the net1 addresses ----
a0=$(accepts b)
out=$(pod_exec_hl a python3 -c "$cli" "${net1_ip[b]}" 5)
echo "# net1: $out"
tap_eq "preloaded client -> b's net1 address: 5 over hostlane" "5 5" "$(jq .answers <<<"$out") $(($(accepts b) - a0))"
tap_eq "... local end, peer and client address are the net1 ones, as the kernel's" \
	"[[\"${net1_ip[b]}\"],[\"${net1_ip[a]}\"],[\"${net1_ip[a]}\"]]" "$(jq -c '[.locals, .peers, .mine]' <<<"$out")"

# ---- a Service whose endpoint is b's eth0 address (the slices carry the
# primary network's addresses) ----
# kube-proxy's DNAT on the node for programs without the layer: the
# primary bridge's traffic to the ClusterIP, replies handed to netfilter
# by that bridge so conntrack undoes the DNAT (no masquerading).
vip=10.96.$((RANDOM % 250)).$((RANDOM % 250 + 2))
chain=HLMUL-$CNI_RUN
if ip link set "$CNI_BR2" type bridge nf_call_iptables 1 && iptables -t nat -N "$chain"; then
	on_exit "iptables -t nat -D PREROUTING -i $CNI_BR2 -d $vip -p tcp -j $chain; iptables -t nat -F $chain; iptables -t nat -X $chain"
	iptables -t nat -A PREROUTING -i "$CNI_BR2" -d "$vip" -p tcp -j "$chain"
	iptables -t nat -A "$chain" -p tcp --dport 80 -j DNAT --to-destination "$ip_b:8080"
	metric() { curl -s "http://$AG_METRICS/metrics" | grep -E "^hostlane_monitor_$1 " | awk '{print $2}'; }
	b0=$(metric service_map_builds_total)
	k8s_fake endpointslices "{\"metadata\":{\"name\":\"web-abcde\",\"namespace\":\"$ns\",\"labels\":{\"kubernetes.io/service-name\":\"web\"}},\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"$ip_b\"],\"conditions\":{\"ready\":true},\"nodeName\":\"$node\",\"targetRef\":{\"kind\":\"Pod\",\"namespace\":\"$ns\",\"name\":\"b\"}}],\"ports\":[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}]}"
	for _ in $(seq 200); do [ "$(metric service_map_builds_total)" -gt "$b0" ] && break; sleep 0.02; done
	b0=$(metric service_map_builds_total)
	k8s_fake services "{\"metadata\":{\"name\":\"web\",\"namespace\":\"$ns\"},\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"$vip\",\"clusterIPs\":[\"$vip\"],\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\",\"targetPort\":8080}]}}"
	for _ in $(seq 200); do [ "$(metric service_map_builds_total)" -gt "$b0" ] && break; sleep 0.02; done
	svc='
import json, socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=5)
peer = "%s:%d" % s.getpeername()[:2]
mine = s.getsockname()[0]
print(json.dumps({"peer": peer, "mine": mine, "answer": s.makefile().readline().split()}))
'
	a0=$(accepts b)
	hl=$(pod_exec_hl a python3 -c "$svc" "$vip")
	hl_n=$(($(accepts b) - a0))
	kern=$(pod_exec a python3 -c "$svc" "$vip")
	echo "# ClusterIP, hostlane: $hl; kernel (DNAT): $kern"
	tap_eq "ClusterIP -> b's eth0 address: the preloaded connection went over hostlane" 1 "$hl_n"
	tap_eq "... the ends saw what they see through kube-proxy's DNAT (peer, own address, b's view)" \
		"$(jq -c . <<<"$kern")" "$(jq -c . <<<"$hl")"
	tap_eq "... the client's peer is the ClusterIP, b sees a's eth0 address at its eth0 address" \
		"$vip:80 $ip_a $ip_b" "$(jq -r '"\(.peer) \(.answer[0]) \(.answer[1])"' <<<"$hl")"
else
	tap_skip "a Service with b's eth0 address as endpoint" "bridge netfilter or the iptables nat table not usable"
fi

# ---- DEL of both networks leaves nothing ----
pod_kill "$srv_pid"
dels=0
for p in a b; do multus_del $p || dels=1; done
tap_eq "DEL net1 then eth0 of both pods succeeds" 0 $dels
left=
for p in a b; do
	l=$(ip -n "$(pod_ns $p)" -o link show | awk '{n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); if (n != "lo") print n}')
	[ -n "$l" ] && left+=" $p:[$l]"
	pod_has_endpoint "$(pod_ns $p)" && left+=" $p:@hostlane"
done
tap_eq "no interface but lo, no @hostlane left in the pods" "" "$left"
tap_eq "no host-side link left on either bridge" "" "$(cni_leaked_links; cni_bridge_ports "$CNI_BR2")"
tap_eq "no IPAM allocation left (primary, hostlane)" "" "$(cni_allocations "$prim_net"; cni_allocations)"
tap_eq "no per-attachment file left in the plugin's cache" "" "$(cni_cache_files)"
tap_eq "the agent holds no pod" 0 "$(ctl --json pods | jq 'length')"
tap_eq "no pod record on disk" "" "$(agent_state_files)"
pods=()
tap_done
