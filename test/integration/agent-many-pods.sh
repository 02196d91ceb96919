#!/usr/bin/env bash
# 100 shm pods on one node with the shipped defaults (no config: a 64 MiB
# quota per pod, the pool = the 2 MiB hugepages free, overcommit 8), each
# ADDed through the real plugin (standalone: veth, bridge, host-local) into
# a netns of its own. A quota is a cap, not a reservation: the ADDs take no
# hugepage and the pool's used bytes stay 0 until regions are made; the
# quotas add up to 100 x 64 MiB within pool x overcommit. The agent's fds
# grow by at most 2 per pod (the pod's @hostlane socket and its netfilter
# socket), its RSS by little (printed); regions made in three of the pods
# are charged to them and to the pool; after the DELs everything is back:
# fds, RSS (roughly), pods, state files, HugePages_Free, no netns or link
# left. The ADD times are printed, not judged (BENCHES=30-agent make bench
# has the row: the 100th pod's ADD against the first's).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
cni_setup
agent_setup
N=${AGENT_MANY_PODS:-100}
QUOTA=$((64 << 20))
FDS_PER_POD=2
RSS_PER_POD_KB=${AGENT_RSS_PER_POD_KB:-64}
example=$BUILD/bin/hostlane-example
[ "$(awk '$1 == "HugePages_Total:" { print $2 }' /proc/meminfo)" -gt 0 ] || tap_skip_all "no hugepages reserved"

hp0=$(hp_free)
agent_start
rc=$?
cap=$(ctl --json status | jq -r .shmCapacityBytes)
pool=$(ctl --json status | jq -r .hugepagePoolBytes)
[ "$rc" = 0 ] && [ "$cap" -lt $((N * QUOTA)) ] &&
	tap_skip_all "the node has $((pool >> 20)) MiB of 2 MiB hugepages free: pool x 8 is below $N x 64 MiB"
tap_eq "the agent starts with no config (the shipped defaults)" 0 "$rc"
echo "# pool $((pool >> 20)) MiB (the 2 MiB hugepages free), shm capacity $((cap >> 20)) MiB"

rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$AG_PID/status"; }
fds() { ls "/proc/$AG_PID/fd" | wc -l; }
metric() { ctl metrics | awk -v k="$1" '$1 == k { print $2 }'; }
now_us() { local t; t=$(date +%s%N); echo $((t / 1000)); }
conf=$(agent_conf shm)
for i in $(seq 1 "$N"); do cni_netns_add "$(cni_pod "p$i")" || break; done
add() { # I
	CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=many-$CNI_RUN;K8S_POD_NAME=p$1;K8S_POD_UID=u$1")
	cni_add "c$1" "$(cni_pod "p$1")" eth0 "$conf"
	CNI_EXTRA_ENV=()
}

# A warm-up pod first (the bridge, the plugin's caches), gone again.
cni_netns_add "$(cni_pod p0w)"
add 0w; cni_del "c0w" "$(cni_pod p0w)" eth0 "$conf"
fds0=$(fds) rss0=$(rss)
failed=0 times=()
for i in $(seq 1 "$N"); do
	t0=$(now_us)
	add "$i"
	t1=$(now_us)
	[ "$CNI_RC" = 0 ] || { failed=$i; echo "# ADD $i: $CNI_STDOUT"; break; }
	times+=($((t1 - t0)))
	[ "$i" = 1 ] && fds1=$(fds) rss1=$(rss)
