#!/usr/bin/env bash
# hostlane plugin edge cases around state it does not have: GC finds veths
# whose cached state was lost by their ifalias tag and releases their IPAM
# allocation; DEL leaves a link with hostlane's name but someone else's tag
# alone; ADD onto a "bridge" that is not a bridge fails and leaves nothing.
# Self-contained (test/lib/tap.sh only); every name carries this run's id.
. "$(dirname "$0")/../lib/tap.sh"
need_root
HL=$BUILD/bin/hostlane
[ -x "$HL" ] || tap_skip_all "$HL not built"
[ -x /usr/lib/cni/host-local ] || tap_skip_all "containernetworking-plugins not installed"
command -v jq >/dev/null || tap_skip_all "jq not installed"

run=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
tmp=$(mktemp -d "/tmp/hlnl-$run.XXXXXX")
net=hlo-$run br=hlo$run
pfx=10.$((100 + 0x${run:0:2} % 100)).$((0x${run:2:2}))
export HOSTLANE_CACHE_DIR=$tmp/cache CNI_PATH=/usr/lib/cni
ns=()
on_exit "rm -rf '$tmp'"
on_exit "ip link del '$br' 2>/dev/null"
cleanup_links() { # everything tagged for this run's network
	ip -o link show | awk -v p="alias hostlane:$net:" 'index($0, p) { n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); print n }' |
		while read -r l; do ip link del "$l"; done
}
on_exit cleanup_links

conf() { # [extra jq filter]
	jq -nc --arg n "$net" --arg b "$br" --arg s "$pfx.0/24" --arg d "$tmp/ipam" \
		'{cniVersion: "1.1.0", name: $n, type: "hostlane", bridge: $b, isGateway: true, agentSocket: "",
		  ipam: {type: "host-local", subnet: $s, dataDir: $d}}' | jq -c "${1:-.}"
}
hl() { # COMMAND CID NETNS CONFIG -> $out, $rc
	out=$(printf '%s' "$4" | CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=$3 CNI_IFNAME=eth0 "$HL" 2>"$tmp/err")
	rc=$?
}
mkns() { ip netns add "$1" && ns+=("$1") && on_exit "ip netns del '$1' 2>/dev/null"; }
allocs() { ls "$tmp/ipam/$net" 2>/dev/null | grep -c "^$pfx\." ; }
tagged() { ip -o link show | grep -c "alias hostlane:$net:$1:eth0"; }

mkns "hlo-a-$run"; mkns "hlo-b-$run"
hl ADD ca "/var/run/netns/hlo-a-$run" "$(conf)"; tap_eq "ADD a" 0 "$rc"
hl ADD cb "/var/run/netns/hlo-b-$run" "$(conf)"; tap_eq "ADD b" 0 "$rc"
tap_eq "two allocations" 2 "$(allocs)"

# GC after b's cached state is lost: the tag is all that is left.
rm -f "$(grep -rlF '"containerID":"cb"' "$HOSTLANE_CACHE_DIR")"
hl GC "" "" "$(conf '. + {"cni.dev/valid-attachments": [{"containerID": "ca", "ifname": "eth0"}]}')"
tap_eq "GC succeeds" 0 "$rc"
tap_eq "GC removed b's orphaned veth (found by its tag)" 0 "$(tagged cb)"
ok_not "b's pod interface went with it" ip -n "hlo-b-$run" link show eth0
tap_eq "GC released b's address without cached state" 1 "$(allocs)"
tap_eq "a's veth kept" 1 "$(tagged ca)"
ok "a's pod interface kept" ip -n "hlo-a-$run" link show eth0

# DEL must not delete a link that only shares hostlane's name.
hl DEL ca "/var/run/netns/hlo-a-$run" "$(conf)"; tap_eq "DEL a" 0 "$rc"
hl ADD ca "/var/run/netns/hlo-a-$run" "$(conf)"; tap_eq "ADD a again" 0 "$rc"
name=$(jq -r '.interfaces[1].name // empty' <<<"$out")
ip link set "$name" alias "someone-else"
hl DEL ca "/var/run/netns/hlo-a-$run" "$(conf)"; tap_eq "DEL with a foreign tag succeeds" 0 "$rc"
ok "... and leaves the foreign-tagged link alone" ip link show "$name"
ip link del "$name" 2>/dev/null
tap_eq "DEL still released a's address" 0 "$(allocs)"

# ADD onto a bridge name held by something that is not a bridge.
ip link add "$br-x" type veth peer name "$br-y" 2>/dev/null
on_exit "ip link del '$br-x' 2>/dev/null"
hl ADD cc "/var/run/netns/hlo-a-$run" "$(conf ".bridge = \"$br-x\"")"
tap_eq "ADD onto a non-bridge fails with code 7" 7 "$(jq -r .code <<<"$out" 2>/dev/null)"
tap_eq "... leaving no tagged veth" 0 "$(tagged cc)"
ok_not "... no pod interface" ip -n "hlo-a-$run" link show eth0
tap_eq "... and no allocation" 0 "$(allocs)"
tap_done
