#!/usr/bin/env bash
# NetworkPolicy on the direct path (docs/monitor.md "Direct regions",
# docs/security.md): two shm pods, srv (a preloaded server on 80 and 81)
# and cli, the agent following a fake API server. The listener's layer
# takes a direct announcement only to a port the monitor's grant (sealed
# memory only the monitor writes) admits. Checked:
#   * a connector that a policy change has just denied keeps announcing on
#     its direct region (the hostile-pod tool, no layer: `off` cleared, the
#     ports table forged, announcement words rewritten, the doorbell rung,
#     to the server's ports and another): the server took none of them as
#     a connection (its counters), the grant fd could not be written, and
#     the server keeps serving;
#   * a pod a policy isolates and that admits the client on port 80 gets a
#     direct region: the client's connections to 80 go direct (the server's
#     direct counter), and the same attacker's announcements to 81 on it
#     become no connection either.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
. "$(dirname "$0")/../lib/k8s.sh"
preload_require python3 jq curl
[ -x "$BUILD/test/hostile" ] || tap_skip_all "$BUILD/test/hostile not built"
pods_pre_agent() {
	k8s_setup || tap_skip_all "$K8S_WHY"
	PODS_AGENT_ARGS=(--kubeconfig "$K8S_KUBECONFIG")
}
pods_setup
pod_create srv && pod_create cli || { tap_fail "pods"; tap_done; exit 1; }
ip_s=$(pod_ip srv) ns=ns-$CNI_RUN node=node-$CNI_RUN
tools=$HOSTLANE_TOP/test/tools/netpol
W=$CNI_TMP/npd
mkdir -p "$W"

# policy JSON-SPEC: the only NetworkPolicy (srv-in) is this; applied after.
policy() {
	k8s_rv networkpolicies "{\"metadata\":{\"namespace\":\"$ns\",\"name\":\"srv-in\"},\"spec\":$1}" >/dev/null
	k8s_policy_applied "$(k8s_rv namespaces "{\"metadata\":{\"name\":\"$ns\"}}")"
}
k8s_rv namespaces "{\"metadata\":{\"name\":\"$ns\"}}" >/dev/null
k8s_rv pods "{\"namespace\":\"$ns\",\"name\":\"srv\",\"node\":\"$node\",\"ips\":[\"$ip_s\"],\"labels\":{\"app\":\"srv\"}}" >/dev/null
ok "the agent synced the pods" k8s_policy_applied "$(k8s_rv pods "{\"namespace\":\"$ns\",\"name\":\"cli\",\"node\":\"$node\",\"ips\":[\"$(pod_ip cli)\"],\"labels\":{\"app\":\"cli\"}}")"

pod_bg_hl srv python3 "$tools/probe.py" server a "$ip_s"
SRV=$POD_BG_PID
wait_tcp cli "$ip_s" 80 || { tap_fail "the server listens"; tap_done; exit 1; }
# srv_count FIELD: the server process's counter (conns, direct).
srv_count() { ctl --json conns | jq -r --argjson pid "$SRV" "[.[].processes[] | select(.pid == \$pid)][0].$1 // 0"; }
# settle N: the server's conns reach N (it accepts after the connector
# returned); bounded.
settle() {
	local i
	for ((i = 0; i < 200; i++)); do [ "$(srv_count conns)" -ge "$1" ] && return 0; sleep 0.025; done
	return 1
}
# probe N PORT: a preloaded client connects N times to srv:PORT; its string.
probe() {
	local t=() i
	for ((i = 0; i < $1; i++)); do t+=("$ip_s:$2:a"); done
	echo 1 | pod_exec_hl cli python3 "$tools/probe.py" probe "${t[@]}" | awk '{ print $2 }'
}
tap_eq "no policy: the client is served on 80 and 81" "11" "$(probe 1 80)$(probe 1 81)"
c=$(srv_count conns)
ok "over hostlane (server conns $c)" test "$c" -ge 2

# ---- a connector denied by a policy change keeps announcing -----------------
pod_bg cli "$BUILD/test/hostile" dsteal "$ip_s" 80 15000 1500 80 81 8080 >"$W/a1.log" 2>&1
ATT=$POD_BG_PID
for _ in $(seq 200); do grep -q '^direct' "$W/a1.log" && break; sleep 0.025; done
settle $((c + 1))
c0=$(srv_count conns)
policy '{"podSelector":{"matchLabels":{"app":"srv"}},"policyTypes":["Ingress"]}' ||
	tap_fail "the deny-all policy is applied"
wait "$ATT" 2>/dev/null
sed 's/^/# attacker: /' "$W/a1.log"
kv() { awk -v k="$1" '$1 == k { print $2 }' "$W/$2"; }
tap_eq "the attacker had a direct region with a grant" yes "$(kv direct a1.log)"
tap_eq "the grant fd cannot be written (mmap, mprotect, write, truncate, seals)" no "$(kv grant_writable a1.log)"
tap_eq "the policy change rewrote the grant" yes "$(kv grant_changed a1.log)"
ok "the listener looked at its announcements ($(kv taken a1.log) of $(kv offers a1.log) taken)" \
	test "$(kv taken a1.log)" -gt 0
sleep 0.2
tap_eq "none of them became a connection in the server (its conns)" "$c0" "$(srv_count conns)"
ok "the server process still runs" kill -0 "$SRV"
out=$(pod_exec cli "$BUILD/test/hostile" connect "$ip_s" 80)
tap_eq "the monitor refuses the attacker's CONNECT" "status Permission denied" "$out"

# ---- an isolated pod that admits the client: direct, per port ----------------
policy "{\"podSelector\":{\"matchLabels\":{\"app\":\"srv\"}},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"cli\"}}}],\"ports\":[{\"port\":80}]}]}" ||
	tap_fail "the policy admitting cli on 80 is applied"
c=$(srv_count conns) d=$(srv_count direct)
tap_eq "srv isolated, cli admitted on 80: 8 connections served" 11111111 "$(probe 8 80)"
settle $((c + 8))
ok "over hostlane, all but the first direct (server conns $c -> $(srv_count conns), direct $d -> $(srv_count direct))" \
	test "$(srv_count conns)" = $((c + 8)) -a "$(srv_count direct)" = $((d + 7))
pod_bg cli "$BUILD/test/hostile" dsteal "$ip_s" 80 0 1000 81 8080 >"$W/a2.log" 2>&1
ATT=$POD_BG_PID
wait "$ATT" 2>/dev/null
sed 's/^/# attacker: /' "$W/a2.log"
tap_eq "the attacker gets a direct region to the isolated pod (port 80 admitted)" yes "$(kv direct a2.log)"
ok "its announcements to 81 and 8080 were looked at ($(kv taken a2.log) taken)" test "$(kv taken a2.log)" -gt 0
settle $((c + 9))
sleep 0.2
tap_eq "and only its CONNECT to 80 became a connection (server conns)" $((c + 9)) "$(srv_count conns)"
tap_eq "the server keeps serving admitted clients" 1 "$(probe 1 80)"
tap_done
