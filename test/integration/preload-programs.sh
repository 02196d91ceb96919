#!/usr/bin/env bash
# Unmodified Debian programs between two shm pods (real plugin + the run's
# agent), each over the kernel path and again with server and client under
# LD_PRELOAD=libhostlane.so:
#   redis-server + redis-cli (values written, read back and compared) and
#   redis-benchmark (every request answered);
#   nginx (private prefix, master + worker, listens on the pod IP) + curl (a
#   2 MiB file fetched, sha256 compared) and wrk (requests done, no errors);
#   sockperf ping-pong and throughput over TCP (messages received);
#   iperf3 -t 2 (bytes received);
#   redis with snapshots on and a BGSAVE in the middle of a redis-benchmark
#   run; a fork-per-connection server (Python's ForkingTCPServer) and 1,000
#   connections; a server that starts children (vfork+exec, posix_spawn,
#   system, popen) between connections (test/sockets/progs.py).
# Correctness only; the speed comparison is make bench. The hostlane half
# runs when HOSTLANE_PRELOAD_TESTS=1 or libhostlane.so exports socket().
# Every hostlane run proves it went over hostlane: the clients' own counters
# (HOSTLANE_STATS, written at exit) show connections made over hostlane, no
# connect that fell back to the kernel and the layer on; the agent's view of
# the server's processes (hostlanectl conns, read while they run) shows
# connections accepted over hostlane.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pods.sh"
need_root
for p in redis-server redis-cli redis-benchmark nginx curl wrk sockperf iperf3 python3 jq; do
	command -v "$p" >/dev/null || tap_skip_all "$p is not installed (hack/deps.sh installs it)"
done

pods_setup
pod_create srv || { tap_fail "pod srv" "see stderr"; tap_done; exit 1; }
pod_create cli || { tap_fail "pod cli" "see stderr"; tap_done; exit 1; }
ip_s=$(pod_ip srv)
port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000))
hl_mode=1
preload_ready || hl_mode=0

# Per mode: SRV/CLI run a command in the server/client pod, SRVBG starts one
# in the background (SRV_PID). In hostlane mode cli() appends the client's
# counters to $CLI_ST (the readiness probe's are not counted: it may try
# before the server listens).
set_mode() {
	MODE=$1
	if [ "$MODE" = hostlane ]; then
		CLI=(ip netns exec "$(pod_ns cli)" env "${HL_ENV[@]}")
		SRVBG=pod_bg_hl
	else
		CLI=(ip netns exec "$(pod_ns cli)")
		SRVBG=pod_bg
	fi
}
CLI_ST=
cli() {
	if [ "$MODE" = hostlane ]; then
		timeout -k 5 120 "${CLI[@]}" HOSTLANE_STATS="$CLI_ST" "$@"
	else
		timeout -k 5 120 "${CLI[@]}" "$@"
	fi
}

# hl_begin NAME: the client counters of program test NAME start empty.
hl_begin() { CLI_ST=$CNI_TMP/$1-cli.st; rm -f "$CLI_ST"; }

