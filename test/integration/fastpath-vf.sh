#!/usr/bin/env bash
# fastpath vf end to end through the real plugin and agent, without an SR-IOV
# NIC: a fake sysfs tree (node-agent/vf/tests/mk-sysfs.sh) whose kernel VFs
# are veth ends in the root netns, plus one vfio-pci VF. The agent runs with
# vf.sysfsRoot/pfs and vf.pfSettings false (a stand-in PF takes no VF
# settings: only the netdev's MAC/MTU are set, nothing is sent to the PF).
#   ADD (host-local IPAM): the stand-in netdev becomes CNI_IFNAME in the pod
#   with the IPAM address and the configured MAC/MTU, result has pciID; a
#   second pod gets the other VF; the third gets the vfio VF the DPDK way
#   (pciID, device-info type pci, nothing moved); a fourth: code 11; CHECK;
#   DEL restores name/MAC/MTU and releases the address; DEL after an agent
#   restart restores too; chained vf is refused (7).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
need_root
cni_setup
agent_setup

sys=$CNI_TMP/sys pf=hp$CNI_RUN
devinfo=$CNI_TMP/devinfo
v0=hv${CNI_RUN}0 v1=hv${CNI_RUN}1
mac0=02:00:00:00:7a:00 mac1=02:00:00:00:7a:01
for v in "$v0" "$v1"; do
	ip link add "$v" type veth peer name "${v}p" || tap_skip_all "cannot create veths"
	on_exit "ip link del '$v' 2>/dev/null; ip link del '${v}p' 2>/dev/null"
done
ip link set "$v0" address "$mac0" mtu 1500
ip link set "$v1" address "$mac1" mtu 1500
sh "$HOSTLANE_TOP/node-agent/vf/tests/mk-sysfs.sh" "$sys" "$pf" 3c "iavf:$v0" "iavf:$v1" vfio-pci

jq -n --arg s "$sys" --arg pf "$pf" '{vf: {sysfsRoot: $s, pfs: [$pf], pfSettings: false}}' \
	>"$AG_DIR/conf.json"
agent_start --config "$AG_DIR/conf.json"; tap_eq "agent starts with a vf pool" 0 "$?"
tap_eq "STATUS reports 3 VFs" 3 "$(ctl --json status 2>/dev/null | jq -r ".vf.vfs" 2>/dev/null)"

