#!/usr/bin/env bash
# Services: the same server reached three ways from a client pod, in one
# run, rounds interleaved, medians:
#   pod IP over hostlane | ClusterIP over hostlane | ClusterIP through the
#   kernel (kube-proxy emulated by DNAT rules on the node, as in
#   test/integration/k8s-services.sh)
# for redis GET (-c 1, -c 50, requests/s) and connect/accept/close
# (test/sockets/connrate, connections/s). And the sidecar hop: wrk against
# nginx as a reverse proxy (default proxying: a new upstream connection per
# request) in front of an nginx app on 127.0.0.1 in the same pod, all
# preloaded vs none (bar: 2x). The agent follows a local fake
# API server (test/tools/fake-apiserver) that serves the Service and its
# EndpointSlice. Bars: ClusterIP >= 0.9x the pod IP over hostlane.
#   SECS=N seconds per timed run (default 3); ROUNDS=N (default 3)
set -u
top=${HOSTLANE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/bench.sh"
bench_env services "$@"

. "$top/test/lib/benchpods.sh"
bench_k8s_pods redis-server redis-benchmark jq curl iptables python3 openssl nginx wrk
vip=10.96.$((RANDOM % 250)).$((RANDOM % 250 + 2))
RPORT=6390 CPORT=7390

# The pods as the API server has them: NetworkPolicy admission (on with an
# API server) admits no fast-path connection of a pod it does not know.
k8s_fake pods "{\"namespace\":\"$ns\",\"name\":\"srv\",\"node\":\"$node\",\"ips\":[\"$ip_s\"],\"labels\":{\"app\":\"bench\"}}"
k8s_fake pods "{\"namespace\":\"$ns\",\"name\":\"cli\",\"node\":\"$node\",\"ips\":[\"$ip_c\"],\"labels\":{\"app\":\"cli\"}}"
k8s_wait_pods 2 || bail "the agent did not learn the pods from the API server"
# The Service: port 6379 -> redis, 7000 -> connrate's server.
k8s_fake services "{\"metadata\":{\"name\":\"bench\",\"namespace\":\"$ns\"},\"spec\":{\"clusterIP\":\"$vip\",\"clusterIPs\":[\"$vip\"],\"selector\":{\"app\":\"bench\"},\"ports\":[{\"name\":\"redis\",\"port\":6379,\"targetPort\":$RPORT},{\"name\":\"conn\",\"port\":7000,\"targetPort\":$CPORT}]}}"
k8s_fake endpointslices "{\"metadata\":{\"name\":\"bench-x\",\"namespace\":\"$ns\",\"labels\":{\"kubernetes.io/service-name\":\"bench\"}},\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"$ip_s\"],\"conditions\":{\"ready\":true},\"nodeName\":\"node-$CNI_RUN\"}],\"ports\":[{\"name\":\"redis\",\"port\":$RPORT,\"protocol\":\"TCP\"},{\"name\":\"conn\",\"port\":$CPORT,\"protocol\":\"TCP\"}]}"
chain=HLSVC-$CNI_RUN
iptables -t nat -N "$chain" || bail "iptables nat table not usable"
on_exit "iptables -t nat -D PREROUTING -i $CNI_BR -d $vip -p tcp -j $chain; iptables -t nat -D POSTROUTING -o $CNI_BR -m conntrack --ctstate DNAT --ctorigdst $vip -j MASQUERADE; iptables -t nat -F $chain; iptables -t nat -X $chain"
iptables -t nat -A PREROUTING -i "$CNI_BR" -d "$vip" -p tcp -j "$chain"
iptables -t nat -A POSTROUTING -o "$CNI_BR" -m conntrack --ctstate DNAT --ctorigdst "$vip" -j MASQUERADE
iptables -t nat -A "$chain" -p tcp --dport 6379 -j DNAT --to-destination "$ip_s:$RPORT"
iptables -t nat -A "$chain" -p tcp --dport 7000 -j DNAT --to-destination "$ip_s:$CPORT"
for _ in $(seq 100); do
	[ "$(curl -s "http://$AG_METRICS/metrics" | awk '/^hostlane_monitor_service_ports / {print $2}')" = 2 ] && break
	sleep 0.05
done

# One server process serves every mode: preloaded, so hostlane clients get
# hostlane and kernel clients the kernel.
preload_env
# shellcheck disable=SC2046
cni_bg $(pin "$SRV_CPU") ip netns exec "$(pod_ns srv)" env "${HL_ENV[@]}" redis-server --bind 0.0.0.0 \
	--port $RPORT --save '' --appendonly no --protected-mode no --dir "$tmp" >>"$tmp/srv.log" 2>&1
# shellcheck disable=SC2046
cni_bg $(pin "$SRV_CPU") ip netns exec "$(pod_ns srv)" env "${HL_ENV[@]}" "$connrate" server 0.0.0.0 $CPORT \
	>>"$tmp/srv.log" 2>&1
for _ in $(seq 200); do pod_exec cli redis-cli -h "$vip" -p 6379 ping >/dev/null 2>&1 && break; sleep 0.05; done
pod_exec cli redis-cli -h "$ip_s" -p $RPORT set key:__rand_int__ x >/dev/null 2>&1

# The sidecar pair of a mode: app on 127.0.0.1:APP, proxy on the pod IP.
sidecar_start() { # MODE APP-PORT PROXY-PORT
	local d=$tmp/sidecar-$1 e=() w
	mkdir -p "$d/www"
	printf 'hostlane bench %0100d\n' 0 >"$d/www/small.html"
	for w in app proxy; do
		{
			echo "daemon off; user root; master_process on; worker_processes 1;"
			echo "pid $d/$w.pid; error_log $d/$w.err warn; events { worker_connections 1024; }"
			echo "http { access_log off; keepalive_requests 1000000; open_file_cache max=64;"
			for t in client_body proxy fastcgi uwsgi scgi; do echo "${t}_temp_path $d/$w-$t;"; done
			if [ $w = app ]; then echo "server { listen 127.0.0.1:$2; root $d/www; } }"
			else echo "server { listen $ip_s:$3; location / { proxy_pass http://127.0.0.1:$2; } } }"; fi
		} >"$d/$w.conf"
		e=()
		[ "$1" = hostlane ] && e=(env "${HL_ENV[@]}")
		# shellcheck disable=SC2046
		cni_bg $(pin "$SRV_CPU") ip netns exec "$(pod_ns srv)" "${e[@]}" nginx -p "$d" -c "$d/$w.conf" \
			-e "$d/$w.err" >>"$tmp/srv.log" 2>&1
	done
	for _ in $(seq 200); do pod_exec cli curl -sf -o /dev/null "http://$ip_s:$3/small.html" && return 0; sleep 0.05; done
	return 1
}
sidecar() { # MODE PROXY-PORT
	local out
	out=$(cli "$1" wrk -t 1 -c "${WRK_C:-16}" -d "${secs}s" "http://$ip_s:$2/small.html" 2>&1)
	grep -qE 'Non-2xx|Socket errors' <<<"$out" && return 0
	awk '/^Requests\/sec:/ { printf "%.0f\n", $2 }' <<<"$out"
}
sidecar_start hostlane 8190 8191 || echo "sidecar (hostlane) did not start" >&2
sidecar_start kernel 8290 8291 || echo "sidecar (kernel) did not start" >&2

cli() { # MODE CMD...: hostlane (preloaded) or kernel
	local m=$1; shift
	# shellcheck disable=SC2046
	if [ "$m" = kernel ]; then timeout -k 5 $((secs * 10 + 60)) $(pin "$CLI_CPU") ip netns exec "$(pod_ns cli)" "$@"
	else timeout -k 5 $((secs * 10 + 60)) $(pin "$CLI_CPU") ip netns exec "$(pod_ns cli)" env "${HL_ENV[@]}" "$@"; fi
}
redis() { # MODE HOST PORT CONNS
	local n=$((secs * 20000)) out
	[ "$4" -gt 1 ] && n=$((secs * 60000))
	out=$(cli "$1" redis-benchmark -h "$2" -p "$3" -t get -n "$n" -c "$4" -q --csv 2>&1)
	awk -F'"' '$2 == "GET" { printf "%.0f\n", $4 }' <<<"$out"
}
conns() { # MODE HOST PORT
	cli "$1" "$connrate" client "$2" "$3" "$secs" 2>&1 | sed -n 's/.* rate \([0-9]*\)$/\1/p'
}
median() { tr ' ' '\n' | grep -E '^[0-9]+$' | sort -n | awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : "n/a"}'; }

declare -A fig
for ((r = 0; r < rounds; r++)); do
	for b in redis1 redis50 conn; do
		for m in pod svc kern; do
			host=$vip mode=hostlane
			[ $m = pod ] && host=$ip_s
			[ $m = kern ] && mode=kernel
			case $b in
			redis1) [ $m = pod ] && p=$RPORT || p=6379; v=$(redis $mode "$host" $p 1) ;;
			redis50) [ $m = pod ] && p=$RPORT || p=6379; v=$(redis $mode "$host" $p 50) ;;
			conn) [ $m = pod ] && p=$CPORT || p=7000; v=$(conns $mode "$host" $p) ;;
			esac
			fig[$b.$m]="${fig[$b.$m]:-} ${v:-x}"
		done
	done
	fig[side.hl]="${fig[side.hl]:-} $(sidecar hostlane 8191)"
	fig[side.k]="${fig[side.k]:-} $(sidecar kernel 8291)"
