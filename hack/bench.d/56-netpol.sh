#!/usr/bin/env bash
# NetworkPolicy admission: what the check costs the fast path. Two shm pods
# (cli -> srv), the agent following a local fake API server, three states
# of the cluster's policies, rounds interleaved, medians:
#   none   | 100 policies, none selecting the two pods | the same 100 plus
#   one isolating srv for ingress and admitting cli (direct regions carry
#   the verdict in their grant: connections to the admitted ports stay
#   direct)
# for connect/accept/close (test/sockets/connrate, connections/s) and redis
# GET -c 1 (requests/s). Bars: 100 policies >= 0.9x none, for both. The
# last line says which share of the server's connect/accept/close
# connections went direct in each state (its process counters).
#   SECS=N seconds per timed run (default 3); ROUNDS=N (default 3)
set -u
top=${HOSTLANE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/bench.sh"
bench_env netpol "$@"

. "$top/test/lib/benchpods.sh"
bench_k8s_pods redis-server redis-benchmark jq curl python3 openssl
RPORT=6391 CPORT=7391

k8s_rv namespaces "{\"metadata\":{\"name\":\"$ns\"}}" >/dev/null
k8s_rv pods "{\"namespace\":\"$ns\",\"name\":\"srv\",\"node\":\"$node\",\"ips\":[\"$ip_s\"],\"labels\":{\"app\":\"srv\"}}" >/dev/null
last=$(k8s_rv pods "{\"namespace\":\"$ns\",\"name\":\"cli\",\"node\":\"$node\",\"ips\":[\"$ip_c\"],\"labels\":{\"app\":\"cli\"}}")
# applied RV: the monitor has a table with every change up to RV.
applied() { k8s_policy_applied "$1" || bail "the agent did not apply the policies"; }
applied "$last"
# 100 policies of the pods' namespace selecting other pods (app=other-N),
# each admitting from a namespace and on ports, as real ones do.
filler() {
	jq -nc --arg ns "$ns" --arg n "other-$1" \
		'{metadata: {namespace: $ns, name: $n}, spec: {podSelector: {matchLabels: {app: $n}},
		  policyTypes: ["Ingress", "Egress"],
		  ingress: [{from: [{namespaceSelector: {matchLabels: {team: $n}}},
				    {podSelector: {matchExpressions: [{key: "tier", operator: "In", values: ["a", "b"]}]}}],
			     ports: [{port: 8080}, {port: "web"}, {port: 9000, endPort: 9100}]}],
		  egress: [{to: [{ipBlock: {cidr: "10.0.0.0/8", except: ["10.1.0.0/16"]}}]}]}}'
}
isolate="{\"metadata\":{\"namespace\":\"$ns\",\"name\":\"srv-in\"},\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"srv\"}},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"cli\"}}}],\"ports\":[{\"port\":$RPORT},{\"port\":$CPORT}]}]}}"
state() { # none | p100 | p100iso: the API server's policies become these
	local i rv
	case $1 in
	none)
		for ((i = 0; i < 100; i++)); do
			rv=$(k8s_rv delete "{\"kind\":\"networkpolicies\",\"namespace\":\"$ns\",\"name\":\"other-$i\"}")
		done ;;
	p100)
		for ((i = 0; i < 100; i++)); do rv=$(k8s_rv networkpolicies "$(filler $i)"); done ;;
	p100iso)
		rv=$(k8s_rv networkpolicies "$isolate") ;;
	esac
	[ "$1" != p100iso ] && k8s_rv delete "{\"kind\":\"networkpolicies\",\"namespace\":\"$ns\",\"name\":\"srv-in\"}" >/dev/null
	# A namespace written last marks the point (deletions carry no new version).
	applied "$(k8s_rv namespaces "{\"metadata\":{\"name\":\"$ns\"}}")"
	[ -n "${rv:-}" ] || true
}

preload_env
# shellcheck disable=SC2046
cni_bg $(pin "$SRV_CPU") ip netns exec "$(pod_ns srv)" env "${HL_ENV[@]}" redis-server --bind 0.0.0.0 \
	--port $RPORT --save '' --appendonly no --protected-mode no --dir "$tmp" >>"$tmp/srv.log" 2>&1
# shellcheck disable=SC2046
cni_bg $(pin "$SRV_CPU") ip netns exec "$(pod_ns srv)" env "${HL_ENV[@]}" "$connrate" server 0.0.0.0 $CPORT \
	>>"$tmp/srv.log" 2>&1
