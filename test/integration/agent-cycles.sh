#!/usr/bin/env bash
# Leak test: 500 ADD/DEL cycles of a shm pod through the real plugin; the
# agent's open fds, its RSS (VmRSS, with a small fixed slack for allocator
# noise: this is a leak test, not a timing test), the pods' quotas it counts and
# HugePages_Free come back to their values after a warm-up. Then a burst of
# 200 concurrent ADDs (bounded workers, backlog) all succeed, and after
# their DELs memory and fds are back too.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
cni_setup
agent_setup
CYCLES=${AGENT_CYCLES:-500}
SLACK_KB=${AGENT_RSS_SLACK_KB:-1024}
printf '{"hugepages": {"defaultQuota": "4Mi"}}' >"$AG_DIR/agent.json"
agent_start --config "$AG_DIR/agent.json"
tap_eq "agent up" 0 "$?"
conf=$(agent_conf shm)
ns=$(cni_pod p)
cni_netns_add "$ns"

# Under ASan (SAN=1) freed memory sits in the quarantine, so RSS says
# nothing there; LeakSanitizer checks leaks at the agent's exit instead.
rss_check() { # WHAT BEFORE AFTER
	if [ "${SAN:-0}" = 1 ]; then
		tap_skip "$1" "RSS is not meaningful under ASan; LeakSanitizer checks the exit"
	elif [ "$3" -le $(($2 + SLACK_KB)) ]; then
		tap_ok "$1 ($2 -> $3 kB)"
	else
		tap_fail "$1" "$2 kB -> $3 kB (slack $SLACK_KB kB)"
	fi
}
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$AG_PID/status"; }
fds() { ls "/proc/$AG_PID/fd" | wc -l; }
quotas() { ctl metrics | awk '$1 == "hostlane_agent_hugepages_bytes{state=\"quota\"}" { print $2 }'; }
cycle() { # I
	cni_add "c$1" "$ns" eth0 "$conf"
	[ "$CNI_RC" = 0 ] || { echo "ADD $1: $CNI_STDOUT"; return 1; }
	cni_del "c$1" "$ns" eth0 "$conf"
	[ "$CNI_RC" = 0 ] || { echo "DEL $1: $CNI_STDOUT"; return 1; }
}
for i in $(seq 1 20); do cycle "w$i" || break; done
rss0=$(rss) fds0=$(fds) hp0=$(hp_free)
failed=0
for i in $(seq 1 "$CYCLES"); do
	out=$(cycle "$i") || { failed=$i; break; }
done
tap_eq "$CYCLES ADD/DEL cycles through the plugin succeed" 0 "$failed"
[ "$failed" = 0 ] || echo "# $out"
tap_eq "open fds back to the start" "$fds0" "$(fds)"
rss_check "RSS back to the start" "$rss0" "$(rss)"
tap_eq "no quota counted (the shm pods' quotas add up to 0)" 0 "$(quotas)"
for _ in $(seq 100); do [ "$(hp_free)" -ge "$hp0" ] && break; sleep 0.05; done
ok "HugePages_Free back to the start" test "$(hp_free)" -ge "$hp0"
tap_eq "no pods, no state files" "0 " "$(agent_pods length) $(agent_state_files)"

# ---- burst: 200 concurrent ADDs straight to the socket ----
burst() { # OP I
	printf '{"hostlane":1,"op":"%s","network":"burst","containerID":"b%s","ifname":"eth0","netns":"/var/run/netns/%s","ips":["10.250.%d.%d/16"],"fastpath":{"config":"none"}}' \
		"$1" "$2" "$ns" $(($2 / 250)) $(($2 % 250 + 1)) | ctl --timeout 60000 raw >/dev/null
}
burst_round() { # ROUND: 200 concurrent ADDs, then 200 concurrent DELs
	local p pids=() bad=0 i
	for i in $(seq 1 200); do burst ADD "$i" & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
	tap_eq "burst $1: 200 concurrent ADDs all answered ok" 0 "$bad"
	tap_eq "burst $1: 200 pods recorded" 200 "$(agent_pods length)"
	pids=() bad=0
	for i in $(seq 1 200); do burst DEL "$i" & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
	tap_eq "burst $1: 200 concurrent DELs all answered ok" 0 "$bad"
	tap_eq "burst $1: no pods, no state files" "0 " "$(agent_pods length) $(agent_state_files)"
}
# The first burst wakes every worker at once (their malloc arenas grow once);
# the second must not grow anything further.
burst_round 1
fds0=$(fds) rss0=$(rss)
burst_round 2
tap_eq "open fds back after the burst" "$fds0" "$(fds)"
rss_check "RSS back after the burst" "$rss0" "$(rss)"
agent_stop
tap_eq "clean stop (under SAN=1: LeakSanitizer found no leak)" 0 "$AG_RC"
tap_done
