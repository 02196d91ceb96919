#!/usr/bin/env bash
# Hostile pods, shared memory whose backing a peer removes (docs/security.md).
# The attacker (pod a, unprivileged, own pid namespace) punches a hole in
# the hugepage region of a connection:
#   * to redis-server under the layer in pod b, in a cgroup with
#     hugetlb.2MB.max 0 (as kubelet sets for pods that ask no hugepages):
#     redis re-faults the page in its own cgroup; it must not die of SIGBUS
#     and must keep answering other pods (3 s bound);
#   * to two listeners in pod b while the agent sits in a cgroup whose
#     hugetlb allowance the attacker then fills: the monitor touches the
#     punched region again (CONN_CLOSE of its slot, a new CONNECT); the
#     agent must stay up and keep serving other pods.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/hostile.sh"
hostile_setup
pod_create a || { tap_fail "pod a"; tap_done; exit 1; }
pod_create b || { tap_fail "pod b"; tap_done; exit 1; }
pod_create c || { tap_fail "pod c"; tap_done; exit 1; }
ip_b=$(pod_ip b)

# ---- redis ----
if ! layer_ok; then
	tap_skip "SIGBUS in a preloaded victim" "$LAYER_WHY"
elif ! hugetlb_cgroup victim; then
	tap_skip "SIGBUS in a preloaded victim" "no cgroup v2 hugetlb controller here"
else
	cg=$HCG
	echo 0 >"$cg/hugetlb.2MB.max"
	victim_redis b 6379 "$cg" || { tap_fail "redis in pod b" "$(cat "$CNI_TMP"/redis-b-*/redis.log)"; tap_done; exit 1; }
	tap_eq "redis answers before the attack" PONG "$(redis_ping c "$ip_b" 6379)"
	out=$(attack a punch "$ip_b" 6379 1000)
	echo "$out" | sed 's/^/# /'
	tap_eq "the attacker punched the region" ok "$(kv punched <<<"$out")"
	ok "redis did not die (SIGBUS)" kill -0 "$VICTIM_PID"
	tap_eq "redis answers another pod after the attack (3 s bound)" PONG "$(redis_ping c "$ip_b" 6379)"
	tap_eq "the victim's cgroup was never charged a hugepage" 0 "$(cat "$cg/hugetlb.2MB.current")"
fi
# ---- the agent ----
if hugetlb_cgroup agent; then
	cg_ag=$HCG
	attack_bg b listen 7001 0
	l1=$ATTACK_PID
	attack_bg b listen 7002 0
	l2=$ATTACK_PID
	for _ in $(seq 50); do
		[ "$(ip netns exec "$(pod_ns b)" cat /proc/net/unix | grep -c ' @hostlane$')" -ge 3 ] && break
		sleep 0.05
	done
	echo "$AG_PID" >"$cg_ag/cgroup.procs"
	# One page for the first region: after the hole the second region
	# takes it, and the first one's page cannot come back.
	echo $((2 << 20)) >"$cg_ag/hugetlb.2MB.max"
	out=$(attack a punch-agent "$ip_b" 7001 "$ip_b" 7002)
	echo "$out" | sed 's/^/# /'
	tap_eq "the attacker punched the region" ok "$(kv punched <<<"$out")"
	ok "the agent is alive after touching the punched region" kill -0 "$AG_PID"
	ok "the agent answers (hostlanectl status)" ctl status
	echo max >"$cg_ag/hugetlb.2MB.max"
	out=$(attack c connect "$ip_b" 7002)
	tap_eq "the monitor serves another pod" ok "$(kv status <<<"$out")"
	pod_kill "$l1"; pod_kill "$l2"
else
	tap_skip "SIGBUS in the agent" "no cgroup v2 hugetlb controller here"
fi

tap_done