cpid=$CNI_BG_PID
for _ in $(seq 200); do pod_exec cli redis-cli -h "$ip_s" -p $RPORT ping >/dev/null 2>&1 && break; sleep 0.05; done
pod_exec cli redis-cli -h "$ip_s" -p $RPORT set key:__rand_int__ x >/dev/null 2>&1

cli() {
	# shellcheck disable=SC2046
	timeout -k 5 $((secs * 10 + 60)) $(pin "$CLI_CPU") ip netns exec "$(pod_ns cli)" env "${HL_ENV[@]}" "$@"
}
redis() {
	cli redis-benchmark -h "$ip_s" -p $RPORT -t get -n $((secs * 20000)) -c 1 -q --csv 2>&1 |
		awk -F'"' '$2 == "GET" { printf "%.0f\n", $4 }'
}
# srv_count: "conns direct" of the connrate server (its stats region).
srv_count() {
	ctl --json conns | jq -r --argjson pid "$cpid" \
		'[.[].processes[] | select(.pid == $pid)][0] | "\(.conns // 0) \(.direct // 0)"'
}
declare -A dsum=()
conns() { # STATE: the rate; the server's conns and direct added to dsum[STATE]
	local c0 d0 c1 d1
	read -r c0 d0 <<<"$(srv_count)"
	cli "$connrate" client "$ip_s" $CPORT "$secs" 2>&1 | sed -n 's/.* rate \([0-9]*\)$/\1/p'
	read -r c1 d1 <<<"$(srv_count)"
	read -r c0s d0s <<<"${dsum[$1]:-0 0}"
	dsum[$1]="$((c0s + c1 - c0)) $((d0s + d1 - d0))"
}
median() { tr ' ' '\n' | grep -E '^[0-9]+$' | sort -n | awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : "n/a"}'; }

declare -A fig
for ((r = 0; r < rounds; r++)); do
	for m in none p100 p100iso; do
		state $m
		conns $m >"$tmp/rate"
		fig[conn.$m]="${fig[conn.$m]:-} $(cat "$tmp/rate")"
		fig[redis.$m]="${fig[redis.$m]:-} $(redis)"
	done
done
st=$(ctl --json status | jq -c .networkPolicy)
[ "$(jq .denied <<<"$st")" = 0 ] || echo "netpol: the monitor denied connections: $st"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "null" }'; }
row() { # NAME UNIT KEY
	local a b c r1 r2
	a=$(median <<<"${fig[$3.none]}") b=$(median <<<"${fig[$3.p100]}") c=$(median <<<"${fig[$3.p100iso]}")
	r1=$(ratio "$b" "$a") r2=$(ratio "$c" "$a")
	if [ $json = 1 ]; then
		jq -nc --arg b "$1" --arg u "$2" --arg a "$a" --arg p "$b" --arg i "$c" --arg r1 "$r1" --arg r2 "$r2" \
			'{bench: ("netpol " + $b), unit: $u, no_policy: ($a | tonumber? // null),
			  policies_100: ($p | tonumber? // null), policies_100_isolated: ($i | tonumber? // null),
			  ratio_100: ($r1 | tonumber? // null), ratio_100_isolated: ($r2 | tonumber? // null),
			  target: 0.9}' >&3
	else
		printf '%-22s %10s %10s %12s %7s %7s %s\n' "$1" "$a" "$b" "$c" "${r1}x" "${r2}x" \
			"$(awk -v r="$r1" -v s="$r2" 'BEGIN { print (r + 0 >= 0.9 ? "100: yes" : "100: NO") ", " (s + 0 >= 0.9 ? "isolated: yes" : "isolated: NO") }')" >&3
	fi
}
[ $json = 1 ] || printf '%-22s %10s %10s %12s %7s %7s %s\n' bench none "100 pol" "100+isolated" "100/0" "iso/0" ">= 0.9x" >&3
row "connect/accept/close" conn/s conn
row "redis GET -c 1" req/s redis
[ $json = 1 ] || echo "($rounds rounds interleaved, medians, ${secs}s each; 2 shared vCPUs: figures move between runs)" >&3
share() { read -r c d <<<"${dsum[$1]:-0 0}"; awk -v c="$c" -v d="$d" 'BEGIN { printf "%d of %d direct", d, c }'; }
[ $json = 1 ] || echo "connect/accept/close at the server: none $(share none); 100 pol $(share p100); 100+isolated $(share p100iso)" >&3
