#!/usr/bin/env bash
# shellcheck disable=SC2034 # CNI_UNSET and friends are read by test/lib/cni.sh
# A real client: podman 4.3 (CNI backend) runs two containers from a
# busybox-static root directory on a hostlane network (a conflist in a
# test-private config dir, hostlane found through a test-private
# containers.conf). Each container fetches the other's token over TCP; then
# `podman rm -f` runs DEL and nothing is left: no host veth, no bridge port,
# no netns, no host-local allocation, no hostlane cache file, no libcni
# result. podman's storage, runroot and tmpdir are private to the run.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/podman.sh"
cni_setup
command -v podman >/dev/null || tap_skip_all "podman is not installed (hack/deps.sh installs it)"
command -v runc >/dev/null || tap_skip_all "runc is not installed (hack/deps.sh installs it)"
[ -x /bin/busybox ] || tap_skip_all "busybox-static is not installed (hack/deps.sh installs it)"

T=$CNI_TMP/podman
mkdir -p "$T/rootfs/bin" "$T/rootfs/etc" "$T/plugins" "$T/net.d" "$T/tmp"
cp /bin/busybox "$T/rootfs/bin/"
for a in sh httpd wget sleep cat; do ln -s busybox "$T/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/:/bin/sh' >"$T/rootfs/etc/passwd"
echo 'root:x:0:' >"$T/rootfs/etc/group"
for c in a b; do
	mkdir -p "$T/rootfs/www-$c"
	echo "token-$c-$(cni_rand_hex 8)" >"$T/rootfs/www-$c/index.html"
done

# podman finds plugins in cni_plugin_dirs (test/lib/podman.sh).
podman_cni_net "$T"
PM=(podman --root "$T/root" --runroot "$T/runroot" --tmpdir "$T/tmp" --storage-driver vfs
	--network-backend cni --cni-config-dir "$T/net.d")
pm() { "${PM[@]}" "$@"; }
# MACHINE-NOTES says --ulimit host; here runc lacks CAP_SYS_RESOURCE and
# podman still asks for NOFILE 1048576 with it, so pin limits below ours.
RUNOPTS=(--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

podman_cleanup() {
	pm rm -a -f -t 0 >/dev/null 2>&1
	# podman may leave mounts (shm, rootfs binds) under its private dirs.
	awk -v t="$T" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
}
on_exit podman_cleanup

for c in a b; do
	if out=$(pm run -d --name "hlt-$CNI_RUN-$c" "${RUNOPTS[@]}" --network "$CNI_NET" \
		--rootfs "$T/rootfs" /bin/httpd -f -p 8080 -h "/www-$c" 2>&1); then
		tap_ok "podman run container $c on the hostlane network"
	else
		tap_fail "podman run container $c on the hostlane network" "$out"
	fi
done
inspect() { pm inspect "hlt-$CNI_RUN-$1" --format "$2" 2>/dev/null; }
ip_a=$(inspect a "{{(index .NetworkSettings.Networks \"$CNI_NET\").IPAddress}}")
ip_b=$(inspect b "{{(index .NetworkSettings.Networks \"$CNI_NET\").IPAddress}}")
id_a=$(inspect a '{{.Id}}')
ns_a=$(inspect a '{{.NetworkSettings.SandboxKey}}') ns_b=$(inspect b '{{.NetworkSettings.SandboxKey}}')
tap_eq "container a got an address from the subnet" "$CNI_PFX" "$(cut -d. -f1-3 <<<"$ip_a")"
tap_eq "container b got an address from the subnet" "$CNI_PFX" "$(cut -d. -f1-3 <<<"$ip_b")"
ok "distinct addresses ($ip_a, $ip_b)" test "$ip_a" != "$ip_b"
tap_eq "two host veths on the bridge" 2 "$(cni_bridge_ports "$CNI_BR" | wc -l)"
if [ "$(basename "$HL_BIN")" = hostlane ]; then
	ok "container a's host veth carries its alias" \
		sh -c "ip -o link show | grep -q 'alias hostlane:$CNI_NET:$id_a:eth0'"
fi
tap_eq "host-local holds two allocations" 2 "$(cni_allocations | wc -l)"

for pair in "a b $ip_b" "b a $ip_a"; do
	set -- $pair
	want=$(cat "$T/rootfs/www-$2/index.html")
	got=""
	for _ in $(seq 1 50); do # readiness of httpd, bounded
		got=$(timeout 20 "${PM[@]}" exec "hlt-$CNI_RUN-$1" wget -q -O - "http://$3:8080/index.html" 2>/dev/null) && break
		sleep 0.2
	done
	tap_eq "container $1 fetches container $2's token over TCP" "$want" "$got"
done

ok "podman rm -f both containers (runs DEL)" pm rm -f -t 0 "hlt-$CNI_RUN-a" "hlt-$CNI_RUN-b"
tap_eq "no host veth left" "" "$(cni_leaked_links)"
tap_eq "no host-local allocation left" "" "$(cni_allocations)"
tap_eq "no hostlane cache file left" "" "$(cni_cache_files)"
ok_not "container a's netns is gone" test -e "${ns_a:-/nonexistent-ns-a}"
ok_not "container b's netns is gone" test -e "${ns_b:-/nonexistent-ns-b}"
tap_eq "no libcni result cached for the network" "" \
	"$(find /var/lib/cni/results -name "$CNI_NET-*" 2>/dev/null)"
tap_eq "no container left in the private store" "" "$(pm ps -a -q 2>/dev/null)"
tap_done
