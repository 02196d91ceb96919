#!/usr/bin/env bash
# Hostile pods and the hugepage quota (docs/security.md), pods with the
# agent's default quota (64 MiB):
#   * REGION_ALLOC, map, touch, REGION_FREE and keep the mapping, 40 times
#     (80 MiB): once that held 200 MiB against a 64 MiB quota; what the
#     attacker still has mapped of the agent's pages must stay within it;
#   * a listener in pod a that never closes what it accepts, and 40
#     short-lived clients of pod c (bash under the layer): once that left
#     pod c at 64/64 MiB for good; afterwards pod c must still connect to
#     another pod over hostlane (its quota not eaten by pod a).
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/hostile.sh"
hostile_setup
pod_create a || { tap_fail "pod a"; tap_done; exit 1; }
pod_create b || { tap_fail "pod b"; tap_done; exit 1; }
pod_create c || { tap_fail "pod c"; tap_done; exit 1; }
ip_a=$(pod_ip a) ip_b=$(pod_ip b)

out=$(attack a alloc-loop 40)
echo "$out" | sed 's/^/# /'
ok "the attacker allocated and freed regions" test "$(kv allocated <<<"$out")" -gt 0
mapped=$(kv mapped <<<"$out")
ok "what it keeps mapped after REGION_FREE fits its 64 MiB quota ($((mapped >> 20)) MiB)" \
	test "${mapped:-999999999999}" -le $((64 << 20))

attack_bg a listen 7100 0
hold=$ATTACK_PID
attack_bg b listen 7200 0
for _ in $(seq 50); do [ "$(grep -c '^listening' "$CNI_TMP/attack.log")" -ge 2 ] && break; sleep 0.05; done
if layer_ok; then
	preload_env
	for _ in $(seq 40); do
		pod_exec c env "${HL_ENV[@]}" bash -c "exec 3<>/dev/tcp/$ip_a/7100" 2>/dev/null
	done
	what="40 short-lived clients of pod c (bash under the layer)"
else
	for _ in $(seq 40); do attack c connect "$ip_a" 7100 >/dev/null; done
	what="40 short-lived clients of pod c (the tool: $LAYER_WHY)"
fi
out=$(attack c connect "$ip_b" 7200)
tap_eq "after $what to a listener that never closes, pod c still connects over hostlane" \
	ok "$(kv status <<<"$out")"
pod_kill "$hold"
tap_done
