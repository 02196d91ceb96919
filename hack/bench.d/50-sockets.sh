#!/usr/bin/env bash
# Transparent sockets: hostlane (LD_PRELOAD=libhostlane.so over
# shm) vs the kernel path (veth + Linux bridge), same pods, same run:
#   sockperf ping-pong 64 B over TCP (p50, p99 latency, us)
#   sockperf throughput 64 B over TCP (msgs/s)
#   redis-benchmark GET with 1 and 50 connections (requests/s), and with 50
#   while a BGSAVE forks the server a third of the way in (by its count of
#   commands)
#   nginx + wrk, small file (requests/s)
#   nginx pre-fork (master + 2 workers) + wrk with Connection: close, a new
#   connection per request (requests/s; ROUNDS=N, default 3, interleaved
#   runs, medians)
#   connect/accept/close loop (test/sockets/connrate, connections/s)
#   idle CPU of a server with one idle connection (% of a core)
# Server pinned to the last core, client to core 0. Table with both columns,
# the gain (kernel/hostlane for latency and CPU, hostlane/kernel for rates)
# and the bar it is held to; --json: one object per line with bench, metric,
# kernel, hostlane, ratio, unit. When the preload layer cannot run, the
# hostlane column is n/a with the reason: numbers are never made up.
#   SECS=N seconds per timed run (default 3)
set -u
shopt -s extglob
top=${HOSTLANE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/bench.sh"
bench_env sockets "$@"
bench_need sockperf redis-server redis-benchmark nginx wrk jq build/test/connrate
connrate=$BUILD/test/connrate
# The pods' helpers speak TAP when something fails: fd 3 is the report.
bench_pods

# prefix MODE POD CPU: the command prefix (pinned, in the pod, maybe preloaded).
prefix() {
	P=()
	command -v taskset >/dev/null && P=(taskset -c "$3")
	P+=(ip netns exec "$(pod_ns "$2")")
	[ "$1" = hostlane ] && P+=(env "${HL_ENV[@]}")
	return 0
}
srv_start() { # MODE CMD... -> SPID
	local m=$1; shift
	prefix "$m" srv "$SRV_CPU"
	cni_bg "${P[@]}" "$@" >>"$tmp/servers.log" 2>&1
	SPID=$CNI_BG_PID
}
cli_run() { # MODE CMD...
	local m=$1; shift
	prefix "$m" cli "$CLI_CPU"
	timeout -k 5 $((secs * 10 + 60)) "${P[@]}" "$@"
}
srv_ready() { # MODE PORT: bounded readiness poll through the mode's own path
	local i
	prefix "$1" cli "$CLI_CPU"
	for ((i = 0; i < 200; i++)); do
		"${P[@]}" bash -c "exec 3<>/dev/tcp/$ip_s/$2" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# Each b_* MODE prints the figure(s) on one line or fails (-> n/a).
b_sockperf_pp() {
	local p=$((port += 1)) out p50 p99
	srv_start "$1" sockperf server --tcp -i "$ip_s" -p "$p"
	srv_ready "$1" "$p" || { pod_kill "$SPID"; return 1; }
	# sockperf sizes its table of sent messages for --mps times the
	# duration, and its default assumes at most ~600 k round trips/s:
	# faster, and replies outrun the table ("_seqN > m_maxSequenceNo").
	# 6 M/s is above what one ring pair does here; it does not pace a
	# slower path.
	out=$(cli_run "$1" sockperf ping-pong --tcp -i "$ip_s" -p "$p" -t "$secs" -m 64 \
		--mps=6000000 2>&1)
	pod_kill "$SPID"
	p50=$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' <<<"$out")
	p99=$(sed -n 's/.*percentile 99.000 = *\([0-9.]*\).*/\1/p' <<<"$out")
	[ -n "$p50" ] && [ -n "$p99" ] || { echo "$out" >>"$tmp/errors.log"; return 1; }
	echo "$p50 $p99"
}
b_sockperf_tp() {
	local p=$((port += 1)) out r
	srv_start "$1" sockperf server --tcp -i "$ip_s" -p "$p"
	srv_ready "$1" "$p" || { pod_kill "$SPID"; return 1; }
	out=$(cli_run "$1" sockperf throughput --tcp -i "$ip_s" -p "$p" -t "$secs" -m 64 2>&1)
	pod_kill "$SPID"
	r=$(sed -n 's/.*Message Rate is \([0-9]*\).*/\1/p' <<<"$out")
	[ -n "$r" ] || { echo "$out" >>"$tmp/errors.log"; return 1; }
	echo "$r"
}
b_redis() { # MODE CONNS [bgsave]
	local p=$((port += 1)) out r n=$((secs * 20000)) bg=
	[ "$2" -gt 1 ] && n=$((secs * 60000))
	srv_start "$1" redis-server --bind "$ip_s" --port "$p" --save '' --appendonly no \
		--protected-mode no --dir "$tmp" --dbfilename "bench-$p.rdb"
	srv_ready "$1" "$p" || { pod_kill "$SPID"; return 1; }
	cli_run "$1" redis-cli -h "$ip_s" -p "$p" set key:__rand_int__ x >/dev/null 2>&1
	# bgsave: a snapshot (fork, the child closes its copies of the listener
	# and connections) a third of the way into the run, by the server's own
	# count of commands (a fast run ends before any fixed time would come).
	if [ "${3:-}" = bgsave ]; then
		(local c end=$((SECONDS + secs * 3))
		 while [ "$SECONDS" -lt "$end" ]; do
			c=$(cli_run "$1" redis-cli -h "$ip_s" -p "$p" info stats 2>/dev/null |
				awk -F: '/^total_commands_processed/ { print $2 + 0 }')
			[ "${c:-0}" -ge $((n / 3)) ] && break
			sleep 0.01
		 done
		 cli_run "$1" redis-cli -h "$ip_s" -p "$p" bgsave >"$tmp/bgsave-$p.out" 2>&1) &
		bg=$!
	fi
	out=$(cli_run "$1" redis-benchmark -h "$ip_s" -p "$p" -t get -n "$n" -c "$2" -q --csv 2>&1)
	[ -n "$bg" ] && wait "$bg"
	pod_kill "$SPID"
	# A row that says +BGSAVE had its snapshot started during the run.
	if [ -n "$bg" ] && ! grep -q 'Background saving started' "$tmp/bgsave-$p.out"; then
		{ echo "no BGSAVE during the run:"; cat "$tmp/bgsave-$p.out"; } >>"$tmp/errors.log"
		return 1
	fi
	r=$(awk -F'"' '$2 == "GET" { print $4 }' <<<"$out")
	[ -n "$r" ] || { echo "$out" >>"$tmp/errors.log"; return 1; }
	printf '%.0f\n' "$r"
}
# b_nginx MODE [WORKERS [close]]: close: every request on a new connection
# (wrk -H 'Connection: close'), the pre-fork row.
b_nginx() {
	local p=$((port += 1)) d=$tmp/nginx-$1-$((port)) out r h=()
	[ "${3:-}" = close ] && h=(-H 'Connection: close')
	mkdir -p "$d/www"
	printf 'hostlane bench %0100d\n' 0 >"$d/www/small.html"
	cat >"$d/nginx.conf" <<EOF
daemon off;
user root;
master_process on;
worker_processes ${2:-1};
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fastcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	keepalive_requests 1000000;
	# The file stays open between requests (as a static-file server is
	# set up): what is measured is the request path, not open(2).
	open_file_cache max=64;
	server { listen $ip_s:$p; root $d/www; }
}
EOF
	srv_start "$1" nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log"
	srv_ready "$1" "$p" || { kill -TERM "$SPID"; wait "$SPID"; return 1; }
	out=$(cli_run "$1" wrk -t 1 -c 16 "${h[@]}" -d "${secs}s" "http://$ip_s:$p/small.html" 2>&1)
	kill -TERM "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	grep -qE 'Non-2xx|Socket errors' <<<"$out" && { echo "$out" >>"$tmp/errors.log"; return 1; }
	r=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
	[ -n "$r" ] || { echo "$out" >>"$tmp/errors.log"; return 1; }
	echo "$r"
}
b_connrate() {
	local p=$((port += 1)) out r
	srv_start "$1" "$connrate" server "$ip_s" "$p"
	srv_ready "$1" "$p" || { pod_kill "$SPID"; return 1; }
	out=$(cli_run "$1" "$connrate" client "$ip_s" "$p" "$secs" 2>&1)
	pod_kill "$SPID"
	r=$(sed -n 's/.* rate \([0-9]*\)$/\1/p' <<<"$out")
	[ -n "$r" ] || { echo "$out" >>"$tmp/errors.log"; return 1; }
	echo "$r"
}
# Idle CPU: a redis-server with one client blocked in BLPOP (both idle), CPU
# time of both over SECS, in % of one core.
# ns on a CPU (schedstat: exact, where utime/stime count whole 10 ms ticks
# charged to whoever runs when the tick fires).
cpu_ns() { awk '{ print $1 }' "/proc/$1/schedstat" 2>/dev/null || echo 0; }
b_idle() {
	local p=$((port += 1)) cpid t0 t1
	srv_start "$1" redis-server --bind "$ip_s" --port "$p" --save '' --appendonly no \
		--protected-mode no --dir "$tmp" --dbfilename "idle-$p.rdb" --hz 1
	srv_ready "$1" "$p" || { pod_kill "$SPID"; return 1; }
	prefix "$1" cli "$CLI_CPU"
	cni_bg "${P[@]}" redis-cli -h "$ip_s" -p "$p" blpop idle-list 0 >/dev/null 2>&1
	cpid=$CNI_BG_PID
	sleep 1 # let both settle into their blocking wait
	t0=$(($(cpu_ns "$SPID") + $(cpu_ns "$cpid")))
	sleep "$secs"
	t1=$(($(cpu_ns "$SPID") + $(cpu_ns "$cpid")))
	pod_kill "$cpid"
	pod_kill "$SPID"
	awk -v d=$((t1 - t0)) -v s="$secs" 'BEGIN { printf "%.3f\n", 100 * d / 1e9 / s }'
}

# row BENCH METRIC UNIT BETTER(low|high) BAR KERNEL HOSTLANE
row() {
	local b=$1 m=$2 u=$3 better=$4 bar=$5 k=$6 h=$7 ratio=null meets=
	if [ "$h" != n/a ] && [ "$k" != n/a ]; then
		ratio=$(awk -v k="$k" -v h="$h" -v b="$better" 'BEGIN {
			if (b == "low") { if (h > 0 && k > 0) printf "%.2f", k / h; else print "null" }
			else { if (k > 0) printf "%.2f", h / k; else print "null" } }')
	fi
	if [ "$bar" != - ] && [ "$ratio" != null ]; then
		meets=$(awk -v r="$ratio" -v t="$bar" 'BEGIN { print (r >= t) ? "yes" : "NO" }')
	fi
	if [ $json = 1 ]; then
		jq -nc --arg b "$b" --arg m "$m" --arg u "$u" --arg k "$k" --arg h "$h" \
			--arg r "$ratio" --arg bar "$bar" \
			--arg why "$([ $hl_ok = 1 ] && echo "hostlane run failed (reason on stderr)" || echo "$hl_why")" \
			'{bench: $b, metric: $m, kernel: ($k | tonumber? // null),
			  hostlane: ($h | tonumber? // null), ratio: ($r | tonumber? // null), unit: $u}
			 + (if $bar != "-" then {target_ratio: ($bar | tonumber)} else {} end)
			 + (if $h == "n/a" then {note: $why} else {} end)' >&3
	else
		printf '%-24s %-7s %12s %12s %8s %-6s %s\n' "$b" "$m" "$k" "$h" \
			"$([ "$ratio" = null ] && echo - || echo "${ratio}x")" "$u" \
			"$([ "$bar" = - ] && echo "" || echo ">= ${bar}x ${meets:-?}")" >&3
	fi
}

# measure NAME FN ARGS...: FIG_K and FIG_H (space-separated figures or n/a).
# SOCKBENCH=glob (on the function name, e.g. 'b_connrate|b_redis') runs only
# those; the others print n/a.
measure() {
	local fn=$1; shift
	FIG_K= FIG_H=
	# shellcheck disable=SC2053
	[[ $fn == @(${SOCKBENCH:-*}) ]] || return 0
	FIG_K=$($fn kernel "$@") || FIG_K=
	FIG_H=
	if [ $hl_ok = 1 ]; then
		FIG_H=$($fn hostlane "$@") || FIG_H=
	fi
}
# measure_rounds FN ARGS: $rounds (ROUNDS, default 3) runs of each mode, kernel and
# hostlane interleaved; FIG_K / FIG_H are the medians.
median() { tr ' ' '\n' | grep -E '^[0-9]+$' | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}'; }
measure_rounds() {
	local fn=$1 k= h= r; shift
	FIG_K= FIG_H=
	# shellcheck disable=SC2053
	[[ $fn == @(${SOCKBENCH:-*}) ]] || return 0
	for ((r = 0; r < rounds; r++)); do
		k="$k $($fn kernel "$@")"
		[ $hl_ok = 1 ] && h="$h $($fn hostlane "$@")"
	done
	FIG_K=$(median <<<"$k") FIG_H=$(median <<<"$h")
}
fig() { # FIGS N
	local a
	read -ra a <<<"$1"
	echo "${a[$2]:-n/a}"
}
note_fail() { [ $hl_ok = 1 ] && [ -z "$FIG_H" ] && [ -n "$FIG_K" ] && echo "sockets: $1: hostlane run failed: $(tail -n 3 "$tmp/errors.log" 2>/dev/null | tr '\n' ' ')" >&2; return 0; }

[ $json = 1 ] || printf '%-24s %-7s %12s %12s %8s %-6s %s\n' bench metric kernel hostlane gain unit "bar" >&3
[ $json = 1 ] || [ $hl_ok = 1 ] || echo "hostlane: n/a - $hl_why" >&3

measure b_sockperf_pp; note_fail "sockperf ping-pong"
row "sockperf ping-pong 64B" p50 us low 10 "$(fig "$FIG_K" 0)" "$(fig "$FIG_H" 0)"
row "sockperf ping-pong 64B" p99 us low - "$(fig "$FIG_K" 1)" "$(fig "$FIG_H" 1)"
measure b_sockperf_tp; note_fail "sockperf throughput"
row "sockperf throughput 64B" rate msg/s high 10 "$(fig "$FIG_K" 0)" "$(fig "$FIG_H" 0)"
measure b_redis 1; note_fail "redis GET -c 1"
row "redis GET -c 1" rate req/s high 3 "$(fig "$FIG_K" 0)" "$(fig "$FIG_H" 0)"
measure b_redis 50; note_fail "redis GET -c 50"
row "redis GET -c 50" rate req/s high 2 "$(fig "$FIG_K" 0)" "$(fig "$FIG_H" 0)"
measure b_redis 50 bgsave; note_fail "redis GET -c 50 +BGSAVE"
row "redis GET -c 50 +BGSAVE" rate req/s high - "$(fig "$FIG_K" 0)" "$(fig "$FIG_H" 0)"
measure b_nginx; note_fail "nginx+wrk"
row "nginx+wrk small file" rate req/s high 2 "$(fig "$FIG_K" 0)" "$(fig "$FIG_H" 0)"
# A pre-fork server (nginx master + 2 workers sharing the listener), a new
# connection per request.
measure_rounds b_nginx 2 close; note_fail "nginx pre-fork"
row "nginx pre-fork, close" rate req/s high 5 "$(fig "$FIG_K" 0)" "$(fig "$FIG_H" 0)"
measure b_connrate; note_fail "connrate"
row "connect/accept/close" rate conn/s high 5 "$(fig "$FIG_K" 0)" "$(fig "$FIG_H" 0)"
measure b_idle; note_fail "idle cpu"
row "idle server+client" cpu "%core" low - "$(fig "$FIG_K" 0)" "$(fig "$FIG_H" 0)"
exit 0
