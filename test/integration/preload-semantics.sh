#!/usr/bin/env bash
# The socket-semantics suite (test/sockets/sockcase.c) between two pods made
# by the real plugin with fast path shm and the run's agent: every case runs
# over plain kernel TCP (veth + bridge) and again with both parts under
# LD_PRELOAD=libhostlane.so; each run must end cleanly and the two
# transcripts (return values, errno names, bytes, event masks) must be
# identical. TAP: one line per case per mode, one per comparison.
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

pods_setup
pod_create srv || { tap_fail "pod srv" "see stderr"; tap_done; exit 1; }
pod_create cli || { tap_fail "pod cli" "see stderr"; tap_done; exit 1; }
tap_ok "two shm pods with @hostlane"
ip_s=$(pod_ip srv)
port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000))

hl_mode=1
preload_ready || hl_mode=0

# run_case MODE CASE -> transcript in $CNI_TMP/MODE-CASE.txt; 0 when both
# parts ended as the case expects. Ports are fresh per run (never printed).
run_case() {
	local mode=$1 c=$2 out=$CNI_TMP/$1-$2 spid i src crc srv_ok=0 cpod=cli
	[ "$mode" = pod ] && cpod=srv
	local bg=pod_bg pre=(ip netns exec "$(pod_ns $cpod)") senv=()
	[ "$mode" != kernel ] && bg=pod_bg_hl pre+=(env "${HL_ENV[@]}")
	[ "$mode" = nospin ] && senv=(HOSTLANE_SPIN_NS=0) pre+=(HOSTLANE_SPIN_NS=0)
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
	[[ " ${NOSPIN_CASES:-$nospin_default} " == *" $c "* ]] || continue
	if run_case nospin "$c" && d=$(diff "$CNI_TMP/kernel-$c.txt" "$CNI_TMP/nospin-$c.txt"); then
		tap_ok "$c: without busy-polling, the kernel's transcript"
	else
		preload_fail "$c" "$c: without busy-polling, the kernel's transcript" "$d
$(cat "$CNI_TMP/nospin-$c.txt" "$CNI_TMP/nospin-$c".*err 2>/dev/null | tail -n 30)"
	fi
done
# Keep the transcripts for the report when asked.
[ -n "${SOCKCASE_KEEP:-}" ] && mkdir -p "$SOCKCASE_KEEP" && cp "$CNI_TMP"/*.txt "$SOCKCASE_KEEP"/ 2>/dev/null
tap_done
