#!/usr/bin/env bash
# The vhost-user switch's life around the agent, with traffic: two testpmd
# pods (txonly A -> rxonly B) on the agent's switch.
#   0. a stale pid file naming an unrelated live process: that process is
#      never touched, the agent starts its own switch (--in-memory);
#   1. SIGKILL of the agent: the switch runs on and keeps forwarding
#      (counters move with no agent); meanwhile a pod's port is lost and a
#      port no pod owns appears; the restarted agent adopts the switch (same
#      pid, its port counters never reset), the ports are exactly the pods'
#      again, and a new vhost-user ADD works;
#   2. SIGKILL of the switch: restarted after the 1 s back-off, a metric
#      counts it, ports re-created, traffic resumes;
#   3. 10 agent SIGKILL/restart cycles: always the same single switch; an
#      agent that fails to start leaves it forwarding; an agent restarted
#      with another switch command line replaces it;
#   4. SIGTERM of the agent: the switch stops by its own SIGTERM handling,
#      no process, pid file, socket, hugepage file or EAL directory is left,
#      and the hugepages come back.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
. "$(dirname "$0")/../lib/vhost.sh"
vhost_need 160
hp0=$(hp_free) rsvd0=$(awk '$1 == "HugePages_Rsvd:" {print $2}' /proc/meminfo)
cni_setup
agent_setup

id=hfl$CNI_RUN
sockdir=/tmp/hfl$CNI_RUN        # short: socket paths must stay < 108 bytes
run=$AG_DIR/run
ctlsock=$run/vswitch.sock pidf=$run/vswitch.pid
on_exit "rm -rf '$sockdir'"
vhost_setup "$id"
# A switch outlives a killed agent by design: end every one this run made.
switches=()
end_switches() {
	local p
	for p in "${switches[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 1
	for p in "${switches[@]}"; do kill -9 "$p" 2>/dev/null; done
}
on_exit end_switches
seen() { [ -n "$1" ] && [ "$1" != 0 ] && switches+=("$1"); }

# alive PID: the process exists and is not a zombie.
alive() { [ -r "/proc/$1/stat" ] && ! awk '{ sub(/.*\) /, ""); exit $1 == "Z" ? 0 : 1 }' "/proc/$1/stat"; }
# Switch processes serving our control socket (by command line, any parent).
nswitches() {
	local p n=0
	for p in /proc/[0-9]*; do
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "--ctl $ctlsock " && n=$((n + 1))
	done
	echo $n
}
metric() { curl -s "http://$AG_METRICS/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
status() { ctl --json status 2>/dev/null | jq -r ".vhostUser.$1" 2>/dev/null; }
ports() { vctl list 2>/dev/null | awk '{print $4}' | sort | tr '\n' ' '; }

jq -n --arg d "$sockdir" '{vhostUser: {backend: "builtin", socketDir: $d, lcore: 1,
	switchArgs: ["-m", "64", "--log-level=lib.eal:warning", "--log-level=lib.vhost.config:warning"]}}' \
	>"$AG_DIR/conf.json"

# --- 0. a stale pid file naming someone else -----------------------------------
sleep 300 &
decoy=$!
on_exit "kill $decoy"
mkdir -p "$run"
echo "$decoy 1" >"$pidf"        # right pid, wrong start time: not a switch of ours
agent_start --config "$AG_DIR/conf.json"; tap_eq "agent starts with its switch" 0 "$?"
sw1=$(swpid); seen "$sw1"
ok "the switch runs (pid $sw1), not the pid file's stale pid" test "${sw1:-0}" != 0 -a "${sw1:-0}" != "$decoy"
ok "the unrelated process of the stale pid file is untouched" alive "$decoy"
tap_eq "the pid file names the switch now" "$sw1" "$(cut -d' ' -f1 "$pidf" 2>/dev/null)"
ok "the switch runs --in-memory (no hugepage files)" \
	sh -c "tr '\\0' ' ' </proc/$sw1/cmdline | grep -q -- ' --in-memory '"
prefix=$(tr '\0' '\n' <"/proc/$sw1/cmdline" | sed -n '/^--file-prefix$/{n;p;q}')
hugedirs=$(awk '$3 == "hugetlbfs" {print $2}' /proc/mounts)
hpfiles() { local d; for d in $hugedirs; do ls "$d" 2>/dev/null; done | grep -c "^$prefix" || true; }
tap_eq "the switch has no file in any hugetlbfs mount" 0 "$(hpfiles)"

