# shellcheck shell=bash disable=SC2034,SC2120
# Shared helpers for the CNI integration tests, the CNI benchmark and the demo.
# Source test/lib/tap.sh first (for on_exit), then this file, then call
# cni_setup once.
#
# cni_setup gives the run a private world and registers its cleanup:
#   CNI_RUN     short random id unique to this run (hex)
#   CNI_TMP     temp dir (removed on exit)
#   CNI_NET     network name       "hlt-$CNI_RUN"
#   CNI_BR      bridge name        "hlb$CNI_RUN" (<= 15 chars)
#   CNI_SUBNET  a random 10.x.y.0/24, CNI_PFX "10.x.y" (gateway .1)
#   CNI_IPAM_DIR  host-local dataDir (allocations in $CNI_IPAM_DIR/$CNI_NET/)
#   HOSTLANE_CACHE_DIR  exported: the plugin's cache dir, private to the run
#   CNI_PATH    exported: $CNI_TMP/bin (hostlane + Debian's plugins, symlinked)
#   HL_PLUGIN   plugin type under test: hostlane (default) or, to validate the
#               harness itself, HL_TEST_PLUGIN=bridge (Debian's reference)
#
# Running a plugin: cni_exec PLUGIN COMMAND CONTAINERID NETNS IFNAME CONFIG
# sets CNI_RC, CNI_STDOUT, CNI_STDERR (NETNS is a name under /var/run/netns
# or an absolute path or "" to leave CNI_NETNS unset). Extra environment:
# set CNI_EXTRA_ENV=(VAR=value ...) before the call; CNI_UNSET=(VAR ...) drops
# variables.

HL_PLUGIN=${HL_TEST_PLUGIN:-hostlane}
HL_BIN=${HL_BIN:-$BUILD/bin/hostlane}
CNI_SYS_DIR=${CNI_SYS_DIR:-/usr/lib/cni}
CNI_EXTRA_ENV=()
CNI_UNSET=()

# The test's own pods, so that cleanup deletes only what it made.
_cni_netns=()
_cni_pids=()

cni_rand_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

cni_setup() {
	need_root
	command -v jq >/dev/null || tap_skip_all "jq is not installed (hack/deps.sh installs it)"
	[ -x "$CNI_SYS_DIR/host-local" ] ||
		tap_skip_all "containernetworking-plugins missing in $CNI_SYS_DIR (hack/deps.sh installs it)"
	CNI_RUN=$(cni_rand_hex 4)
	CNI_TMP=$(mktemp -d "/tmp/hlcni-$CNI_RUN.XXXXXX")
	CNI_NET=hlt-$CNI_RUN
	CNI_BR=hlb$CNI_RUN
	local a b
	a=$((100 + 0x${CNI_RUN:0:2} % 100)) b=$((0x${CNI_RUN:2:2}))
	CNI_PFX=10.$a.$b
	CNI_SUBNET=$CNI_PFX.0/24
	CNI_IPAM_DIR=$CNI_TMP/ipam
	export HOSTLANE_CACHE_DIR=$CNI_TMP/cache
	mkdir -p "$CNI_TMP/bin" "$HOSTLANE_CACHE_DIR" "$CNI_IPAM_DIR"
	ln -s "$CNI_SYS_DIR"/* "$CNI_TMP/bin/"
	ln -sf "$HL_BIN" "$CNI_TMP/bin/hostlane"
	export CNI_PATH=$CNI_TMP/bin
	on_exit cni_cleanup
	if [ "$HL_PLUGIN" = hostlane ] && [ ! -x "$HL_BIN" ]; then
		tap_fail "hostlane plugin is built" "missing $HL_BIN (make BUILD=${BUILD##*/} $HL_BIN)"
		tap_done
		exit 1
	fi
}

# cni_kill_bg SIG: ends the processes cni_bg started (SIG, then reaped)
# and their children (an nginx master's workers), which would outlive a
# parent killed with -9: found before the parents go, killed after them.
cni_kill_bg() {
	local p kids=()
	for p in "${_cni_pids[@]}"; do
		mapfile -t -O "${#kids[@]}" kids < <(pgrep -P "$p")
		kill -"$1" "$p" 2>/dev/null
	done
	for p in "${_cni_pids[@]}"; do wait "$p" 2>/dev/null; done
	for p in "${kids[@]}"; do kill -9 "$p" 2>/dev/null; done
	_cni_pids=()
}

# cni_cleanup: everything this run made, even after a failure half-way.
cni_cleanup() {
	local ns l
	cni_kill_bg TERM
	for ns in "${_cni_netns[@]}"; do ip netns del "$ns" 2>/dev/null; done
	for l in $(cni_host_links) $(cni_bridge_ports "$CNI_BR"); do
		ip link del "$l" 2>/dev/null
	done
	ip link del "$CNI_BR" 2>/dev/null
	[ -n "${CNI_BR2:-}" ] && ip link del "$CNI_BR2" 2>/dev/null
	rm -rf "$CNI_TMP"
	return 0
}

