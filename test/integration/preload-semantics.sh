#!/usr/bin/env bash
# The socket-semantics suite (test/sockets/sockcase.c) between two pods made
# by the real plugin with fast path shm and the run's agent: every case runs
# over plain kernel TCP (veth + bridge) and again with both parts under
# LD_PRELOAD=libhostlane.so; each run must end cleanly and the two
# transcripts (return values, errno names, bytes, event masks) must be
# identical. TAP: one line per case per mode, one per comparison. Every
# hostlane run also proves it went over hostlane: the layer's counters of
# both parts (HOSTLANE_STATS, written at exit) must show connections made
# and accepted over hostlane, the layer on, and no connect that fell back
# to the kernel except the refused ones a case makes on purpose
# (HL_FALLBACKS below).
# The hostlane half runs when HOSTLANE_PRELOAD_TESTS=1 or libhostlane.so
# exports socket(); otherwise it reports SKIP with the reason.
# SOCKCASES='glob' runs only some cases. Every case runs a third time with
# both parts in the server's pod (a process connecting to another of its
# own pod, over hostlane too), compared with the kernel's transcript (the
# kernel's own transcripts are the same within one pod and between two). The
# cases in NOSPIN_CASES run once more with HOSTLANE_SPIN_NS=0: the layer
# never busy-polls, so every wait sleeps and every wake-up must be written
# (a lost one is a hang, ended by sockcase's alarm and reported).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pods.sh"
need_root
sc=$BUILD/test/sockcase
[ -x "$sc" ] || tap_skip_all "build $sc first (make BUILD=${BUILD##*/} $sc)"
command -v jq >/dev/null || tap_skip_all "jq is not installed (hack/deps.sh installs it)"

pods_setup
pod_create srv || { tap_fail "pod srv" "see stderr"; tap_done; exit 1; }
pod_create cli || { tap_fail "pod cli" "see stderr"; tap_done; exit 1; }
tap_ok "two shm pods with @hostlane"
ip_s=$(pod_ip srv)
port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000))

hl_mode=1
preload_ready || hl_mode=0

# Connects a case sends to the kernel on purpose, as the client's fallbacks
# counter sees them: to a port nobody listens on (the monitor knows no
# listener there; the kernel refuses). Every other case: none, except
# many-conns (hl_many_fallbacks).
declare -A HL_FALLBACKS=([refused]=3 [spare]=2 [relisten]=1)
# Cases whose server part is killed (it writes no counters).
HL_SRV_KILLED=" peer-killed "

# many-conns holds 1000 connections open at once, more than the client
# pod's quota holds (docs/pod-protocol.md, "Quota rule": a connection's
# region is charged to the connecting pod; beyond the quota the connect goes
# to the kernel). Exactly the connections the quota holds go over hostlane:
# a pair region takes 2 MiB of it and has 7 slots (docs/monitor.md), so
# 7 x quota / 2 MiB of them; the rest are fallbacks, and any other fallback
# changes the count.
hl_many_fallbacks() { # POD: the client's pod
	local q cap
	q=$(ctl --json pods | jq --arg p "$1" '[.. | objects | select(.name? == $p and has("quotaBytes"))][0].quotaBytes')
	cap=$((7 * ${q:-0} / 2097152))
	echo $((cap >= 1000 ? 0 : 1000 - cap))
}

# run_case MODE CASE -> transcript in $CNI_TMP/MODE-CASE.txt; 0 when both
# parts ended as the case expects. Ports are fresh per run (never printed).
run_case() {
	local mode=$1 c=$2 out=$CNI_TMP/$1-$2 spid i src crc srv_ok=0 cpod=cli
	[ "$mode" = pod ] && cpod=srv
	local bg=pod_bg pre=(ip netns exec "$(pod_ns $cpod)") senv=()
	if [ "$mode" != kernel ]; then
		bg=pod_bg_hl
		rm -f "$out.sst" "$out.cst"
		senv=(HOSTLANE_STATS="$out.sst") pre+=(env "${HL_ENV[@]}" HOSTLANE_STATS="$out.cst")
	fi
	[ "$mode" = nospin ] && senv+=(HOSTLANE_SPIN_NS=0) pre+=(HOSTLANE_SPIN_NS=0)
	port=$((port + 2))
	$bg srv "${senv[@]}" "$sc" server "$c" "$ip_s" "$port" >"$out.s" 2>"$out.serr"
	spid=$POD_BG_PID
	for ((i = 0; i < 400; i++)); do
		grep -q '^S ready$' "$out.s" && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.05
	done
	# A hang guard, not a timing check: sockcase's own alarm ends a stuck part
	# after 60 s.
	timeout -k 5 90 "${pre[@]}" "$sc" client "$c" "$ip_s" "$port" >"$out.c" 2>"$out.cerr"
	crc=$?
	# A failed client leaves its server waiting: end it now (by pid).
	[ "$crc" = 0 ] || kill -9 "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	src=$?
	# peer-killed's server dies by SIGKILL (137) on purpose.
	if [ "$c" = peer-killed ]; then [ "$src" = 137 ] && srv_ok=1
	else [ "$src" = 0 ] && srv_ok=1; fi
	{ cat "$out.s"; echo "S exit ok = $srv_ok"; cat "$out.c"; echo "C exit = $crc"; } >"$out.txt"
	[ "$srv_ok" = 1 ] && [ "$crc" = 0 ] && ! grep -q FATAL "$out.txt"
}

