#!/usr/bin/env bash
# The pool tells the truth, and a refused region is never silent. The agent
# runs in a cgroup whose hugetlb.2MB.max is 8 MiB (what a DaemonSet's
# hugepages-2Mi request becomes): with no hugepages.pool its pool is the
# 8 MiB it can really get, not HugePages_Total, and STATUS and /metrics say
# so. Pods with a 4 MiB quota then make regions: one past its quota is
# refused (reason quota), one past the pool (reason pool); with the pool
# set to 64Mi by config, past what the cgroup allows, the kernel has no
# page for it: refused (reason hugepages), never made from normal memory.
# Each refusal is counted on its pod (hostlanectl pods, LIST, the per-pod
# metric) and node-wide; every region that was made is on hugepages.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
cgroot=/sys/fs/cgroup/unified
[ -e /sys/fs/cgroup/cgroup.controllers ] && cgroot=/sys/fs/cgroup
grep -qw hugetlb "$cgroot/cgroup.controllers" 2>/dev/null || tap_skip_all "no cgroup v2 hugetlb controller here"
grep -qw hugetlb "$cgroot/cgroup.subtree_control" || echo +hugetlb >"$cgroot/cgroup.subtree_control" 2>/dev/null ||
	tap_skip_all "cannot enable the hugetlb controller for child cgroups"
[ "$(awk '$1 == "HugePages_Free:" { print $2 }' /proc/meminfo)" -ge 8 ] || tap_skip_all "fewer than 8 free hugepages"
example=$BUILD/bin/hostlane-example
[ -x "$example" ] || tap_skip_all "no $example"
cni_setup
# Before agent_setup: cleanups run in reverse, the agent goes first.
cg=$cgroot/hlag-$$
mkdir "$cg" || { tap_fail "cgroup $cg"; tap_done; exit 1; }
on_exit "rmdir '$cg'"
echo $((8 << 20)) >"$cg/hugetlb.2MB.max"
[ -e "$cg/hugetlb.2MB.rsvd.max" ] && echo $((8 << 20)) >"$cg/hugetlb.2MB.rsvd.max"
agent_setup
printf '#!/bin/sh\necho $$ >%s/cgroup.procs && exec "$@"\n' "$cg" >"$CNI_TMP/in-cgroup"
chmod +x "$CNI_TMP/in-cgroup"
printf '{"hugepages": {"defaultQuota": "4Mi"}}' >"$AG_DIR/agent.json"
AG_WRAP=$CNI_TMP/in-cgroup agent_start --config "$AG_DIR/agent.json" ||
	{ tap_fail "the agent starts in the cgroup" "$(tail "$AG_DIR/agent.log")"; tap_done; exit 1; }
tap_eq "the agent runs in the cgroup" "$AG_PID" "$(grep -x "$AG_PID" "$cg/cgroup.procs")"
metric() { ctl metrics | awk -v k="$1" '$1 == k { print $2 }'; }
hp() { metric "hostlane_agent_hugepages_bytes{state=\"$1\"}"; }
tap_eq "no hugepages.pool: the pool is what the cgroup lets the agent have (8 MiB)" $((8 << 20)) \
	"$(ctl --json status | jq -r .hugepagePoolBytes)"
tap_eq "/metrics: pool 8 MiB, used 0, free 8 MiB" "$((8 << 20)) 0 $((8 << 20))" "$(hp pool) $(hp used) $(hp free)"
ok "hostlanectl status shows the pool and what is free" sh -c \
	"'$HL_CTL' --socket '$AG_SOCK' status | grep -q 'hugepages: pool 8 MiB, used 0 MiB, free on the node 8 MiB'"

conf=$(agent_conf shm)
for p in a b c; do
	cni_netns_add "$(cni_pod "$p")"
	CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=hp-$CNI_RUN;K8S_POD_NAME=$p;K8S_POD_UID=u$p")
	cni_add "c$p" "$(cni_pod "$p")" eth0 "$conf"
	CNI_EXTRA_ENV=()
	cni_ok_rc "ADD pod $p (quota 4 MiB)"
