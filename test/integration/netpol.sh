#!/usr/bin/env bash
# NetworkPolicy admission, end to end: 3 namespaces (x, y, z) x 3 shm pods
# (a, b, c), each serving TCP 80 and 81 (named serve-80-tcp, serve-81-tcp)
# through a preloaded server; the agent follows a fake API server's
# NetworkPolicies, Namespaces and Pods. Per scenario every (client, server,
# port) cell is tried twice: by a plain prober on the kernel path, where the
# test enforces the same policies with nftables rules its own engine
# (test/tools/netpol/engine.py) generates on the pods' host-side veths, and
# by a preloaded prober (hostlane). Requirements: the two agree in every
# cell; every connection the preloaded prober completed went over hostlane
# and every refused one went to the kernel (its process counters); the
# monitor denied exactly the cells that went to the kernel (its counter).
# One target of every round is a Service's ClusterIP whose endpoint is x/a:
# the kernel path reaches it through a DNAT rule in each client pod (as a
# socket-level kube-proxy would), so the nftables rules judge the endpoint,
# and hostlane's verdict must be the endpoint pod's. Scenarios (the table
# at the end) cover default-deny both ways, namespace / pod / both
# selectors, matchExpressions (In, NotIn, Exists, DoesNotExist), ipBlock with
# except, a named port, endPort, egress to pods by selector, both
# policyTypes, a union, a Service, a policy changed and deleted and a pod's
# and a namespace's labels changed mid-run (each applied before the probes:
# the agent reports the resourceVersion its table includes). Then policy
# kinds the agent does not enforce: a Calico GlobalNetworkPolicy keeps every
# pod off the fast path, a Calico NetworkPolicy in one namespace keeps that
# namespace's pods off it, and the fast path is back once the kind is gone
# (status and metrics say why). And a process of a denied pod speaking the
# pod protocol itself (test/hostile) gets no connection.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
. "$(dirname "$0")/../lib/k8s.sh"
preload_require python3 jq nft
cni_setup
agent_setup
k8s_setup || tap_skip_all "$K8S_WHY"
# Policy kinds not enforced are looked for every second (30 s by default).
echo '{"unknownPoliciesCheckSeconds": 1}' >"$AG_DIR/netpol.json"
if ! agent_start --kubeconfig "$K8S_KUBECONFIG" --config "$AG_DIR/netpol.json"; then
	tap_fail "agent starts with the fake API server" "$(tail -n 20 "$AG_DIR/agent.log")"
	tap_done; exit 1
fi
POD_CONF_SHM=$(agent_conf shm)
POD_CONF_NONE=$(agent_conf none)
on_exit pods_cleanup
preload_env
tools=$HOSTLANE_TOP/test/tools/netpol
table=hlnp$CNI_RUN
on_exit "nft delete table netdev $table 2>/dev/null; nft delete table ip $table 2>/dev/null"
W=$CNI_TMP/np
mkdir -p "$W"

