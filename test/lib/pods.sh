# shellcheck shell=bash
# Pods for the transparent-socket tests, benchmark and demo: network
# namespaces wired by the real plugin (standalone, bridge + host-local, all
# paths private to the run) with an agent (hostlaned) of the run serving the
# shm fast path. Source test/lib/tap.sh first (for on_exit), then this file,
# then call pods_setup once. Everything made is removed on every exit path.
#
#   pods_setup             plugin world + agent of the run; registers cleanup
#   pod_create NAME [FP]   a pod with fast path FP (default shm); 0 or 1 with
#                          the reason on stderr; sets POD_NS to its netns;
#                          its Kubernetes namespace and name are
#                          $POD_K8S_NS (default ns-$CNI_RUN) and
#                          $POD_K8S_NAME (default NAME)
#   pod_ns NAME            the pod's netns name
#   pod_ip NAME            the pod's IPv4 address
#   pod_exec NAME CMD...   run CMD in the pod (kernel path, no preload)
#   pod_exec_hl NAME CMD...  run CMD in the pod under LD_PRELOAD=$HL_PRELOAD
#   pod_bg NAME CMD...     start CMD in the pod in the background, remembered
#                          for cleanup (killed by pid); sets POD_BG_PID
#   pod_bg_hl NAME CMD...  the same under LD_PRELOAD
#   preload_env            HL_ENV=(LD_PRELOAD=... [ASAN_OPTIONS=...]) for env(1)
#   pod_kill PID           kill -9 one background process and reap it
#   preload_ready          0 when the LD_PRELOAD layer is complete enough to
#                          test (HOSTLANE_PRELOAD_TESTS=1, or libhostlane.so
#                          exports `socket`); PRELOAD_WHY says why not
#   wait_tcp NAME IP PORT  bounded wait until IP:PORT accepts (from pod NAME)
#   pin_cpu N              prefix "taskset -c N" when the machine has core N
. "$(dirname "${BASH_SOURCE[0]}")/cni.sh"
. "$(dirname "${BASH_SOURCE[0]}")/agent.sh"

HL_PRELOAD=${HL_PRELOAD:-$BUILD/lib/libhostlane.so}
declare -A _pod_ip=()
declare -A _pod_cid=()
_pod_names=()
POD_CONF_SHM='' POD_CONF_NONE=''
PODS_AGENT_ARGS=()

pods_setup() {
	cni_setup
	agent_setup
	# A test that defines pods_pre_agent gets it called here (e.g. to start
	# the fake API server) and may fill PODS_AGENT_ARGS for the agent.
	[ "$(type -t pods_pre_agent)" = function ] && pods_pre_agent
	if ! agent_start "${PODS_AGENT_ARGS[@]}"; then
		tap_fail "agent of the run starts" "$(tail -n 20 "$AG_DIR/agent.log" 2>/dev/null)"
		tap_done
		exit 1
	fi
	POD_CONF_SHM=$(agent_conf shm)
	POD_CONF_NONE=$(agent_conf none)
	# Runs before agent_cleanup and cni_cleanup (on_exit is LIFO): the pods'
	# DEL lets the agent release endpoints and hugepages while it still runs.
	on_exit pods_cleanup
	preload_env
}

pods_cleanup() {
	local p
	cni_kill_bg KILL
	for p in "${_pod_names[@]}"; do
		cni_del "${_pod_cid[$p]}" "$(pod_ns "$p")" eth0 "$POD_CONF_SHM"
	done
	return 0
}

pod_ns() { cni_pod "$1"; }
pod_ip() { echo "${_pod_ip[$1]:-}"; }

pod_create() {
	local name=$1 fp=${2:-shm} ns conf
	ns=$(pod_ns "$name")
	POD_NS=$ns
	cni_netns_add "$ns" || { echo "pod $name: cannot create netns $ns" >&2; return 1; }
	[ "$fp" = shm ] && conf=$POD_CONF_SHM || conf=$POD_CONF_NONE
	_pod_cid[$name]=cid-$name-$CNI_RUN
	# IgnoreUnknown: host-local refuses unknown CNI_ARGS, as runtimes know.
	CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=${POD_K8S_NS:-ns-$CNI_RUN};K8S_POD_NAME=${POD_K8S_NAME:-$name};K8S_POD_UID=uid-$name-$CNI_RUN")
	cni_add "${_pod_cid[$name]}" "$ns" eth0 "$conf"
	CNI_EXTRA_ENV=()
	if [ "$CNI_RC" != 0 ]; then
		echo "pod $name: ADD failed ($CNI_RC): $CNI_STDOUT $(tail -c 400 <<<"$CNI_STDERR")" >&2
		return 1
	fi
	_pod_names+=("$name")
	_pod_ip[$name]=$(cni_result_ip "$CNI_STDOUT")
	if [ "$fp" = shm ] && ! pod_has_endpoint "$ns"; then
		echo "pod $name: no @hostlane endpoint in $ns after ADD" >&2
		return 1
	fi
	return 0
}

