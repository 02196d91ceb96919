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
# monitor denied exactly the refused cells (its counter). Scenarios cover
# default-deny both ways, namespace / pod / both selectors, ipBlock with
# except, a named port, endPort, a union, a policy changed and deleted and a
# pod relabelled mid-run (each applied before the probes: the agent reports
# the resourceVersion its table includes). And a process of a denied pod
# speaking the pod protocol itself (test/hostile) gets no connection.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
. "$(dirname "$0")/../lib/k8s.sh"
preload_require python3 jq nft
cni_setup
agent_setup
k8s_setup || tap_skip_all "$K8S_WHY"
if ! agent_start --kubeconfig "$K8S_KUBECONFIG"; then
	tap_fail "agent starts with the fake API server" "$(tail -n 20 "$AG_DIR/agent.log")"
	tap_done; exit 1
fi
POD_CONF_SHM=$(agent_conf shm)
POD_CONF_NONE=$(agent_conf none)
on_exit pods_cleanup
preload_env
tools=$HOSTLANE_TOP/test/tools/netpol
table=hlnp$CNI_RUN
on_exit "nft delete table netdev $table 2>/dev/null"
W=$CNI_TMP/np
mkdir -p "$W"

# api PATH JSON: script the fake API server; prints the resourceVersion after.
api() { curl -sf -X POST -d "$2" "http://127.0.0.1:$K8S_CTL_PORT/$1" | jq -r .rv; }

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

api namespaces '{"metadata":{"name":"x","labels":{"ns":"x","team":"blue"}}}' >/dev/null
api namespaces '{"metadata":{"name":"y","labels":{"ns":"y"}}}' >/dev/null
api namespaces '{"metadata":{"name":"z","labels":{"ns":"z","team":"red"}}}' >/dev/null

names=(xa xb xc ya yb yc za zb zc)
ports='[{"name":"serve-80-tcp","containerPort":80},{"name":"serve-81-tcp","containerPort":81},{"name":"serve-81-udp","containerPort":81,"protocol":"UDP"}]'
declare -A veth=()
# pod_post NAME LABEL: the pod's object (labels pod=LABEL, its IP, ports).
pod_post() {
	api pods "$(jq -nc --arg ns "${1:0:1}" --arg n "${1:1:1}" --arg node "node-$CNI_RUN" \
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
ok "the agent synced policies, namespaces and pods" wait_applied "$rv"
LAST_RV=$rv
np_status | sed 's/^/# /'

for p in "${names[@]}"; do
	pod_bg "$p" env "${HL_ENV[@]}" python3 "$tools/probe.py" server "${p:1:1}" "$(pod_ip "$p")"
done
for p in "${names[@]}"; do
	wait_tcp xa "$(pod_ip "$p")" 80 || { tap_fail "server of $p listens"; tap_done; exit 1; }
done
targets=()
for port in 80 81; do
	for p in "${names[@]}"; do targets+=("$(pod_ip "$p"):$port:${p:1:1}"); done
done

declare -A cur=()   # policy name -> namespace, as the API server has them now
# set_policies JSON-LIST: the API server's NetworkPolicies become these
# (created, modified or deleted); waits until the agent applied them.
set_policies() {
	local n ns obj rv
	declare -A want=()
	echo "$1" >"$W/pols.json"
	while read -r obj; do
		[ -n "$obj" ] || continue
		want[$(jq -r .metadata.name <<<"$obj")]=1
		rv=$(api networkpolicies "$obj")
		cur[$(jq -r .metadata.name <<<"$obj")]=$(jq -r .metadata.namespace <<<"$obj")
	done < <(jq -c '.[]' <<<"$1")
	for n in "${!cur[@]}"; do
		[ -n "${want[$n]:-}" ] && continue
		ns=${cur[$n]}
		unset "cur[$n]"
		rv=$(api delete "{\"kind\":\"networkpolicies\",\"namespace\":\"$ns\",\"name\":\"$n\"}")
	done
	# Deletions reach the agent's handler with the object's last state,
	# not the deletion's version: a namespace written last (unchanged)
	# marks the point every change before it has reached the agent.
	LAST_RV=$(api namespaces '{"metadata":{"name":"x","labels":{"ns":"x","team":"blue"}}}')
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
	local json p
	json=$(ctl --json conns)
	for p in "${names[@]}"; do
		CNT[$p]=$(jq -r --argjson pid "${ppid[hl-$p]}" \
			'[.[].processes[] | select(.pid == $pid)][0] | "\(.conns // 0) \(.fallbacks // 0)"' <<<"$json")
	done
}

scenario() {
	local name=$1 t0 p bad=0 cbad=0 denied0 denied1 dots=0 row krow ones c0 f0 c1 f1
	declare -A before=()
	set_policies "$2"
	if ! wait_applied "$LAST_RV"; then
		tap_fail "$name: the agent applies the change" "$(np_status)"
		return
	fi
	echo "# $name: applied ${APPLIED_MS} ms after the last change was posted"
	python3 "$tools/engine.py" "$table" "$W/world.json" "$W/pols.json" >"$W/rules.nft"
	nft delete table netdev "$table" 2>/dev/null
	nft -f "$W/rules.nft" || { tap_fail "$name: nft rules load"; return; }
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
		if [ "$row" != "$krow" ] || [ ${#row} != 18 ]; then
			bad=$((bad + 1))
			echo "# $name: client $p: kernel $krow hostlane $row"
		fi
		ones=$(tr -cd 1 <<<"$row" | wc -c)
		dots=$((dots + 18 - ones))
		read -r c0 f0 <<<"${before[$p]}"
		read -r c1 f1 <<<"${CNT[$p]}"
		if [ $((c1 - c0)) != "$ones" ] || [ $((f1 - f0)) != $((18 - ones)) ]; then
			cbad=$((cbad + 1))
			echo "# $name: client $p: $ones connected, $((18 - ones)) refused; counters: $((c1 - c0)) over hostlane, $((f1 - f0)) to the kernel"
		fi
	done
	ok "$name: kernel path and hostlane agree on all 162 cells" test "$bad" = 0
	ok "$name: admitted cells went over hostlane, denied ones ($dots) to the kernel, and the monitor denied exactly those" \
		test "$cbad" = 0 -a $((denied1 - denied0)) = "$dots"
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
scenario "policies deleted: everything admitted again" "[]"

st=$(np_status)
echo "# $st"
ok "status shows the sync state and the policy counters" \
	jq -e '.state == "synced" and .denied > 0 and .admitted > 0 and .refused == 0' <<<"$st"
ok "metrics export the denied counter" \
	bash -c "curl -sf http://$AG_METRICS/metrics | grep -q '^hostlane_monitor_policy_connections_total{verdict=\"denied\"} [1-9]'"
tap_done