np_status() { ctl --json status | jq -c .networkPolicy; }
# wait_applied RV: the monitor's table includes every change up to RV.
wait_applied() {
	local t0 i rv
	t0=$(date +%s%N)
	for ((i = 0; i < 400; i++)); do
		rv=$(np_status | jq -r '.resourceVersion // 0')
		if [ "${rv:-0}" -ge "$1" ]; then
			APPLIED_MS=$((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		sleep 0.025
	done
	return 1
}

k8s_rv namespaces '{"metadata":{"name":"x","labels":{"ns":"x","team":"blue"}}}' >/dev/null
k8s_rv namespaces '{"metadata":{"name":"y","labels":{"ns":"y"}}}' >/dev/null
k8s_rv namespaces '{"metadata":{"name":"z","labels":{"ns":"z","team":"red"}}}' >/dev/null

names=(xa xb xc ya yb yc za zb zc)
ports='[{"name":"serve-80-tcp","containerPort":80},{"name":"serve-81-tcp","containerPort":81},{"name":"serve-81-udp","containerPort":81,"protocol":"UDP"}]'
declare -A veth=()
# pod_post NAME LABEL: the pod's object (labels pod=LABEL, its IP, ports).
pod_post() {
	k8s_rv pods "$(jq -nc --arg ns "${1:0:1}" --arg n "${1:1:1}" --arg node "node-$CNI_RUN" \
		--arg ip "$(pod_ip "$1")" --arg l "$2" --argjson ports "$ports" \
		'{namespace: $ns, name: $n, node: $node, labels: {pod: $l}, ips: [$ip], ports: $ports}')"
}
for p in "${names[@]}"; do
	if ! POD_K8S_NS=${p:0:1} POD_K8S_NAME=${p:1:1} pod_create "$p"; then
		tap_fail "pod $p"; tap_done; exit 1
	fi
	idx=$(pod_exec "$p" cat /sys/class/net/eth0/iflink)
	veth[$p]=$(ip -o link | awk -F': ' -v i="$idx" '$1 == i { sub(/@.*/, "", $2); print $2 }')
	rv=$(pod_post "$p" "${p:1:1}")
done
jq -n --argjson pods "$(for p in "${names[@]}"; do
	jq -nc --arg ns "${p:0:1}" --arg n "${p:1:1}" --arg ip "$(pod_ip "$p")" --arg v "${veth[$p]}" \
		'{ns: $ns, name: $n, labels: {pod: $n}, ip: $ip, veth: $v,
		  ports: {"serve-80-tcp": 80, "serve-81-tcp": 81}}'
done | jq -s .)" '{namespaces: {x: {ns: "x", team: "blue", "kubernetes.io/metadata.name": "x"},
	y: {ns: "y", "kubernetes.io/metadata.name": "y"},
	z: {ns: "z", team: "red", "kubernetes.io/metadata.name": "z"}}, pods: $pods}' >"$W/world.json"
# The Service: ClusterIP $vip:8080 -> x/a:80, known to the agent (Service
# and EndpointSlice) and to the kernel path: kube-proxy's DNAT on the node
# (nat prerouting on the run's bridge, masquerading so that replies come
# back through it), not in the pods, whose own rules would keep them off
# the fast path.
vip=10.96.$((RANDOM % 250)).$((RANDOM % 250 + 2))
k8s_rv services "{\"metadata\":{\"name\":\"web\",\"namespace\":\"x\"},\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"$vip\",\"clusterIPs\":[\"$vip\"],\"selector\":{\"pod\":\"a\"},\"ports\":[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\",\"targetPort\":80}]}}" >/dev/null
k8s_rv endpointslices "{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"x\",\"labels\":{\"kubernetes.io/service-name\":\"web\"}},\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"$(pod_ip xa)\"],\"conditions\":{\"ready\":true,\"serving\":true,\"terminating\":false},\"nodeName\":\"node-$CNI_RUN\",\"targetRef\":{\"kind\":\"Pod\",\"namespace\":\"x\",\"name\":\"a\"}}],\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}]}" >/dev/null
# x/a reaches itself through its Service: the bridge sends the DNATed
# frame back out of the port it came in by (hairpin, as CNI bridges set up
# for Kubernetes).
bridge link set dev "${veth[xa]}" hairpin on || { tap_fail "hairpin on x/a's bridge port"; tap_done; exit 1; }
on_exit "nft delete table ip hlsvc$CNI_RUN 2>/dev/null"
printf 'table ip hlsvc%s {\n chain pre {\n  type nat hook prerouting priority -100; policy accept;\n  iifname "%s" ip daddr %s tcp dport 8080 dnat to %s:80\n }\n chain post {\n  type nat hook postrouting priority 100; policy accept;\n  oifname "%s" ct status dnat ip daddr %s masquerade\n }\n}\n' \
	"$CNI_RUN" "$CNI_BR" "$vip" "$(pod_ip xa)" "$CNI_BR" "$(pod_ip xa)" | nft -f - ||
	{ tap_fail "kube-proxy's DNAT rule for the Service"; tap_done; exit 1; }
