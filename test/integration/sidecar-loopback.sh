#!/usr/bin/env bash
# The sidecar hop on hostlane: loopback inside a pod. Pod b runs an app
# bound to 127.0.0.1 and nginx as its reverse proxy (the sidecar) on the
# pod IP, both preloaded; a preloaded client in pod a sends requests to
# nginx. Both hops must go over hostlane: the client -> nginx hop (pod IP)
# and the nginx -> app hop (127.0.0.1), counted by the app's layer and the
# monitor's loopback counter. A program of pod b that is not preloaded
# still reaches the app through the kernel, and ::1 works as 127.0.0.1.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
preload_require python3 jq curl nginx
pods_setup
pod_create a || { tap_fail "pod a"; tap_done; exit 1; }
pod_create b || { tap_fail "pod b"; tap_done; exit 1; }
ip_b=$(pod_ip b)
n=20

loopback() { curl -s "http://$AG_METRICS/metrics" |
	awk '/^hostlane_monitor_connects_total\{to="loopback",path="hostlane"\}/ {print $2}'; }
# The hostlane connections process PID counted (its layer's stats region).
proc_conns() { ctl --json conns | jq --argjson p "$1" '[.[].processes[] | select(.pid == $p) | .conns] | add // 0'; }

app='
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
l = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((host, port)); l.listen(128)
while True:
    c, peer = l.accept()
    c.recv(65536)
    body = ("app saw %s\n" % peer[0]).encode()
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    c.close()
'
preload_env
pod_bg b env "${HL_ENV[@]}" python3 -c "$app" 127.0.0.1 9000
app_pid=$POD_BG_PID
pod_bg b env "${HL_ENV[@]}" python3 -c "$app" ::1 9001
d=$CNI_TMP/nginx
mkdir -p "$d"
cat >"$d/nginx.conf" <<EOF
daemon off;
user root;
master_process on;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fastcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	server {
		listen $ip_b:8081;
		location / { proxy_pass http://127.0.0.1:9000; }
	}
}
EOF
pod_bg b env "${HL_ENV[@]}" nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log"
for _ in $(seq 100); do pod_exec b curl -s -o /dev/null "http://127.0.0.1:9000/" && break; sleep 0.05; done
for _ in $(seq 100); do pod_exec a curl -s -o /dev/null "http://$ip_b:8081/" && break; sleep 0.05; done

cli='
import socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ok = 0
for i in range(n):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d: break
        data += d
    s.close()
    ok += data.endswith(b"app saw 127.0.0.1\n")
print(ok)
'
c0=$(proc_conns "$app_pid")
got=$(pod_exec a env "${HL_ENV[@]}" python3 -c "$cli" "$ip_b" 8081 $n)
tap_eq "client -> nginx -> app (127.0.0.1): $n answers, the app saw 127.0.0.1 as its peer" $n "$got"
l1=$(loopback) c1=$(proc_conns "$app_pid")
# The first loopback connection of a process pair goes through the monitor
# (counted there), the later ones over the pair's direct region.
ok "the nginx -> app hop went over hostlane: the app's layer accepted $((c1 - c0)) hostlane connections" \
	test $((c1 - c0)) -ge $n
ok "the monitor set up loopback connections ($l1 so far)" test "$l1" -ge 1
ok "the client -> nginx hop went over hostlane (nginx's processes counted connections)" \
	test "$(ctl --json conns | jq '[.[] | select(.pod | contains("cid-b-")) | .processes[].conns] | add // 0')" -ge $((2 * n))
tap_eq "a program of pod b without the layer reaches the app through the kernel" \
	"app saw 127.0.0.1" "$(pod_exec b curl -s "http://127.0.0.1:9000/")"
l0=$(loopback)
got6=$(pod_exec b env "${HL_ENV[@]}" python3 -c '
import socket
s = socket.create_connection(("::1", 9001), timeout=10); s.sendall(b"GET / HTTP/1.0\r\n\r\n")
print(s.makefile().read().splitlines()[-1]); print(s.getpeername()[0], s.getsockname()[0])' 2>&1)
tap_eq "::1 inside the pod: answered, peer and local ::1" "app saw ::1
::1 ::1" "$got6"
tap_eq "... over hostlane (monitor loopback counter +1)" 1 $(($(loopback) - l0))
tap_done
