#!/usr/bin/env bash
# SR-IOV VF kernel and DPDK modes without an SR-IOV NIC: a fake sysfs tree
# with the real layout (node-agent/vf/tests/mk-sysfs.sh) whose VF netdevs are
# veth ends in the root netns. Drives build/bin/hlvf (each call reopens the
# pool from its persisted state, as a restarted agent does) and checks the
# results with iproute2, independently of the library.
. "$(dirname "$0")/../lib/tap.sh"
need_root
HLVF=$BUILD/bin/hlvf
[ -x "$HLVF" ] || tap_skip_all "$HLVF not built"

id=$$
tmp=$(mktemp -d /tmp/hlvf-it.XXXXXX)
on_exit "rm -rf '$tmp'"
sys=$tmp/sys
state=$tmp/state
pf=hp${id}
ns=hlvf-$id-a
ns2=hlvf-$id-b
nsdir=/var/run/netns

# 8 kernel VFs (veth ends hv<id>k<N>), 1 vfio-pci VF, on PF $pf.
specs=()
for n in 0 1 2 3 4 5 6 7; do
	v=hv${id}k$n
	ip link add "$v" type veth peer name "${v}p" || tap_skip_all "cannot create veths"
	on_exit "ip link del '$v'"
	ip link set "$v" address "02:00:00:00:$(printf %02x $((id % 256))):$(printf %02x $n)" mtu 1500
	specs+=("iavf:$v")
done
specs+=(vfio-pci)
sh "$HOSTLANE_TOP/node-agent/vf/tests/mk-sysfs.sh" "$sys" "$pf" 3b "${specs[@]}"
for n in "$ns" "$ns2"; do
	ip netns add "$n"
	on_exit "ip netns del '$n'"
done

vf() { "$HLVF" --sysfs "$sys" --pf "$pf" --state "$state" "$@"; }
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" | head -n1; }
link_attr() { # ns|-, name, what: mac|mtu|up
	local out
	if [ "$1" = - ]; then out=$(ip -o link show dev "$2" 2>/dev/null); else out=$(ip -n "$1" -o link show dev "$2" 2>/dev/null); fi
	[ -n "$out" ] || { echo absent; return; }
	case $3 in
	mac) sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p' <<<"$out" ;;
	mtu) sed -n 's/.* mtu \([0-9]*\).*/\1/p' <<<"$out" ;;
	up) if grep -q '<[^>]*\bUP\b' <<<"$out"; then echo up; else echo down; fi ;;
	esac
}

# --- discovery
list=$(vf list)
tap_eq "discovers 9 VFs" 9 "$(wc -l <<<"$list")"
tap_eq "VF 8 is vfio-pci, DPDK mode" "dpdk" "$(grep '0000:3b:03.0' <<<"$list" | field mode)"

# --- kernel attach: the right netdev moves in, renamed, with MAC/MTU, up
owner="$nsdir/$ns|ctr-a|net1"
out=$(vf alloc "$owner" kernel)
pci=$(field pci <<<"$out"); dev=$(field netdev <<<"$out")
tap_eq "alloc gives the first VF" "0000:3b:02.0" "$pci"
tap_eq "its netdev is the veth named in sysfs" "hv${id}k0" "$dev"
origmac=$(link_attr - "$dev" mac)
ip link set "$dev" mtu 1400   # changed after alloc: not what release restores
orig_mtu=1500
out=$(vf --netdev-only attach "$owner" "$nsdir/$ns" net1 '{"mac":"02:aa:bb:cc:dd:01","mtu":1280}')
tap_eq "attach reports pciID" "$pci" "$(sed -n 's/^pciID=//p' <<<"$out")"
tap_eq "netdev gone from the host" absent "$(link_attr - "$dev" mac)"
tap_eq "net1 in the pod has the MAC" "02:aa:bb:cc:dd:01" "$(link_attr "$ns" net1 mac)"
tap_eq "net1 in the pod has the MTU" 1280 "$(link_attr "$ns" net1 mtu)"
tap_eq "net1 in the pod is up" up "$(link_attr "$ns" net1 up)"
ok "attach again (retried ADD) is idempotent" vf --netdev-only attach "$owner" "$nsdir/$ns" net1 '{"mtu":1280}'

# --- restart: a new process releases from the persisted record
ok "release restores" vf release "$owner"
tap_eq "net1 gone from the pod" absent "$(link_attr "$ns" net1 mac)"
tap_eq "original name back in the host" "$origmac" "$(link_attr - "$dev" mac)"
tap_eq "original MTU (recorded at alloc) back" "$orig_mtu" "$(link_attr - "$dev" mtu)"
tap_eq "slot free" free "$(vf list | grep "$pci" | field state)"
ok "second release is a no-op" vf release "$owner"

