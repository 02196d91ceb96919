# shellcheck shell=bash
# Helpers of the hostile-pod suite (test/integration/hostile-*.sh): pods of
# the run (test/lib/pods.sh), the attacker as an unprivileged process in a
# pid namespace of its own, victims under LD_PRELOAD, cgroup v2 hugetlb
# limits. Source test/lib/tap.sh first, then this file.
#
#   HOSTILE                    the tool (build/test/hostile)
#   attack POD CMD ARGS...     the tool in POD: uid/gid 65534, no
#                              capabilities, no new privileges, its own pid
#                              namespace; output on stdout; killed after
#                              ATTACK_TIMEOUT (20) s
#   attack_bg POD CMD ARGS...  the same in the background (ATTACK_PID),
#                              output appended to $CNI_TMP/attack.log
#   kv KEY <<<OUTPUT           the value of "KEY value" in the tool's output
#   victim_redis POD PORT [CGROUP]  redis-server under the layer in POD,
#                              as uid 65534 without capabilities, bound to
#                              the pod's IP (in CGROUP when given); sets
#                              VICTIM_PID
#   redis_ping POD IP PORT     PONG within 3 s from POD (kernel path), else
#                              what came back
#   hugetlb_cgroup NAME        a cgroup v2 child with the hugetlb controller
#                              (removed at exit) in HCG, or fails when the
#                              machine has none
#   layer_ok                   0 when victims can run under the layer here
#                              (LAYER_WHY says why not)
. "$(dirname "${BASH_SOURCE[0]}")/pods.sh"

HOSTILE=${HOSTILE:-$BUILD/test/hostile}
CG2=${CG2:-}
VICTIM_PID=

hostile_setup() {
	[ -x "$HOSTILE" ] || tap_skip_all "$HOSTILE not built (make tests)"
	command -v setpriv >/dev/null && command -v unshare >/dev/null ||
		tap_skip_all "setpriv/unshare (util-linux) missing"
	pods_setup
	chmod 0755 "$CNI_TMP"
}

attack() {
	local pod=$1; shift
	timeout -k 1 "${ATTACK_TIMEOUT:-20}" ip netns exec "$(pod_ns "$pod")" unshare --pid --fork --kill-child \
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		--bounding-set=-all --no-new-privs "$HOSTILE" "$@" 2>&1
}
attack_bg() {
	local pod=$1; shift
	cni_bg ip netns exec "$(pod_ns "$pod")" unshare --pid --fork --kill-child \
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		--bounding-set=-all --no-new-privs "$HOSTILE" "$@" >>"$CNI_TMP/attack.log" 2>&1
	ATTACK_PID=$CNI_BG_PID
}

kv() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }'; }

layer_ok() {
	LAYER_WHY=
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
		{ LAYER_WHY="redis-server/redis-cli not installed"; return 1; }
	preload_ready || { LAYER_WHY=$PRELOAD_WHY; return 1; }
	return 0
}

# hugetlb_cgroup NAME: the cgroup v2 hierarchy's hugetlb controller, enabled
# for the root's children if it is not yet (a machine setting, like the
# hugepage reservation: left on), and a child cgroup of the run.
hugetlb_cgroup() {
	local root cg
	root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$root" ] && grep -qw hugetlb "$root/cgroup.controllers" 2>/dev/null || return 1
	grep -qw hugetlb "$root/cgroup.subtree_control" ||
		echo +hugetlb >"$root/cgroup.subtree_control" 2>/dev/null || return 1
	cg=$root/hostlane-$CNI_RUN-$1
	mkdir "$cg" 2>/dev/null || return 1
	[ -e "$cg/hugetlb.2MB.max" ] || { rmdir "$cg"; return 1; }
	on_exit "cg_remove $cg"
	HCG=$cg
}
# cg_remove CG: its processes back to the root, then the cgroup.
cg_remove() {
	local root p
	root=$(dirname "$1")
	for p in $(cat "$1/cgroup.procs" 2>/dev/null); do echo "$p" >"$root/cgroup.procs"; done
	rmdir "$1"
}

victim_redis() {
	local pod=$1 port=$2 cg=${3:-} dir ip
	dir=$CNI_TMP/redis-$pod-$port ip=$(pod_ip "$pod")
	mkdir -p "$dir" && chmod 0777 "$dir"
	preload_env
	# The shell moves itself into the cgroup before it becomes redis, so
	# every page redis ever faults is charged there (outside `ip netns
	# exec`, which mounts a sysfs of the netns without the cgroup tree).
	cni_bg sh -c '[ -z "$1" ] || echo $$ >"$1/cgroup.procs" || exit 1; shift; exec "$@"' sh "$cg" \
		ip netns exec "$(pod_ns "$pod")" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		--bounding-set=-all env "${HL_ENV[@]}" redis-server --bind "$ip" --port "$port" \
		--enable-debug-command yes \
		--save '' --appendonly no --protected-mode no --dir "$dir" \
		--logfile "$dir/redis.log"
	VICTIM_PID=$CNI_BG_PID
	wait_tcp "$pod" "$ip" "$port"
}

redis_ping() {
	local out
	out=$(timeout -k 1 3 ip netns exec "$(pod_ns "$1")" redis-cli -h "$2" -p "$3" ping 2>&1)
	echo "${out:-timeout}"
}

# fd_count PID: open fds of a process.
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
