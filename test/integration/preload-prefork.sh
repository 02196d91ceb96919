#!/usr/bin/env bash
# A pre-fork server on hostlane: nginx (master_process on, 4 workers) shares
# its listener with the workers it forked. A preloaded client in another pod
# makes short connections (one request each, Connection: close) from 8
# threads; each request names its number, and nginx's access log names the
# worker that served it. Checked:
#   * every request answered, each served exactly once (the access log);
#   * every connection over hostlane (the client's layer counters);
#   * every connection accepted over hostlane, all but a few set up
#     directly (nginx's processes' layer counters, hostlanectl conns);
#   * the distribution across workers (access log, the layer counters),
#     reported;
#   * a worker killed with SIGKILL in the middle of a second run: every
#     request the client sent after it is answered (the kernel's accept
#     queue would keep them for the other workers).
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
preload_require python3 nginx jq
pods_setup
pod_create srv || { tap_fail "pod srv"; tap_done; exit 1; }
pod_create cli || { tap_fail "pod cli"; tap_done; exit 1; }
ip_s=$(pod_ip srv)
preload_env
N=${PREFORK_CONNS:-10000}
port=8480
d=$CNI_TMP/prefork
mkdir -p "$d/www" "$d/st"
echo ok >"$d/www/x"
cat >"$d/nginx.conf" <<CONF
daemon off;
user root;
master_process on;
worker_processes 4;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
	log_format w '\$pid \$arg_i';
	access_log $d/access.log w;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fastcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	server { listen $ip_s:$port; root $d/www; }
}
CONF
pod_bg srv env "${HL_ENV[@]}" nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log"
ngx=$POD_BG_PID
for _ in $(seq 100); do pod_exec cli curl -s -o /dev/null "http://$ip_s:$port/x" 2>/dev/null && break; sleep 0.05; done
diag() { echo "# $*"; }
workers() { pgrep -P "$(cat "$d/nginx.pid" 2>/dev/null || echo 0)" | sort -n; }

# client FIRST COUNT: requests ?i=FIRST..FIRST+COUNT-1 from 8 threads;
# prints "answered N failed M".
cli='
import socket, sys, threading
host, port, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
res = {"ok": 0, "bad": 0}
lock = threading.Lock()
def run(k):
    ok = bad = 0
    for i in range(first + k, first + count, 8):
        try:
            s = socket.create_connection((host, port), timeout=10)
            s.sendall(b"GET /x?i=%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % i)
            data = b""
            while True:
                b = s.recv(4096)
                if not b: break
                data += b
            s.close()
            if data.startswith(b"HTTP/1.1 200") and data.endswith(b"ok\n"): ok += 1
            else: bad += 1
        except OSError:
            bad += 1
    with lock:
        res["ok"] += ok; res["bad"] += bad
t = [threading.Thread(target=run, args=(k,)) for k in range(8)]
[x.start() for x in t]; [x.join() for x in t]
print("answered %d failed %d" % (res["ok"], res["bad"]))
'
w0=$(workers | tr '\n' ' ')
tap_eq "nginx runs 4 workers" 4 "$(workers | wc -l)"
: >"$d/access.log"
out=$(pod_exec cli env "${HL_ENV[@]}" HOSTLANE_STATS="$d/st/cli" python3 -c "$cli" "$ip_s" $port 0 "$N")
tap_eq "$N short connections answered" "answered $N failed 0" "$out"
served=$(awk '$2 != "" && $2 < '"$N"' {print $2}' "$d/access.log" | sort -n | uniq -c | awk '$1 != 1 {bad++} END {print NR - 0, bad + 0}')
tap_eq "each request served exactly once (access log)" "$N 0" "$served"
diag "distribution across workers (requests per worker pid): $(awk '{print $1}' "$d/access.log" | sort | uniq -c | tr -s ' \n' ' ')"
# The client's counters (written at its exit).
field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$1" | tail -1; }
tap_eq "every connection over hostlane (client counters: conns fallbacks)" "$N 0" \
	"$(field "$d/st/cli" conns) $(field "$d/st/cli" fallbacks)"
# The server's side from its processes' counters (hostlanectl conns: a
# worker that took the listener counts in a stats region of its own).
procs() { ctl --json conns | jq -r '[.[] | select(.pod | contains("cid-srv-")) | .processes[] |
	"\(.pid) conns=\(.conns) direct=\(.direct)"] | join("; ")'; }
srvsum() { ctl --json conns | jq "[.[] | select(.pod | contains(\"cid-srv-\")) | .processes[] | .$1] | add // 0"; }
diag "nginx's processes (layer counters): $(procs)"
ok "every connection accepted over hostlane (server counters: $(srvsum conns) conns)" \
	test "$(srvsum conns)" -ge "$N"
ok "all but a few taken directly, without the monitor (server counters: $(srvsum direct) direct)" \
	test "$(srvsum direct)" -ge $((N - 20))

# A second run; one worker killed with SIGKILL after the first requests.
: >"$d/access.log"
rm -f "$d/st/cli"
pod_exec cli env "${HL_ENV[@]}" HOSTLANE_STATS="$d/st/cli" python3 -c "$cli" "$ip_s" $port "$N" "$N" >"$d/run2.out" &
c2=$!
for _ in $(seq 200); do [ "$(wc -l <"$d/access.log")" -ge $((N / 10)) ] && break; sleep 0.02; done
victim=$(awk '{print $1}' "$d/access.log" | sort | uniq -c | sort -rn | awk 'NR == 1 {print $2}')
kill -9 "$victim" 2>/dev/null
wait "$c2"
diag "killed worker $victim after $(wc -l <"$d/access.log") requests; run: $(cat "$d/run2.out")"
diag "distribution after the kill: $(awk '{print $1}' "$d/access.log" | sort | uniq -c | tr -s ' \n' ' ')"
# The kernel resets what the killed worker had accepted and not answered:
# at most one connection per client thread (8). Nothing else may fail.
failed=$(sed -n 's/.* failed \([0-9]*\)$/\1/p' "$d/run2.out")
ok "a worker killed mid-run: at most the connections it held fail (failed ${failed:-?})" \
	test "${failed:-999}" -le 8
ok "the master started a new worker" test "$(workers | wc -l)" -eq 4
diag "nginx's processes after the run with the kill (layer counters): $(procs)"
kill -QUIT "$(cat "$d/nginx.pid")" 2>/dev/null
for _ in $(seq 100); do kill -0 "$ngx" 2>/dev/null || break; sleep 0.05; done
pod_kill "$ngx"
tap_done