# --- an old pod's late DEL after the VF went to a new pod
old="$nsdir/$ns|old|net1" new="$nsdir/$ns2|new|net1"
vf alloc-pci "$old" 0000:3b:02.1 >/dev/null
vf --netdev-only attach "$old" "$nsdir/$ns" net1 >/dev/null
vf release "$old"
vf alloc-pci "$new" 0000:3b:02.1 >/dev/null
vf --netdev-only attach "$new" "$nsdir/$ns2" eth1 >/dev/null
ok "late release by the old owner succeeds (no-op)" vf release "$old"
tap_eq "new owner's netdev stays in its pod" up "$(link_attr "$ns2" eth1 up)"
tap_eq "new owner still holds the VF" "$new" "$(vf list | grep 0000:3b:02.1 | sed 's/.*owner=//')"
ok "release by the new owner" vf release "$new"
tap_eq "VF 1 back in the host" "hv${id}k1" "$(ip -o link show dev "hv${id}k1" | awk -F': ' '{print $2}' | cut -d@ -f1)"

# --- PF settings: the stand-in PF (a veth) rejects them; attach rolls back
ip link add "$pf" type veth peer name "${pf}p"
on_exit "ip link del '$pf'"
o3="$nsdir/$ns|pfset|net1"
vf alloc-pci "$o3" 0000:3b:02.2 >/dev/null
ok_not "attach with vlan on a PF without VF support fails" vf attach "$o3" "$nsdir/$ns" net1 '{"vlan":100}'
tap_eq "netdev stayed in the host" "02:00:00:00:$(printf %02x $((id % 256))):02" "$(link_attr - "hv${id}k2" mac)"
tap_eq "slot still with its owner, allocated" allocated "$(vf list | grep 0000:3b:02.2 | field state)"
ok "release after failed attach" vf release "$o3"

# --- pod netns deleted before DEL (veth stand-in dies with it; real VFs return)
ip netns add "$ns-x"
on_exit "ip netns del '$ns-x'"
o4="$nsdir/$ns-x|gone|net1"
vf alloc-pci "$o4" 0000:3b:02.3 >/dev/null
vf --netdev-only attach "$o4" "$nsdir/$ns-x" net1 >/dev/null
ip netns del "$ns-x"
ok "release after the pod netns is gone" vf release "$o4"
tap_eq "slot freed" free "$(vf list | grep 0000:3b:02.3 | field state)"

# --- 20 parallel allocations by separate processes: 7 free VFs of the 8
#     kernel ones remain (02.3's netdev died) plus the vfio one -> 8 free
pids=()
for i in $(seq 1 20); do
	( vf alloc "par|$i|net1" >"$tmp/par.$i" 2>&1; echo $? >"$tmp/rc.$i" ) &
	pids+=($!)
done
wait "${pids[@]}"
okn=0 again=0
for i in $(seq 1 20); do
	case $(cat "$tmp/rc.$i") in 0) okn=$((okn + 1)) ;; 11) again=$((again + 1)) ;; esac
done
tap_eq "20 parallel allocs: 8 succeed" 8 "$okn"
tap_eq "20 parallel allocs: 12 get exit 11 (try again later)" 12 "$again"
tap_eq "no VF handed out twice" 8 "$(grep -oh "^pci=[^ ]*" "$tmp"/par.* | sort -u | grep -c .)"
grep -q "no free SR-IOV VF" "$tmp"/par.* && tap_ok "exhaustion message is clear" || tap_fail "exhaustion message is clear"
for i in $(seq 1 20); do vf release "par|$i|net1"; done
tap_eq "all free again" 0 "$(vf list | grep -vc 'state=free')"

# --- DPDK mode: vfio-bound VF is not moved; device-info file of type pci
o5="$nsdir/$ns|dpdk|net1"
vf alloc "$o5" dpdk >/dev/null
out=$(vf attach-dpdk "$o5" '' "$tmp/devinfo/cni/net1-device-info.json")
tap_eq "DPDK attach reports pciID" 0000:3b:03.0 "$(sed -n 's/^pciID=//p' <<<"$out")"
if command -v jq >/dev/null; then
	tap_eq "device-info type pci" pci "$(jq -r .type "$tmp/devinfo/cni/net1-device-info.json")"
	tap_eq "device-info pci-address" 0000:3b:03.0 "$(jq -r '.pci["pci-address"]' "$tmp/devinfo/cni/net1-device-info.json")"
	tap_eq "device-info pf-pci-address" 0000:3b:00.0 "$(jq -r '.pci["pf-pci-address"]' "$tmp/devinfo/cni/net1-device-info.json")"
else
	tap_skip "device-info fields" "jq not installed"
fi
ok_not "kernel attach of a vfio VF is refused" vf attach "$o5" "$nsdir/$ns" net2
ok "DPDK release" vf release "$o5"

tap_done
