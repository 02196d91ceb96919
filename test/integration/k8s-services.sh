#!/usr/bin/env bash
# Service ClusterIPs and every pod IP on the fast path. Real netns pods
# wired by the plugin, the agent of the run following a fake API server
# (test/tools/fake-apiserver) that serves v1 Services, discovery.k8s.io/v1
# EndpointSlices and Pods with status.podIPs. Pods b and c (shm, this node)
# and d (no fast path, "another node") serve; a preloaded client in pod a
# connects to the ClusterIP. kube-proxy is emulated by DNAT
# rules on the node (iptables, statistic mode random) for programs without
# the layer; the layer's kernel connections go to the endpoint chosen.
#
# Proved from counters: the monitor's Service connects by outcome
# (/metrics), each server process's hostlane accepts (hostlanectl conns),
# the client's getpeername() and each server's view of its peer.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
. "$(dirname "$0")/../lib/k8s.sh"
preload_require python3 jq curl iptables

pods_pre_agent() {
	k8s_setup || tap_skip_all "$K8S_WHY"
	PODS_AGENT_ARGS=(--kubeconfig "$K8S_KUBECONFIG")
}
pods_setup
for p in a b c; do pod_create $p || { tap_fail "pod $p"; tap_done; exit 1; }; done
pod_create d none || { tap_fail "pod d"; tap_done; exit 1; }
ns=ns-$CNI_RUN node=node-$CNI_RUN
ip_a=$(pod_ip a) ip_b=$(pod_ip b) ip_c=$(pod_ip c) ip_d=$(pod_ip d)
# The pods of this node as the API server has them: NetworkPolicy
# admission admits no fast-path connection of a pod it does not know.
for p in a b c; do
	k8s_fake pods "{\"namespace\":\"$ns\",\"name\":\"$p\",\"node\":\"$node\",\"ips\":[\"$(pod_ip $p)\"],\"labels\":{\"app\":\"web\"}}"
done
k8s_wait_pods 3
vip=10.96.$((RANDOM % 250)).$((RANDOM % 250 + 2))

metric() { # LABELS-REGEX: the value of hostlane_monitor_* matching it
	curl -s "http://$AG_METRICS/metrics" | grep -E "^hostlane_monitor_$1 " | awk '{print $2}'
}
svc_hl() { metric 'connects_total\{to="service",path="hostlane"\}'; }
# The hostlane accepts of the server process in pod $1 (its layer's counter).
accepts() {
	ctl --json conns | jq --arg p "cid-$1-$CNI_RUN" \
		'[.[] | select(.pod | contains($p)) | .processes[].conns] | add // 0'
}

# Servers: each answers every connection with "<name> <peer address>" on
# 8080 (the Service's named target port "web"), on 9091, and on [::]:8443.
srv='
import socket, sys, threading
name = sys.argv[1]
def serve(port, fam=socket.AF_INET, host="0.0.0.0"):
    l = socket.socket(fam); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((host, port)); l.listen(512)
    while True:
        c, peer = l.accept()
        c.sendall(("%s %s %d\n" % (name, peer[0], port)).encode()); c.close()
threading.Thread(target=serve, args=(9091,), daemon=True).start()
threading.Thread(target=serve, args=(8443, socket.AF_INET6, "::"), daemon=True).start()
serve(8080)
'
preload_env
for p in b c; do pod_bg $p env "${HL_ENV[@]}" python3 -c "$srv" $p; done
pod_bg d python3 -c "$srv" d
for p in b c d; do wait_tcp a "$(pod_ip $p)" 8080 >/dev/null 2>&1; done

# Client: N connections to HOST:PORT, one line read from each; prints JSON
# {"b": n, ...} and whether getpeername() always was HOST:PORT.
cli='
import json, socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
got, peer_ok, seen, fails = {}, True, set(), 0
for i in range(n):
    try:
        s = socket.create_connection((host, port), timeout=5)
    except OSError:
        fails += 1; continue
    peer_ok = peer_ok and s.getpeername()[:2] == (host, port)
    line = s.makefile().readline().split()
    s.close()
    if len(line) == 3:
        got[line[0]] = got.get(line[0], 0) + 1; seen.add(line[1])
print(json.dumps({"got": got, "peer_ok": peer_ok, "seen": sorted(seen), "fails": fails}))
'
client() { pod_exec a env "${HL_ENV[@]}" python3 -c "$cli" "$@"; }