LAST_RV=$(k8s_rv namespaces '{"metadata":{"name":"x","labels":{"ns":"x","team":"blue"}}}')
ok "the agent synced policies, namespaces and pods" wait_applied "$LAST_RV"
ok "the agent has the Service" bash -c "for i in \$(seq 200); do
	curl -sf http://$AG_METRICS/metrics | grep -q '^hostlane_monitor_service_ports [1-9]' && exit 0; sleep 0.025; done; exit 1"
np_status | sed 's/^/# /'

for p in "${names[@]}"; do
	pod_bg "$p" env "${HL_ENV[@]}" python3 "$tools/probe.py" server "${p:1:1}" "$(pod_ip "$p")"
done
for p in "${names[@]}"; do
	wait_tcp xa "$(pod_ip "$p")" 80 || { tap_fail "server of $p listens"; tap_done; exit 1; }
done
targets=() tpod=()   # tpod: the pod behind each target (the Service's: x/a)
for port in 80 81; do
	for p in "${names[@]}"; do targets+=("$(pod_ip "$p"):$port:${p:1:1}") tpod+=("$p"); done
done
targets+=("$vip:8080:a") tpod+=(xa)
NT=${#targets[@]}

declare -A cur=()   # "namespace/name" of each policy the API server has now
# set_policies JSON-LIST: the API server's NetworkPolicies become these
# (created, modified or deleted); waits until the agent applied them.
set_policies() {
	local k obj rv
	declare -A want=()
	echo "$1" >"$W/pols.json"
	while read -r obj; do
		[ -n "$obj" ] || continue
		k=$(jq -r '.metadata.namespace + "/" + .metadata.name' <<<"$obj")
		want[$k]=1 cur[$k]=1
		rv=$(k8s_rv networkpolicies "$obj")
	done < <(jq -c '.[]' <<<"$1")
	for k in "${!cur[@]}"; do
		[ -n "${want[$k]:-}" ] && continue
		unset "cur[$k]"
		rv=$(k8s_rv delete "{\"kind\":\"networkpolicies\",\"namespace\":\"${k%%/*}\",\"name\":\"${k#*/}\"}")
	done
	# Deletions reach the agent's handler with the object's last state,
	# not the deletion's version: a namespace written last (unchanged)
	# marks the point every change before it has reached the agent.
	LAST_RV=$(k8s_rv namespaces '{"metadata":{"name":"x","labels":{"ns":"x","team":"blue"}}}')
}

# One prober per pod and path (kernel: plain; hl: preloaded), for the whole
# run: a line ROUND on its input makes it try every target once. The
# preloaded ones keep their regions (direct ones too) across scenarios, as
# a long-lived client would.
declare -A pfd=() ppid=()
for mode in k hl; do
	for p in "${names[@]}"; do
		mkfifo "$W/in-$mode-$p"
		if [ "$mode" = hl ]; then
			ip netns exec "$(pod_ns "$p")" env "${HL_ENV[@]}" python3 "$tools/probe.py" probe \
				"${targets[@]}" <"$W/in-$mode-$p" >"$W/out-$mode-$p" 2>"$W/err-$mode-$p" &
		else
			ip netns exec "$(pod_ns "$p")" python3 "$tools/probe.py" probe "${targets[@]}" \
				<"$W/in-$mode-$p" >"$W/out-$mode-$p" 2>"$W/err-$mode-$p" &
		fi
		ppid[$mode-$p]=$!
		_cni_pids+=($!)
		exec {fd}>"$W/in-$mode-$p"
		pfd[$mode-$p]=$fd
	done
done
round=0
# probe_round: every prober tries every target; RES[mode-pod] = its string.
declare -A RES=()
probe_round() {
	local k i line
	round=$((round + 1))
	for k in "${!pfd[@]}"; do echo "$round" >&"${pfd[$k]}"; done
	for k in "${!pfd[@]}"; do
		line=
		for ((i = 0; i < 1200; i++)); do
			line=$(tail -n 1 "$W/out-$k")
			[ "${line%% *}" = "$round" ] && break
			sleep 0.025
		done
		RES[$k]=${line#* }
	done
}
# counters: "conns fallbacks" of each preloaded prober, from its stats region.
declare -A CNT=()
counters() {
	local pid c f p
	declare -A byp=()
	while read -r pid c f; do
		[ -n "${byp[$pid]:-}" ] || byp[$pid]="$c $f"
	done < <(ctl --json conns | jq -r '.[].processes[] | "\(.pid) \(.conns // 0) \(.fallbacks // 0)"')
	for p in "${names[@]}"; do CNT[$p]=${byp[${ppid[hl-$p]}]:-0 0}; done
}

# UNKNOWN: namespaces policy kinds the agent does not enforce cover now
# ("" none, "*" all): their pods' connections go to the kernel, admitted
# or not; a pod's connections to itself stay on hostlane.
UNKNOWN=
covered() { [ "$UNKNOWN" = "*" ] || [[ " $UNKNOWN " == *" ${1:0:1} "* ]]; }
# hl_expected ROW CLIENT: HL = the cells that must have gone over hostlane.
hl_expected() {
	local i
	HL=0
	for ((i = 0; i < NT; i++)); do
		[ "${1:i:1}" = 1 ] || continue
		if [ "$2" = "${tpod[i]}" ] || ! { covered "$2" || covered "${tpod[i]}"; }; then
			HL=$((HL + 1))
		fi
	done
}

# check_round NAME: one round of probes against the rules in force; every
# cell agrees, and the counters say which path each connection took.
check_round() {
	local name=$1 t0 p bad=0 cbad=0 denied0 denied1 kern=0 row krow ones hl c0 f0 c1 f1
	declare -A before=()
	counters
	for p in "${names[@]}"; do before[$p]=${CNT[$p]}; done
	denied0=$(np_status | jq .denied)
	t0=$(date +%s%N)
	probe_round
	echo "# $name: probes $((($(date +%s%N) - t0) / 1000000)) ms"
	denied1=$(np_status | jq .denied)
	counters
	for p in "${names[@]}"; do
		row=${RES[hl-$p]} krow=${RES[k-$p]}
		if [ "$row" != "$krow" ] || [ ${#row} != "$NT" ]; then
			bad=$((bad + 1))
			echo "# $name: client $p: kernel $krow hostlane $row"
		fi
		ones=${row//[^1]/}
		ones=${#ones}
		hl_expected "$row" "$p"
		hl=$HL
		kern=$((kern + NT - hl))
		read -r c0 f0 <<<"${before[$p]}"
		read -r c1 f1 <<<"${CNT[$p]}"
		if [ $((c1 - c0)) != "$hl" ] || [ $((f1 - f0)) != $((NT - hl)) ]; then
			cbad=$((cbad + 1))
			echo "# $name: client $p: $ones connected, $hl of them due over hostlane; counters: $((c1 - c0)) over hostlane, $((f1 - f0)) to the kernel"
		fi
	done
	ok "$name: kernel path and hostlane agree on all $((NT * ${#names[@]})) cells" test "$bad" = 0
	ok "$name: connections went over hostlane as due, the others ($kern) to the kernel, and the monitor denied exactly those" \
		test "$cbad" = 0 -a $((denied1 - denied0)) = "$kern"
}

# load_rules NAME: the test's engine's nftables rules for the world and
# policies as they are now.
load_rules() {
	python3 "$tools/engine.py" "$table" "$W/world.json" "$W/pols.json" >"$W/rules.nft"
	nft delete table netdev "$table" 2>/dev/null
	nft delete table ip "$table" 2>/dev/null
	nft -f "$W/rules.nft" || { tap_fail "$1: nft rules load"; return 1; }
}

# What the agent must have found of policy kinds it does not enforce, and
# the namespaces its table isolates for them (scope none/namespaces/all).
CRD_SCOPE=none CRD_ISOLATED=0
# crd_wait: the agent's finding is that, and the table built with it is
# the monitor's.
crd_wait() {
	local i st
	for ((i = 0; i < 400; i++)); do
		st=$(np_status)
		jq -e --arg s "$CRD_SCOPE" --argjson n "$CRD_ISOLATED" '.unknownPolicies.scope == $s and
			.unknownIsolated == $n and .appliedBuild == .builds' <<<"$st" >/dev/null && return 0
		sleep 0.025
	done
	echo "# $st"
	return 1
}

# scenario NAME POLICIES-JSON: the API server's NetworkPolicies become
# these; once the agent applied them, one round.
scenario() {
	local name=$1 t0=$(date +%s%N) t1
	set_policies "$2"
	t1=$(date +%s%N)
	if ! wait_applied "$LAST_RV" || ! crd_wait; then
		tap_fail "$name: the agent applies the change" "$(np_status)"
		return
	fi
	echo "# $name: applied ${APPLIED_MS} ms after the last change was posted"
	load_rules "$name" && check_round "$name"
	echo "# $name: $((($(date +%s%N) - t0) / 1000000)) ms in all, $(((t1 - t0) / 1000000)) ms posting"
}

POL() { # NS NAME SPEC-JSON
	jq -nc --arg ns "$1" --arg n "$2" --argjson spec "$3" \
		'{apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
		  metadata: {namespace: $ns, name: $n}, spec: $spec}'
}
to_xa='{"matchLabels":{"pod":"a"}}'

scenario "no policy" "[]"
scenario "default-deny ingress in x" \
	"[$(POL x deny '{"podSelector":{},"policyTypes":["Ingress"]}')]"
# A process of a denied pod that speaks the pod protocol itself (no layer):
# its CONNECTs to a protected pod are refused, one or many.
if [ -x "$BUILD/test/hostile" ]; then
	out=$(pod_exec ya "$BUILD/test/hostile" connect "$(pod_ip xb)" 80 2>&1)
	echo "$out" | sed 's/^/# hostile: /'
	ok "a raw CONNECT from a denied pod is refused (EACCES)" grep -qx 'status Permission denied' <<<"$out"
	out=$(pod_exec ya "$BUILD/test/hostile" cflood "$(pod_ip xb)" 80 200 2>&1)
	ok "200 raw CONNECTs from a denied pod: none admitted" grep -qx 'ok 0' <<<"$out"
else
	tap_fail "the hostile-pod tool is built" "missing $BUILD/test/hostile"
fi
scenario "default-deny egress in x" \
	"[$(POL x deny '{"podSelector":{},"policyTypes":["Egress"]}')]"
scenario "x/a from namespaces ns=y" \
	"[$(POL x p "{\"podSelector\":$to_xa,\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"ns\":\"y\"}}}]}]}")]"
scenario "x/a from namespace ns=y AND pod pod=b" \
	"[$(POL x p "{\"podSelector\":$to_xa,\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"ns\":\"y\"}},\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}}}]}]}")]"
scenario "x/a from the pods' subnet except y/a (ipBlock)" \
	"[$(POL x p "{\"podSelector\":$to_xa,\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"$CNI_SUBNET\",\"except\":[\"$(pod_ip ya)/32\"]}}]}]}")]"
scenario "x/a on named port serve-81-tcp only" \
	"[$(POL x p "{\"podSelector\":$to_xa,\"ingress\":[{\"ports\":[{\"port\":\"serve-81-tcp\"}]}]}")]"
scenario "x/a from z on ports 81-90 (endPort)" \
	"[$(POL x p "{\"podSelector\":$to_xa,\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"red\"}}}],\"ports\":[{\"protocol\":\"TCP\",\"port\":81,\"endPort\":90}]}]}")]"
