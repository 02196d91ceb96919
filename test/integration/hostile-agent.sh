#!/usr/bin/env bash
# Hostile pods and CNI input against the agent itself (docs/security.md):
#   * 40 idle connections to the metrics port: /healthz must still answer,
#     10 of 10 within 2 s each;
#   * a pod that opens endpoint connections without end: it stops at its
#     own cap and other pods keep getting theirs; with the agent's whole fd
#     limit used up, the agent must not spin (CPU, log lines) and must
#     recover when the fds come back; a new pod's ADD works;
#   * an ADD whose netns is a FIFO: refused, and the loop (/healthz, other
#     pods' endpoints) never stops;
#   * a network config's logFile outside the plugin's log directory, or a
#     symlink in it, is not written.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/hostile.sh"
command -v curl >/dev/null || tap_skip_all "curl not installed"
hostile_setup
pod_create a || { tap_fail "pod a"; tap_done; exit 1; }
pod_create b || { tap_fail "pod b"; tap_done; exit 1; }

healthz() { curl -s -m 2 "http://$AG_METRICS/healthz"; }
# agent_cpu_ticks: utime + stime of the agent.
agent_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$AG_PID/stat"; }

# ---- metrics and health ----
"$HOSTILE" idle "${AG_METRICS%:*}" "${AG_METRICS##*:}" 40 4000 >"$CNI_TMP/idle.out" 2>&1 &
idle_pid=$!
on_exit "kill $idle_pid"
for _ in $(seq 40); do grep -q '^idle' "$CNI_TMP/idle.out" && break; sleep 0.05; done
n=0
for _ in $(seq 10); do [ "$(healthz)" = ok ] && n=$((n + 1)); done
tap_eq "/healthz answers 10 of 10 beside 40 idle connections ($(cat "$CNI_TMP/idle.out"))" 10 "$n"
kill "$idle_pid" 2>/dev/null; wait "$idle_pid" 2>/dev/null

# ---- fds: a pod's cap ----
lines0=$(wc -l <"$AG_DIR/agent.log")
out=$(attack a clients 400 0)
echo "$out" | sed 's/^/# /'
got=$(kv clients <<<"$out")
ok "one pod cannot hold 400 endpoint connections (got $got)" test "${got:-0}" -lt 400
out=$(attack b clients 5 0)
tap_eq "another pod still gets its connections" 5 "$(kv clients <<<"$out")"

# ---- fds: the agent's whole limit ----
nfd=$(fd_count "$AG_PID")
soft=$(awk '/Max open files/ { print $4 }' "/proc/$AG_PID/limits")
prlimit --pid "$AG_PID" --nofile=$((nfd + 40)):
attack_bg a clients 200 3000
hold=$ATTACK_PID
sleep 0.5
t0=$(agent_cpu_ticks)
sleep 1
t1=$(agent_cpu_ticks)
ok "the agent does not spin with its fds used up ($((t1 - t0)) ticks in 1 s)" test $((t1 - t0)) -lt 30
out=$(ATTACK_TIMEOUT=3 attack b clients 1 0)
echo "$out" | sed 's/^/# pod b while the agent is out of fds: /'
ok "a process of another pod is refused at once, not left waiting" test -n "$(kv clients <<<"$out")"
pod_kill "$hold"
sleep 0.5
lines=$(( $(wc -l <"$AG_DIR/agent.log") - lines0 ))
ok "the agent's log stays short ($lines lines)" test "$lines" -lt 100
out=$(attack b clients 3 0)
tap_eq "the agent serves again once the fds are back" 3 "$(kv clients <<<"$out")"
prlimit --pid "$AG_PID" --nofile="$soft":
pod_create c && tap_ok "a new pod's ADD works" || tap_fail "a new pod's ADD works"
ok "the agent is alive" kill -0 "$AG_PID"

# ---- the plugin's logFile ----
logdir=$CNI_TMP/cnilog
mkdir -p "$logdir" "$CNI_TMP/elsewhere"
ln -s "$CNI_TMP/elsewhere/target" "$logdir/link.log"
lns=$(cni_pod lg)
cni_netns_add "$lns"
logrun() { # LOGFILE: ADD + DEL with that logFile, the log dir given by the runtime's env
	local conf
	conf=$(cni_conf '. + {logFile: $f, logLevel: "debug"}' --arg f "$1")
	CNI_EXTRA_ENV=("HOSTLANE_CNI_LOG_DIR=$logdir")
	cni_add cid-lg-$CNI_RUN "$lns" eth0 "$conf"
	cni_del cid-lg-$CNI_RUN "$lns" eth0 "$conf"
	CNI_EXTRA_ENV=()
}
logrun "$CNI_TMP/elsewhere/evil.log"
ok_not "a logFile outside the log directory is not created" test -e "$CNI_TMP/elsewhere/evil.log"
logrun "$logdir/link.log"
ok_not "a symlink in the log directory is not followed" test -e "$CNI_TMP/elsewhere/target"
logrun "$logdir/cni.log"
ok "a logFile in the log directory is written" test -s "$logdir/cni.log"
# ---- a netns that is a FIFO ----
mkfifo "$CNI_TMP/fifo"
req=$(jq -nc --arg ns "$CNI_TMP/fifo" '{hostlane: 1, op: "ADD", network: "n", containerID: "fifo1",
	ifname: "eth0", netns: $ns, fastpath: {config: "shm"}}')
(timeout -k 1 5 "$HL_CTL" --socket "$AG_SOCK" --timeout 4000 raw <<<"$req" >"$CNI_TMP/fifo.out" 2>&1) &
fifo_job=$!
sleep 0.5
tap_eq "/healthz answers while an ADD names a FIFO as netns" ok "$(healthz)"
out=$(attack a clients 1 0)
tap_eq "a pod's endpoint serves while an ADD names a FIFO" 1 "$(kv clients <<<"$out")"
wait "$fifo_job"
echo "# $(cat "$CNI_TMP/fifo.out")"
tap_eq "the ADD with a FIFO as netns is refused" false "$(jq -r .ok "$CNI_TMP/fifo.out" 2>/dev/null)"
tap_eq "/healthz answers afterwards" ok "$(healthz)"

tap_done