# hl_path NAME: in hostlane mode, program test NAME went over hostlane: its
# clients (every exited process in $CLI_ST) made connections over hostlane,
# none fell back to the kernel, the layer was on in each; the server's
# processes (SRV_PID and its children, still running) accepted connections
# over hostlane, as the agent reads their counters.
hl_path() {
	local name=$1 sum pids json scon sfb why=
	[ "$MODE" = hostlane ] || return 0
	sum=$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] += kv[2] } n++ }
		END { printf "%d %d %d %d\n", n, v["conns"], v["fallbacks"], v["off"] }' "$CLI_ST" 2>/dev/null)
	read -r n ccon cfb coff <<<"${sum:-0 0 0 0}"
	pids=$(printf '%s\n' "$SRV_PID" $(pgrep -P "$SRV_PID" 2>/dev/null) | jq -s -c .)
	json=$(ctl --json conns 2>&1)
	read -r scon sfb < <(jq -r --argjson pids "$pids" \
		'[.[].processes[] | select(.pid as $p | $pids | index($p))] |
		 "\(map(.conns) | add // 0) \(map(.fallbacks) | add // 0)"' <<<"$json" 2>/dev/null)
	if [ "${n:-0}" = 0 ]; then why="no client wrote counters"
	elif [ "$coff" != 0 ]; then why="the layer was off in $coff client(s)"
	elif [ "$ccon" -lt 1 ]; then why="the clients made no connection over hostlane"
	elif [ "$cfb" != 0 ]; then why="the clients sent $cfb connects to the kernel"
	elif [ "${scon:-0}" -lt 1 ]; then why="the server's processes accepted none over hostlane (agent: ${scon:-not listed})"
	elif [ "${sfb:-0}" != 0 ]; then why="the server's processes sent $sfb connects to the kernel"
	fi
	if [ -z "$why" ]; then
		tap_ok "$name ($MODE): over hostlane (clients: $n processes, conns=$ccon, fallbacks=0; server conns=$scon)"
	else
		tap_fail "$name ($MODE): over hostlane" "$why
clients: $(cat "$CLI_ST" 2>/dev/null)
server pids $pids: $(head -c 1500 <<<"$json")"
	fi
}
srv_bg() { $SRVBG srv "$@" >>"$CNI_TMP/servers-$MODE.log" 2>&1; SRV_PID=$POD_BG_PID; }
# srv_wait_port PORT: the server accepts a connection from the client pod,
# made in the mode under test (bounded readiness poll, not a timing check).
srv_wait_port() {
	local i
	for ((i = 0; i < 200; i++)); do
		"${CLI[@]}" bash -c "exec 3<>/dev/tcp/$ip_s/$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

t_redis() {
	local p=$((port += 1)) key val got n
	hl_begin redis
	srv_bg redis-server --bind "$ip_s" --port "$p" --save '' --appendonly no \
		--protected-mode no --dir "$CNI_TMP" --dbfilename "redis-$MODE.rdb" \
		--logfile "$CNI_TMP/redis-$MODE.log"
	if ! srv_wait_port "$p"; then
		tap_fail "redis ($MODE): server listens" "$(tail -n 5 "$CNI_TMP/redis-$MODE.log")"
		pod_kill "$SRV_PID"; return
	fi
	tap_eq "redis ($MODE): PING" PONG "$(cli redis-cli -h "$ip_s" -p "$p" ping 2>&1)"
	key=k-$(cni_rand_hex 4) val=$(cni_rand_hex 2000)
	tap_eq "redis ($MODE): SET a 4000-byte value" OK "$(cli redis-cli -h "$ip_s" -p "$p" set "$key" "$val" 2>&1)"
	got=$(cli redis-cli -h "$ip_s" -p "$p" get "$key" 2>&1)
	if [ "$got" = "$val" ]; then tap_ok "redis ($MODE): GET reads the value back"
	else tap_fail "redis ($MODE): GET reads the value back" "got ${#got} bytes: ${got:0:80}"; fi
	tap_eq "redis ($MODE): pipelined INCR x100" 100 \
		"$(for _ in $(seq 100); do echo "INCR c-$key"; done | cli redis-cli -h "$ip_s" -p "$p" 2>&1 | tail -n 1)"
	out=$(cli redis-benchmark -h "$ip_s" -p "$p" -n 2000 -c 10 -t set,get -q --csv 2>&1)
	n=$(grep -cE '^"(SET|GET)","[0-9.]+"' <<<"$out")
	if [ "$n" = 2 ] && ! awk -F'"' '/^"(SET|GET)"/ && $4 + 0 <= 0 { bad = 1 } END { exit !bad }' <<<"$out"; then
		tap_ok "redis ($MODE): redis-benchmark SET and GET complete"
	else tap_fail "redis ($MODE): redis-benchmark SET and GET complete" "$out"; fi
	tap_eq "redis ($MODE): the benchmark's writes are there" 1 \
		"$(cli redis-cli -h "$ip_s" -p "$p" exists key:__rand_int__ 2>&1)"
	hl_path redis
	pod_kill "$SRV_PID"
}

nginx_conf() { # DIR PORT
	cat <<EOF
daemon off;
user root;
master_process on;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $1/body;
	proxy_temp_path $1/proxy;
	fastcgi_temp_path $1/fastcgi;
	uwsgi_temp_path $1/uwsgi;
	scgi_temp_path $1/scgi;
	server {
		listen $ip_s:$2;
		root $1/www;
	}
}
EOF
}

