#!/usr/bin/env bash
# shellcheck disable=SC2034 # CNI_UNSET and friends are read by test/lib/cni.sh
# A failing ADD undoes everything it made: no veth (host or pod end), no
# bridge port, no IP allocation, no cache file. Covers an IPAM that does not
# exist, an IPAM that allocated but whose result cannot be applied (a route
# through an unreachable gateway), and an ifname that already exists.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
cni_setup

pa=$(cni_pod a)
cni_netns_add "$pa"
cid=ctr-$CNI_RUN

nothing_left() { # what
	ok_not "$1: no eth0 in the pod" ip -n "$pa" link show dev eth0
	tap_eq "$1: no host veth" "" "$(cni_leaked_links)"
	tap_eq "$1: no IP allocation" "" "$(cni_allocations)"
	tap_eq "$1: no cache file" "" "$(cni_cache_files)"
}

cni_add "$cid-1" "$pa" eth0 "$(cni_conf '.ipam.type = "no-such-ipam"')"
ok "unknown IPAM type: ADD fails" test "$CNI_RC" != 0
ok "unknown IPAM type: error JSON on stdout" jq -e '.code and .msg' <<<"$CNI_STDOUT"
nothing_left "unknown IPAM type"

# host-local allocates, then hands back a route via 192.0.2.1, which is not
# on the pod's subnet: applying it fails after the allocation was made.
cni_add "$cid-2" "$pa" eth0 "$(cni_conf '.ipam.routes = [{"dst": "198.51.100.0/24", "gw": "192.0.2.1"}]')"
ok "unappliable IPAM route: ADD fails" test "$CNI_RC" != 0
ok "unappliable IPAM route: error JSON on stdout" jq -e '.code and .msg' <<<"$CNI_STDOUT"
nothing_left "failure after IPAM allocated"

cni_add "$cid-3" "$pa"
cni_ok_rc "ADD eth0"
res=$CNI_STDOUT
addr=$(jq -r '.ips[0].address' <<<"$res")
cni_add "$cid-4" "$pa"
ok "ADD of a second container with the same ifname in the netns fails" test "$CNI_RC" != 0
ok "... with error JSON" jq -e '.code and .msg' <<<"$CNI_STDOUT"
tap_eq "the existing eth0 keeps its address" "$addr" "$(cni_pod_addr "$pa" eth0)"
tap_eq "only the first attachment's allocation remains" "${addr%/*}" "$(cni_allocations)"
tap_eq "only the first attachment's host veth remains" "$(cni_result_host_veth "$res")" "$(cni_leaked_links)"

# An interface the runtime (or anyone) made by hand is never touched.
ip -n "$pa" link add eth1 type veth peer name eth1p
cni_add "$cid-5" "$pa" eth1
ok "ADD on an existing hand-made eth1 fails" test "$CNI_RC" != 0
ok "the hand-made eth1 is untouched" ip -n "$pa" link show dev eth1
tap_eq "still only the first attachment's host veth" "$(cni_result_host_veth "$res")" "$(cni_leaked_links)"
tap_eq "still only the first attachment's allocation" "${addr%/*}" "$(cni_allocations)"

cni_del "$cid-3" "$pa" eth0 "$(cni_with_prev "$(cni_conf)" "$res")"
cni_ok_rc "DEL the good attachment"
nothing_left "after DEL"
tap_done
