#!/usr/bin/env bash
# Agent restarts do not drop the fast path. An unmodified redis-server (pod
# b) serves two unmodified redis-benchmark runs from pod a, all preloaded:
# one keeps its connections (-k 1), one makes a new connection per request
# (-k 0). The agent is restarted under them, with SIGTERM and with SIGKILL:
# the running processes open a new control channel (back-off) and the
# server registers its listener again, so that a new process's connection
# goes over hostlane again within a second of the new agent being ready;
# the benchmarks see no error, the server never dies, the kept connections
# carry on. Servers that only wait for their connections, each in one call
# without a timeout (test/sockets/waitsrv: select, pselect, ppoll, poll),
# entered before the agent went away, are woken to look for the new agent:
# a second after
# the new agent is ready, the first connection a new client makes to each
# goes over hostlane (their listeners are registered again).
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
preload_require redis-server redis-benchmark redis-cli
waitsrv=$BUILD/test/waitsrv
[ -x "$waitsrv" ] || tap_skip_all "build $waitsrv first (make BUILD=${BUILD##*/} $waitsrv)"
pods_setup
pod_create a || { tap_fail "pod a"; tap_done; exit 1; }
pod_create b || { tap_fail "pod b"; tap_done; exit 1; }
ip_b=$(pod_ip b)
stats=$CNI_TMP/stats
mkdir -p "$CNI_TMP/redis"
preload_env
pod_bg b env "${HL_ENV[@]}" redis-server --bind "$ip_b" --port 6379 --save "" --appendonly no \
	--protected-mode no --dir "$CNI_TMP/redis" --logfile "$CNI_TMP/redis/log"
srv=$POD_BG_PID
for _ in $(seq 100); do
	pod_exec a redis-cli -h "$ip_b" ping 2>/dev/null | grep -q PONG && break
	sleep 0.05
done
# fresh_ping N: a new preloaded redis-cli; prints "PONG conns=N" (its own counters).
fresh_ping() {
	local out
	out=$(timeout 5 ip netns exec "$(pod_ns a)" env "${HL_ENV[@]}" HOSTLANE_STATS="$stats.$1" \
		redis-cli -h "$ip_b" ping 2>&1)
	echo "$out $(grep -o 'conns=[0-9]*' "$stats.$1" 2>/dev/null | tail -1)"
}
tap_eq "before: a new client's connection goes over hostlane" "PONG conns=1" "$(fresh_ping 0)"
waits=(select pselect ppoll poll)
declare -A wport wpid
k=0
for w in "${waits[@]}"; do
	wport[$w]=$((7100 + k)) k=$((k + 1))
	pod_bg b env "${HL_ENV[@]}" "$waitsrv" "$w" "$ip_b" "${wport[$w]}" >"$CNI_TMP/waitsrv-$w.log" 2>&1
	wpid[$w]=$POD_BG_PID
done
# fresh_get WAIT N: a new preloaded client of the WAIT server (bash's
# /dev/tcp); prints "ok conns=N" (its own counters).
fresh_get() {
	local out
	out=$(timeout 5 ip netns exec "$(pod_ns a)" env "${HL_ENV[@]}" HOSTLANE_STATS="$stats.$1.$2" \
		bash -c "exec 3<>/dev/tcp/$ip_b/${wport[$1]} && head -c 2 <&3" 2>&1)
	echo "$out $(grep -o 'conns=[0-9]*' "$stats.$1.$2" 2>/dev/null | tail -1)"
}
for w in "${waits[@]}"; do
	for _ in $(seq 100); do
		grep -q ready "$CNI_TMP/waitsrv-$w.log" && break
		sleep 0.05
	done
	tap_eq "before: a new client of the server waiting in $w goes over hostlane" "ok conns=1" \
		"$(fresh_get "$w" 0)"
done
bench() { # KEEPALIVE LOG
	pod_bg a env "${HL_ENV[@]}" redis-benchmark -h "$ip_b" -p 6379 -t ping -c 2 -n 1000000000 -k "$1" -q \
		>"$2" 2>&1
}
bench 1 "$CNI_TMP/bench-keep.log"
bkeep=$POD_BG_PID
bench 0 "$CNI_TMP/bench-new.log"
bnew=$POD_BG_PID
total() { pod_exec a redis-cli -h "$ip_b" info stats 2>/dev/null | awk -F: '/^total_connections_received/ { print $2 + 0 }'; }
sleep 0.5

i=0
for how in TERM KILL; do
	i=$((i + 1))
	before=$(total)
	if [ "$how" = TERM ]; then agent_stop; else agent_kill; fi
	sleep 0.3   # the agent is away; the programs go on
	during=$(total)
	ok "SIG$how: the benchmark makes new connections while the agent is away" test "${during:-0}" -gt "${before:-0}"
	agent_start || { tap_fail "the agent restarts after SIG$how" "$(tail "$AG_DIR/agent.log")"; break; }
	t0=$(date +%s%N)
	got= k=0
	while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000 ]; do
		k=$((k + 1))
		got=$(fresh_ping "$i.$k")
		[ "$got" = "PONG conns=1" ] && break
	done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	tap_eq "after SIG$how: a new client's connection goes over hostlane again" "PONG conns=1" "$got"
	ok "... within a second of the new agent being ready (${ms} ms, $k clients)" test "$ms" -lt 1000
	# The waiting servers looked within a second, unprompted: the first
	# connection to each is over hostlane.
	while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 1000 ]; do sleep 0.05; done
	for w in "${waits[@]}"; do
		tap_eq "after SIG$how: the server waiting in $w registered its listener again (a new client's first connection over hostlane)" \
			"ok conns=1" "$(fresh_get "$w" "$i")"
	done
	tap_eq "... redis-server and the waiting servers are attached again (5 processes in pod b)" 5 \
		"$(agent_pods ".[] | select(.containerID == \"cid-b-$CNI_RUN\") | .processes")"
done
for w in "${waits[@]}"; do
	ok "the server waiting in $w is alive" kill -0 "${wpid[$w]}"
done
ok "redis-server is alive" kill -0 "$srv"
ok "the benchmark keeping its connections is alive" kill -0 "$bkeep"
ok "the benchmark making new connections is alive" kill -0 "$bnew"
pod_kill "$bkeep"
pod_kill "$bnew"
for l in keep new; do
	tr '\r' '\n' <"$CNI_TMP/bench-$l.log" | grep -iE 'error|reset|refused|broken' | head -3 >"$CNI_TMP/err-$l"
	tap_eq "redis-benchmark -k $([ $l = keep ] && echo 1 || echo 0): no error seen" "" "$(cat "$CNI_TMP/err-$l")"
done
tap_eq "redis-server logged no error" "" "$(grep -iE 'error|warning.*socket' "$CNI_TMP/redis/log" | head -3)"
tap_done
