#!/usr/bin/env bash
# shellcheck disable=SC2034 # CNI_UNSET and friends are read by test/lib/cni.sh
# DEL is idempotent and always releases: twice in a row, after the netns is
# gone, without prevResult, without CNI_NETNS, with the plugin's cache wiped,
# and for a container that was never added.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
cni_setup

pa=$(cni_pod a)
cni_netns_add "$pa"
cid=ctr-$CNI_RUN

released() { # what
	tap_eq "$1: no host veth left" "" "$(cni_leaked_links)"
	tap_eq "$1: IP allocation released" "" "$(cni_allocations)"
}

# Twice in a row.
cni_add "$cid-1" "$pa"
cni_ok_rc "ADD"
res=$CNI_STDOUT
cni_del "$cid-1" "$pa" eth0 "$(cni_with_prev "$(cni_conf)" "$res")"
cni_ok_rc "DEL"
cni_del "$cid-1" "$pa" eth0 "$(cni_with_prev "$(cni_conf)" "$res")"
cni_ok_rc "second DEL succeeds"
released "DEL twice"
tap_eq "DEL twice: no cache file left" "" "$(cni_cache_files)"

# The netns is deleted first (the runtime tore the sandbox down).
pb=$(cni_pod b)
cni_netns_add "$pb"
cni_add "$cid-2" "$pb"
cni_ok_rc "ADD in a second pod"
res=$CNI_STDOUT
tap_eq "one allocation before DEL" 1 "$(cni_allocations | wc -l)"
ip netns del "$pb"
cni_del "$cid-2" "$pb" eth0 "$(cni_with_prev "$(cni_conf)" "$res")"
cni_ok_rc "DEL after the netns is gone succeeds"
released "netns gone"
CNI_UNSET=(CNI_NETNS)
cni_del "$cid-2" ""
cni_ok_rc "DEL without CNI_NETNS succeeds"
CNI_UNSET=()

# The cached state is missing (e.g. wiped by a reboot of /var/run or by hand):
# DEL must still find the veth and release IPAM.
cni_add "$cid-3" "$pa"
cni_ok_rc "ADD again"
rm -rf "${HOSTLANE_CACHE_DIR:?}"/*
cni_del "$cid-3" "$pa"
cni_ok_rc "DEL with the cache wiped and no prevResult"
released "cache wiped"
ok_not "pod interface gone" ip -n "$pa" link show dev eth0

cni_del "never-added-$CNI_RUN" "$pa"
cni_ok_rc "DEL of a container that was never added succeeds"
tap_eq "DEL of a never-added container prints nothing" "" "$CNI_STDOUT"
tap_done
