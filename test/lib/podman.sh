# shellcheck shell=bash
# podman (CNI backend) on a hostlane network, its plugins and configuration
# private to the run. Source test/lib/cni.sh and call cni_setup first.
#
#   podman_cni_net DIR [JSON]  in DIR: plugins/ (Debian's reference plugins
#                        and hostlane through a wrapper that pins the run's
#                        cache dir: podman's cleanup process may not carry
#                        our environment), net.d/ with the run's conflist
#                        (hostlane on the run's bridge, host-local; JSON is
#                        merged into hostlane's entry) and containers.conf,
#                        exported as CONTAINERS_CONF
podman_cni_net() {
	local d=$1 extra=${2:-"{}"}
	mkdir -p "$d/plugins" "$d/net.d"
	ln -s "$CNI_SYS_DIR"/* "$d/plugins/"
	printf '#!/bin/sh\nHOSTLANE_CACHE_DIR=%s exec %s "$@"\n' "$HOSTLANE_CACHE_DIR" "$HL_BIN" >"$d/plugins/hostlane"
	chmod +x "$d/plugins/hostlane"
	jq -n --arg name "$CNI_NET" --arg br "$CNI_BR" --arg subnet "$CNI_SUBNET" --arg dir "$CNI_IPAM_DIR" \
		--argjson extra "$extra" '
		{cniVersion: "1.0.0", name: $name, plugins: [
		  {type: "hostlane", bridge: $br, isGateway: true, agentSocket: "",
		   ipam: {type: "host-local", subnet: $subnet, dataDir: $dir}} + $extra]}' \
		>"$d/net.d/$CNI_NET.conflist"
	cat >"$d/containers.conf" <<CONF
[network]
network_backend = "cni"
cni_plugin_dirs = ["$d/plugins"]
network_config_dir = "$d/net.d"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$d/events.log"
CONF
	export CONTAINERS_CONF=$d/containers.conf
}