done
# hold POD SIZE: a region held until the test ends (not in a command
# substitution: the holders would keep its pipe open).
hold() {
	local pid
	# It holds the region until its stdin ends: the fifo's writer is a
	# sleep the cleanup ends.
	mkfifo "$CNI_TMP/hold-$1-$2"
	sleep 600 >"$CNI_TMP/hold-$1-$2" 2>/dev/null </dev/null &
	_cni_pids+=($!)
	ip netns exec "$(cni_pod "$1")" "$example" alloc "$2" hold <"$CNI_TMP/hold-$1-$2" \
		>"$CNI_TMP/alloc-$1-$2.out" 2>&1 &
	pid=$!
	_cni_pids+=("$pid")
	for _ in $(seq 200); do grep -q '^region' "$CNI_TMP/alloc-$1-$2.out" && break
		kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	grep -q 'hugetlb=1' "$CNI_TMP/alloc-$1-$2.out"
}
alloc() { ip netns exec "$(cni_pod "$1")" "$example" alloc "$2" 2>&1; }
fallbacks() { agent_pods --arg n "$1" '.[] | select(.name == $n) | .fallbacks | "\(.quota) \(.pool) \(.hugepages)"'; }

hold a 2Mi; tap_eq "pod a holds a 2 MiB region, on hugepages" 0 "$?"
out=$(alloc a 4Mi)
ok "pod a: 4 MiB more is past its 4 MiB quota: refused" grep -q "quota" <<<"$out"
tap_eq "... counted on pod a (quota 1, pool 0, hugepages 0)" "1 0 0" "$(fallbacks a)"
hold b 4Mi; tap_eq "pod b holds a 4 MiB region, on hugepages" 0 "$?"
out=$(alloc c 4Mi)
ok "pod c: 4 MiB within its quota but past the 8 MiB pool: refused" grep -q "pool" <<<"$out"
tap_eq "... counted on pod c (quota 0, pool 1, hugepages 0)" "0 1 0" "$(fallbacks c)"

# A pool set past what the cgroup allows: the kernel says no, not the pool.
printf '{"hugepages": {"defaultQuota": "4Mi", "pool": "64Mi"}}' >"$AG_DIR/agent.json"
kill -HUP "$AG_PID"
for _ in $(seq 100); do [ "$(hp pool)" = $((64 << 20)) ] && break; sleep 0.05; done
tap_eq "SIGHUP: pool 64Mi by config, 6 MiB used" "$((64 << 20)) $((6 << 20))" "$(hp pool) $(hp used)"
out=$(alloc c 4Mi)
ok "pod c: 4 MiB within quota and pool, but the cgroup has no page left: refused" \
	grep -q "hugepages" <<<"$out"
tap_eq "... counted on pod c (quota 0, pool 1, hugepages 1)" "0 1 1" "$(fallbacks c)"
tap_eq "... not made from normal memory: 6 MiB used, all of it hugepages in the agent's cgroup" \
	"$((6 << 20)) $((6 << 20))" "$(hp used) $(cat "$cg/hugetlb.2MB.current")"
tap_eq "per-pod metric: pod c's fallbacks by reason" "0 1 1" \
	"$(for r in quota pool hugepages; do metric "hostlane_agent_pod_fallbacks_total{namespace=\"hp-$CNI_RUN\",pod=\"c\",reason=\"$r\"}"; done | tr '\n' ' ' | sed 's/ $//')"
tap_eq "node-wide metric: quota 1, pool 1, hugepages 1" "1 1 1" \
	"$(for r in quota pool hugepages; do metric "hostlane_agent_fallbacks_total{reason=\"$r\"}"; done | tr '\n' ' ' | sed 's/ $//')"
ok "hostlanectl pods shows pod c's fallbacks" sh -c \
	"'$HL_CTL' --socket '$AG_SOCK' pods | grep 'hp-$CNI_RUN/c ' | grep -q 'pool 1, hugepages 1'"
ok "hostlanectl status shows the node's" sh -c \
	"'$HL_CTL' --socket '$AG_SOCK' status | grep -q '^fallbacks: quota 1, pool 1, hugepages 1'"
ok_not "no region fell back to normal memory (nothing logged)" grep -q "normal memfd" "$AG_DIR/agent.log"

for p in a b c; do cni_del "c$p" "$(cni_pod "$p")" eth0 "$conf"; done
for _ in $(seq 100); do [ "$(hp used)" = 0 ] && break; sleep 0.05; done
tap_eq "after the DELs: nothing used, the cgroup charged nothing" "0 0" "$(hp used) $(cat "$cg/hugetlb.2MB.current")"
agent_stop
tap_eq "clean stop" 0 "$AG_RC"
tap_done
