#!/usr/bin/env bash
# Direct connections (protocol v3, docs/monitor.md): after the first
# connection between two preloaded processes, the connector sets up the next
# ones with the listener process alone, without a request to the monitor.
# Between two pods (real plugin + agent), test/connrate runs its
# connect/wait-for-close/close loop for a second under LD_PRELOAD; the
# layer's own counters (HOSTLANE_STATS, written at exit) must show:
#   * the client: every connection over hostlane, all but the first direct,
#     and only its HELLO and first CONNECT as control requests;
#   * the server: it accepted every one of them (so none was answered by a
#     reset), all but the first direct.
# Then the same with a server that forks a child sharing the listener (as a
# server's snapshot child does): the parent goes on taking its connections
# directly (the child does not accept). And a pre-fork server (the parent
# listens, the child it forked accepts, as nginx's master and worker): the
# child takes the listener's registration over at its first accept()
# (pl_share.c) and takes all but the first few connections directly.
# Last, fds per connection: 1,000 connections between a client and a
# server that holds them in an epoll set (or not), under the layer and on
# the kernel path: an epoll set costs no fd per connection (the peer's
# liveness fd is registered once per peer process and set); the totals
# over the kernel's are reported.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
preload_require
cr=$BUILD/test/connrate
[ -x "$cr" ] || tap_skip_all "$cr not built (make tests)"
pods_setup
pod_create srv || { tap_fail "pod srv"; tap_done; exit 1; }
pod_create cli || { tap_fail "pod cli"; tap_done; exit 1; }
ip_s=$(pod_ip srv)
preload_env

# field FILE KEY: KEY=value from a HOSTLANE_STATS line.
field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$1" | head -1; }

# run MODE PORT: server (MODE server|server-fork) and a 1 s client; the
# stats files are $CNI_TMP/{srv,cli}-PORT.st, outputs .out.
run() {
	local mode=$1 p=$2 spid
	pod_bg srv env "${HL_ENV[@]}" HOSTLANE_STATS="$CNI_TMP/srv-$p.st" "$cr" "$mode" "$ip_s" "$p" \
		>"$CNI_TMP/srv-$p.out" 2>&1
	spid=$POD_BG_PID
	for _ in $(seq 100); do grep -q '^ready' "$CNI_TMP/srv-$p.out" && break; sleep 0.05; done
	grep -q '^ready' "$CNI_TMP/srv-$p.out" || { pod_kill "$spid"; return 1; }
	pod_exec cli env "${HL_ENV[@]}" HOSTLANE_STATS="$CNI_TMP/cli-$p.st" "$cr" client "$ip_s" "$p" 1 \
		>"$CNI_TMP/cli-$p.out" 2>&1
	kill -TERM "$spid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
	pod_kill "$spid"
	sed 's/^/# /' "$CNI_TMP/cli-$p.out" "$CNI_TMP/srv-$p.out" "$CNI_TMP/cli-$p.st" "$CNI_TMP/srv-$p.st"
	return 0
}

ok "direct: client and server ran" run server 7301
n=$(sed -n 's/^conns \([0-9]*\) failed 0 .*/\1/p' "$CNI_TMP/cli-7301.out")
acc=$(sed -n 's/^accepted \([0-9]*\)$/\1/p' "$CNI_TMP/srv-7301.out")
c=$CNI_TMP/cli-7301.st s=$CNI_TMP/srv-7301.st
ok "direct: the client made connections, none failed (${n:-none})" test "${n:-0}" -ge 100
tap_eq "direct: the server accepted each of them" "n=$n" "n=${acc:-none}"
tap_eq "direct: the client's connections all over hostlane" "$n 0" "$(field "$c" conns) $(field "$c" fallbacks)"
tap_eq "direct: all but the first set up without the monitor (client)" $((n - 1)) "$(field "$c" direct)"
tap_eq "direct: the client's control requests: HELLO and one CONNECT" 2 "$(field "$c" ctl_calls)"
tap_eq "direct: the server's connections all over hostlane" "n=$n" "n=$(field "$s" conns)"
tap_eq "direct: all but the first taken from the listener's announcements" $((n - 1)) "$(field "$s" direct)"