done
tap_eq "$N shm pods ADDed through the plugin with the defaults" 0 "$failed"
fdsn=$(fds) rssn=$(rss)
echo "# ADD (fork to exit, one run; the bench has medians): pod 1 ${times[0]} us, pod $N ${times[$((N - 1))]:-?} us"
echo "# agent fds: $fds0 before, $fds1 with 1 pod, $fdsn with $N; RSS $rss0 kB, $rss1 kB, $rssn kB"
echo "# per pod after the first: $(((fdsn - fds1) * 100 / (N - 1)))/100 fds, $(((rssn - rss1) * 1024 / (N - 1))) bytes RSS"
tap_eq "$N pods recorded, each with its endpoint" "$N $N" \
	"$(agent_pods "[.[] | select(.fastpath == \"shm\")] | length") $(agent_pods '[.[] | select(.endpoint)] | length')"
ok "pod $N's netns has @hostlane" pod_has_endpoint "$(cni_pod "p$N")"
ok "at most $FDS_PER_POD agent fds per pod ($fds1 -> $fdsn for $((N - 1)) more pods)" \
	test $((fdsn - fds1)) -le $((FDS_PER_POD * (N - 1)))
if [ "${SAN:-0}" = 1 ]; then
	tap_skip "RSS per pod" "RSS is not meaningful under ASan"
else
	ok "at most $RSS_PER_POD_KB KiB of agent RSS per pod ($rss1 -> $rssn kB)" \
		test $((rssn - rss1)) -le $((RSS_PER_POD_KB * (N - 1)))
fi
tap_eq "the quotas are counted, not reserved: quota $N x 64 MiB, used 0" "$((N * QUOTA)) 0" \
	"$(metric 'hostlane_agent_hugepages_bytes{state="quota"}') $(metric 'hostlane_agent_hugepages_bytes{state="used"}')"
tap_eq "the pool is what it was" "$pool" "$(metric 'hostlane_agent_hugepages_bytes{state="pool"}')"

# Regions in three of the pods: charged to each pod and to the pool.
if [ -x "$example" ]; then
	holders=()
	for i in 1 $((N / 2)) "$N"; do
		# It holds the region until its stdin ends: the writer of
		# that fifo is a sleep, ended below.
		mkfifo "$CNI_TMP/hold$i"
		sleep 600 >"$CNI_TMP/hold$i" 2>/dev/null </dev/null &
		holders+=($!)
		_cni_pids+=($!)
		ip netns exec "$(cni_pod "p$i")" "$example" alloc 2Mi hold <"$CNI_TMP/hold$i" >"$CNI_TMP/alloc$i.out" 2>&1 &
		_cni_pids+=($!)
	done
	for _ in $(seq 200); do [ "$(cat "$CNI_TMP"/alloc*.out | grep -c '^region')" = 3 ] && break; sleep 0.05; done
	tap_eq "three pods hold a 2 MiB region each, on hugepages" 3 "$(cat "$CNI_TMP"/alloc*.out | grep -c 'hugetlb=1')"
	tap_eq "... charged to the pool (6 MiB used)" $((6 << 20)) "$(metric 'hostlane_agent_hugepages_bytes{state="used"}')"
	tap_eq "... and to pod $N (2 MiB of its 64 MiB)" "$((2 << 20)) $QUOTA" \
		"$(agent_pods --arg n "p$N" '.[] | select(.name == $n) | "\(.usedBytes) \(.quotaBytes)"')"
	kill "${holders[@]}"
	for _ in $(seq 200); do [ "$(metric 'hostlane_agent_hugepages_bytes{state="used"}')" = 0 ] && break; sleep 0.05; done
	tap_eq "freed: the pool's used bytes back to 0" 0 "$(metric 'hostlane_agent_hugepages_bytes{state="used"}')"
	tap_eq "no pod had a region refused (no fallback)" 0 \
		"$(agent_pods '[.[] | .fallbacks // {} | to_entries[] | .value] | add // 0')"
else
	tap_skip "regions in the pods" "no $example"
fi

failed=0
for i in $(seq 1 "$N"); do
	cni_del "c$i" "$(cni_pod "p$i")" eth0 "$conf"
	[ "$CNI_RC" = 0 ] || { failed=$i; echo "# DEL $i: $CNI_STDOUT"; break; }
done
tap_eq "$N DELs" 0 "$failed"
tap_eq "no pods, no state files, no quota counted" "0  0" \
	"$(agent_pods length) $(agent_state_files) $(metric 'hostlane_agent_hugepages_bytes{state="quota"}')"
tap_eq "agent fds back to the start" "$fds0" "$(fds)"
if [ "${SAN:-0}" = 1 ]; then
	tap_skip "RSS back" "RSS is not meaningful under ASan; LeakSanitizer checks the exit"
else
	# The pod table and the allocator's arenas keep a little (a leak
	# would keep about a pod's worth each, ~100 times that).
	ok "agent RSS roughly back ($rss0 -> $(rss) kB, at $N pods $rssn kB)" \
		test "$(rss)" -le $((rss0 + (rssn - rss0) / 2 + 1024))
fi
tap_eq "no host link of the run left" "" "$(cni_leaked_links | tr '\n' ' ')"
for i in 0w $(seq 1 "$N"); do ip netns del "$(cni_pod "p$i")" 2>/dev/null; done
tap_eq "no netns of the run left" 0 "$(ip netns list | grep -c "hlt-$CNI_RUN-")"
for _ in $(seq 100); do [ "$(hp_free)" -ge "$hp0" ] && break; sleep 0.05; done
ok "HugePages_Free back to the start" test "$(hp_free)" -ge "$hp0"
agent_stop
tap_eq "clean stop (under SAN=1: LeakSanitizer found no leak)" 0 "$AG_RC"
tap_done
