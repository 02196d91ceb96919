#!/usr/bin/env bash
# The self-contained plugin ($BUILD/static/bin/hostlane, what `make install`
# and the image ship) on a node that has nothing but a kernel: it is a static
# executable (no interpreter, no NEEDED library), and it runs in a root
# directory (chroot, private mount namespace) that holds nothing but the
# plugin, the pod's netns file bound in, and the kernel's /proc:
#   VERSION; chained ADD, CHECK and DEL (prevResult from a "primary"
#   plugin, no IPAM to call).
# Then standalone, in a root with the plugin and the IPAM plugin it
# delegates to (Debian's host-local, which brings its own libc and loader
# along; the plugin uses neither): ADD (veth, bridge, address from
# host-local), CHECK, DEL, and nothing left.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
cni_setup
static=$BUILD/static/bin/hostlane
[ -x "$static" ] || { tap_fail "static plugin is built" "missing $static"; tap_done; exit 1; }
command -v unshare >/dev/null || tap_skip_all "unshare (util-linux) is not installed"

tap_eq "no program interpreter (static)" "" "$(readelf -l "$static" | grep -o 'interpreter: [^]]*')"
tap_eq "no shared library needed" "" "$(readelf -d "$static" 2>/dev/null | grep NEEDED)"

pod=$(cni_pod a)
cni_netns_add "$pod"
# run ROOT COMMAND [CONF]: the plugin in ROOT as the runtime would exec it
# (CNI_PATH=/opt/cni/bin inside), with the pod's netns bound in at /netns
# and /proc mounted: everything else the plugin opens must be in ROOT.
run_in() {
	local root=$1 cmd=$2 conf=${3:-}
	mkdir -p "$root/proc"
	: >"$root/netns"
	CNI_STDERR=$(mktemp "$CNI_TMP/err.XXXXXX")
	CNI_STDOUT=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND="$cmd" \
		CNI_CONTAINERID="cid-$CNI_RUN" CNI_NETNS=/netns CNI_IFNAME=eth0 \
		CNI_PATH=/opt/cni/bin CNI_ARGS="IgnoreUnknown=1" \
		unshare -m --propagation private sh -c '
		mount --bind "/var/run/netns/$1" "$2/netns" && mount -t proc proc "$2/proc" &&
		exec chroot "$2" /opt/cni/bin/hostlane' sh "$pod" "$root" <<<"$conf" 2>"$CNI_STDERR")
	CNI_RC=$?
	CNI_STDERR=$(cat "$CNI_STDERR")
}
# What a root holds, as "type path" lines (the mount points are empty).
tree() { (cd "$1" && find . -mindepth 1 ! -path './proc/*' -printf '%y %p\n' | sort); }

# ---- a root with the plugin only ----
A=$CNI_TMP/root-a
mkdir -p "$A/opt/cni/bin"
cp "$static" "$A/opt/cni/bin/hostlane"
tap_eq "the root holds the plugin and nothing else" "d ./opt d ./opt/cni d ./opt/cni/bin f ./opt/cni/bin/hostlane" \
	"$(tree "$A" | tr '\n' ' ' | sed 's/ $//')"
run_in "$A" VERSION '{"cniVersion": "1.0.0"}'
cni_ok_rc "VERSION in an empty root"
tap_eq "VERSION lists 1.0.0" 1.0.0 "$(jq -r '.supportedVersions[] | select(. == "1.0.0")' <<<"$CNI_STDOUT" 2>/dev/null)"

# A "primary" plugin's work: a veth into the pod with an address.
ip link add "hv$CNI_RUN" type veth peer name eth0 netns "$pod"
ip -n "$pod" addr add "$CNI_PFX.5/24" dev eth0 && ip -n "$pod" link set eth0 up
prev=$(jq -nc --arg ns /netns --arg ip "$CNI_PFX.5/24" --arg gw "$CNI_PFX.1" \
	'{cniVersion: "1.0.0", interfaces: [{name: "eth0", sandbox: $ns}],
	  ips: [{interface: 0, address: $ip, gateway: $gw}]}')
conf=$(jq -nc --arg n "$CNI_NET" --argjson p "$prev" \
	'{cniVersion: "1.0.0", name: $n, type: "hostlane", fastpath: "none", agentSocket: "", prevResult: $p}')
run_in "$A" ADD "$conf"
cni_ok_rc "chained ADD in an empty root"
tap_eq "chained ADD passes the primary's address through" "$CNI_PFX.5/24" \
	"$(jq -r '.ips[0].address' <<<"$CNI_STDOUT" 2>/dev/null)"
res=$CNI_STDOUT
run_in "$A" CHECK "$(jq -c --argjson r "$res" '.prevResult = $r' <<<"$conf")"
cni_ok_rc "chained CHECK in an empty root"
run_in "$A" DEL "$(jq -c --argjson r "$res" '.prevResult = $r' <<<"$conf")"
cni_ok_rc "chained DEL in an empty root"
ip link del "hv$CNI_RUN" 2>/dev/null

# ---- a root with the plugin and host-local ----
B=$CNI_TMP/root-b
mkdir -p "$B/opt/cni/bin"
cp "$static" "$B/opt/cni/bin/hostlane"
cp "$CNI_SYS_DIR/host-local" "$B/opt/cni/bin/host-local"
for lib in $(ldd "$CNI_SYS_DIR/host-local" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
	mkdir -p "$B$(dirname "$lib")" && cp -L "$lib" "$B$lib"
done
conf=$(jq -nc --arg n "$CNI_NET" --arg br "$CNI_BR" --arg s "$CNI_SUBNET" \
	'{cniVersion: "1.0.0", name: $n, type: "hostlane", bridge: $br, isGateway: true,
	  fastpath: "none", agentSocket: "", ipam: {type: "host-local", subnet: $s, dataDir: "/var/lib/cni/networks"}}')
run_in "$B" ADD "$conf"
cni_ok_rc "standalone ADD in a root with the plugin and host-local"
res=$CNI_STDOUT
ip=$(jq -r '.ips[0].address' <<<"$res" 2>/dev/null)
tap_eq "ADD: address from host-local in the pod" "$ip" \
	"$(ip -n "$pod" -o -4 addr show eth0 2>/dev/null | awk '{ print $4 }')"
ok "ADD: the pod's host veth is on the bridge" test -n "$(cni_bridge_ports "$CNI_BR")"
run_in "$B" CHECK "$(jq -c --argjson r "$res" '. + {prevResult: $r}' <<<"$conf")"
cni_ok_rc "standalone CHECK in that root"
run_in "$B" DEL "$(jq -c --argjson r "$res" '. + {prevResult: $r}' <<<"$conf")"
cni_ok_rc "standalone DEL in that root"
ok_not "DEL: the pod's interface is gone" ip -n "$pod" link show eth0
tap_eq "DEL: no bridge port left" "" "$(cni_bridge_ports "$CNI_BR")"
tap_eq "DEL: no address left allocated" "" \
	"$(find "$B/var/lib/cni/networks" -type f -regex '.*/[0-9.]+$' 2>/dev/null)"
tap_eq "DEL: no attachment left in the plugin's cache" "" \
	"$(find "$B/var/lib/cni/hostlane" -type f ! -name '*.lock' 2>/dev/null)"
tap_done