conf=$(agent_conf vhost-user)
a=$(cni_pod a) b=$(cni_pod b) c=$(cni_pod c) d=$(cni_pod d)
for p in "$a" "$b" "$c" "$d"; do cni_netns_add "$p"; done
add() { # CID NETNS NAME
	CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=ns$CNI_RUN;K8S_POD_NAME=$3;K8S_POD_UID=u-$1")
	cni_add "$1" "$2" eth0 "$conf"
	CNI_EXTRA_ENV=()
}
sock_of() { jq -r '.interfaces[] | select(.socketPath) | .socketPath' <<<"$1" 2>/dev/null; }
add "cid-a-$CNI_RUN" "$a" pa; cni_ok_rc "ADD pod A (vhost-user)"; sa=$(sock_of "$CNI_STDOUT")
add "cid-b-$CNI_RUN" "$b" pb; cni_ok_rc "ADD pod B (vhost-user)"; sb=$(sock_of "$CNI_STDOUT")
add "cid-c-$CNI_RUN" "$c" pc; cni_ok_rc "ADD pod C (vhost-user, no traffic)"; sc=$(sock_of "$CNI_STDOUT")
pod a "$sa" txonly 02:00:00:00:1f:0a --eth-peer=0,02:00:00:00:1f:0b
pod b "$sb" rxonly 02:00:00:00:1f:0b
ok "pods A and B connected" wait_up "$sa" "$sb"
ok "frames from A reach B through the switch" wait_grow "$sb" tx_packets 0

# --- 1. SIGKILL the agent: the data plane stays -----------------------------------
agent_kill
ok "the switch outlives the killed agent" alive "$sw1"
b0=$(counter "$sb" tx_packets)
ok "traffic keeps flowing with no agent (B tx from $b0)" wait_grow "$sb" tx_packets "${b0:-0}"
ok "while the agent is down, pod C's port goes missing" vctl del-port "$(port_of "$sc")"
ok "and a port no pod owns appears" vctl add-port stray "$sockdir/stray.sock"
b1=$(counter "$sb" tx_packets)
agent_start --config "$AG_DIR/conf.json"; tap_eq "agent restarts" 0 "$?"
tap_eq "the restarted agent adopted the running switch (same pid)" "$sw1" "$(swpid)"
tap_eq "STATUS says adopted" true "$(status switchAdopted)"
tap_eq "/metrics says adopted" 1 "$(metric hostlane_agent_vswitch_adopted)"
tap_eq "the switch's ports are exactly the pods' sockets" \
	"$(printf '%s\n' "$sa" "$sb" "$sc" | sort | tr '\n' ' ')" "$(ports)"
b2=$(counter "$sb" tx_packets)
ok "B's port was kept, not re-created: its counter never reset ($b1 -> $b2)" \
	test "${b2:-0}" -ge "${b1:-1}"
ok "A and B stayed up through the adoption" wait_up "$sa" "$sb"
ok "traffic goes on after the adoption" wait_grow "$sb" tx_packets "${b2:-0}"
add "cid-d-$CNI_RUN" "$d" pd; cni_ok_rc "a new vhost-user ADD works on the adopted switch"
sd=$(sock_of "$CNI_STDOUT")
ok "pod D's port is in the adopted switch" test -n "$(port_of "$sd")"

# --- 2. SIGKILL the switch: restarted after the back-off ------------------------------
t0=$(date +%s%N)
kill -9 "$sw1"
sw2=
for i in $(seq 100); do
	sw2=$(swpid)
	[ -n "$sw2" ] && [ "$sw2" != 0 ] && [ "$sw2" != "$sw1" ] && break
	sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000)); seen "$sw2"
ok "the agent restarted the killed switch ($sw1 -> $sw2, seen after $ms ms)" \
	test -n "$sw2" -a "${sw2:-0}" != 0 -a "$sw2" != "$sw1"
# A lower bound only: the restart cannot come before its back-off.
ok "not before the 1 s back-off" test "$ms" -ge 1000
tap_eq "/metrics counts the restart" 1 "$(metric hostlane_agent_vswitch_restarts_total)"
# It outlives this agent: it must share none of the agent's sockets or pipes
# (beyond stdin/stdout/stderr).
objs() { local f; for f in /proc/$1/fd/*; do [ "${f##*/}" -gt 2 ] && readlink "$f"; done 2>/dev/null |
	grep -E '^(socket|pipe):\[' | sort -u; }
tap_eq "the restarted switch holds none of the agent's sockets or pipes" "" \
	"$(comm -12 <(objs "$AG_PID") <(objs "$sw2") | tr '\n' ' ')"