# kube-proxy's rules for the Service, where kube-proxy puts them: the
# node's nat table (here scoped to the run's bridge, in a chain of the
# run), DNAT to one endpoint chosen uniformly (ENDPOINT... as ip:port),
# masquerading the hairpin back onto the bridge. Not in the pod: a pod's
# own rules send its connections to the kernel (docs/security.md).
chain=HLSVC-$CNI_RUN
iptables -t nat -N "$chain" || tap_skip_all "iptables nat table not usable"
on_exit "iptables -t nat -D PREROUTING -i $CNI_BR -d $vip -p tcp -j $chain; iptables -t nat -D POSTROUTING -o $CNI_BR -m conntrack --ctstate DNAT --ctorigdst $vip -j MASQUERADE; iptables -t nat -F $chain; iptables -t nat -X $chain"
iptables -t nat -A PREROUTING -i "$CNI_BR" -d "$vip" -p tcp -j "$chain"
iptables -t nat -A POSTROUTING -o "$CNI_BR" -m conntrack --ctstate DNAT --ctorigdst "$vip" -j MASQUERADE
kube_proxy() {
	local n=$# i=0 e
	iptables -t nat -F "$chain"
	for e in "$@"; do
		if [ $((n - i)) -gt 1 ]; then
			iptables -t nat -A "$chain" -p tcp --dport 80 -m statistic --mode random \
				--probability "$(awk "BEGIN{printf \"%.5f\", 1/$((n - i))}")" -j DNAT --to-destination "$e"
		else
			iptables -t nat -A "$chain" -p tcp --dport 80 -j DNAT --to-destination "$e"
		fi
		i=$((i + 1))
	done
}

ep() { # IP NODE READY [POD]: one endpoint of a slice
	printf '{"addresses":["%s"],"conditions":{"ready":%s,"serving":%s,"terminating":false},"nodeName":"%s","targetRef":{"kind":"Pod","namespace":"%s","name":"%s"}}' \
		"$1" "$3" "$3" "$2" "$ns" "${4:-x}"
}
slice() { # ENDPOINT-JSON...
	local eps
	eps=$(IFS=,; echo "$*")
	k8s_fake endpointslices "{\"metadata\":{\"name\":\"web-abcde\",\"namespace\":\"$ns\",\"labels\":{\"kubernetes.io/service-name\":\"web\"}},\"addressType\":\"IPv4\",\"endpoints\":[$eps],\"ports\":[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"},{\"name\":\"metrics\",\"port\":9091,\"protocol\":\"TCP\"}]}"
}
service() { # EXTRA-SPEC-JSON (e.g. ,"sessionAffinity":"ClientIP")
	k8s_fake services "{\"metadata\":{\"name\":\"web\",\"namespace\":\"$ns\"},\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"$vip\",\"clusterIPs\":[\"$vip\"],\"selector\":{\"app\":\"web\"},\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\",\"targetPort\":\"web\"},{\"name\":\"metrics\",\"port\":9090,\"protocol\":\"TCP\",\"targetPort\":9091}]$1}}"
}
builds() { metric 'service_map_builds_total'; }
# Waits until the map was rebuilt after build count $1; prints the ms it took.
wait_build() {
	local t0=$EPOCHREALTIME
	for _ in $(seq 200); do
		[ "$(builds)" -gt "$1" ] && break
		sleep 0.02
	done
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%d", (b - a) * 1000}'
}

# ---- one endpoint ----
b0=$(builds)
service ''
slice "$(ep "$ip_b" "$node" true b)"
kube_proxy "$ip_b:8080"
wait_build "$b0" >/dev/null
tap_eq "the Service's two ports are in the monitor's map" 2 "$(metric service_ports)"
h0=$(svc_hl) a0=$(accepts b)
out=$(client "$vip" 80 50)
echo "# $out"
ok "1 endpoint: 50 connects to the ClusterIP all reach b" jq -e '.got.b == 50' <<<"$out"
tap_eq "1 endpoint: b's process accepted 50 hostlane connections" 50 $(($(accepts b) - a0))
# The monitor chose for the first (and after each lease ran out), the
# client's layer from its lease for the others.
h1=$(svc_hl)
echo "# the monitor resolved $((h1 - h0)) of the 50 connects; the client's lease the rest"
ok "1 endpoint: the monitor resolved the ClusterIP (Service connects counted)" test $((h1 - h0)) -ge 1
ok "client getpeername() is the ClusterIP:80 on every connection" jq -e '.peer_ok' <<<"$out"
ok "server's peer is the client pod's IP" jq -e --arg a "$ip_a" '.seen == [$a]' <<<"$out"
out=$(client "$vip" 9090 10)
ok "second port 9090 -> targetPort 9091 (numeric), named 8080 for port 80" \
	jq -e '.got.b == 10' <<<"$out"

