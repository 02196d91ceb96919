#!/usr/bin/env bash
# Demo, part 1: the hostlane CNI plugin wires two pods (network namespaces)
# on a bridge with host-local IPAM, a web server in one pod answers a client
# in the other, CHECK confirms the wiring, DEL removes it all; then a short
# ADD+DEL latency comparison with Debian's reference bridge plugin.
. "$(dirname "$0")/../../test/lib/tap.sh"
. "$(dirname "$0")/../../test/lib/cni.sh"
[ "$(id -u)" = 0 ] || { echo "demo 10-cni: needs root (network namespaces)" >&2; exit 1; }
[ -x "$HL_BIN" ] || { echo "demo 10-cni: $HL_BIN is not built (make)" >&2; exit 1; }
cni_setup >/dev/null

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s# %s%s\n' "$bold" "$*" "$plain"; }
step_failed() { echo "demo 10-cni: $*" >&2; exit 1; }
run() { printf '$ %s\n' "$*"; "$@" 2>&1 | sed 's/^/  /'; }

say "hostlane CNI plugin: $HL_BIN"
cni_exec hostlane VERSION "" "" "" '{"cniVersion":"1.1.0"}'
echo "VERSION -> $CNI_STDOUT"

pa=$(cni_pod a) pb=$(cni_pod b)
say "Two pods are two network namespaces: $pa and $pb"
cni_netns_add "$pa" && cni_netns_add "$pb" || step_failed "ip netns add failed"
say "The network config the runtime hands the plugin on stdin"
cni_conf | jq .

declare -A res
for p in a b; do
	ns=$(cni_pod "$p")
	say "ADD pod $p: CNI_COMMAND=ADD CNI_NETNS=/var/run/netns/$ns CNI_IFNAME=eth0 hostlane < config"
	cni_add "demo-$CNI_RUN-$p" "$ns"
	[ "$CNI_RC" = 0 ] || step_failed "ADD $p failed: $CNI_STDOUT $CNI_STDERR"
	res[$p]=$CNI_STDOUT
	jq -c '{ips: [.ips[] | .address], interfaces: [.interfaces[] | {name, mac, sandbox}]}' <<<"$CNI_STDOUT"
	run ip -n "$ns" -br addr show dev eth0
done
say "Both host ends sit on bridge $CNI_BR, which holds the gateway address"
run ip -br link show master "$CNI_BR"
run ip -br addr show dev "$CNI_BR"

ip_b=$(cni_result_ip "${res[b]}")
say "Pod b serves a page (busybox httpd on $ip_b:8080); pod a fetches it over TCP through the bridge"
got=$(cni_http_check "$pb" "$ip_b" "$pa") || step_failed "pod a could not fetch from pod b (got '$got')"
echo "pod a received: $got"

say "CHECK (the runtime's health probe of the wiring) with the ADD result as prevResult"
for p in a b; do
	cni_run CHECK "demo-$CNI_RUN-$p" "$(cni_pod "$p")" eth0 "$(cni_with_prev "$(cni_conf)" "${res[$p]}")"
	[ "$CNI_RC" = 0 ] || step_failed "CHECK $p failed: $CNI_STDOUT"
	echo "CHECK pod $p: ok"
done

say "DEL both pods: veths, addresses and IP allocations go away"
for p in a b; do
	cni_del "demo-$CNI_RUN-$p" "$(cni_pod "$p")" eth0 "$(cni_with_prev "$(cni_conf)" "${res[$p]}")"
	[ "$CNI_RC" = 0 ] || step_failed "DEL $p failed: $CNI_STDOUT"
done
echo "host veths left: $(cni_leaked_links | wc -l), IP allocations left: $(cni_allocations | wc -l)"

say "ADD+DEL latency: hostlane vs Debian's bridge + host-local (${DEMO_BENCH_PODS:-20} pods; make bench runs 50)"
CNI_BENCH_PODS=${DEMO_BENCH_PODS:-20} HL_BIN=$HL_BIN bash "$HOSTLANE_TOP/hack/bench.d/10-cni.sh" ||
	step_failed "benchmark failed"
