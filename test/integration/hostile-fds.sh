#!/usr/bin/env bash
# Hostile pods, fds (docs/security.md): an unprivileged attacker in pod a,
# in a pid namespace of its own, connects to redis-server (under the layer,
# same uid as the attacker) in pod b over hostlane and
#   * tries pidfd_getfd() through every fd the connection brought (a peer
#     pidfd once stole the victim's control socket, memfds and listener):
#     no fd of another process may come out, and no fd is a pidfd;
#   * clears O_NONBLOCK on every fd it shares with the victim, fills the
#     eventfd the victim writes to, makes the victim answer, and steals its
#     wake-ups for a second (once enough to hang redis for good): redis
#     must keep answering other pods, within 3 s.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/hostile.sh"
hostile_setup
pod_create a || { tap_fail "pod a"; tap_done; exit 1; }
pod_create b || { tap_fail "pod b"; tap_done; exit 1; }
pod_create c || { tap_fail "pod c"; tap_done; exit 1; }
ip_b=$(pod_ip b)

# The agent too: a socket it hands out names it with SO_PEERPIDFD; an
# attacker without capabilities gets nothing out of that.
if ! layer_ok; then
	tap_skip "fd theft and shared flags against redis" "$LAYER_WHY"
	tap_done; exit 0
fi
victim_redis b 6379 || { tap_fail "redis in pod b" "$(cat "$CNI_TMP"/redis-b-*/redis.log)"; tap_done; exit 1; }
out=$(attack a steal "$ip_b" 6379)
echo "$out" | sed 's/^/# /'
tap_eq "the connection is over hostlane" yes "$([ -n "$(kv fds <<<"$out")" ] && echo yes)"
tap_eq "no pidfd among the fds a connection brings" 0 "$(kv pidfds <<<"$out")"
tap_eq "no fd of another process stolen (pidfd_getfd)" 0 "$(kv stolen <<<"$out")"
tap_eq "redis serves after the theft attempt" PONG "$(redis_ping c "$ip_b" 6379)"

out=$(attack a flagflip "$ip_b" 6379 1000)
echo "$out" | sed 's/^/# /'
ok "the attacker changed the flags of the fds it holds" test "$(kv flipped <<<"$out")" -gt 0
tap_eq "redis answers another pod after the flag attack (3 s bound)" PONG "$(redis_ping c "$ip_b" 6379)"
tap_eq "and again a second later" PONG "$(sleep 1; redis_ping c "$ip_b" 6379)"
ok "redis is still running" kill -0 "$VICTIM_PID"
tap_done