done

row() { # NAME UNIT KEY
	local pod svc kern r1 r2
	pod=$(median <<<"${fig[$3.pod]}") svc=$(median <<<"${fig[$3.svc]}") kern=$(median <<<"${fig[$3.kern]}")
	r1=$(awk -v a="$svc" -v b="$pod" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "null" }')
	r2=$(awk -v a="$svc" -v b="$kern" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "null" }')
	if [ $json = 1 ]; then
		jq -nc --arg b "$1" --arg u "$2" --arg p "$pod" --arg s "$svc" --arg k "$kern" --arg r1 "$r1" --arg r2 "$r2" \
			'{bench: $b, unit: $u, pod_ip_hostlane: ($p | tonumber? // null),
			  clusterip_hostlane: ($s | tonumber? // null), clusterip_kernel: ($k | tonumber? // null),
			  clusterip_vs_pod_ip: ($r1 | tonumber? // null), target: 0.9,
			  clusterip_vs_kernel: ($r2 | tonumber? // null)}' >&3
	else
		printf '%-22s %12s %12s %12s %8s %8s %s\n' "$1" "$pod" "$svc" "$kern" "${r1}x" "${r2}x" \
			"$(awk -v r="$r1" 'BEGIN { print (r + 0 >= 0.9) ? ">= 0.9x yes" : ">= 0.9x NO" }')" >&3
	fi
}
[ $json = 1 ] || printf '%-22s %12s %12s %12s %8s %8s %s\n' bench "pod IP hl" "ClusterIP hl" "CIP kernel" "svc/pod" "svc/kern" "bar" >&3
row "redis GET -c 1" req/s redis1
row "redis GET -c 50" req/s redis50
row "connect/accept/close" conn/s conn
hl=$(median <<<"${fig[side.hl]}") k=$(median <<<"${fig[side.k]}")
r=$(awk -v a="$hl" -v b="$k" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "null" }')
if [ $json = 1 ]; then
	jq -nc --arg h "$hl" --arg k "$k" --arg r "$r" '{bench: "sidecar hop: nginx proxy -> 127.0.0.1 app, wrk",
		unit: "req/s", hostlane: ($h | tonumber? // null), kernel: ($k | tonumber? // null),
		ratio: ($r | tonumber? // null), target_ratio: 2}' >&3
else
	printf '%-22s %12s %12s %8s %s\n' "sidecar hop (wrk)" "kernel $k" "hostlane $hl" "${r}x" \
		"$(awk -v r="$r" 'BEGIN { print (r + 0 >= 2) ? ">= 2x yes" : ">= 2x NO" }')" >&3
fi
[ $json = 1 ] || echo "($rounds rounds interleaved, medians, ${secs}s each; 2 shared vCPUs: figures move between runs)" >&3
