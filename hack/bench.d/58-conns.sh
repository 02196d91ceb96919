#!/usr/bin/env bash
# Many concurrent connections between two pods: test/sockets/manyconn opens
# N connections (1, 16, 256, 1,024, 4,096; CONNS= picks) from one client
# process to one server process, then runs 64-byte request/response on all
# of them at once (one outstanding request each) for SECS, over the kernel
# path (veth + Linux bridge) and over hostlane (LD_PRELOAD=libhostlane.so
# over shm), same pods, rounds interleaved, medians. Per N: total req/s,
# p50/p99 latency, the least and most served connection's requests (the
# fairness), how many of the N connections the layer carried (its counters,
# HOSTLANE_STATS: the rest fell back to the kernel), the 2 MiB hugepages
# in use during the run, the client's fds per connection and the agent's
# fds and RSS. Bars: every connection on hostlane, hostlane >= 10x the
# kernel at every N, hostlane at N = 4,096 >= 0.8x hostlane at N = 16.
# --json: one object per line.
#   SECS=N seconds per timed run (default 3), ROUNDS=N (default 3),
#   CONNS="1 16 256 1024 4096"
set -u
top=${HOSTLANE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/bench.sh"
bench_env conns "$@"
counts=${CONNS:-1 16 256 1024 4096}
bench_need jq build/test/manyconn
mc=$BUILD/test/manyconn
bench_pods

hp_free() { awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo; }
agent_fds() { find "/proc/$AG_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
agent_rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$AG_PID/status" 2>/dev/null; }
field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$1" | head -1; }

# run MODE N PORT: one line "rate p50 p99 min max fds_per_conn onhl hp_mib
# agent_fds agent_rss_kib", or fails.
run() {
	local mode=$1 n=$2 p=$3 env=() senv=() spid cpid out hp0 hp1 afd arss k
	if [ "$mode" = hostlane ]; then
		senv=("${HL_ENV[@]}")
		env=("${HL_ENV[@]}" HOSTLANE_STATS="$tmp/cli-$p.st")
	fi
	rm -f "$tmp/srv-$p.out" "$tmp/cli-$p.st"
	hp0=$(hp_free)
	pod_bg srv env "${senv[@]}" "$mc" server "$ip_s" "$p" >"$tmp/srv-$p.out" 2>&1
	spid=$POD_BG_PID
	for ((k = 0; k < 100; k++)); do grep -q '^ready' "$tmp/srv-$p.out" && break; sleep 0.05; done
	grep -q '^ready' "$tmp/srv-$p.out" || { pod_kill "$spid"; return 1; }
	ip netns exec "$(pod_ns cli)" env "${env[@]}" \
		timeout -k 5 $((secs * 10 + 60)) "$mc" client "$ip_s" "$p" "$n" "$secs" >"$tmp/cli-$p.out" 2>&1 &
	cpid=$!
	# In the middle of the timed part: hugepages and the agent.
	for ((k = 0; k < 1200; k++)); do
		grep -q '^connected' "$tmp/cli-$p.out" && break
		kill -0 "$cpid" 2>/dev/null || break
		sleep 0.05
	done
	sleep "$(awk -v s="$secs" 'BEGIN { print s / 2 }')"
	hp1=$(hp_free) afd=$(agent_fds) arss=$(agent_rss)
	wait "$cpid"
	kill -TERM "$spid" 2>/dev/null
	for ((k = 0; k < 100; k++)); do kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
	pod_kill "$spid"
	out=$(tail -n 1 "$tmp/cli-$p.out")
	[[ $out == conns\ * ]] || { echo "conns: $mode N=$n: $(tail -n 2 <<<"$out" | tr '\n' ' ')" >&2; return 1; }
	read -r _ _ _ _ _ _ _ rate _ p50 _ p99 _ _ _ mn _ mx _ fpc _ <<<"$out"
	onhl=$n
	[ "$mode" = hostlane ] && onhl=$(($(field "$tmp/cli-$p.st" conns) + 0))
	echo "$rate $p50 $p99 $mn $mx $fpc $onhl $(((hp0 - hp1) * 2)) $afd $arss"
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }
col() { # LINES I: the median of column I
	awk -v i="$2" '{ print $i }' <<<"$1" | median
}

if [ $json = 0 ]; then
	printf '%-6s %10s %10s %7s %9s %13s %13s %13s %13s %6s %6s %13s\n' N "kernel/s" "hostlane/s" gain \
		"on hl" "p50 us k/h" "p99 us k/h" "min/max k" "min/max hl" "hp MiB" "fd/c" "agent fd/RSS" >&3
	[ $hl_ok = 1 ] || echo "hostlane: n/a - $hl_why" >&3
fi
h16=
for n in $counts; do
	K= H=
	for ((r = 0; r < rounds; r++)); do
		v=$(run kernel "$n" $((port += 1))) && K+="$v"$'\n'
		if [ $hl_ok = 1 ]; then v=$(run hostlane "$n" $((port += 1))) && H+="$v"$'\n'; fi
	done
	K=${K%$'\n'} H=${H%$'\n'}
	kr=n/a hr=n/a ratio=null
	[ -n "$K" ] && kr=$(col "$K" 1)
	[ -n "$H" ] && hr=$(col "$H" 1)
	[ "$kr" != n/a ] && [ "$hr" != n/a ] && ratio=$(awk -v k="$kr" -v h="$hr" 'BEGIN { printf "%.2f", (k > 0) ? h / k : 0 }')
	[ "$n" = 16 ] && h16=$hr
	m() { if [ -n "$1" ]; then col "$1" "$2"; else echo n/a; fi; }
	if [ $json = 1 ]; then
		jq -nc --argjson n "$n" --arg kr "$kr" --arg hr "$hr" --arg ratio "$ratio" \
			--arg kp50 "$(m "$K" 2)" --arg hp50 "$(m "$H" 2)" --arg kp99 "$(m "$K" 3)" --arg hp99 "$(m "$H" 3)" \
			--arg kmin "$(m "$K" 4)" --arg kmax "$(m "$K" 5)" --arg hmin "$(m "$H" 4)" --arg hmax "$(m "$H" 5)" \
			--arg onhl "$(m "$H" 7)" --arg hp "$(m "$H" 8)" --arg fpc "$(m "$H" 6)" --arg kfpc "$(m "$K" 6)" \
			--arg afd "$(m "$H" 9)" --arg arss "$(m "$H" 10)" \
			'def num: tonumber? // null;
			 {bench: "conns", conns: $n, unit: "req/s", kernel: ($kr | num), hostlane: ($hr | num),
			  ratio: ($ratio | num), target_ratio: 10, on_hostlane: ($onhl | num),
			  p50_us: {kernel: ($kp50 | num), hostlane: ($hp50 | num)},
			  p99_us: {kernel: ($kp99 | num), hostlane: ($hp99 | num)},
			  per_conn_reqs: {kernel: [($kmin | num), ($kmax | num)], hostlane: [($hmin | num), ($hmax | num)]},
			  hugepages_mib: ($hp | num), fds_per_conn: {kernel: ($kfpc | num), hostlane: ($fpc | num)},
			  agent_fds: ($afd | num), agent_rss_kib: ($arss | num)}' >&3
	else
		printf '%-6s %10s %10s %7s %9s %13s %13s %13s %13s %6s %6s %13s\n' "$n" "$kr" "$hr" \
			"$([ "$ratio" = null ] && echo - || echo "${ratio}x")" "$(m "$H" 7)/$n" \
			"$(m "$K" 2)/$(m "$H" 2)" "$(m "$K" 3)/$(m "$H" 3)" "$(m "$K" 4)/$(m "$K" 5)" \
			"$(m "$H" 4)/$(m "$H" 5)" "$(m "$H" 8)" "$(m "$H" 6)" "$(m "$H" 9)/$(m "$H" 10)K" >&3
	fi
done
if [ $json = 0 ] && [ -n "$h16" ] && [ "$h16" != n/a ] && [ "$hr" != n/a ]; then
	printf 'bars: hostlane >= 10x the kernel at every N; all N on hostlane; N=%s / N=16 on hostlane: %s (>= 0.8)\n' \
		"$n" "$(awk -v a="$hr" -v b="$h16" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')" >&3
	echo "(rounds: $rounds interleaved, medians, ${secs}s each; hp MiB: 2 MiB hugepages in use mid-run; fd/c: the client's fds per connection)" >&3
fi
exit 0