scenario "x/a egress only to y on port 80" \
	"[$(POL x p "{\"podSelector\":$to_xa,\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[{\"namespaceSelector\":{\"matchLabels\":{\"ns\":\"y\"}}}],\"ports\":[{\"port\":80}]}]}")]"
from_b="$(POL x p1 "{\"podSelector\":$to_xa,\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}}}]}]}")"
scenario "union: x/a from pod=b of x, and from z" \
	"[$from_b,$(POL x p2 "{\"podSelector\":$to_xa,\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"ns\":\"z\"}}}]}]}")]"
scenario "policy changed mid-run: p1 now admits from y instead" \
	"[$(POL x p1 "{\"podSelector\":$to_xa,\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"ns\":\"y\"}}}]}]}"),$(POL x p2 "{\"podSelector\":$to_xa,\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"ns\":\"z\"}}}]}]}")]"
# A label change: x/c becomes pod=b (the API server's event and the
# engine's world both), so the policy admitting pod=b admits it.
rv=$(pod_post xc b)
jq '(.pods[] | select(.ns == "x" and .name == "c") | .labels.pod) = "b"' "$W/world.json" >"$W/w2" &&
	mv "$W/w2" "$W/world.json"
scenario "label changed mid-run: x/c relabelled pod=b is admitted as pod=b" "[$from_b]"
scenario "matchExpressions In/NotIn: x/a from pods pod In (b, c) of namespaces ns NotIn (z)" \
	"[$(POL x p "{\"podSelector\":$to_xa,\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchExpressions\":[{\"key\":\"ns\",\"operator\":\"NotIn\",\"values\":[\"z\"]}]},\"podSelector\":{\"matchExpressions\":[{\"key\":\"pod\",\"operator\":\"In\",\"values\":[\"b\",\"c\"]}]}}]}]}")]"