pod_tx_bytes() { pod_exec "$1" cat /sys/class/net/eth0/statistics/tx_bytes; }

# nginx_curl PORT SHA256: the 2 MiB fetch and the index, and which path
# carried them.
nginx_curl() {
	local tx0 tx1 got
	tx0=$(pod_tx_bytes srv)
	got=$(cli curl -sS --max-time 60 "http://$ip_s:$1/big.bin" | sha256sum | cut -d' ' -f1)
	tx1=$(pod_tx_bytes srv)
	tap_eq "nginx ($MODE): curl fetches 2 MiB, sha256 matches" "$2" "$got"
	# Which path carried it: the server pod's eth0 counts what the kernel sent.
	if [ "$MODE" = hostlane ]; then
		ok "nginx ($MODE): the 2 MiB did not cross the pod's eth0 (sent $((tx1 - tx0)) B)" \
			test $((tx1 - tx0)) -lt 1048576
	else
		ok "nginx ($MODE): the 2 MiB crossed the pod's eth0 (sent $((tx1 - tx0)) B)" \
			test $((tx1 - tx0)) -ge 2097152
	fi
	tap_eq "nginx ($MODE): curl fetches the index" "hostlane $MODE" \
		"$(cli curl -sS --max-time 30 "http://$ip_s:$1/index.html" 2>&1)"
}

t_nginx() {
	local p=$((port += 1)) d=$CNI_TMP/nginx-$1 sum got out tx0 tx1
	hl_begin nginx
	mkdir -p "$d/www"
	head -c 2097152 /dev/urandom >"$d/www/big.bin"
	echo "hostlane $MODE" >"$d/www/index.html"
	sum=$(sha256sum <"$d/www/big.bin" | cut -d' ' -f1)
	nginx_conf "$d" "$p" >"$d/nginx.conf"
	srv_bg nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log"
	if ! srv_wait_port "$p"; then
		tap_fail "nginx ($MODE): server listens" "$(tail -n 5 "$d/error.log")"
		pod_kill "$SRV_PID"; return
	fi
	if [ "$MODE" = hostlane ] && [ "$HL_SAN" = 1 ]; then
		# curl alone hangs with the ASan runtime preloaded (no libhostlane
		# needed to see it), so a sanitizer build cannot run this check.
		tap_skip "nginx ($MODE): curl fetches 2 MiB, sha256 matches" "curl hangs under a preloaded ASan runtime"
		tap_skip "nginx ($MODE): the 2 MiB did not cross the pod's eth0" "curl hangs under a preloaded ASan runtime"
		tap_skip "nginx ($MODE): curl fetches the index" "curl hangs under a preloaded ASan runtime"
	else
		nginx_curl "$p" "$sum"
	fi
	out=$(cli wrk -t 1 -c 4 -d 1s "http://$ip_s:$p/index.html" 2>&1)
	if grep -qE '^ +[0-9]+ requests in' <<<"$out" && ! grep -qE 'Non-2xx|Socket errors' <<<"$out" &&
		[ "$(awk '/ requests in/ { print $1 }' <<<"$out")" -gt 0 ]; then
		tap_ok "nginx ($MODE): wrk requests all answered 2xx"
	else tap_fail "nginx ($MODE): wrk requests all answered 2xx" "$out"; fi
	hl_path nginx
	# SIGTERM to the master (our pid) stops its worker too (a worker's
	# command line is "nginx: worker process": found by its parent).
	local w q left=
	w=$(pgrep -P "$SRV_PID")
	kill -TERM "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	for q in $w; do kill -0 "$q" 2>/dev/null && left+=" $q"; done
	tap_eq "nginx ($MODE): master and worker gone (worker: ${w:-none})" "" "$left"
	for q in $left; do kill -9 "$q"; done
}

