#!/usr/bin/env bash
# Installs what hostlane's build, tests, benchmarks and demo need, with
# apt-get, only when something is missing (quiet when all is present), and
# reserves hugepages. Idempotent. Needs root for anything it has to install.
set -eu
PKGS=(
	build-essential pkg-config clang libclang-rt-14-dev cppcheck valgrind
	check libsubunit-dev libmnl-dev libnl-3-dev libnl-route-3-dev
	libcjson-dev libcurl4-openssl-dev libyaml-dev python3
	iproute2 procps psmisc jq curl openssl util-linux
	containernetworking-plugins podman runc busybox-static
	dpdk dpdk-dev libdpdk-dev openvswitch-switch-dpdk
	sockperf iperf3 redis-server redis-tools nginx wrk hyperfine
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing ${missing[*]}; run as root to install" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	# The packaged servers must not keep running on this machine: tests and
	# the demo start their own instances inside network namespaces.
	for s in redis-server nginx openvswitch-switch; do
		systemctl disable --now "$s" >/dev/null 2>&1 || service "$s" stop >/dev/null 2>&1 || true
	done
fi
"$(dirname "$0")/hugepages.sh"
