#!/usr/bin/env bash
# The hugepage charge never lands on an app pod: a preloaded server and
# client run in a cgroup whose hugetlb.2MB.max is 0 (what kubelet gives a
# pod that requests no hugepages) and move data over hostlane; the agent
# allocated every page of the region when it made it, so neither process
# is charged a page (hugetlb.2MB.current stays 0) and neither dies of
# SIGBUS on its first touch of a ring.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
preload_require python3
cgroot=/sys/fs/cgroup/unified
[ -e /sys/fs/cgroup/cgroup.controllers ] && cgroot=/sys/fs/cgroup
grep -qw hugetlb "$cgroot/cgroup.controllers" 2>/dev/null || tap_skip_all "no cgroup v2 hugetlb controller here"
grep -qw hugetlb "$cgroot/cgroup.subtree_control" || echo +hugetlb >"$cgroot/cgroup.subtree_control" 2>/dev/null ||
	tap_skip_all "cannot enable the hugetlb controller for child cgroups"
[ "$(awk '$1 == "HugePages_Total:" { print $2 }' /proc/meminfo)" -gt 0 ] || tap_skip_all "no hugepages reserved"
pods_setup
pod_create a || { tap_fail "pod a"; tap_done; exit 1; }
pod_create b || { tap_fail "pod b"; tap_done; exit 1; }
cg=$cgroot/hlhp-$$
mkdir "$cg" || { tap_fail "cgroup $cg"; tap_done; exit 1; }
on_exit "rmdir '$cg'"
echo 0 >"$cg/hugetlb.2MB.max"
[ -e "$cg/hugetlb.2MB.rsvd.max" ] && echo 0 >"$cg/hugetlb.2MB.rsvd.max"
ip_b=$(pod_ip b) port=7401 n=4000000
stats=$CNI_TMP/stats
py='
import socket, sys
role, ip, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if role == "server":
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((ip, port)); l.listen(1); c, _ = l.accept()
else:
    c = socket.create_connection((ip, port), timeout=20)
    c.sendall(b"x" * n)
got = 0
while got < n:
    d = c.recv(1 << 16)
    if not d: break
    got += len(d)
if role == "server":
    c.sendall(b"y" * n)
print(got)
'
# in_cg POD CMD...: CMD in the pod, in the cgroup with no hugepage
# allowance (joined before ip netns exec, which mounts its own /sys).
in_cg() { local ns; ns=$(pod_ns "$1"); shift; sh -c 'echo $$ >"$0/cgroup.procs" && exec ip netns exec "$@"' "$cg" "$ns" "$@"; }
preload_env
cni_bg in_cg b env "${HL_ENV[@]}" HOSTLANE_STATS="$stats.b" python3 -c "$py" server "$ip_b" $port $n >/dev/null
spid=$CNI_BG_PID
for _ in $(seq 100); do
	ip netns exec "$(pod_ns b)" ss -ltn 2>/dev/null | grep -q ":$port " && break
	sleep 0.05
done
out=$(in_cg a env "${HL_ENV[@]}" HOSTLANE_STATS="$stats.a" python3 -c "$py" client "$ip_b" $port $n 2>&1)
rc=$?
wait "$spid"
src=$?
tap_eq "the client moved $n bytes each way (no SIGBUS: exit 0)" "0 $n" "$rc $out"
tap_eq "the server exited 0 (no SIGBUS)" 0 "$src"
tap_eq "... over hostlane (the client's counters)" "conns=1" "$(grep -o 'conns=[0-9]*' "$stats.a" | tail -1)"
tap_eq "the pods' cgroup was never charged a hugepage" 0 "$(cat "$cg/hugetlb.2MB.current")"
tap_eq "... nor did it hit its limit" 0 "$(awk '$1 == "max" { print $2 }' "$cg/hugetlb.2MB.events")"
tap_done