conf=$(agent_conf vf '. + {mtu: 1400, vf: {mac: "02:00:00:00:7b:01"}} | del(.isGateway)')
a=$(cni_pod a) b=$(cni_pod b) c=$(cni_pod c) d=$(cni_pod d)
for p in "$a" "$b" "$c" "$d"; do cni_netns_add "$p"; done
export HOSTLANE_DEVINFO_DIR=$devinfo
link() { ip -n "$1" -o link show dev "$2" 2>/dev/null; }
mac_of() { sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
mtu_of() { sed -n 's/.* mtu \([0-9]*\).*/\1/p'; }

# --- pod A: kernel VF 0 -------------------------------------------------------
cni_add "cid-a-$CNI_RUN" "$a" net1 "$conf"; cni_ok_rc "ADD pod A (fastpath vf)"
res_a=$CNI_STDOUT ip_a=$(cni_result_ip "$res_a")
tap_eq "result: one interface, net1, with pciID of VF 0" "net1 0000:3c:02.0 /var/run/netns/$a" \
	"$(jq -r '[.interfaces | length, .[0].name, .[0].pciID, .[0].sandbox] | .[1:] | join(" ")' <<<"$res_a" 2>/dev/null)"
tap_eq "result: the IPAM address on interface 0" "0 $CNI_PFX" \
	"$(jq -r '"\(.ips[0].interface) \(.ips[0].address | split(".")[0:3] | join("."))"' <<<"$res_a" 2>/dev/null)"
ok_not "stand-in VF 0 left the root netns" ip link show dev "$v0"
tap_eq "net1 in pod A has the configured MAC" "02:00:00:00:7b:01" "$(link "$a" net1 | mac_of)"
tap_eq "net1 in pod A has the network's MTU" 1400 "$(link "$a" net1 | mtu_of)"
ok "net1 in pod A carries the IPAM address $ip_a" sh -c "ip -n '$a' -o addr show dev net1 | grep -q ' $ip_a/'"
ok "net1 in pod A is up" sh -c "ip -n '$a' -o link show dev net1 | grep -q '[<,]UP[,>]'"
tap_eq "agent records the VF" "vf 0000:3c:02.0" \
	"$(ctl --json pod "cid-a-$CNI_RUN" 2>/dev/null | jq -r '(.pod // .) | "\(.fastpath) \(.vf.pciID)"' 2>/dev/null)"
cni_run CHECK "cid-a-$CNI_RUN" "$a" net1 "$(cni_with_prev "$conf" "$res_a")"
cni_ok_rc "CHECK pod A"

# --- pod B: the other kernel VF ------------------------------------------------
cni_add "cid-b-$CNI_RUN" "$b" net1 "$(jq -c 'del(.vf)' <<<"$conf")"; cni_ok_rc "ADD pod B"
res_b=$CNI_STDOUT
tap_eq "pod B gets VF 1" "0000:3c:02.1" "$(jq -r '.interfaces[0].pciID' <<<"$res_b" 2>/dev/null)"
tap_eq "pod B's net1 keeps VF 1's own MAC (no vf.mac)" "$mac1" "$(link "$b" net1 | mac_of)"

# --- pod C: the vfio VF, DPDK way ----------------------------------------------
cni_add "cid-c-$CNI_RUN" "$c" net1 "$conf"; cni_ok_rc "ADD pod C (vfio VF)"
res_c=$CNI_STDOUT
tap_eq "pod C: pciID of the vfio VF" "0000:3c:02.2" "$(jq -r '.interfaces[0].pciID' <<<"$res_c" 2>/dev/null)"
di=$devinfo/$CNI_NET-cid-c-$CNI_RUN-net1-device-info.json
tap_eq "device-info file of type pci" "pci 0000:3c:02.2" \
	"$(jq -r '"\(.type) \(.pci["pci-address"])"' "$di" 2>/dev/null)"
ok_not "nothing named net1 was moved into pod C" ip -n "$c" link show dev net1

# --- pod D: exhausted --------------------------------------------------------
cni_add "cid-d-$CNI_RUN" "$d" net1 "$conf"
cni_err_code "ADD pod D: pool exhausted -> 11" 11 "no free SR-IOV VF"
ok_not "a failed ADD leaves no address allocated for D" \
	sh -c "grep -rqs 'cid-d-$CNI_RUN' '$CNI_IPAM_DIR/$CNI_NET'"

# --- chained vf is refused ----------------------------------------------------
cni_add "cid-e-$CNI_RUN" "$d" net2 "$(cni_with_prev "$conf" "$res_b")"
cni_err_code "chained vf refused" 7 "standalone"

# --- DEL A: restored ------------------------------------------------------------
cni_del "cid-a-$CNI_RUN" "$a" net1 "$conf"; cni_ok_rc "DEL pod A"
tap_eq "VF 0 back in the root netns with its name, MAC and MTU" "$mac0 1500" \
	"$(ip -o link show dev "$v0" 2>/dev/null | mac_of) $(ip -o link show dev "$v0" 2>/dev/null | mtu_of)"
ok_not "pod A's address released" sh -c "grep -rqs 'cid-a-$CNI_RUN' '$CNI_IPAM_DIR/$CNI_NET'"
cni_del "cid-a-$CNI_RUN" "$a" net1 "$conf"; cni_ok_rc "DEL pod A again (idempotent)"

# --- DEL B after an agent restart ---------------------------------------------
agent_stop
agent_start --config "$AG_DIR/conf.json"; tap_eq "agent restarts" 0 "$?"
cni_del "cid-b-$CNI_RUN" "$b" net1 "$conf"; cni_ok_rc "DEL pod B after the restart"
tap_eq "VF 1 restored after the restart" "$mac1 1500" \
	"$(ip -o link show dev "$v1" 2>/dev/null | mac_of) $(ip -o link show dev "$v1" 2>/dev/null | mtu_of)"
cni_del "cid-c-$CNI_RUN" "$c" net1 "$conf"; cni_ok_rc "DEL pod C"
ok_not "pod C's device-info file removed" test -e "$di"
cni_add "cid-d-$CNI_RUN" "$d" net1 "$conf"; cni_ok_rc "ADD pod D now that VFs are free"
tap_eq "pod D got VF 0 again" "0000:3c:02.0" "$(jq -r '.interfaces[0].pciID' <<<"$CNI_STDOUT" 2>/dev/null)"
cni_del "cid-d-$CNI_RUN" "$d" net1 "$conf"; cni_ok_rc "DEL pod D"
ok "VF 0 back in the root netns" ip link show dev "$v0"
tap_eq "agent holds no pods" 0 "$(ctl --json status 2>/dev/null | jq -r ".pods" 2>/dev/null)"
tap_done
