#!/usr/bin/env bash
# hostlanectl conns: the counters of preloaded processes, read by the agent
# from their stats regions while they run. Two pods (real plugin + agent of
# the run); a preloaded python3 server and client keep one connection open
# after 1 MB went each way; conns must show both processes, the connection
# on each side with its addresses and at least the bytes that crossed it;
# after both exit, the pods list no process.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
preload_require python3 jq
pods_setup
pod_create a || { tap_fail "pod a"; tap_done; exit 1; }
pod_create b || { tap_fail "pod b"; tap_done; exit 1; }
ip_a=$(pod_ip a) ip_b=$(pod_ip b)
port=7201 n=1000000
go=$CNI_TMP/go
# Both sides move n bytes each way, then wait for $go before closing.
py='
import os, socket, sys, time
role, ip, port, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
if role == "server":
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((ip, port)); l.listen(1); print("ready", flush=True)
    c, _ = l.accept()
else:
    c = socket.create_connection((ip, port))
    c.sendall(b"x" * n)
got = 0
while got < n:
    d = c.recv(65536)
    if not d: break
    got += len(d)
if role == "server":
    c.sendall(b"y" * n)
print("moved", got, flush=True)
while not os.path.exists(go): time.sleep(0.05)
c.close()
'
preload_env
pod_bg b env "${HL_ENV[@]}" python3 -c "$py" server "$ip_b" $port $n "$go"
spid=$POD_BG_PID
wait_tcp a "$ip_b" $port >/dev/null 2>&1 || true
# wait_tcp made one kernel connection: the server accepts it first. Serve
# again for the preloaded client.
wait "$spid" 2>/dev/null
pod_bg b env "${HL_ENV[@]}" python3 -c "$py" server "$ip_b" $port $n "$go"
spid=$POD_BG_PID
sleep 0.5
pod_bg a env "${HL_ENV[@]}" python3 -c "$py" client "$ip_b" $port $n "$go"
cpid=$POD_BG_PID

json=
for _ in $(seq 100); do
	json=$(ctl --json conns 2>&1)
	[ "$(jq '[.[].processes[].connections[] | select(.rx_bytes >= '$n')] | length' <<<"$json" 2>/dev/null)" = 2 ] && break
	sleep 0.1
done
echo "$json" | sed 's/^/# /' | head -60
pod_conn() { # POD_IP SIDE: the connection record of the pod with that address
	jq -c --arg ip "$1" --arg side "$2" \
		'[.[].processes[].connections[] | select((.local | startswith($ip + ":")) and .side == $side)][0]' <<<"$json"
}
ca=$(pod_conn "$ip_a" connected)
cb=$(pod_conn "$ip_b" accepted)
ok "the client's connection is listed, to the server's address" \
	jq -e --arg p "$ip_b:$port" '.peer == $p' <<<"$ca"
ok "the server's connection is listed, from the client's address" \
	jq -e --arg p "$ip_a:" '.peer | startswith($p)' <<<"$cb"
ok "client: sent and received at least 1 MB over it" \
	jq -e ".tx_bytes >= $n and .rx_bytes >= $n and .tx_calls >= 1" <<<"$ca"
ok "server: the same" jq -e ".tx_bytes >= $n and .rx_bytes >= $n" <<<"$cb"
ok "the peer's local port is the client's local port" \
	test "$(jq -r .peer <<<"$cb")" = "$(jq -r .local <<<"$ca")"
ok "per process: both processes counted one hostlane connection" \
	jq -e '[.[].processes[] | select(.conns == 1 and .open == 1)] | length == 2' <<<"$json"
table=$(ctl conns)
echo "$table" | sed 's/^/# /'
ok "the table shows both connections" \
	test "$(grep -cE "fd +[0-9]+ +(connected +$ip_a|accepted +$ip_b):" <<<"$table")" = 2
touch "$go"
wait "$cpid" "$spid" 2>/dev/null
json=$(ctl --json conns)
ok "after both exited, no process is listed" jq -e '[.[].processes[]] | length == 0' <<<"$json"
tap_done
