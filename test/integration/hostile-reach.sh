#!/usr/bin/env bash
# Hostile pods and reachability (docs/security.md): a listener is reached
# over hostlane only where the kernel would reach it.
#   * the pod's own netfilter rules: pod b REJECTs pod a's connections to
#     its redis; pod a under the layer must be refused as over TCP (once
#     hostlane served it), and pod c is served (by the kernel: the fast path
#     is off for a pod with input rules);
#   * pod-internal addresses: a redis bound to 127.0.0.1 and one bound to
#     an extra address of pod b (not its pod IP) must not answer at pod b's
#     IP (once hostlane looked up the port alone).
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/hostile.sh"
hostile_setup
layer_ok || tap_skip_all "$LAYER_WHY"
command -v iptables >/dev/null || tap_skip_all "iptables not installed"
pod_create a || { tap_fail "pod a"; tap_done; exit 1; }
pod_create b || { tap_fail "pod b"; tap_done; exit 1; }
pod_create c || { tap_fail "pod c"; tap_done; exit 1; }
ip_a=$(pod_ip a) ip_b=$(pod_ip b)
preload_env
# hl_ping POD IP PORT: redis-cli PING under the layer, with its counters.
hl_ping() {
	local st=$CNI_TMP/st.$RANDOM out
	out=$(timeout -k 1 5 ip netns exec "$(pod_ns "$1")" env "${HL_ENV[@]}" HOSTLANE_STATS="$st" \
		redis-cli -h "$2" -p "$3" ping 2>&1 | head -1)
	echo "${out:-timeout} $(grep -o 'conns=[0-9]*' "$st" 2>/dev/null | head -1)"
}

victim_redis b 6379 || { tap_fail "redis in pod b"; tap_done; exit 1; }
tap_eq "without rules pod a reaches redis over hostlane" "PONG conns=1" "$(hl_ping a "$ip_b" 6379)"
ip netns exec "$(pod_ns b)" iptables -A INPUT -p tcp -s "$ip_a" --dport 6379 -j REJECT --reject-with tcp-reset
out=$(hl_ping a "$ip_b" 6379)
case $out in
*"Connection refused"*conns=0*) tap_ok "pod b's REJECT refuses pod a under the layer ($out)" ;;
*) tap_fail "pod b's REJECT refuses pod a under the layer" "$out" ;;
esac
tap_eq "pod c is served (by the kernel)" "PONG conns=0" "$(hl_ping c "$ip_b" 6379)"
ip netns exec "$(pod_ns b)" iptables -F INPUT
# A rule set that just changed counts as filtering until the monitor has
# read it again (at most once a second per pod).
for _ in $(seq 15); do out=$(hl_ping a "$ip_b" 6379); [ "$out" = "PONG conns=1" ] && break; sleep 0.2; done
tap_eq "rules gone: pod a over hostlane again (within 3 s)" "PONG conns=1" "$out"

# Rules that come after two processes went direct: the monitor turns
# their region's direct connections off within a second, and the kernel
# (which applies the rule) refuses the next ones.
cr=$BUILD/test/connrate
pod_bg b env "${HL_ENV[@]}" "$cr" server "$ip_b" 7400 >"$CNI_TMP/cr-srv.out" 2>&1
crs=$POD_BG_PID
wait_tcp a "$ip_b" 7400
pod_bg a timeout -k 1 15 env "${HL_ENV[@]}" HOSTLANE_STATS="$CNI_TMP/cr.st" "$cr" client "$ip_b" 7400 3 \
	>"$CNI_TMP/cr-cli.out" 2>&1
crc=$POD_BG_PID
sleep 1
ip netns exec "$(pod_ns b)" iptables -A INPUT -p tcp -s "$ip_a" --dport 7400 -j REJECT --reject-with tcp-reset
wait "$crc"
echo "# $(cat "$CNI_TMP/cr-cli.out") $(cat "$CNI_TMP/cr.st" 2>/dev/null)"
direct=$(sed -n 's/.* direct=\([0-9]*\).*/\1/p' "$CNI_TMP/cr.st" | head -1)
failed=$(sed -n 's/^conns [0-9]* failed \([0-9]*\) .*/\1/p' "$CNI_TMP/cr-cli.out")
ok "connections went direct before the rule (${direct:-none})" test "${direct:-0}" -gt 0
ok "after the rule, connections are refused, not served directly (${failed:-none} refused)" \
	test "${failed:-0}" -gt 0
pod_kill "$crs"
ip netns exec "$(pod_ns b)" iptables -F INPUT

ip -n "$(pod_ns b)" addr add 10.99.0.1/32 dev lo
victim_redis_at() { # ADDR PORT: a redis of pod b bound to ADDR
	local dir=$CNI_TMP/redis-at-$2
	mkdir -p "$dir" && chmod 0777 "$dir"
	pod_bg b setpriv --reuid=65534 --regid=65534 --clear-groups env "${HL_ENV[@]}" redis-server \
		--bind "$1" --port "$2" --save '' --appendonly no --protected-mode no --dir "$dir" \
		--logfile "$dir/redis.log" >/dev/null 2>&1
	for _ in $(seq 100); do pod_exec b redis-cli -h "$1" -p "$2" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}
# (not in $(...): their pids must reach the cleanup)
victim_redis_at 10.99.0.1 6400 && tap_ok "a redis bound to 10.99.0.1 in pod b" ||
	tap_fail "a redis bound to 10.99.0.1 in pod b"
victim_redis_at 127.0.0.1 6401 && tap_ok "a redis bound to 127.0.0.1 in pod b" ||
	tap_fail "a redis bound to 127.0.0.1 in pod b"
for p in 6400 6401; do
	out=$(hl_ping a "$ip_b" $p)
	case $out in
	*"Connection refused"*conns=0*) tap_ok "port $p bound inside pod b is not reached at its pod IP ($out)" ;;
	*) tap_fail "port $p bound inside pod b is not reached at its pod IP" "$out" ;;
	esac
done
tap_done
