#!/usr/bin/env bash
# The socket-semantics suite (test/sockets/sockcase.c) through a Service
# ClusterIP: the server part listens on its pod's address and a target port,
# the client part connects to a ClusterIP and the Service's port. Two paths,
# transcripts compared:
#   kernel    no layer; kube-proxy's DNAT on the node (iptables nat rules
#             of the run, ClusterIP:port -> pod IP:targetPort), no
#             masquerading (the run's bridge hands bridged replies to
#             netfilter, as kube-proxy requires, so conntrack undoes the
#             DNAT and the server sees the client pod's address)
#   hostlane  both parts under LD_PRELOAD; the monitor's Service map from
#             the fake API server's Services and EndpointSlices, which the
#             agent of the run follows
# Each must end cleanly and the two transcripts must be identical. The
# hostlane run proves it went over hostlane: the layer's counters of both
# parts (as preload-semantics) and the monitor's Service connects over
# hostlane (hostlane_monitor_connects_total). The client's getpeername() is
# the ClusterIP and Service port on both paths (connect-block prints it).
# Connects a case makes to a port nobody listens on go to the kernel on
# both paths, through the same DNAT rules.
# Every run has ports of its own: server port P and P+1, Service port
# P+20000 and P+20001 (not the target port: the translation is seen).
# SOCKCASES='glob' runs only some cases.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
. "$(dirname "$0")/../lib/k8s.sh"
. "$(dirname "$0")/../lib/sockcase.sh"
sc=$BUILD/test/sockcase
[ -x "$sc" ] || tap_skip_all "build $sc first (make BUILD=${BUILD##*/} $sc)"
preload_require jq curl python3 iptables iptables-restore

pods_pre_agent() {
	k8s_setup || tap_skip_all "$K8S_WHY"
	PODS_AGENT_ARGS=(--kubeconfig "$K8S_KUBECONFIG")
}
pods_setup
pod_create srv || { tap_fail "pod srv" "see stderr"; tap_done; exit 1; }
pod_create cli || { tap_fail "pod cli" "see stderr"; tap_done; exit 1; }
ip_s=$(pod_ip srv)
ns=ns-$CNI_RUN node=node-$CNI_RUN
# The pods as the API server has them (NetworkPolicy admission admits no
# fast-path connection of a pod it does not know).
for p in srv cli; do
	k8s_fake pods "{\"namespace\":\"$ns\",\"name\":\"$p\",\"node\":\"$node\",\"ips\":[\"$(pod_ip $p)\"],\"labels\":{\"app\":\"$p\"}}"
done
k8s_wait_pods 2

cases=
for c in $("$sc" list); do
	# shellcheck disable=SC2053
	[[ $c == ${SOCKCASES:-*} ]] && cases+=" $c"
