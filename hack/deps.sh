#!/usr/bin/env bash
# Installs what hostlane's build, tests, benchmarks and demo need, with
# apt-get, only when something is missing (quiet when all is present), and
# reserves hugepages. Idempotent. Needs root for anything it has to install.
set -eu
PKGS=(
	build-essential pkg-config clang libclang-rt-14-dev cppcheck valgrind
	check libsubunit-dev libmnl-dev libnl-3-dev libnl-route-3-dev
	libcjson-dev libcurl4-openssl-dev libyaml-dev libmicrohttpd-dev python3
	iproute2 procps psmisc jq curl openssl util-linux nftables
	containernetworking-plugins podman runc busybox-static
	dpdk dpdk-dev libdpdk-dev openvswitch-switch-dpdk musl-tools
	sockperf iperf3 redis-server redis-tools nginx wrk hyperfine
	verilator yosys nextpnr-ice40 fpga-icestorm
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

# The manifest check's npm modules (hack/k8s/package-lock.json), into a
# cache dir that is never committed; reinstalled only when the lock changes.
top=$(cd "$(dirname "$0")/.." && pwd)
npm_dir=${HOSTLANE_NPM_DIR:-$top/build/npm}
if ! cmp -s "$top/hack/k8s/package-lock.json" "$npm_dir/node_modules/.hostlane-lock" 2>/dev/null; then
	if ! command -v npm >/dev/null; then
		[ "$(id -u)" = 0 ] || { echo "deps: npm missing; run as root to install" >&2; exit 1; }
		echo "deps: installing nodejs npm"
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
	fi
	echo "deps: npm modules for the manifest check -> $npm_dir"
	mkdir -p "$npm_dir"
	cp "$top/hack/k8s/package.json" "$top/hack/k8s/package-lock.json" "$npm_dir/"
	if (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
		cp "$top/hack/k8s/package-lock.json" "$npm_dir/node_modules/.hostlane-lock"
	else
		echo "deps: npm ci failed; the manifest check will fail" >&2
	fi
fi
"$(dirname "$0")/hugepages.sh"
