# shellcheck shell=bash disable=SC2154
# The driver of the socket-semantics suite (test/sockets/sockcase.c) for
# the tests that run it between two pods (preload-semantics,
# preload-semantics-svc). Source test/lib/tap.sh and test/lib/pods.sh first,
# make the pods srv and cli, then set:
#   sc     the sockcase binary      ip_s   the server pod's address
#   port   the last port used (each run takes the next two: PORT and PORT+1)
#
#   run_case MODE CASE   runs the server part in srv (on ip_s:PORT) and the
#                        client part in cli (pod mode: in srv too), both
#                        under LD_PRELOAD unless MODE is kernel; transcript
#                        in $CNI_TMP/MODE-CASE.txt; 0 when both parts ended
#                        as the case expects
#   hl_path MODE CASE    TAP: the run went over hostlane (the layer's
#                        counters of both parts, HOSTLANE_STATS)
#   st_sum FILE          "conns fallbacks off" of HOSTLANE_STATS lines
#   sc_target MODE PORT  optional hook, defined by the test: where the
#                        client connects for server port PORT (sets SC_TO_IP,
#                        SC_TO_PORT; the client's PORT+1 must reach the
#                        server's PORT+1); default ip_s PORT

# Connects a case sends to the kernel on purpose, as the client's fallbacks
# counter sees them: to a port nobody listens on (the monitor knows no
# listener there; the kernel refuses). Every other case: none, except
# many-conns (hl_many_fallbacks).
declare -A HL_FALLBACKS=([refused]=3 [spare]=2 [relisten]=1)
# Cases whose waits spin long under the layer (HOSTLANE_SPIN_NS, ns), so
# that a signal comes while they spin (except in nospin mode).
declare -A HL_SPIN=([signal-wait]=100000000 [signal-wait-restart]=100000000)
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
	if [ "$mode" = nospin ]; then senv+=(HOSTLANE_SPIN_NS=0) pre+=(HOSTLANE_SPIN_NS=0)
	elif [ "$mode" != kernel ] && [ -n "${HL_SPIN[$c]:-}" ]; then
		senv+=(HOSTLANE_SPIN_NS="${HL_SPIN[$c]}") pre+=(HOSTLANE_SPIN_NS="${HL_SPIN[$c]}")
	fi
	port=$((port + 2))
	SC_TO_IP=$ip_s SC_TO_PORT=$port
	if [ "$(type -t sc_target)" = function ] && ! sc_target "$mode" "$port"; then
		echo "S FATAL sc_target" >"$out.txt"
		return 1
	fi
	$bg srv "${senv[@]}" "$sc" server "$c" "$ip_s" "$port" >"$out.s" 2>"$out.serr"
	spid=$POD_BG_PID
	for ((i = 0; i < 400; i++)); do
		grep -q '^S ready$' "$out.s" && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.05
	done
	# A hang guard, not a timing check: sockcase's own alarm ends a stuck part
	# after 60 s.
	timeout -k 5 90 "${pre[@]}" "$sc" client "$c" "$SC_TO_IP" "$SC_TO_PORT" >"$out.c" 2>"$out.cerr"
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

# hl_path MODE CASE: the run went over hostlane: the layer's counters
# (HOSTLANE_STATS, written at exit) show it on in both parts, connections
# made and accepted over hostlane, and no connect that fell back to the
# kernel but those the case makes on purpose (HL_FALLBACKS).
hl_path() {
	local mode=$1 c=$2 out=$CNI_TMP/$1-$2 cs ss want=${HL_FALLBACKS[$2]:-0} why='' cpod=cli
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
