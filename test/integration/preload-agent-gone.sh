#!/usr/bin/env bash
# A preloaded server outlives its node agent: with the agent killed (its
# endpoints and control channels gone), a server blocked in accept() must
# sleep, not spin on the dead channel, and keep serving kernel clients on
# the same port; a preloaded client then falls back to the kernel. After
# the agent is back, new processes get the fast path again.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
preload_require python3
pods_setup
pod_create a || { tap_fail "pod a"; tap_done; exit 1; }
pod_create b || { tap_fail "pod b"; tap_done; exit 1; }
ip_b=$(pod_ip b) port=7301
stats=$CNI_TMP/stats
# Server: accepts and echoes one line per connection, forever.
srv='
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2]))); l.listen(8)
while True:
    c, _ = l.accept()
    f = c.makefile("rwb")
    f.write(f.readline()); f.flush(); c.close()
'
cli='
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
c.sendall(b"ping\n"); print(c.makefile("rb").readline().decode().strip())
'
preload_env
pod_bg b env "${HL_ENV[@]}" python3 -c "$srv" "$ip_b" $port
spid=$POD_BG_PID
# the python process itself (pod_bg's pid is ip-netns-exec's until it execs)
sleep 0.5
out=$(pod_exec a env "${HL_ENV[@]}" HOSTLANE_STATS="$stats.1" python3 -c "$cli" "$ip_b" $port 2>&1)
tap_eq "with the agent: echoed" ping "$out"
tap_eq "with the agent: over hostlane" "conns=1" "$(grep -o 'conns=[0-9]*' "$stats.1" | sort | tail -1)"

agent_kill
# The server is back in accept(); its control channel is at end-of-file.
out=$(pod_exec a python3 -c "$cli" "$ip_b" $port 2>&1)
tap_eq "agent gone: a kernel client is served" ping "$out"
sleep 0.5
running=0
for _ in $(seq 20); do
	st=$(awk '{print $3}' "/proc/$spid/stat" 2>/dev/null)
	[ "$st" = R ] && running=$((running + 1))
	sleep 0.05
done
# (It wakes every 200 ms to look for a new agent: on a busy machine a
# sample can find it runnable; spinning would be 20 of 20.)
ok "agent gone: the idle server sleeps (state R in $running of 20 samples, at most 3)" test "$running" -le 3
out=$(pod_exec a env "${HL_ENV[@]}" HOSTLANE_STATS="$stats.2" python3 -c "$cli" "$ip_b" $port 2>&1)
tap_eq "agent gone: a preloaded client falls back to the kernel" "ping conns=0" \
	"$out $(grep -o 'conns=[0-9]*' "$stats.2" | sort | tail -1)"

agent_start || tap_fail "the agent restarts"
kill -0 "$spid" 2>/dev/null
tap_eq "the server survived it all" 0 $?
tap_done
