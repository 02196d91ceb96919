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
. "$(dirname "$0")/../lib/sockcase.sh"
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

cases=$("$sc" list)
nospin_default="connect-block half-close close-queued refused epoll-et threads \
fork-listener fork-conn fork-wakeup spawn accept-race signal-intr signal-restart \
signal-wait signal-wait-restart \
peer-closed peer-closed-sigpipe peer-closed-nb linger-abort linger-abort-nb \
abort-queued close-queued-idle oob oob-inline oob-nb spare"
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