done
read -ra cases <<<"$cases"
[ ${#cases[@]} -gt 0 ] || tap_skip_all "no case matches SOCKCASES=$SOCKCASES"

metric() { # NAME-REGEX: the value of hostlane_monitor_NAME
	curl -s "http://$AG_METRICS/metrics" | grep -E "^hostlane_monitor_$1 " | awk '{print $2}'
}
svc_hl() { metric 'connects_total\{to="service",path="hostlane"\}'; }

# ---- the Services: every run's two ports, made before the first run ----
# Run r (0, 1, ...) takes server ports base+2r+2 and +3 (run_case counts
# them). A Service holds 32 runs (64 ports, what the agent keeps of one),
# each Service a ClusterIP of its own.
port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000))
base=$port
runs=$((2 * ${#cases[@]}))
nsvc=$(((runs + 31) / 32))
vip_pfx=10.96.$((RANDOM % 250))
vip_lo=$((RANDOM % 200 + 2))
vip() { echo "$vip_pfx.$((vip_lo + $1))"; }
chain=HLSEM-$CNI_RUN
# Replies from the server to the client pod are bridged: netfilter sees
# them only when the bridge hands them over (kube-proxy's requirement,
# br_netfilter); this bridge's own switch, not the node-wide sysctl.
ip link set "$CNI_BR" type bridge nf_call_iptables 1 ||
	tap_skip_all "the bridge cannot hand bridged packets to iptables (br_netfilter)"
iptables -t nat -N "$chain" || tap_skip_all "iptables nat table not usable"
on_exit "iptables -t nat -D PREROUTING -i $CNI_BR -d $vip_pfx.0/24 -p tcp -j $chain; iptables -t nat -F $chain; iptables -t nat -X $chain"
iptables -t nat -A PREROUTING -i "$CNI_BR" -d "$vip_pfx.0/24" -p tcp -j "$chain"
rules=$CNI_TMP/dnat.rules
{
	echo "*nat"
	for ((r = 0; r < runs; r++)); do
		for d in 0 1; do
			sp=$((base + 2 * r + 2 + d))
			echo "-A $chain -d $(vip $((r / 32)))/32 -p tcp --dport $((sp + 20000)) -j DNAT --to-destination $ip_s:$sp"
		done
	done
	echo COMMIT
} >"$rules"
iptables-restore --noflush <"$rules" || { tap_fail "kube-proxy's DNAT rules"; tap_done; exit 1; }

builds() { metric service_map_builds_total; }
wait_build() { # BUILDS-BEFORE [PORTS]: the map was rebuilt (and has PORTS)
	for _ in $(seq 300); do
		[ "$(builds)" -gt "$1" ] && { [ -z "${2:-}" ] || [ "$(metric service_ports)" = "$2" ]; } && return 0
		sleep 0.02
	done
	return 1
}
# Slices first, their own rebuild seen, then the Services: the map built
# for the Services has their endpoints (two watches, no order between them).
b0=$(builds)
for ((k = 0; k < nsvc; k++)); do
	sp_json=
	for ((r = 32 * k; r < runs && r < 32 * (k + 1); r++)); do
		for d in 0 1; do
			sp=$((base + 2 * r + 2 + d))
			sp_json+=",{\"name\":\"r$r-$d\",\"port\":$sp,\"protocol\":\"TCP\"}"
		done
	done
	k8s_fake endpointslices "{\"metadata\":{\"name\":\"sem$k-abcde\",\"namespace\":\"$ns\",\"labels\":{\"kubernetes.io/service-name\":\"sem$k\"}},\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"$ip_s\"],\"conditions\":{\"ready\":true,\"serving\":true,\"terminating\":false},\"nodeName\":\"$node\",\"targetRef\":{\"kind\":\"Pod\",\"namespace\":\"$ns\",\"name\":\"srv\"}}],\"ports\":[${sp_json#,}]}"
done
wait_build "$b0" || { tap_fail "the EndpointSlices reach the monitor"; tap_done; exit 1; }
b0=$(builds)
for ((k = 0; k < nsvc; k++)); do
	ports=
	for ((r = 32 * k; r < runs && r < 32 * (k + 1); r++)); do
		for d in 0 1; do
			sp=$((base + 2 * r + 2 + d))
			ports+=",{\"name\":\"r$r-$d\",\"port\":$((sp + 20000)),\"protocol\":\"TCP\",\"targetPort\":$sp}"
		done
	done
	k8s_fake services "{\"metadata\":{\"name\":\"sem$k\",\"namespace\":\"$ns\"},\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"$(vip $k)\",\"clusterIPs\":[\"$(vip $k)\"],\"selector\":{\"app\":\"srv\"},\"ports\":[${ports#,}]}}"
done
if wait_build "$b0" $((2 * runs)); then
	tap_ok "$nsvc Services, $((2 * runs)) ports to $ip_s in the monitor's map and in kube-proxy's DNAT rules"
else
	tap_fail "the Services reach the monitor" "service ports: $(metric service_ports), $((2 * runs)) expected"
	tap_done
	exit 1
fi

# The client connects to the ClusterIP and Service port of the server's port.
sc_target() { # MODE PORT
	local r=$((($2 - base) / 2 - 1))
	SC_TO_IP=$(vip $((r / 32))) SC_TO_PORT=$(($2 + 20000))
}

# Connections the DNAT rules translated (a NAT rule sees a connection's
# first packet only).
dnat() { iptables -t nat -L "$chain" -n -v -x | awk '$3 == "DNAT" { n += $1 } END { print n + 0 }'; }

for c in "${cases[@]}"; do
	n0=$(dnat)
	if run_case kernel "$c"; then tap_ok "$c (kernel, DNAT)"
	else tap_fail "$c (kernel, DNAT)" "$(cat "$CNI_TMP/kernel-$c.txt" "$CNI_TMP/kernel-$c".*err 2>/dev/null | tail -n 30)"; fi
	n=$(($(dnat) - n0))
	ok "$c (kernel): $n connections through kube-proxy's DNAT" test "$n" -ge 1
	h0=$(svc_hl) n0=$(dnat)
	if run_case hostlane "$c"; then tap_ok "$c (hostlane, Service map)"
	else preload_fail "$c" "$c (hostlane, Service map)" "$(cat "$CNI_TMP/hostlane-$c.txt" "$CNI_TMP/hostlane-$c".*err 2>/dev/null | tail -n 30)"; fi
	h=$(($(svc_hl) - h0)) n=$(($(dnat) - n0))
	hl_path hostlane "$c"
	# A case with no connect to the kernel on purpose: none through DNAT.
	[ "${HL_FALLBACKS[$c]:-0}" = 0 ] && [ "$c" != many-conns ] &&
		tap_eq "$c (hostlane): no connection through kube-proxy's DNAT" 0 "$n"
	# The monitor resolved the ClusterIP at least once (then the client's
	# lease may choose; a case whose connects all go to the kernel on
	# purpose has none).
	ok "$c: the monitor sent $h Service connects over hostlane" test "$h" -ge 1
	if d=$(diff "$CNI_TMP/kernel-$c.txt" "$CNI_TMP/hostlane-$c.txt"); then
		tap_ok "$c: hostlane transcript = kernel (DNAT) transcript"
	else
		# Keys "svc-CASE" in known-bugs.txt: gaps seen only through a ClusterIP.
		preload_fail "svc-$c" "$c: hostlane transcript = kernel (DNAT) transcript" "diff kernel hostlane:
$d"
	fi
done
[ -n "${SOCKCASE_KEEP:-}" ] && mkdir -p "$SOCKCASE_KEEP" && cp "$CNI_TMP"/*.txt "$SOCKCASE_KEEP"/ 2>/dev/null
tap_done