ok "fork: client and server ran" run server-fork 7302
n=$(sed -n 's/^conns \([0-9]*\) failed 0 .*/\1/p' "$CNI_TMP/cli-7302.out")
acc=$(sed -n 's/^accepted \([0-9]*\)$/\1/p' "$CNI_TMP/srv-7302.out")
c=$CNI_TMP/cli-7302.st
ok "fork: the client made connections, none failed (${n:-none})" test "${n:-0}" -ge 100
tap_eq "fork: the server accepted each of them" "n=$n" "n=${acc:-none}"
tap_eq "fork: the client's connections all over hostlane" "$n 0" "$(field "$c" conns) $(field "$c" fallbacks)"
tap_eq "fork: all but the first direct: the parent takes them" $((n - 1)) "$(field "$c" direct)"

ok "prefork: client and server ran" run server-prefork 7303
n=$(sed -n 's/^conns \([0-9]*\) failed 0 .*/\1/p' "$CNI_TMP/cli-7303.out")
acc=$(sed -n 's/^accepted \([0-9]*\)$/\1/p' "$CNI_TMP/srv-7303.out")
c=$CNI_TMP/cli-7303.st
# The worker's counters (one line per process of the server: the parent
# takes none).
w=$(sed -n 's/.* direct=\([0-9]*\).*/\1/p' "$CNI_TMP/srv-7303.st" | sort -n | tail -1)
ok "prefork: the client made connections, none failed (${n:-none})" test "${n:-0}" -ge 100
tap_eq "prefork: the worker accepted each of them" "n=$n" "n=${acc:-none}"
tap_eq "prefork: the client's connections all over hostlane" "$n 0" "$(field "$c" conns) $(field "$c" fallbacks)"
d=$(field "$c" direct)
ok "prefork: all but the first few direct (client: $d of $n)" test "${d:-0}" -ge $((n - 5))
ok "prefork: the worker took them from its announcements (${w:-none} of $n)" test "${w:-0}" -ge $((n - 5))
# fds MODE(hostlane|kernel) REG(epoll|plain) PORT: "server-before server-after
# client-before client-after" for 1,000 connections.
fds() {
	local e=() p=$3 spid out=$CNI_TMP/fds-$1-$2
	[ "$1" = hostlane ] && e=(env "${HL_ENV[@]}")
	pod_bg srv "${e[@]}" python3 "$py" server "$ip_s" "$p" 1000 "$2" "$out.srv" >"$out.log" 2>&1
	spid=$POD_BG_PID
	for _ in $(seq 100); do grep -q '^ready' "$out.log" && break; sleep 0.05; done
	pod_bg cli "${e[@]}" python3 "$py" client "$ip_s" "$p" 1000 "$out.cli"
	for _ in $(seq 400); do [ -s "$out.srv" ] && [ -s "$out.cli" ] && break; sleep 0.05; done
	touch "$out.cli.done"
	for _ in $(seq 200); do kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
	pod_kill "$spid"
	echo "$(cat "$out.srv" 2>/dev/null) $(cat "$out.cli" 2>/dev/null)"
}
py=$(dirname "$0")/preload-fds.py
(ulimit -n 8192; fds hostlane epoll 7311 >"$CNI_TMP/fds-a"; fds hostlane plain 7312 >"$CNI_TMP/fds-b"
 fds kernel epoll 7313 >"$CNI_TMP/fds-c")
read -r he0 he1 hc0 hc1 <"$CNI_TMP/fds-a"
read -r hp0 hp1 _ _ <"$CNI_TMP/fds-b"
read -r ke0 ke1 kc0 kc1 <"$CNI_TMP/fds-c"
echo "# fds for 1,000 connections: server hostlane $((he1 - he0)) (no epoll: $((hp1 - hp0)))," \
	"kernel $((ke1 - ke0)); client hostlane $((hc1 - hc0)), kernel $((kc1 - kc0))"
ok "fds: 1,000 connections in an epoll set cost the server no fd more than outside one" \
	test "$((he1 - he0))" -eq "$((hp1 - hp0))" -a "$((he1 - he0))" -ge 1000
tap_done