# cni_bg CMD...: start a process in the background and remember it for
# cleanup. Sets CNI_BG_PID.
cni_bg() {
	"$@" &
	CNI_BG_PID=$!
	_cni_pids+=("$CNI_BG_PID")
}

# cni_netns_add NAME: create a pod (netns) owned by this run, lo up.
cni_netns_add() {
	ip netns add "$1" || return 1
	_cni_netns+=("$1")
	ip -n "$1" link set lo up
}

# Pod names unique to the run: cni_pod a -> hlt-<run>-a
cni_pod() { echo "hlt-$CNI_RUN-$1"; }

# cni_conf [JQ-FILTER [ARGS...]]: the standalone network config of the run,
# in version $CNI_VERSION (default 1.1.0 for hostlane, 1.0.0 for bridge),
# modified by an optional jq filter. It runs without the agent ("agentSocket":
# ""): a network that names an agent fails ADD with 11 while it is away
# (agent_conf in test/lib/agent.sh names the run's agent).
cni_conf() {
	local filter=${1:-.}
	[ $# -gt 0 ] && shift
	local ver=${CNI_VERSION:-}
	[ -n "$ver" ] || { [ "$HL_PLUGIN" = hostlane ] && ver=1.1.0 || ver=1.0.0; }
	jq -nc --arg ver "$ver" --arg name "$CNI_NET" --arg type "$HL_PLUGIN" \
		--arg br "$CNI_BR" --arg subnet "$CNI_SUBNET" --arg dir "$CNI_IPAM_DIR" \
		'{cniVersion: $ver, name: $name, type: $type, bridge: $br, isGateway: true,
		  ipam: {type: "host-local", subnet: $subnet, dataDir: $dir}}
		 | if $type == "bridge" then . + {isDefaultGateway: true} else . + {agentSocket: ""} end' |
		jq -c "$@" "$filter"
}

