#!/usr/bin/env bash
# Crash safety: hostlaned is SIGKILLed (HOSTLANE_CRASH_AT) at every named
# point of ADD and DEL. After a restart, hostlanectl pods shows exactly the
# pods whose record was persisted (with their endpoint re-created), the
# runtime's DEL works, no state file is left, and hugepages come back.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
cni_setup
agent_setup
example=$BUILD/bin/hostlane-example
conf=$(agent_conf shm)
hp0=$(hp_free)

# hp_back: HugePages_Free is back to (at least) its value before the test.
# Bounded wait: clients' pages return when the kernel reaps them, and other
# tests on this machine may hold pages for a moment.
hp_back() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(hp_free)" -ge "$hp0" ] && return 0
		sleep 0.05
	done
	echo "HugePages_Free $(hp_free), before the test $hp0"
	return 1
}

# ADD points: the record exists after restart only if it reached the disk.
for pt in add-after-alloc:0 add-mid-persist:0 add-after-persist:1 add-before-reply:1; do
	name=${pt%:*} want=${pt#*:}
	ns=$(cni_pod "${name//-/}") cid=cid-$name-$CNI_RUN
	cni_netns_add "$ns"
	AG_ENV=(HOSTLANE_CRASH_AT="$name")
	agent_start
	AG_ENV=()
	cni_add "$cid" "$ns" eth0 "$conf"
	cni_err_code "$name: ADD fails with 'try again later'" 11
	agent_wait_exit
	tap_eq "$name: agent was SIGKILLed there" 137 "$AG_RC"
	agent_start
	tap_eq "$name: after restart, pods show the persisted record" "$want" \
		"$(agent_pods --arg c "$cid" '[.[] | select(.containerID == $c)] | length')"
	if [ "$want" = 1 ]; then
		ok "$name: endpoint re-created on restart" pod_has_endpoint "$ns"
	else
		ok_not "$name: no endpoint for an ADD that never completed" pod_has_endpoint "$ns"
	fi
	cni_del "$cid" "$ns" eth0 "$conf"
	cni_ok_rc "$name: the runtime's DEL works"
	tap_eq "$name: no pods left" 0 "$(agent_pods 'length')"
	tap_eq "$name: no state files left" "" "$(find "$AG_STATE" -type f)"
	ok_not "$name: endpoint gone" pod_has_endpoint "$ns"
	agent_stop
done

# DEL points: a client holds a hugepage region while the agent dies mid-DEL.
for pt in del-before-release:1 del-mid-release:1 del-after-unlink:0; do
	name=${pt%:*} want=${pt#*:}
	ns=$(cni_pod "${name//-/}") cid=cid-$name-$CNI_RUN
	cni_netns_add "$ns"
	agent_start
	cni_add "$cid" "$ns" eth0 "$conf"
	cni_ok_rc "$name: ADD"
	holder=
	if [ -x "$example" ]; then
		mkfifo "$CNI_TMP/hold-$name"
		cni_bg sh -c "ip netns exec '$ns' '$example' alloc 4Mi hold <'$CNI_TMP/hold-$name' >'$CNI_TMP/hold-$name.out' 2>&1"
		holder=$CNI_BG_PID
		exec 9>"$CNI_TMP/hold-$name"
		for ((i = 0; i < 200; i++)); do grep -q region "$CNI_TMP/hold-$name.out" && break; sleep 0.05; done
		ok "$name: a client in the pod holds a region" grep -q region "$CNI_TMP/hold-$name.out"
	fi
	agent_stop
	AG_ENV=(HOSTLANE_CRASH_AT="$name")
	agent_start
	AG_ENV=()
	cni_del "$cid" "$ns" eth0 "$conf"
	cni_err_code "$name: DEL fails with 'try again later'" 11
	agent_wait_exit
	tap_eq "$name: agent was SIGKILLed there" 137 "$AG_RC"
	if [ -n "$holder" ]; then
		exec 9>&-
		wait "$holder" 2>/dev/null
	fi
	agent_start
	tap_eq "$name: after restart, pods show the record unless it was removed" "$want" \
		"$(agent_pods --arg c "$cid" '[.[] | select(.containerID == $c)] | length')"
	cni_del "$cid" "$ns" eth0 "$conf"
	cni_ok_rc "$name: the runtime's retried DEL works"
	tap_eq "$name: no pods left" 0 "$(agent_pods 'length')"
	tap_eq "$name: no state files left" "" "$(find "$AG_STATE" -type f)"
	ok_not "$name: endpoint gone" pod_has_endpoint "$ns"
	agent_stop
done
ok "HugePages_Free is back to its value before the test" hp_back
tap_done