t_sockperf() {
	local p=$((port += 1)) out n
	hl_begin sockperf
	srv_bg sockperf server --tcp -i "$ip_s" -p "$p"
	srv_wait_port "$p" || { tap_fail "sockperf ($MODE): server listens"; pod_kill "$SRV_PID"; return; }
	# --mps: sockperf sizes its table of sent messages for that rate (its
	# default assumes ~600 k round trips/s; hostlane does more, and the
	# replies then outrun the table: "_seqN > m_maxSequenceNo").
	out=$(cli sockperf ping-pong --tcp -i "$ip_s" -p "$p" -t 1 -m 64 --mps=6000000 2>&1)
	n=$(sed -n 's/.*ReceivedMessages=\([0-9]*\).*/\1/p' <<<"$out" | tail -n 1)
	if [ "${n:-0}" -gt 0 ] && grep -q '# dropped messages = 0; # duplicated messages = 0; # out-of-order messages = 0' <<<"$out"; then
		tap_ok "sockperf ($MODE): TCP ping-pong, every reply in order"
	elif [ "$MODE" = hostlane ]; then
		preload_fail sockperf-pingpong "sockperf ($MODE): TCP ping-pong, every reply in order" "$(tail -n 15 <<<"$out")"
	else tap_fail "sockperf ($MODE): TCP ping-pong, every reply in order" "$(tail -n 15 <<<"$out")"; fi
	out=$(cli sockperf throughput --tcp -i "$ip_s" -p "$p" -t 1 -m 64 2>&1)
	n=$(sed -n 's/.*Message Rate is \([0-9]*\).*/\1/p' <<<"$out")
	if [ "${n:-0}" -gt 0 ]; then tap_ok "sockperf ($MODE): TCP throughput 64 B"
	else tap_fail "sockperf ($MODE): TCP throughput 64 B" "$(tail -n 10 <<<"$out")"; fi
	hl_path sockperf
	pod_kill "$SRV_PID"
}

t_iperf3() {
	local p=$((port += 1)) out bytes log
	hl_begin iperf3
	# Not -1: the readiness probe is a connection of its own. The server
	# takes it as a test that failed; a client that comes while it ends
	# that test is reset, so the client waits for the server's next
	# "Server listening (test #2)".
	log=$CNI_TMP/iperf3-$MODE.log
	srv_bg iperf3 -s -B "$ip_s" -p "$p" --logfile "$log" --forceflush
	srv_wait_port "$p" || { tap_fail "iperf3 ($MODE): server listens"; pod_kill "$SRV_PID"; return; }
	wait_line "$log" 'Server listening on [0-9]+ \(test #2\)' "$SRV_PID" ||
		{ tap_fail "iperf3 ($MODE): server ready after the probe" "$(tail -n 5 "$log")"; pod_kill "$SRV_PID"; return; }
	out=$(cli iperf3 -c "$ip_s" -p "$p" -t 2 -J 2>&1)
	bytes=$(jq -r '.end.sum_received.bytes // 0' <<<"$out" 2>/dev/null)
	if [ "${bytes:-0}" -gt 0 ] 2>/dev/null; then tap_ok "iperf3 ($MODE): -t 2 transfers data ($bytes bytes)"
	else tap_fail "iperf3 ($MODE): -t 2 transfers data" "$(tail -c 600 <<<"$out")"; fi
	hl_path iperf3
	pod_kill "$SRV_PID"
}

# ---- programs that fork and spawn (test/sockets/progs.py) ----------------

progs=$HOSTLANE_TOP/test/sockets/progs.py
# cli_t SECS CMD...: cli with a shorter bound (a server that stopped
# answering must fail the check, not stall the test).
cli_t() {
	local t=$1; shift
	if [ "$MODE" = hostlane ]; then
		timeout -k 2 "$t" "${CLI[@]}" HOSTLANE_STATS="$CLI_ST" "$@"
	else
		timeout -k 2 "$t" "${CLI[@]}" "$@"
	fi
}
# wait_line FILE REGEX PID: bounded wait until FILE has a line REGEX (while
# PID runs).
wait_line() {
	local i
	for ((i = 0; i < 400; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { grep -qE "$2" "$1" 2>/dev/null; return; }
		sleep 0.05
	done
	return 1
}
# Hugepage bytes the agent's regions hold (node pool, "used").
used_bytes() { ctl metrics | awk '$1 == "hostlane_agent_hugepages_bytes{state=\"used\"}" { print $2 }'; }
# field FILE KEY: KEY=value summed over the HOSTLANE_STATS lines of FILE.
st_field() { awk -v k="$2" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) v += kv[2] } } END { print v + 0 }' "$1" 2>/dev/null; }
# The agent's view of one running process: its counter KEY.
agent_field() { ctl --json conns | jq -r --argjson p "$1" --arg k "$2" '[.[].processes[] | select(.pid == $p) | .[$k]] | add // 0'; }