# ---- pod IPs from status.podIPs (the primary network's address) ----
extra=10.99.$((RANDOM % 250)).$((RANDOM % 250 + 2))
pod_exec b ip addr add "$extra/32" dev eth0
b0=$(builds)
k8s_fake pods "{\"namespace\":\"$ns\",\"name\":\"b\",\"node\":\"$node\",\"ips\":[\"$ip_b\",\"$extra\"],\"labels\":{\"app\":\"web\"}}"
for _ in $(seq 100); do
	[ "$(curl -s "http://$AG_METRICS/metrics" | grep -cE '^hostlane_agent_k8s_cached_pods [1-9]')" = 1 ] && break
	sleep 0.05
done
sleep 0.2
a0=$(accepts b)
out=$(client "$extra" 8080 5)
echo "# $out"
ok "connect to b's status.podIPs address (no route to it in a) reaches b" jq -e '.got.b == 5' <<<"$out"
tap_eq "... over hostlane" 5 $(($(accepts b) - a0))

# ---- an IPv6 ClusterIP (a single-stack IPv6 Service) ----
# a and b get an IPv6 address each (in status.podIPs); a has no route to
# the ClusterIP's range: only hostlane can carry these connections. The
# prefix from the run id, written as the programs print it (a group's
# leading zeros dropped: 01c2 is 1c2), since the test compares strings.
p6=fd00:$(printf '%x:%x' "0x${CNI_RUN:0:4}" "0x${CNI_RUN:4:4}")
ip6_a=$p6:a::$((RANDOM % 250 + 2))
ip6_b=$p6:b::$((RANDOM % 250 + 2))
pod_exec a ip -6 addr add "$ip6_a/128" dev eth0 nodad
k8s_fake pods "{\"namespace\":\"$ns\",\"name\":\"a\",\"node\":\"$node\",\"ips\":[\"$ip_a\",\"$ip6_a\"],\"labels\":{\"app\":\"web\"}}"
vip6=$p6:96::$((RANDOM % 250 + 2))
pod_exec b ip -6 addr add "$ip6_b/128" dev eth0 nodad
b0=$(builds)
k8s_fake pods "{\"namespace\":\"$ns\",\"name\":\"b\",\"node\":\"$node\",\"ips\":[\"$ip_b\",\"$extra\",\"$ip6_b\"],\"labels\":{\"app\":\"web\"}}"
k8s_fake endpointslices "{\"metadata\":{\"name\":\"web6-abcde\",\"namespace\":\"$ns\",\"labels\":{\"kubernetes.io/service-name\":\"web6\"}},\"addressType\":\"IPv6\",\"endpoints\":[$(ep "$ip6_b" "$node" true b)],\"ports\":[{\"name\":\"http\",\"port\":8443,\"protocol\":\"TCP\"}]}"
wait_build "$b0" >/dev/null
b0=$(builds)
k8s_fake services "{\"metadata\":{\"name\":\"web6\",\"namespace\":\"$ns\"},\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"$vip6\",\"clusterIPs\":[\"$vip6\"],\"ipFamilies\":[\"IPv6\"],\"selector\":{\"app\":\"web\"},\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\",\"targetPort\":8443}]}}"
wait_build "$b0" >/dev/null
h0=$(svc_hl) a0=$(accepts b)
out=$(client "$vip6" 80 20)
echo "# $out"
ok "IPv6 ClusterIP: 20 connects to [$vip6]:80 all reach b" jq -e '.got.b == 20 and .fails == 0' <<<"$out"
tap_eq "IPv6 ClusterIP: ... over hostlane (b's process accepted 20)" 20 $(($(accepts b) - a0))
ok "IPv6 ClusterIP: the monitor resolved it (Service connects counted)" test $(($(svc_hl) - h0)) -ge 1
ok "IPv6 ClusterIP: client getpeername() is [$vip6]:80 on every connection" jq -e '.peer_ok and .got.b == 20' <<<"$out"
ok "IPv6 ClusterIP: server's peer is the client pod's IPv6 address" jq -e --arg a "$ip6_a" '.seen == [$a]' <<<"$out"

# ---- three endpoints: b, c here on hostlane, d on another node ----
b0=$(builds)
slice "$(ep "$ip_b" "$node" true b)" "$(ep "$ip_c" "$node" true c)" "$(ep "$ip_d" other-node true d)"
kube_proxy "$ip_b:8080" "$ip_c:8080" "$ip_d:8080"
wait_build "$b0" >/dev/null
ab=$(accepts b) ac=$(accepts c)
n=3000
out=$(client "$vip" 80 $n)
echo "# $out"
hb=$(($(accepts b) - ab)) hc=$(($(accepts c) - ac)) kern=$((n - hb - hc))
echo "# choices: b $hb c $hc (hostlane), kernel $kern; where they landed: $(jq -c .got <<<"$out")"
tap_eq "3 endpoints: every connection answered" $n "$(jq '[.got[]] | add' <<<"$out")"
ok "3 endpoints: b, c and the kernel each got 1/3 of the choices (+-10%)" \
	test $hb -gt 900 -a $hb -lt 1100 -a $hc -gt 900 -a $hc -lt 1100 -a $kern -gt 900 -a $kern -lt 1100
# The kernel's third went to d, the endpoint chosen, as kube-proxy spreads.
ok "3 endpoints: where they landed is kube-proxy's spread, 1/3 each (+-10%)" \
	jq -e '[.got.b, .got.c, .got.d] | all(. > 900 and . < 1100)' <<<"$out"
ok "3 endpoints: the remote endpoint d was reached (through the kernel)" jq -e '.got.d > 0' <<<"$out"

# ---- not ready: b stops getting new connections ----
b0=$(builds)
slice "$(ep "$ip_b" "$node" false b)" "$(ep "$ip_c" "$node" true c)"
kube_proxy "$ip_c:8080"
ms=$(wait_build "$b0")
echo "# the change reached the monitor ${ms} ms after the API server had it"
ab=$(accepts b)
out=$(client "$vip" 80 300)
echo "# $out"
ok "b not ready: all 300 go to c" jq -e '.got.c == 300 and (.got.b // 0) == 0' <<<"$out"
tap_eq "b not ready: b's process accepted no hostlane connection" 0 $(($(accepts b) - ab))

# ---- churn mid-run: c goes, b comes back, while a client runs ----
b0=$(builds)
slice "$(ep "$ip_b" "$node" true b)" "$(ep "$ip_c" "$node" true c)"
kube_proxy "$ip_b:8080" "$ip_c:8080"
wait_build "$b0" >/dev/null
pod_exec a env "${HL_ENV[@]}" python3 -c "$cli" "$vip" 80 2000 >"$CNI_TMP/churn.json" &
cpid=$!
sleep 0.3
b0=$(builds)
slice "$(ep "$ip_b" "$node" true b)"
kube_proxy "$ip_b:8080"
wait_build "$b0" >/dev/null
sleep 0.3  # a lease the client took before lives 250 ms at most
ac=$(accepts c)
wait $cpid
out=$(cat "$CNI_TMP/churn.json")
echo "# $out"
tap_eq "churn: every connection of the run answered" 2000 "$(jq '[.got[]] | add' <<<"$out")"
tap_eq "churn: c got no hostlane connection 0.3 s after it left the slice" 0 $(($(accepts c) - ac))

# ---- session affinity ----
service ',"sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":60}}'
b0=$(builds)
slice "$(ep "$ip_b" "$node" true b)" "$(ep "$ip_c" "$node" true c)"
wait_build "$b0" >/dev/null
sleep 0.2
out=$(client "$vip" 80 200)
echo "# $out"
ok "sessionAffinity ClientIP: 200 connects from one client all reach one endpoint" \
	jq -e '[.got[]] == [200]' <<<"$out"

# ---- no endpoint usable: the kernel (kube-proxy) decides ----
service ''
b0=$(builds)
slice "$(ep "$ip_d" other-node true d)"
kube_proxy "$ip_d:8080"
wait_build "$b0" >/dev/null
h0=$(svc_hl)
out=$(client "$vip" 80 20)
ok "only a remote endpoint: the connections go through the kernel to d" jq -e '.got.d == 20' <<<"$out"
tap_eq "... and none over hostlane" 0 $(($(svc_hl) - h0))
# A socket the layer connected to d itself (the endpoint chosen), inherited
# across exec(): the new image still answers the ClusterIP to getpeername().
xcli='
import os, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
if len(sys.argv) == 3:
    s = socket.create_connection((host, port), timeout=5)
    before = "%s:%d" % s.getpeername()[:2]
    os.set_inheritable(s.fileno(), True)
    os.execv(sys.executable, [sys.executable, "-c", os.environ["XCLI"], host, str(port),
             str(s.fileno()), before])
s = socket.socket(fileno=int(sys.argv[3]))
line = s.makefile().readline().split()
print("%s %s:%d %s" % (sys.argv[4], s.getpeername()[0], s.getpeername()[1], line[0] if line else "-"))
'
out=$(pod_exec a env "${HL_ENV[@]}" XCLI="$xcli" python3 -c "$xcli" "$vip" 80)
echo "# before exec, after exec, answered by: $out"
tap_eq "a socket steered to d and passed across exec() still has the ClusterIP as its peer" \
	"$vip:80 $vip:80 d" "$out"
table=$(ctl conns)
tap_done