# cni_exec PLUGIN COMMAND CONTAINERID NETNS IFNAME CONFIG
cni_exec() {
	local plugin=$1 cmd=$2 cid=$3 ns=$4 ifn=$5 conf=$6
	local bin=$CNI_PATH/$plugin
	[ "${plugin#/}" != "$plugin" ] && bin=$plugin
	case $ns in "" | /*) ;; *) ns=/var/run/netns/$ns ;; esac
	local env=(CNI_COMMAND="$cmd" CNI_CONTAINERID="$cid" CNI_IFNAME="$ifn"
		CNI_PATH="$CNI_PATH" HOSTLANE_CACHE_DIR="$HOSTLANE_CACHE_DIR")
	[ -n "$ns" ] && env+=(CNI_NETNS="$ns")
	env+=("${CNI_EXTRA_ENV[@]}")
	local unset=(-u CNI_COMMAND -u CNI_CONTAINERID -u CNI_NETNS -u CNI_IFNAME -u CNI_ARGS) u
	for u in "${CNI_UNSET[@]}"; do
		local kept=()
		local e
		for e in "${env[@]}"; do [ "${e%%=*}" = "$u" ] || kept+=("$e"); done
		env=("${kept[@]}")
	done
	CNI_STDERR=$(mktemp "$CNI_TMP/stderr.XXXXXX")
	# A hang guard, not a timing check: a plugin stuck on a bug fails the
	# assertion (exit 124) instead of stalling the whole suite.
	CNI_STDOUT=$(timeout -k 5 "${CNI_CALL_TIMEOUT:-60}" env "${unset[@]}" "${env[@]}" "$bin" \
		<<<"$conf" 2>"$CNI_STDERR")
	CNI_RC=$?
	CNI_STDERR=$(cat "$CNI_STDERR"; rm -f "$CNI_STDERR")
	return 0
}

# Shorthands for the plugin under test, on the run's network:
#   cni_add CID NETNS [IFNAME [CONF]] ... (IFNAME default eth0)
cni_run() { # COMMAND CID NETNS [IFNAME [CONF]]
	cni_exec "$HL_PLUGIN" "$1" "$2" "$3" "${4:-eth0}" "${5:-$(cni_conf)}"
}
cni_add() { cni_run ADD "$@"; }
cni_del() { cni_run DEL "$@"; }

# cni_with_prev CONF RESULT: CONF with prevResult = RESULT (as a runtime does
# for CHECK and DEL, and for the next plugin of a chain).
cni_with_prev() { jq -c --argjson r "${2:-null}" '. + {prevResult: $r}' <<<"$1" 2>/dev/null || echo "$1"; }

# cni_ok_rc "what": tap_ok when the last cni_exec exited 0, else fail with
# its output.
cni_ok_rc() {
	if [ "$CNI_RC" = 0 ]; then tap_ok "$1"; else
		tap_fail "$1" "exit $CNI_RC; stdout: $CNI_STDOUT; stderr: $(tail -c 600 <<<"$CNI_STDERR")"
	fi
}
# cni_err_code "what" CODE [SUBSTRING]: the last call failed with the spec's
# error JSON carrying CODE (and SUBSTRING in msg or details, if given).
cni_err_code() {
	local what=$1 want=$2 sub=${3:-} code text
	if [ "$CNI_RC" = 0 ]; then
		tap_fail "$what" "exit 0 but an error (code $want) was expected; stdout: $CNI_STDOUT"
		return
	fi
	code=$(jq -r '.code // empty' <<<"$CNI_STDOUT" 2>/dev/null)
	text=$(jq -r '"\(.msg // "") \(.details // "")"' <<<"$CNI_STDOUT" 2>/dev/null)
	if [ "$code" != "$want" ]; then
		tap_fail "$what" "expected error code $want, got '$code' (exit $CNI_RC); stdout: $CNI_STDOUT"
	elif [ -n "$sub" ] && [[ $text != *"$sub"* ]]; then
		tap_fail "$what" "error code $want but msg/details do not name '$sub': $CNI_STDOUT"
	else
		tap_ok "$what"
	fi
}

# The run's host-side links: hostlane's (by alias "hostlane:<net>:") and any
# port of the run's bridge (covers the reference plugin too).
cni_host_links() {
	ip -o link show 2>/dev/null | awk -v p="alias hostlane:$CNI_NET:" '
		index($0, p) { n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); print n }'
}
cni_bridge_ports() { # BRIDGE
	ip -o link show master "$1" 2>/dev/null | awk '{ n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); print n }'
}
# cni_leaked_links: host links of the run still present (hostlane-aliased or
# bridge ports), one a line, sorted, unique.
cni_leaked_links() { { cni_host_links; cni_bridge_ports "$CNI_BR"; } | sort -u; }

# cni_allocations [NET]: host-local's allocated IPs for the network.
cni_allocations() {
	local d=$CNI_IPAM_DIR/${1:-$CNI_NET}
	[ -d "$d" ] || return 0
	find "$d" -maxdepth 1 -type f -regex '.*/[0-9a-f.:]+$' -printf '%f\n' 2>/dev/null | sort
}
# cni_cache_files: per-attachment state in the plugin's cache dir (lock files,
# which guard shared state such as the bridge, may stay).
cni_cache_files() { find "$HOSTLANE_CACHE_DIR" -type f ! -name '*.lock' 2>/dev/null | sort; }

# cni_pod_addr NETNS IFNAME: the IPv4 addresses (CIDR) on IFNAME in the pod.
cni_pod_addr() {
	ip -n "$1" -o -4 addr show dev "$2" 2>/dev/null | awk '{print $4}'
}
# cni_link_master LINK: name of LINK's master (bridge), empty if none.
cni_link_master() {
	ip -o link show dev "$1" 2>/dev/null | sed -n 's/.* master \([^ ]*\) .*/\1/p'
}
# cni_result_ip RESULT: first address of a result without prefix.
cni_result_ip() { jq -r '.ips[0].address' <<<"$1" | cut -d/ -f1; }
# cni_result_host_veth RESULT: the host-side interface of the result (no
# sandbox, not the bridge).
cni_result_host_veth() {
	jq -r --arg br "$CNI_BR" '[.interfaces[] | select((.sandbox // "") == "" and .name != $br)][0].name // empty' <<<"$1" 2>/dev/null
}

# cni_http_check SRV_NETNS SRV_IP CLI_NETNS: serve a random token with busybox
# httpd in SRV_NETNS, fetch it from CLI_NETNS over TCP through the bridge;
# prints what arrived; returns 0 when it is the token.
cni_http_check() {
	local srv=$1 ip=$2 cli=$3 dir token got pid
	dir=$(mktemp -d "$CNI_TMP/www.XXXXXX")
	token=hostlane-$(cni_rand_hex 8)
	echo "$token" >"$dir/index.html"
	cni_bg ip netns exec "$srv" busybox httpd -f -p "$ip:8080" -h "$dir" >/dev/null 2>&1
	pid=$CNI_BG_PID
	# Readiness, not timing: retry until the server listens (bounded). No
	# wget -T: busybox 1.35's wget segfaults with it; timeout(1) bounds it.
	for _ in $(seq 1 50); do
		got=$(timeout 10 ip netns exec "$cli" busybox wget -q -O - "http://$ip:8080/index.html" 2>/dev/null) && break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "$got"
	[ "$got" = "$token" ]
}
