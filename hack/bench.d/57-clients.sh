#!/usr/bin/env bash
# Many clients: N client processes (8, 16, 32) in one pod, each opening
# connections one at a time to its own server in another pod
# (test/sockets/connrate: connect, wait for the server's close, close),
# total connections/s over the kernel path (veth + Linux bridge) and over
# hostlane (LD_PRELOAD=libhostlane.so over shm), same pods, same run. Two
# server kinds: plain, and "forked" (each server forks a child that shares
# its listener, as a server with a snapshot child or a pre-fork master
# does). The servers and clients are not pinned: N processes compete for
# the machine's cores, which is what this row is about (the monitor and
# the spinning waits under load).
# Rounds are interleaved (kernel, hostlane, kernel, ...) and the table has
# medians; the bar is hostlane >= 3x the kernel at every count, never
# below 1x. --json: one object per line (bench, clients, server, kernel,
# hostlane, ratio, unit).
#   SECS=N seconds per timed run (default 3), ROUNDS=N (default 3),
#   CLIENTS="8 16 32"
set -u
top=${HOSTLANE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/bench.sh"
bench_env many-clients "$@"
counts=${CLIENTS:-8 16 32}
bench_need jq build/test/connrate
connrate=$BUILD/test/connrate
bench_pods

# pfx MODE POD: the command prefix (in the pod, maybe preloaded).
pfx() {
	P=(ip netns exec "$(pod_ns "$2")")
	[ "$1" = hostlane ] && P+=(env "${HL_ENV[@]}")
	return 0
}
# stop_srv PID: SIGTERM (connrate then ends its forked child), SIGKILL to
# it and its children if it is still there after 5 s.
stop_srv() {
	local k kids
	kids=$(pgrep -P "$1")
	kill -TERM "$1" 2>/dev/null
	for ((k = 0; k < 100; k++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
	[ $k = 100 ] && kill -9 "$1" $kids 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
# run MODE N KIND BASE: total conn/s of N client/server pairs on ports
# BASE+1..BASE+N, or fails. (It runs in a command substitution: the caller
# moves the ports on.) The servers get SIGTERM, on which connrate ends its
# forked child too.
run() {
	local mode=$1 n=$2 kind=$3 base=$4 i spids=() cpids=() total=0 r
	pfx "$mode" srv
	for ((i = 1; i <= n; i++)); do
		cni_bg "${P[@]}" "$connrate" "$kind" "$ip_s" $((base + i)) >>"$tmp/servers.log" 2>&1
		spids+=("$CNI_BG_PID")
	done
	pfx "$mode" cli
	for ((i = 1; i <= n; i++)); do
		local j
		for ((j = 0; j < 200; j++)); do
			"${P[@]}" bash -c "exec 3<>/dev/tcp/$ip_s/$((base + i))" 2>/dev/null && break
			sleep 0.05
		done
	done
	for ((i = 1; i <= n; i++)); do
		timeout -k 5 $((secs * 10 + 60)) "${P[@]}" "$connrate" client "$ip_s" $((base + i)) "$secs" \
			>"$tmp/cli.$i" 2>&1 &
		cpids+=($!)
	done
	for i in "${cpids[@]}"; do wait "$i"; done
	for i in "${spids[@]}"; do stop_srv "$i"; done
	for ((i = 1; i <= n; i++)); do
		r=$(sed -n 's/.* rate \([0-9]*\)$/\1/p' "$tmp/cli.$i")
		[ -n "$r" ] || { echo "many clients: $mode $kind client $i: $(tail -n 2 "$tmp/cli.$i" | tr '\n' ' ')" >&2; return 1; }
		total=$((total + r))
	done
	echo "$total"
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }

[ $json = 1 ] || printf '%-8s %-7s %12s %12s %8s %s\n' clients server "kernel" "hostlane" gain "bar (conn/s, medians of $rounds)" >&3
[ $json = 1 ] || [ $hl_ok = 1 ] || echo "hostlane: n/a - $hl_why" >&3
for n in $counts; do
	for kind in server server-fork; do
		ks=() hs=()
		for ((r = 0; r < rounds; r++)); do
			v=$(run kernel "$n" "$kind" "$port") && ks+=("$v")
			port=$((port + n))
			if [ $hl_ok = 1 ]; then
				v=$(run hostlane "$n" "$kind" "$port") && hs+=("$v")
				port=$((port + n))
			fi
		done
		k=$(printf '%s\n' "${ks[@]}" | median)
		h=n/a
		[ ${#hs[@]} -gt 0 ] && h=$(printf '%s\n' "${hs[@]}" | median)
		ratio=null
		[ "$h" != n/a ] && [ "$k" != n/a ] && [ "$k" -gt 0 ] &&
			ratio=$(awk -v k="$k" -v h="$h" 'BEGIN { printf "%.2f", h / k }')
		label=$([ "$kind" = server ] && echo plain || echo forked)
		if [ $json = 1 ]; then
			jq -nc --argjson n "$n" --arg s "$label" --arg k "$k" --arg h "$h" --arg r "$ratio" \
				'{bench: "many-clients", clients: $n, server: $s, kernel: ($k | tonumber? // null),
				  hostlane: ($h | tonumber? // null), ratio: ($r | tonumber? // null),
				  unit: "conn/s", target_ratio: 3}' >&3
		else
			meets=?
			[ "$ratio" != null ] && meets=$(awk -v r="$ratio" 'BEGIN { print (r >= 3) ? "yes" : "NO" }')
			printf '%-8s %-7s %12s %12s %8s %s\n' "$n" "$label" "$k" "$h" \
				"$([ "$ratio" = null ] && echo - || echo "${ratio}x")" ">= 3x $meets" >&3
		fi
	done
done
exit 0