scenario "matchExpressions Exists/DoesNotExist: y from namespaces with a team label, pods without a tier label" \
	"[$(POL y p '{"podSelector":{"matchExpressions":[{"key":"pod","operator":"Exists"}]},"ingress":[{"from":[{"namespaceSelector":{"matchExpressions":[{"key":"team","operator":"Exists"}]},"podSelector":{"matchExpressions":[{"key":"tier","operator":"DoesNotExist"}]}}]}]}')]"
scenario "egress to pods by selector: pod=b of x only to pod=a of x" \
	"[$(POL x p "{\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}},\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[{\"podSelector\":$to_xa}]}]}")]"
scenario "policyTypes both: z in from y only, out to x only" \
	"[$(POL z p '{"podSelector":{},"policyTypes":["Ingress","Egress"],"ingress":[{"from":[{"namespaceSelector":{"matchLabels":{"ns":"y"}}}]}],"egress":[{"to":[{"namespaceSelector":{"matchLabels":{"ns":"x"}}}]}]}')]"
scenario "Service: the ClusterIP's endpoint x/a admits pod=b of x on port 80 only" \
	"[$(POL x p "{\"podSelector\":$to_xa,\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}}}],\"ports\":[{\"port\":80}]}]}")]"
ok "Service: x/b reaches the ClusterIP on both paths, y/a on neither" \
	test "${RES[hl-xb]: -1}${RES[k-xb]: -1}${RES[hl-ya]: -1}${RES[k-ya]: -1}" = "11.."
