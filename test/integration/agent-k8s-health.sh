#!/usr/bin/env bash
# hostlaned's account of its API connection is the truth, in `hostlanectl
# status` and /metrics, against the fake API server:
#   * wrong token from the start: "unauthorized", the 401 as last error,
#     failed LISTs counted as errors (errors_total{kind="kubernetes"},
#     k8s list_error), never as relists; no last sync;
#   * the server accepts the token: "synced", a last-sync time, still 0
#     relists;
#   * the server goes away: "retrying", the connection error as last error;
#   * in-cluster, with the service-account token not there yet: the client
#     is made anyway, says "no token", and is synced once the token appears
#     (no restart).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
. "$(dirname "$0")/../lib/fakeapi.sh"
cni_setup
agent_setup
command -v openssl >/dev/null || tap_skip_all "openssl is not installed"
d=$CNI_TMP/api
fakeapi_start "$d" || { tap_fail "fake API server starts" "$(cat "$d"/*.log)"; tap_done; exit 1; }
cat >"$d/kubeconfig" <<KC
apiVersion: v1
kind: Config
current-context: t
clusters:
- name: fake
  cluster: {server: "https://127.0.0.1:$FAKEAPI_PORT", certificate-authority: $d/ca.pem}
contexts:
- name: t
  context: {cluster: fake, user: u}
users:
- name: u
  user: {tokenFile: $d/client-token}
KC
echo "not-the-servers-token" >"$d/client-token"

st() { ctl --json status | jq -r ".kubernetes.$1"; }
metric() { curl -sf "http://$AG_METRICS/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
wait_state() { # STATE: up to 15 s (the watch loop backs off up to a few seconds here)
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(st state)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# ---- unauthorized from the start ----
agent_start --kubeconfig "$d/kubeconfig"; tap_eq "agent starts" 0 "$?"
ok "state: unauthorized" wait_state unauthorized
# Every informer (pods, services, endpointslices, networkpolicies, namespaces) lists: any may be last,
# or the discovery GET with which NetworkPolicy admission looks for policy kinds it does not enforce.
ok "last error: a LIST's 401" grep -qE "(LIST [a-z]+|GET /apis[a-z0-9./-]*): HTTP 401" <<<"$(st lastError)"
tap_eq "never synced" 0 "$(st lastSync)"
for _ in $(seq 100); do [ "$(metric 'hostlane_agent_k8s_events_total{kind="list_error"}')" -ge 2 ] 2>/dev/null && break; sleep 0.05; done
ok "failed LISTs are counted as list errors" test "$(metric 'hostlane_agent_k8s_events_total{kind="list_error"}')" -ge 2
ok "... and as errors_total{kind=\"kubernetes\"}" test "$(metric 'hostlane_agent_errors_total{kind="kubernetes"}')" -ge 2
tap_eq "... not as relists" 0 "$(metric 'hostlane_agent_k8s_events_total{kind="relist"}')"
tap_eq "/metrics: state unauthorized" 1 "$(metric 'hostlane_agent_k8s_state{state="unauthorized"}')"
tap_eq "/metrics: not synced" 0 "$(metric 'hostlane_agent_k8s_state{state="synced"}')"
ok "hostlanectl status says unauthorized and why" sh -c "'$HL_CTL' --socket '$AG_SOCK' status | grep -q 'k8s: *unauthorized.*' && '$HL_CTL' --socket '$AG_SOCK' status | grep -q 'last error.*401'"

# ---- the server accepts the token ----
cp "$d/client-token" "$d/server-token"
ok "state: synced once the token is accepted" wait_state synced
ok "a last-sync time" test "$(st lastSync)" -gt 0
tap_eq "/metrics: state synced" 1 "$(metric 'hostlane_agent_k8s_state{state="synced"}')"
ok "/metrics: last sync timestamp" test "$(metric hostlane_agent_k8s_last_sync_timestamp_seconds)" -gt 0
tap_eq "still no relist (the first good LIST is not one)" 0 "$(metric 'hostlane_agent_k8s_events_total{kind="relist"}')"
ok "hostlanectl status says synced" sh -c "'$HL_CTL' --socket '$AG_SOCK' status | grep -q 'k8s: *synced'"

# ---- the server goes away ----
kill "$FAKEAPI_PID"; wait "$FAKEAPI_PID" 2>/dev/null
ok "state: retrying once the server is gone" wait_state retrying
# (The first failure is the cut watch stream; the next try cannot connect.)
for _ in $(seq 300); do grep -qiE "connect|refused" <<<"$(st lastError)" && break; sleep 0.05; done
ok "last error: the connection" grep -qiE "connect|refused" <<<"$(st lastError)"
tap_eq "... still retrying" retrying "$(st state)"
ok "/metrics: watch or list errors counted" test $(($(metric 'hostlane_agent_k8s_events_total{kind="watch_error"}') + $(metric 'hostlane_agent_k8s_events_total{kind="list_error"}'))) -ge 3
agent_stop

# ---- in-cluster, the token comes after the agent started ----
fakeapi_start "$d/2" || { tap_fail "fake API server starts again"; tap_done; exit 1; }
rm -f "$FAKEAPI_SA/token"
printf '{"serviceAccountDir": "%s"}' "$FAKEAPI_SA" >"$AG_DIR/incluster.json"
AG_ENV=(KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$FAKEAPI_PORT")
agent_start --config "$AG_DIR/incluster.json"; tap_eq "agent starts in-cluster with no token yet" 0 "$?"
ok "state: unauthorized (no token)" wait_state unauthorized
ok "last error names the missing token" grep -q "no token" <<<"$(st lastError)"
cp "$d/2/server-token" "$FAKEAPI_SA/token"
ok "state: synced once the token is there (same process)" wait_state synced
AG_ENV=()
agent_stop
tap_done