tap_eq "the new switch is the agent's own (not adopted)" false "$(status switchAdopted)"
tap_eq "all four ports re-created" "$(printf '%s\n' "$sa" "$sb" "$sc" "$sd" | sort | tr '\n' ' ')" "$(ports)"
ok "pods reconnected" wait_up "$sa" "$sb"
ok "traffic resumed" wait_grow "$sb" tx_packets 0

# --- 3. ten agent crashes: one switch, the same one -------------------------------
hugetlb() { awk '/_Hugetlb:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup"; }
mem0=$(hugetlb "$sw2")
pids= counts=
for i in $(seq 10); do
	agent_kill
	agent_start --config "$AG_DIR/conf.json" || break
	pids="$pids $(swpid)" counts="$counts $(nswitches)"
done
tap_eq "10 agent crashes: the same switch adopted each time" \
	"$(printf " $sw2%.0s" $(seq 10))" "$pids"
tap_eq "10 agent crashes: exactly one switch each time" "$(printf ' 1%.0s' $(seq 10))" "$counts"
tap_eq "the switch's hugepage memory did not grow (${mem0} kB)" "$mem0" "$(hugetlb "$sw2")"
b3=$(counter "$sb" tx_packets)
ok "traffic still flows" wait_grow "$sb" tx_packets "${b3:-0}"
tap_eq "no restart through the crashes" 0 "$(metric hostlane_agent_vswitch_restarts_total)"
# An agent that fails to start after it found the switch (here: a metrics
# address it cannot use) leaves it forwarding, as a crash would.
agent_kill
agent_start --config "$AG_DIR/conf.json" --metrics-addr 256.0.0.1:1
agent_wait_exit
ok "an agent that cannot start exits non-zero ($AG_RC)" test "$AG_RC" != 0
ok "and leaves the switch running" alive "$sw2"
b4=$(counter "$sb" tx_packets)
ok "and forwarding" wait_grow "$sb" tx_packets "${b4:-0}"
agent_start --config "$AG_DIR/conf.json"; tap_eq "the next agent starts" 0 "$?"
tap_eq "and adopts that switch" "$sw2" "$(swpid)"
# A changed configuration is not adopted: the old switch is stopped first.
agent_kill
jq '.vhostUser.switchArgs += ["--log-level=lib.eal:error"]' "$AG_DIR/conf.json" >"$AG_DIR/conf2.json"
agent_start --config "$AG_DIR/conf2.json"; tap_eq "agent restarts with another switch command line" 0 "$?"
sw3=$(swpid); seen "$sw3"
ok "a new switch replaces the old one ($sw2 -> $sw3)" test "${sw3:-0}" != 0 -a "${sw3:-0}" != "$sw2"
ok_not "the old switch is gone" alive "$sw2"
tap_eq "exactly one switch" 1 "$(nswitches)"
tap_eq "not adopted" false "$(status switchAdopted)"
ok "ports re-created, pods reconnected" wait_up "$sa" "$sb"
ok "traffic flows through the new switch" wait_grow "$sb" tx_packets 0

# --- 4. SIGTERM the agent: the switch goes with it ---------------------------------
agent_stop
tap_eq "the agent exits 0 on SIGTERM" 0 "$AG_RC"
ok_not "the switch is gone" alive "$sw3"
tap_eq "no switch process serves the run's socket" 0 "$(nswitches)"
ok "the switch stopped by its own SIGTERM handling" grep -q "vswitch: pid $sw3 stopped" "$AG_DIR/agent.log"
ok_not "no SIGKILL was needed" grep -q "ignored SIGTERM" "$AG_DIR/agent.log"
ok_not "its pid file is removed" test -e "$pidf"
ok_not "its control socket is removed" test -e "$ctlsock"
tap_eq "no hugepage file of the switch in any hugetlbfs mount" 0 "$(hpfiles)"
ok_not "no EAL run directory of the switch is left" test -e "/var/run/dpdk/$prefix"
stop_pods
tap_eq "the pods left no hugepage files" 0 "$(ls /dev/hugepages | grep -c "^$id" || true)"
# Other engineers' tests may take or return hugepages at the same moment: the
# node-wide counters are compared one-sided (a leak lowers Free, raises Rsvd).
for i in $(seq 50); do
	[ "$(hp_free)" -ge "$hp0" ] && [ "$(awk '$1 == "HugePages_Rsvd:" {print $2}' /proc/meminfo)" -le "$rsvd0" ] && break
	sleep 0.2
done
ok "HugePages_Free back to its start value ($hp0 -> $(hp_free))" test "$(hp_free)" -ge "$hp0"
tap_done
