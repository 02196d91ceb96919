#!/usr/bin/env bash
# shellcheck disable=SC2034 # CNI_UNSET and friends are read by test/lib/cni.sh
# hostlane standalone ADD/DEL end to end: two pods (network namespaces) get a
# veth each on the run's bridge, addresses from host-local, a default route to
# the bridge's gateway address; a real TCP exchange (busybox httpd + wget)
# goes from one pod to the other through the bridge; DEL leaves nothing.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
cni_setup

mac_of() { # NETNS-or-empty IFNAME
	if [ -n "$1" ]; then ip -n "$1" -o link show dev "$2"; else ip -o link show dev "$2"; fi 2>/dev/null |
		sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

check_pod() { # NAME CID RESULT
	local ns=$1 cid=$2 res=$3 ip host idx
	tap_eq "$ns: result cniVersion is the config's" "${CNI_VERSION:-1.1.0}" \
		"$(jq -r .cniVersion <<<"$res")"
	tap_eq "$ns: result names eth0 with its sandbox" "/var/run/netns/$ns" \
		"$(jq -r '.interfaces[] | select(.name == "eth0") | .sandbox' <<<"$res")"
	tap_eq "$ns: reported pod MAC is eth0's" "$(mac_of "$ns" eth0)" \
		"$(jq -r '.interfaces[] | select(.name == "eth0") | .mac' <<<"$res")"
	idx=$(jq -r '.ips[0].interface' <<<"$res")
	tap_eq "$ns: ips[0].interface indexes the pod interface" eth0 \
		"$(jq -r --argjson i "${idx:-null}" '.interfaces[$i].name // "none"' <<<"$res")"
	ip=$(jq -r '.ips[0].address' <<<"$res")
	tap_eq "$ns: address from the subnet" "$CNI_PFX" "$(cut -d. -f1-3 <<<"${ip%/*}")"
	tap_eq "$ns: address applied on eth0 in the netns" "$ip" "$(cni_pod_addr "$ns" eth0)"
	ok "$ns: eth0 is up" sh -c "ip -n $ns -o link show dev eth0 | grep -q 'state UP\|LOWER_UP'"
	tap_eq "$ns: default route via the gateway" "$CNI_PFX.1" \
		"$(ip -n "$ns" -4 route show default | awk '{print $3}')"
	host=$(cni_result_host_veth "$res")
	tap_eq "$ns: host veth is a port of the bridge" "$CNI_BR" "$(cni_link_master "$host")"
	tap_eq "$ns: reported host MAC is the veth's" "$(mac_of "" "$host")" \
		"$(jq -r --arg h "$host" '.interfaces[] | select(.name == $h) | .mac' <<<"$res")"
	if [ "$HL_PLUGIN" = hostlane ]; then
		ok "$ns: host veth named hl + 12 hex" grep -qE '^hl[0-9a-f]{12}$' <<<"$host"
		tap_eq "$ns: host veth alias names network, container, ifname" \
			"hostlane:$CNI_NET:$cid:eth0" \
			"$(ip -o link show dev "$host" 2>/dev/null | sed -n 's/.* alias \(.*\)$/\1/p')"
	fi
}

pa=$(cni_pod a) pb=$(cni_pod b)
cni_netns_add "$pa"
cni_netns_add "$pb"

ok_not "bridge does not exist before the first ADD" ip link show dev "$CNI_BR"
cni_add "ctr-$CNI_RUN-a" "$pa"
cni_ok_rc "ADD pod a"
res_a=$CNI_STDOUT
cni_add "ctr-$CNI_RUN-b" "$pb"
cni_ok_rc "ADD pod b"
res_b=$CNI_STDOUT

ok "bridge created and up" sh -c "ip -o link show dev $CNI_BR | grep -q ',UP'"
ok "gateway address on the bridge (isGateway)" \
	sh -c "ip -o -4 addr show dev $CNI_BR | grep -q ' $CNI_PFX.1/24 '"
check_pod "$pa" "ctr-$CNI_RUN-a" "$res_a"
check_pod "$pb" "ctr-$CNI_RUN-b" "$res_b"

ip_a=$(cni_result_ip "$res_a") ip_b=$(cni_result_ip "$res_b")
ok "pods got distinct addresses ($ip_a, $ip_b)" test "$ip_a" != "$ip_b"
tap_eq "host-local holds two allocations" 2 "$(cni_allocations | wc -l)"
out=$(cni_http_check "$pb" "$ip_b" "$pa") && tap_ok "TCP a -> b through the bridge delivers the bytes" ||
	tap_fail "TCP a -> b through the bridge delivers the bytes" "got '$out'"
out=$(cni_http_check "$pa" "$ip_a" "$pb") && tap_ok "TCP b -> a through the bridge delivers the bytes" ||
	tap_fail "TCP b -> a through the bridge delivers the bytes" "got '$out'"

cni_del "ctr-$CNI_RUN-a" "$pa" eth0 "$(cni_with_prev "$(cni_conf)" "$res_a")"
cni_ok_rc "DEL pod a (with prevResult)"
cni_del "ctr-$CNI_RUN-b" "$pb"
cni_ok_rc "DEL pod b (without prevResult)"
tap_eq "DEL prints nothing on success" "" "$CNI_STDOUT"
ok_not "eth0 gone from pod a" ip -n "$pa" link show dev eth0
ok_not "eth0 gone from pod b" ip -n "$pb" link show dev eth0
tap_eq "no host veth left" "" "$(cni_leaked_links)"
tap_eq "no IP allocation left" "" "$(cni_allocations)"
tap_eq "no cache file left" "" "$(cni_cache_files)"
tap_done