# redis with snapshots on: a BGSAVE in the middle of a redis-benchmark run.
# The snapshot child shares the listener and closes its copy: every request
# of the run is answered, the save completes, and the server still takes
# new connections after it (over hostlane in hostlane mode). The speed
# comparison with a run without BGSAVE is a row of make bench (50-sockets).
t_redis_bgsave() {
	local p=$((port += 1)) nreq=60000 c0 c1 c2 bpid brc running st out i ok1
	rcli() { cli_t 10 redis-cli -h "$ip_s" -p "$p" "$@" 2>&1; }
	done_cmds() { rcli info stats | tr -d '\r' | sed -n 's/^total_commands_processed:\([0-9]*\)$/\1/p'; }
	hl_begin redis-bgsave
	srv_bg redis-server --bind "$ip_s" --port "$p" --save "3600 1" --appendonly no \
		--protected-mode no --dir "$CNI_TMP" --dbfilename "redis-bgsave-$MODE.rdb" \
		--logfile "$CNI_TMP/redis-bgsave-$MODE.log"
	if ! srv_wait_port "$p"; then
		tap_fail "redis BGSAVE ($MODE): server listens" "$(tail -n 5 "$CNI_TMP/redis-bgsave-$MODE.log")"
		pod_kill "$SRV_PID"; return
	fi
	c0=$(done_cmds)
	cli redis-benchmark -h "$ip_s" -p "$p" -n $nreq -c 50 -t set,get -q --csv \
		>"$CNI_TMP/bgsave-bench-$MODE.out" 2>&1 &
	bpid=$!
	# Once a third of its requests are done, while it runs.
	for ((i = 0; i < 600; i++)); do
		c1=$(done_cmds)
		[ $((${c1:-0} - ${c0:-0})) -ge $((2 * nreq / 3)) ] && break
		kill -0 "$bpid" 2>/dev/null || break
		sleep 0.02
	done
	running=0
	kill -0 "$bpid" 2>/dev/null && running=1
	st=$(rcli bgsave)
	tap_eq "redis BGSAVE ($MODE): BGSAVE while redis-benchmark runs" "1 Background saving started" "$running $st"
	wait "$bpid"
	brc=$?
	out=$(cat "$CNI_TMP/bgsave-bench-$MODE.out")
	if [ "$brc" = 0 ] && [ "$(grep -cE '^"(SET|GET)","[0-9.]+"' <<<"$out")" = 2 ]; then
		tap_ok "redis BGSAVE ($MODE): redis-benchmark completes"
	else tap_fail "redis BGSAVE ($MODE): redis-benchmark completes" "exit $brc: $out"; fi
	c2=$(done_cmds)
	ok "redis BGSAVE ($MODE): the server answered all $((2 * nreq)) requests ($((${c2:-0} - ${c0:-0})) commands)" \
		test $((${c2:-0} - ${c0:-0})) -ge $((2 * nreq))
	ok1=0
	for ((i = 0; i < 200; i++)); do
		out=$(rcli info persistence | tr -d '\r')
		grep -q '^rdb_bgsave_in_progress:0$' <<<"$out" && { ok1=1; break; }
		sleep 0.05
	done
	tap_eq "redis BGSAVE ($MODE): the snapshot child saved and exited" "1 rdb_last_bgsave_status:ok" \
		"$ok1 $(grep '^rdb_last_bgsave_status:' <<<"$out")"
	tap_eq "redis BGSAVE ($MODE): a new connection after the BGSAVE: PING" PONG "$(rcli ping)"
	tap_eq "redis BGSAVE ($MODE): and a write read back" "OK v-$p" \
		"$(rcli set "k-$p" "v-$p") $(rcli get "k-$p")"
	hl_path "redis BGSAVE"
	pod_kill "$SRV_PID"
}