# st_sum FILE: "conns fallbacks off" summed over the HOSTLANE_STATS lines of
# FILE (one per process that exited; off: how many ran with the layer off),
# or "none" without a line.
st_sum() {
	[ -s "$1" ] || { echo none; return; }
	awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] += kv[2] } }
		END { printf "%d %d %d\n", v["conns"], v["fallbacks"], v["off"] }' "$1"
}

# hl_path MODE CASE: the run went over hostlane (see the top of this file).
hl_path() {
	local mode=$1 c=$2 out=$CNI_TMP/$1-$2 cs ss want=${HL_FALLBACKS[$2]:-0} why= cpod=cli
	[ "$mode" = pod ] && cpod=srv
	[ "$c" = many-conns ] && want=$(hl_many_fallbacks $cpod)
	cs=$(st_sum "$out.cst") ss=$(st_sum "$out.sst")
	read -r ccon cfb coff <<<"$cs"
	read -r scon _ soff <<<"$ss"
	if [ "$cs" = none ]; then why="the client wrote no counters"
	elif [ "$coff" != 0 ]; then why="the layer was off in the client"
	elif [ "$ccon" -lt 1 ]; then why="the client made no connection over hostlane"
	elif [ "$cfb" != "$want" ]; then why="the client sent $cfb connects to the kernel, $want expected"
	elif [[ $HL_SRV_KILLED != *" $c "* ]]; then
		if [ "$ss" = none ]; then why="the server wrote no counters"
		elif [ "$soff" != 0 ]; then why="the layer was off in the server"
		elif [ "$scon" -lt 1 ]; then why="the server accepted no connection over hostlane"
		fi
	fi
	if [ -z "$why" ]; then
		tap_ok "$c ($mode): over hostlane (client: conns=$ccon, fallbacks=$cfb of $want expected; server: conns=$scon)"
	else
		tap_fail "$c ($mode): over hostlane" "$why
client: $(cat "$out.cst" 2>/dev/null)
server: $(cat "$out.sst" 2>/dev/null)"
	fi
}

cases=$("$sc" list)
nospin_default="connect-block half-close close-queued refused epoll-et threads \
fork-listener fork-conn fork-wakeup spawn accept-race signal-intr signal-restart \
peer-closed peer-closed-sigpipe peer-closed-nb linger-abort linger-abort-nb \
abort-queued close-queued-idle oob oob-inline oob-nb"
for c in $cases; do
	# shellcheck disable=SC2053
	[[ $c == ${SOCKCASES:-*} ]] || continue
	if run_case kernel "$c"; then tap_ok "$c (kernel)"
	else tap_fail "$c (kernel)" "$(cat "$CNI_TMP/kernel-$c.txt" "$CNI_TMP/kernel-$c".*err 2>/dev/null | tail -n 30)"; fi
	if [ $hl_mode = 0 ]; then
		tap_skip "$c (hostlane)" "$PRELOAD_WHY"
		tap_skip "$c: hostlane transcript = kernel transcript" "$PRELOAD_WHY"
		continue
	fi
	if run_case hostlane "$c"; then tap_ok "$c (hostlane)"
	else preload_fail "$c" "$c (hostlane)" "$(cat "$CNI_TMP/hostlane-$c.txt" "$CNI_TMP/hostlane-$c".*err 2>/dev/null | tail -n 30)"; fi
	hl_path hostlane "$c"
	if d=$(diff "$CNI_TMP/kernel-$c.txt" "$CNI_TMP/hostlane-$c.txt"); then
		tap_ok "$c: hostlane transcript = kernel transcript"
	else
		preload_fail "$c" "$c: hostlane transcript = kernel transcript" "diff kernel hostlane:
$d"
	fi
	if run_case pod "$c" && d=$(diff "$CNI_TMP/kernel-$c.txt" "$CNI_TMP/pod-$c.txt"); then
		tap_ok "$c: within one pod, the kernel's transcript"
	else
		preload_fail "$c" "$c: within one pod, the kernel's transcript" "$d
$(cat "$CNI_TMP/pod-$c.txt" "$CNI_TMP/pod-$c".*err 2>/dev/null | tail -n 30)"
	fi
	hl_path pod "$c"
	[[ " ${NOSPIN_CASES:-$nospin_default} " == *" $c "* ]] || continue
	if run_case nospin "$c" && d=$(diff "$CNI_TMP/kernel-$c.txt" "$CNI_TMP/nospin-$c.txt"); then
		tap_ok "$c: without busy-polling, the kernel's transcript"
	else
		preload_fail "$c" "$c: without busy-polling, the kernel's transcript" "$d
$(cat "$CNI_TMP/nospin-$c.txt" "$CNI_TMP/nospin-$c".*err 2>/dev/null | tail -n 30)"
	fi
	hl_path nospin "$c"
done
# Keep the transcripts for the report when asked.
[ -n "${SOCKCASE_KEEP:-}" ] && mkdir -p "$SOCKCASE_KEEP" && cp "$CNI_TMP"/*.txt "$SOCKCASE_KEEP"/ 2>/dev/null
tap_done