# preload_env: the environment a preloaded process gets (HL_ENV, an array).
# A sanitizer build of the library (make SAN=1) needs the ASan/UBSan runtimes
# loaded first, and leak reports of third-party programs are not ours.
preload_env() {
	local rt
	rt=$(ldd "$HL_PRELOAD" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ { printf "%s ", $3 }')
	HL_ENV=(LD_PRELOAD="$rt$HL_PRELOAD")
	HL_SAN=0
	[ -n "$rt" ] && HL_SAN=1
	[ -n "$rt" ] && HL_ENV+=(ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:verify_asan_link_order=0}")
	return 0
}

pod_exec() { local n=$1; shift; ip netns exec "$(pod_ns "$n")" "$@"; }
pod_exec_hl() { local n=$1; shift; preload_env; ip netns exec "$(pod_ns "$n")" env "${HL_ENV[@]}" "$@"; }
pod_bg() {
	local n=$1; shift
	cni_bg ip netns exec "$(pod_ns "$n")" "$@"
	POD_BG_PID=$CNI_BG_PID
}
pod_bg_hl() {
	local n=$1; shift
	preload_env
	cni_bg ip netns exec "$(pod_ns "$n")" env "${HL_ENV[@]}" "$@"
	POD_BG_PID=$CNI_BG_PID
}
pod_kill() { kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null; return 0; }

# preload_require [CMD...]: skips the whole test unless the layer is built,
# the run is not SAN=1 (ASan must be the first library loaded, so the layer
# cannot be preloaded into an ASan build), and every CMD is installed.
preload_require() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || tap_skip_all "$c not installed"
	done
	[ -e "$HL_PRELOAD" ] || tap_skip_all "libhostlane.so not built ($HL_PRELOAD)"
	case "${SAN:-0}" in 1) tap_skip_all "SAN=1: ASan cannot be LD_PRELOADed behind another library; the layer's logic runs under SAN in unit/test_preload_logic" ;; esac
	return 0
}

# The layer counts as complete once the .so interposes socket(); until then
# hostlane-mode runs report SKIP with PRELOAD_WHY.
preload_ready() {
	PRELOAD_WHY=
	[ "${HOSTLANE_PRELOAD_TESTS:-}" = 1 ] && return 0
	if [ ! -e "$HL_PRELOAD" ]; then
		PRELOAD_WHY="preload layer not built yet ($HL_PRELOAD missing)"
		return 1
	fi
	if ! nm -D --defined-only "$HL_PRELOAD" 2>/dev/null | awk '{print $3}' | grep -qx 'socket\(@.*\)\?'; then
		PRELOAD_WHY="preload layer not built yet (libhostlane.so does not export socket)"
		return 1
	fi
	return 0
}

# wait_tcp NAME IP PORT: readiness poll (bounded), not a timing check.
wait_tcp() {
	local i
	for ((i = 0; i < 200; i++)); do
		pod_exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

pin_cpu() {
	[ "$(nproc)" -gt "$1" ] && command -v taskset >/dev/null && echo "taskset -c $1"
	return 0
}

# Known bugs of the preload layer, listed in test/sockets/known-bugs.txt as
# "KEY why". preload_fail KEY "what" ["detail"]: a hostlane-mode failure of a
# listed KEY is reported as TODO (counted with the skipped, never as passed);
# any other failure is a failure. The line goes in the commit that fixes it.
declare -A _known_bugs=()
while read -r _kb_key _kb_why; do
	[[ -z $_kb_key || $_kb_key == \#* ]] || _known_bugs[$_kb_key]=$_kb_why
done <"$HOSTLANE_TOP/test/sockets/known-bugs.txt"
preload_fail() {
	if [ -n "${_known_bugs[$1]:-}" ]; then tap_todo "$2" "known bug: ${_known_bugs[$1]}" "${3:-}"
	else tap_fail "$2" "${3:-}"; fi
}