from_red="$(POL x p "{\"podSelector\":$to_xa,\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"red\"}}}]}]}")"
scenario "x/a from namespaces team=red (z)" "[$from_red]"
# A namespace's labels change: y joins team red.
k8s_rv namespaces '{"metadata":{"name":"y","labels":{"ns":"y","team":"red"}}}' >/dev/null
jq '.namespaces.y.team = "red"' "$W/world.json" >"$W/w2" && mv "$W/w2" "$W/world.json"
scenario "namespace label changed mid-run: y relabelled team=red is admitted" "[$from_red]"
scenario "policies deleted: everything admitted again" "[]"

# Policy kinds the agent does not enforce (Calico's here). Served with no
# object: nothing changes. A GlobalNetworkPolicy (cluster-wide): no pod
# gets the fast path, whatever the standard policies admit. A namespaced
# Calico policy in y: y's pods only. The kinds gone: the fast path is back.
calico() { # PLURAL KIND NAMESPACED
	k8s_fake crd "{\"group\":\"crd.projectcalico.org\",\"version\":\"v1\",\"plural\":\"$1\",\"kind\":\"$2\",\"namespaced\":$3}"
}
calico globalnetworkpolicies GlobalNetworkPolicy false
calico networkpolicies NetworkPolicy true
deny_x="[$(POL x deny '{"podSelector":{},"policyTypes":["Ingress"]}')]"
scenario "Calico kinds served without objects: admission as before" "$deny_x"
k8s_fake crd-object '{"group":"crd.projectcalico.org","plural":"globalnetworkpolicies","object":{"apiVersion":"crd.projectcalico.org/v1","kind":"GlobalNetworkPolicy","metadata":{"name":"default-deny"},"spec":{"selector":"all()","types":["Ingress"]}}}'
CRD_SCOPE=all CRD_ISOLATED=3 UNKNOWN="*"
scenario "a Calico GlobalNetworkPolicy: every pod's connections on the kernel path" "$deny_x"
out=$(ctl status)
echo "$out" | sed 's/^/# status: /'
ok "status says which kind keeps every pod off the fast path" \
	grep -q 'globalnetworkpolicies.crd.projectcalico.org (1, cluster-wide).*' <<<"$out"