# A fork-per-connection server (Python's socketserver.ForkingTCPServer: the
# parent closes its copy right after fork) and 1,000 connections: every one
# answered, none reset or cut short.
t_forking() {
	local p=$((port += 1)) nconn=1000 go=$CNI_TMP/forking-go-$MODE out
	hl_begin forking
	rm -f "$go"
	$SRVBG srv python3 "$progs" fork-server "$ip_s" "$p" $nconn "$go" >"$CNI_TMP/forking-$MODE.out" 2>&1
	SRV_PID=$POD_BG_PID
	if ! wait_line "$CNI_TMP/forking-$MODE.out" '^ready' "$SRV_PID"; then
		tap_fail "forking server ($MODE): listens" "$(cat "$CNI_TMP/forking-$MODE.out")"
		pod_kill "$SRV_PID"; return
	fi
	out=$(cli python3 "$progs" client "$ip_s" "$p" $nconn 2>&1)
	tap_eq "forking server ($MODE): $nconn connections answered, none reset or cut short" \
		"answered $nconn resets 0 eofs 0 other 0" "$out"
	wait_line "$CNI_TMP/forking-$MODE.out" '^served' "$SRV_PID"
	tap_eq "forking server ($MODE): a child served each" "served $nconn" \
		"$(grep '^served' "$CNI_TMP/forking-$MODE.out")"
	hl_path "forking server"
	touch "$go"
	pod_kill "$SRV_PID"
}

# A server that starts children between connections: subprocess.run
# (vfork+exec), os.system (posix_spawn), os.popen, os.posix_spawn. Every
# connection is answered; in hostlane mode the counters show that direct
# connections kept working all along (all but the first, on both sides),
# that the two processes hold at most one region while the server runs,
# and the agent's regions are back where they were after both exited (no
# more than before: regions of the tests before may still go meanwhile).
t_spawn() {
	local p=$((port += 1)) nconn=40 go=$CNI_TMP/spawn-go-$MODE out u0 u1 u2 i d
	hl_begin spawn
	rm -f "$go"
	[ "$MODE" = hostlane ] && u0=$(used_bytes)
	$SRVBG srv python3 "$progs" spawn-server "$ip_s" "$p" $nconn "$go" >"$CNI_TMP/spawn-$MODE.out" 2>&1
	SRV_PID=$POD_BG_PID
	if ! wait_line "$CNI_TMP/spawn-$MODE.out" '^ready' "$SRV_PID"; then
		tap_fail "spawning server ($MODE): listens" "$(cat "$CNI_TMP/spawn-$MODE.out")"
		pod_kill "$SRV_PID"; return
	fi
	out=$(cli python3 "$progs" client "$ip_s" "$p" $nconn 2>&1)
	tap_eq "spawning server ($MODE): $nconn connections answered" "answered $nconn resets 0 eofs 0 other 0" "$out"
	wait_line "$CNI_TMP/spawn-$MODE.out" '^served' "$SRV_PID"
	tap_eq "spawning server ($MODE): every child ran" "served $nconn spawned $nconn" \
		"$(grep '^served' "$CNI_TMP/spawn-$MODE.out")"
	if [ "$MODE" = hostlane ]; then
		hl_path "spawning server"
		d=$(agent_field "$SRV_PID" direct)
		tap_eq "spawning server ($MODE): direct connections after the children (server: all but the first)" \
			$((nconn - 1)) "$d"
		tap_eq "spawning server ($MODE): direct connections (client: all but the first)" \
			$((nconn - 1)) "$(st_field "$CLI_ST" direct)"
		u1=$(used_bytes)
		ok "spawning server ($MODE): one pair region at most while it runs (used $((u1 - u0)) B more)" \
			test $((u1 - u0)) -le 2097152
	fi
	touch "$go"
	for ((i = 0; i < 100; i++)); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.05; done
	pod_kill "$SRV_PID"
	if [ "$MODE" = hostlane ]; then
		for ((i = 0; i < 100; i++)); do
			u2=$(used_bytes)
			[ "$u2" -le "$u0" ] && break
			sleep 0.05
		done
		ok "spawning server ($MODE): the regions' hugepages are back where they were ($u2 <= $u0)" \
			test "$u2" -le "$u0"
	fi
}

for mode in kernel hostlane; do
	if [ $mode = hostlane ] && [ $hl_mode = 0 ]; then
		for t in redis nginx sockperf iperf3 "redis BGSAVE" "forking server" "spawning server"; do
			tap_skip "$t (hostlane)" "$PRELOAD_WHY"
		done
		continue
	fi
	set_mode $mode
	t_redis
	t_nginx $mode
	t_sockperf
	t_iperf3
	t_redis_bgsave
	t_forking
	t_spawn
done
tap_done
