#!/usr/bin/env bash
# hostlaned + the real plugin (standalone, host-local), fastpath shm: two pods
# get @hostlane in their own netns, a third (fastpath none) gets none;
# hostlanectl pods shows all three with IPs and fast path; a client in each
# pod gets its own handles (identity = its pod), over-quota is a clear error,
# pod A sends data to pod B over the handed-out queues; DEL removes endpoint
# and record.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
cni_setup
agent_setup
example=$BUILD/bin/hostlane-example

agent_start; tap_eq "agent starts and answers" 0 "$?"
conf_shm=$(agent_conf shm)
conf_none=$(agent_conf none)
a=$(cni_pod a) b=$(cni_pod b) c=$(cni_pod c)
for p in "$a" "$b" "$c"; do cni_netns_add "$p"; done

add() { # NETNS CID CONF NAME
	CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=ns-$CNI_RUN;K8S_POD_NAME=$4;K8S_POD_UID=uid-$4")
	cni_add "$2" "$1" eth0 "$3"
	CNI_EXTRA_ENV=()
}
add "$a" "cid-a-$CNI_RUN" "$conf_shm" pa; cni_ok_rc "ADD pod A (shm)"; res_a=$CNI_STDOUT
add "$b" "cid-b-$CNI_RUN" "$conf_shm" pb; cni_ok_rc "ADD pod B (shm)"; res_b=$CNI_STDOUT
add "$c" "cid-c-$CNI_RUN" "$conf_none" pc; cni_ok_rc "ADD pod C (none)"
ip_a=$(cni_result_ip "$res_a") ip_b=$(cni_result_ip "$res_b")

tap_eq "result describes A's shm endpoint" "@hostlane" \
	"$(jq -r '.interfaces[] | select(.name == "hostlane-shm") | .socketPath' <<<"$res_a")"
tap_eq "hostlanectl pods lists three pods" 3 "$(agent_pods 'length')"
tap_eq "pod A: fast path and IP" "shm $ip_a/24" \
	"$(agent_pods --arg n pa '.[] | select(.name == $n) | "\(.fastpath) \(.ips[0])"')"
tap_eq "pod B: fast path and IP" "shm $ip_b/24" \
	"$(agent_pods --arg n pb '.[] | select(.name == $n) | "\(.fastpath) \(.ips[0])"')"
tap_eq "pod C: recorded with fast path none" "none" \
	"$(agent_pods --arg n pc '.[] | select(.name == $n) | .fastpath')"
ok "table output names pod A" sh -c "'$HL_CTL' --socket '$AG_SOCK' pods | grep -q 'ns-$CNI_RUN/pa .*shm'"
ok "hostlanectl pod finds A by namespace/name" ctl pod "ns-$CNI_RUN/pa"
ok "pod A's netns has @hostlane" pod_has_endpoint "$a"
ok "pod B's netns has @hostlane" pod_has_endpoint "$b"
ok_not "pod C's netns (fast path none) has no @hostlane" pod_has_endpoint "$c"
ok_not "the host netns has no @hostlane of ours" sh -c "grep -q ' @hostlane\$' /proc/net/unix"

if [ -x "$example" ]; then
	tap_eq "a client in pod A gets pod A's identity" "ns-$CNI_RUN/pa" \
		"$(ip netns exec "$a" "$example" info | sed -n 's/^pod_key=\([^ ]*\) .*/\1/p')"
	tap_eq "a client in pod B gets pod B's identity (not A's)" "ns-$CNI_RUN/pb" \
		"$(ip netns exec "$b" "$example" info | sed -n 's/^pod_key=\([^ ]*\) .*/\1/p')"
	ok_not "a client in pod C cannot reach any endpoint" ip netns exec "$c" "$example" info
	ok "pod A gets a 2 MiB region within its quota" ip netns exec "$a" "$example" alloc 2Mi
	out=$(ip netns exec "$a" "$example" alloc 1Gi 2>&1)
	if [ $? != 0 ] && grep -qi quota <<<"$out"; then tap_ok "over quota is a clear error"; else
		tap_fail "over quota is a clear error" "$out"; fi
	cni_bg ip netns exec "$b" "$example" listen 7001 1
	lpid=$CNI_BG_PID
	for i in $(seq 1 100); do
		ip netns exec "$a" "$example" connect "$ip_b" 7001 4Mi >"$CNI_TMP/xfer.out" 2>&1 && break
		sleep 0.05
	done
	ok "pod A sends 4 MiB to pod B over the handed-out queues" grep -q "checksum" "$CNI_TMP/xfer.out"
	wait "$lpid" 2>/dev/null
else
	tap_skip "clients in the pods" "hostlane-example is not built ($example)"
fi

for p in a b c; do
	ns=$(cni_pod $p)
	cni_del "cid-$p-$CNI_RUN" "$ns" eth0 "$conf_shm"
	cni_ok_rc "DEL pod $p"
done
ok_not "DEL removed A's endpoint" pod_has_endpoint "$a"
tap_eq "DEL removed every record" 0 "$(agent_pods 'length')"
tap_eq "no state files left" "" "$(agent_state_files)"
cni_del "cid-a-$CNI_RUN" "$a" eth0 "$conf_shm"
cni_ok_rc "a second DEL is fine (idempotent)"
agent_stop
tap_eq "agent stops cleanly on SIGTERM" 0 "$AG_RC"
tap_done
