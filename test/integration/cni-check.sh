#!/usr/bin/env bash
# shellcheck disable=SC2034 # CNI_UNSET and friends are read by test/lib/cni.sh
# CHECK does real work: it passes on a healthy attachment and fails, with
# the spec's error JSON, when the pod's address was removed, when the pod
# interface is gone, when the host veth was detached from the bridge, and
# when IPAM (delegated CHECK) no longer holds the allocation. Each break is
# repaired afterwards and CHECK must pass again, so each failure is pinned
# to its cause.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
cni_setup

pa=$(cni_pod a)
cni_netns_add "$pa"
cid=ctr-$CNI_RUN
cni_add "$cid" "$pa"
cni_ok_rc "ADD"
res=$CNI_STDOUT
conf=$(cni_with_prev "$(cni_conf)" "$res")
addr=$(jq -r '.ips[0].address' <<<"$res")
host=$(cni_result_host_veth "$res")

check_passes() { cni_run CHECK "$cid" "$pa" eth0 "$conf"; cni_ok_rc "$1"; }
check_fails() {
	cni_run CHECK "$cid" "$pa" eth0 "$conf"
	if [ "$CNI_RC" != 0 ] && [ -n "$(jq -r '.msg // empty' <<<"$CNI_STDOUT" 2>/dev/null)" ]; then
		tap_ok "$1"
	else
		tap_fail "$1" "exit $CNI_RC, stdout: $CNI_STDOUT"
	fi
}

check_passes "CHECK passes after ADD"
tap_eq "CHECK prints nothing on success" "" "$CNI_STDOUT"

ip -n "$pa" addr del "$addr" dev eth0
check_fails "CHECK fails after the pod address was removed by hand"
ip -n "$pa" addr add "$addr" dev eth0
check_passes "CHECK passes again once the address is back"

ip link set dev "$host" nomaster
check_fails "CHECK fails when the host veth is detached from the bridge"
ip link set dev "$host" master "$CNI_BR"
check_passes "CHECK passes again once the veth is back on the bridge"

alloc=$CNI_IPAM_DIR/$CNI_NET/${addr%/*}
ok "host-local holds the allocation" test -f "$alloc"
mv "$alloc" "$CNI_TMP/alloc.saved"
check_fails "CHECK fails when IPAM lost the allocation (delegated CHECK)"
mv "$CNI_TMP/alloc.saved" "$alloc"
check_passes "CHECK passes again once IPAM has it back"

cni_run CHECK "$cid" "$pa" eth0 "$(cni_conf)"
ok "CHECK without prevResult is refused" test "$CNI_RC" != 0

ip -n "$pa" link set dev eth0 name eth9
check_fails "CHECK fails when the pod interface is gone"
ip -n "$pa" link set dev eth9 name eth0

cni_del "$cid" "$pa" eth0 "$conf"
cni_ok_rc "DEL"
check_fails "CHECK fails after DEL"
tap_eq "no host veth left" "" "$(cni_leaked_links)"
tap_eq "no IP allocation left" "" "$(cni_allocations)"
tap_done
