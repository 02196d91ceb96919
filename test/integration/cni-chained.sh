#!/usr/bin/env bash
# shellcheck disable=SC2034 # CNI_UNSET and friends are read by test/lib/cni.sh
# Chained mode, driven the way libcni drives a conflist [bridge, hostlane]:
# the runtime injects name and cniVersion into each plugin's config and the
# previous result as prevResult. hostlane must pass the result through (same
# interfaces, IPs, routes), make no veth of its own and call no IPAM; CHECK
# runs on both; DEL runs in reverse order and leaves nothing.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
cni_setup

conflist() { # VERSION
	jq -nc --arg ver "$1" --arg name "$CNI_NET" --arg br "$CNI_BR" \
		--arg subnet "$CNI_SUBNET" --arg dir "$CNI_IPAM_DIR" '
		{cniVersion: $ver, name: $name, plugins: [
		  {type: "bridge", bridge: $br, isGateway: true, isDefaultGateway: true,
		   ipam: {type: "host-local", subnet: $subnet, dataDir: $dir}},
		  {type: "hostlane", fastpath: "none", agentSocket: ""}]}'
}
# plugin_conf LIST INDEX [PREV]: what libcni hands plugin INDEX.
plugin_conf() {
	jq -c --argjson i "$2" --argjson prev "${3:-null}" '
		.plugins[$i] + {name: .name, cniVersion: .cniVersion}
		| if $prev == null then . else . + {prevResult: $prev} end' <<<"$1"
}
view() { jq -cS '{interfaces, ips: [.ips[] | del(.version)], routes: (.routes // [])}' <<<"$1"; }

for v in 1.0.0 0.4.0; do
	pa=$(cni_pod "a${v//./}")
	cni_netns_add "$pa"
	cid=ctr-$CNI_RUN-${v//./}
	list=$(conflist "$v")

	cni_exec bridge ADD "$cid" "$pa" eth0 "$(plugin_conf "$list" 0)"
	cni_ok_rc "$v: bridge ADD (first in the chain)"
	r1=$CNI_STDOUT
	ports_before=$(cni_bridge_ports "$CNI_BR")
	cni_exec hostlane ADD "$cid" "$pa" eth0 "$(plugin_conf "$list" 1 "$r1")"
	cni_ok_rc "$v: hostlane ADD with prevResult"
	r2=$CNI_STDOUT
	tap_eq "$v: result in the list's version" "$v" "$(jq -r .cniVersion <<<"$r2" 2>/dev/null)"
	tap_eq "$v: interfaces, ips and routes passed through" "$(view "$r1")" "$(view "$r2" 2>/dev/null)"
	if [ "${v%%.*}" = 0 ]; then
		tap_eq "$v: ips keep their version key" 4 "$(jq -r '.ips[0].version' <<<"$r2" 2>/dev/null)"
	fi
	tap_eq "$v: hostlane made no host veth of its own" "" "$(cni_host_links)"
	tap_eq "$v: bridge ports unchanged" "$ports_before" "$(cni_bridge_ports "$CNI_BR")"
	tap_eq "$v: the pod has only lo and eth0" "eth0 lo" \
		"$(ip -n "$pa" -o link show | awk '{n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); print n}' | sort | xargs)"
	tap_eq "$v: one allocation (hostlane called no IPAM)" 1 "$(cni_allocations | wc -l)"

	cni_exec bridge CHECK "$cid" "$pa" eth0 "$(plugin_conf "$list" 0 "$r2")"
	cni_ok_rc "$v: bridge CHECK with the final result"
	cni_exec hostlane CHECK "$cid" "$pa" eth0 "$(plugin_conf "$list" 1 "$r2")"
	cni_ok_rc "$v: hostlane CHECK (chained) with the final result"

	cni_exec hostlane DEL "$cid" "$pa" eth0 "$(plugin_conf "$list" 1 "$r2")"
	cni_ok_rc "$v: hostlane DEL (first, reverse order)"
	ok "$v: hostlane DEL left the primary's eth0 alone" ip -n "$pa" link show dev eth0
	tap_eq "$v: hostlane DEL left the primary's allocation alone" 1 "$(cni_allocations | wc -l)"
	cni_exec bridge DEL "$cid" "$pa" eth0 "$(plugin_conf "$list" 0 "$r2")"
	cni_ok_rc "$v: bridge DEL"
	tap_eq "$v: no veth left" "" "$(cni_leaked_links)"
	tap_eq "$v: no allocation left" "" "$(cni_allocations)"
	tap_eq "$v: no hostlane cache file left" "" "$(cni_cache_files)"
done
tap_done
