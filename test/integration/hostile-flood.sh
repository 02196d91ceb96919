#!/usr/bin/env bash
# Hostile pods flooding a listener (docs/security.md), redis-server under
# the layer in pod b:
#   * direct connections: after one connection the attacker (pod a) offers
#     the slots of the direct region again and again for a second (once
#     redis accepted 534,443 connections the monitor never saw and kept
#     thousands open after the attacker left): redis's fds must stay within
#     a region's worth, come back after the attacker exits, and redis must
#     keep answering;
#   * accept events: while redis is busy (DEBUG SLEEP) with a CONFIG SET
#     port queued first (its layer then asks the monitor to LISTEN), the
#     attacker CONNECTs 300 times: once the events filled redis's control
#     channel, the reply to redis's own request was dropped and its
#     listeners removed; now the events stop at the listener's budget, and
#     redis's new port must be registered (a CONNECT to it works) and
#     answer.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/hostile.sh"
hostile_setup
layer_ok || tap_skip_all "$LAYER_WHY"
pod_create a || { tap_fail "pod a"; tap_done; exit 1; }
pod_create b || { tap_fail "pod b"; tap_done; exit 1; }
pod_create c || { tap_fail "pod c"; tap_done; exit 1; }
ip_b=$(pod_ip b)

victim_redis b 6379 || { tap_fail "redis in pod b"; tap_done; exit 1; }
tap_eq "redis answers" PONG "$(redis_ping c "$ip_b" 6379)"
# ---- accept events ----
# Redis asleep, with a CONFIG SET port pipelined behind the DEBUG SLEEP:
# when it wakes it runs the command before it looks at anything else, and
# its layer registers the new port (a request to the monitor) while the
# events fill its channel.
printf 'DEBUG SLEEP 2\r\nCONFIG SET port 6390\r\n' |
	pod_exec c redis-cli -h "$ip_b" -p 6379 >"$CNI_TMP/port.out" 2>&1 &
mover=$!
sleep 0.3
# (protocol 2: slot regions, 7 connections each, so the quota lasts 224)
out=$(attack a -V 1:2 cflood "$ip_b" 6379 300)
echo "$out" | sed 's/^/# /'
wait "$mover"
echo "# config set port: $(cat "$CNI_TMP/port.out")"
ok "the monitor told the attacker the listener is busy, before its quota ran out" \
	test "$(kv eagain <<<"$out")" -gt 0
ok "the flood stopped at the listener's event budget ($(kv ok <<<"$out") events)" \
	test "$(kv ok <<<"$out")" -le 64
out=$(attack a connect "$ip_b" 6390)
tap_eq "redis's new port is registered with the monitor" ok "$(kv status <<<"$out")"
tap_eq "redis answers on it after the event flood (3 s bound)" PONG "$(redis_ping c "$ip_b" 6390)"
# The same against a listener that reads nothing for 2 s, then asks.
attack_bg b listen-stall 7500 2000 7501
stall=$ATTACK_PID
for _ in $(seq 50); do grep -q '^listening 7500' "$CNI_TMP/attack.log" && break; sleep 0.05; done
out=$(attack a -V 1:2 cflood "$ip_b" 7500 300)
echo "$out" | sed 's/^/# /'
wait "$stall"
sed -n 's/^\(second\|events\)/# stalled listener: &/p' "$CNI_TMP/attack.log"
tap_eq "a listener busy under an event flood gets the reply to its next request" ok \
	"$(kv second <"$CNI_TMP/attack.log")"

# ---- direct connections ----
base=$(fd_count "$VICTIM_PID")
attack_bg a dflood "$ip_b" 6390 1500
flood=$ATTACK_PID
peak=$base
for _ in $(seq 30); do
	f=$(fd_count "$VICTIM_PID"); [ "${f:-0}" -gt "$peak" ] && peak=$f
	kill -0 "$flood" 2>/dev/null || break
	sleep 0.05
done
wait "$flood" 2>/dev/null
sed 's/^/# /' "$CNI_TMP/attack.log"
grep -q '^direct yes' "$CNI_TMP/attack.log" && tap_ok "the attacker got a direct region" ||
	tap_fail "the attacker got a direct region" "$(cat "$CNI_TMP/attack.log")"
ok "redis's fds during the flood stay within a region's worth ($base -> $peak)" test $((peak - base)) -le 40
for _ in $(seq 60); do [ "$(fd_count "$VICTIM_PID")" -le $((base + 20)) ] && break; sleep 0.05; done
ok "after the attacker left, redis is back to its fds ($(fd_count "$VICTIM_PID"), was $base)" \
	test "$(fd_count "$VICTIM_PID")" -le $((base + 20))
tap_eq "redis answers after the flood (3 s bound)" PONG "$(redis_ping c "$ip_b" 6390)"

tap_done