ok "metrics say so" bash -c "curl -sf http://$AG_METRICS/metrics | grep -qx 'hostlane_agent_netpol_unknown_scope{scope=\"all\",mode=\"kernel\"} 1' &&
	curl -sf http://$AG_METRICS/metrics | grep -qx 'hostlane_agent_netpol_unknown_objects{resource=\"globalnetworkpolicies.crd.projectcalico.org\"} 1'"
k8s_fake delete '{"kind":"globalnetworkpolicies.crd.projectcalico.org","name":"default-deny"}'
k8s_fake crd-object '{"group":"crd.projectcalico.org","plural":"networkpolicies","object":{"apiVersion":"crd.projectcalico.org/v1","kind":"NetworkPolicy","metadata":{"name":"db","namespace":"y"},"spec":{"selector":"all()"}}}'
CRD_SCOPE=namespaces CRD_ISOLATED=1 UNKNOWN=y
scenario "a Calico NetworkPolicy in y: y's pods' connections on the kernel path" "$deny_x"
ok "status names the namespace" jq -e '.unknownPolicies.namespaces == ["y"]' <<<"$(np_status)"
k8s_fake crd-delete '{"group":"crd.projectcalico.org","plural":"networkpolicies"}'
k8s_fake crd-delete '{"group":"crd.projectcalico.org","plural":"globalnetworkpolicies"}'
CRD_SCOPE=none CRD_ISOLATED=0 UNKNOWN=
scenario "Calico kinds gone: the fast path again" "$deny_x"

st=$(np_status)
echo "# $st"
ok "status shows the sync state and the policy counters" \
	jq -e '.state == "synced" and .denied > 0 and .admitted > 0 and .refused == 0' <<<"$st"
ok "metrics export the denied counter" \
	bash -c "curl -sf http://$AG_METRICS/metrics | grep -q '^hostlane_monitor_policy_connections_total{verdict=\"denied\"} [1-9]'"
tap_done
