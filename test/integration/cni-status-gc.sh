#!/usr/bin/env bash
# shellcheck disable=SC2034 # CNI_UNSET and friends are read by test/lib/cni.sh
# STATUS and GC (CNI 1.1.0) do real work. STATUS: 0 when ADDs can be served
# (the IPAM plugin is there), 50 when the IPAM plugin is missing from
# CNI_PATH. GC: the attachment missing from cni.dev/valid-attachments loses
# its host veth, its cached state and its host-local allocation; the valid
# one keeps all three and still works; a stale attachment whose cached state
# was lost is found by its veth's alias and released too.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
cni_setup

# STATUS gets only CNI_COMMAND and CNI_PATH.
status() { # what-env CONFIG [CNI_PATH]
	local saved=$CNI_PATH
	CNI_UNSET=(CNI_CONTAINERID CNI_NETNS CNI_IFNAME)
	[ $# -gt 2 ] && CNI_PATH=$3
	cni_exec "$CNI_TMP/bin/hostlane" STATUS "" "" "" "$2"
	CNI_PATH=$saved CNI_UNSET=()
}
# A network that opts out of the agent ("agentSocket": "") is served by the
# plugin and IPAM alone, so its STATUS is IPAM's and the bridge's.
noagent=". + {fastpath: \"none\", agentSocket: \"\"}"
status - "$(cni_conf "$noagent")"
cni_ok_rc "STATUS is 0 with host-local on CNI_PATH (network without agent)"
tap_eq "STATUS prints nothing on success" "" "$CNI_STDOUT"
# With an agent configured but not running, ADDs cannot be served as asked
# (the pod's annotation and the pod record need it): 50, naming the socket.
status - "$(cni_conf ". + {agentSocket: \"$CNI_TMP/no-agent.sock\"}")"
cni_err_code "STATUS is 50 when the configured agent is unreachable" 50 "no-agent.sock"
# A fast path without an agent is a configuration error (7), not a silent none.
status - "$(cni_conf ". + {fastpath: \"shm\", agentSocket: \"\"}")"
cni_err_code "fastpath shm with agentSocket \"\" is invalid config" 7 "agentSocket"
mkdir -p "$CNI_TMP/noipam"
ln -s "$HL_BIN" "$CNI_TMP/noipam/hostlane"
status - "$(cni_conf "$noagent")" "$CNI_TMP/noipam"
cni_err_code "STATUS is 50 when the IPAM plugin is missing from CNI_PATH" 50
status - "$(cni_conf "$noagent | .ipam.type = \"no-such-ipam\"")"
cni_err_code "STATUS is 50 when ipam.type names no plugin" 50

gc() { # VALID-ATTACHMENTS-JSON
	CNI_UNSET=(CNI_CONTAINERID CNI_NETNS CNI_IFNAME)
	cni_exec hostlane GC "" "" "" "$(cni_conf '. + {"cni.dev/valid-attachments": $v}' --argjson v "$1")"
	CNI_UNSET=()
}
# cache_of CID: the cache files that belong to a container (by name or content).
cache_of() {
	{ find "$HOSTLANE_CACHE_DIR" -type f -name "*$1*"; grep -rlF -- "$1" "$HOSTLANE_CACHE_DIR"; } 2>/dev/null | sort -u
}
veth_of() { # CID
	ip -o link show 2>/dev/null | awk -v p="alias hostlane:$CNI_NET:$1:eth0" '
		index($0, p) { n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); print n }'
}

pa=$(cni_pod a) pb=$(cni_pod b)
cni_netns_add "$pa"
cni_netns_add "$pb"
# What STATUS 0 promised: an ADD with the same config (no agent) is served.
cni_add "probe-$CNI_RUN" "$pa" eth0 "$(cni_conf "$noagent")"
cni_ok_rc "ADD with the STATUS config (fastpath none, no agent) is served"
cni_del "probe-$CNI_RUN" "$pa" eth0 "$(cni_conf "$noagent")"
cni_ok_rc "... and DEL"
keep=keep-$CNI_RUN stale=stale-$CNI_RUN
cni_add "$keep" "$pa"
cni_ok_rc "ADD the attachment to keep"
res_keep=$CNI_STDOUT
cni_add "$stale" "$pb"
cni_ok_rc "ADD the stale attachment"
ip_keep=$(cni_result_ip "$res_keep") ip_stale=$(cni_result_ip "$CNI_STDOUT")
ok "stale attachment has a host veth" test -n "$(veth_of "$stale")"
ok "stale attachment has cached state" test -n "$(cache_of "$stale")"
ok "stale attachment has a host-local allocation" test -f "$CNI_IPAM_DIR/$CNI_NET/$ip_stale"
# A stale attachment whose cached state was lost: GC must still find its
# veth (by its alias) and release its address.
pc=$(cni_pod c) lost=lost-$CNI_RUN
cni_netns_add "$pc"
cni_add "$lost" "$pc"
cni_ok_rc "ADD the stale attachment whose cache will be lost"
ip_lost=$(cni_result_ip "$CNI_STDOUT")
cache_of "$lost" | xargs -r rm -f
tap_eq "its cached state is gone" "" "$(cache_of "$lost")"

gc "[{\"containerID\": \"$keep\", \"ifname\": \"eth0\"}]"
cni_ok_rc "GC with only the kept attachment valid"
tap_eq "GC: stale host veth removed" "" "$(veth_of "$stale")"
ok_not "GC: stale pod interface gone with its peer" ip -n "$pb" link show dev eth0
tap_eq "GC: stale cached state removed" "" "$(cache_of "$stale")"
ok_not "GC: stale host-local allocation released" test -f "$CNI_IPAM_DIR/$CNI_NET/$ip_stale"
tap_eq "GC: host veth of the cache-less stale attachment removed" "" "$(veth_of "$lost")"
ok_not "GC: its host-local allocation released" test -f "$CNI_IPAM_DIR/$CNI_NET/$ip_lost"
ok "GC: kept host veth still there" test -n "$(veth_of "$keep")"
tap_eq "GC: kept host veth still on the bridge" "$CNI_BR" "$(cni_link_master "$(veth_of "$keep")")"
ok "GC: kept cached state still there" test -n "$(cache_of "$keep")"
ok "GC: kept host-local allocation still there" test -f "$CNI_IPAM_DIR/$CNI_NET/$ip_keep"
cni_run CHECK "$keep" "$pa" eth0 "$(cni_with_prev "$(cni_conf)" "$res_keep")"
cni_ok_rc "GC: the kept attachment still passes CHECK"

gc "[{\"containerID\": \"$keep\", \"ifname\": \"eth0\"}]"
cni_ok_rc "GC again (nothing stale) succeeds"
ok "... and keeps the valid attachment" test -n "$(veth_of "$keep")"

gc '[]'
cni_ok_rc "GC with no valid attachment"
tap_eq "GC with an empty list: no host veth left" "" "$(cni_leaked_links)"
tap_eq "GC with an empty list: no allocation left" "" "$(cni_allocations)"
tap_eq "GC with an empty list: no cache file left" "" "$(cni_cache_files)"
cni_del "$keep" "$pa"
cni_ok_rc "DEL after GC removed it still succeeds"
tap_done
