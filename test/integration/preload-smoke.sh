#!/usr/bin/env bash
# The LD_PRELOAD layer end to end, quickly: two pods with the shm fast path
# (real plugin + agent of the run); an unmodified socket program (python3)
# serves and connects under LD_PRELOAD; the data comes back intact, and the
# layer's counters (HOSTLANE_STATS) prove the bytes went over hostlane. The
# same pair with HOSTLANE_DISABLE=1 goes over the kernel; a preloaded client
# talks to a server without the library (kernel fallback).
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
preload_require python3
echo_py=$HOSTLANE_TOP/libhostlane/tests/pl_echo.py
pods_setup
pod_create a || { tap_fail "pod a"; tap_done; exit 1; }
pod_create b || { tap_fail "pod b"; tap_done; exit 1; }
ip_b=$(pod_ip b)
stats=$CNI_TMP/stats

# stat FILE FIELD: the field summed over every preloaded process that wrote
# FILE (python3 starts helper processes of its own; they add zeros).
stat() { awk -v f="$2" '{for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) s += kv[2] }} END {print f "=" s+0}' "$1" 2>/dev/null; }

# run MODE PORT: server in b, client in a; MODE hl | off | mixed
run() {
	local mode=$1 port=$2 env_s=() env_c=()
	rm -f "$stats.s" "$stats.c"
	case $mode in
	hl) env_s=(LD_PRELOAD="$HL_PRELOAD" HOSTLANE_STATS="$stats.s")
	    env_c=(LD_PRELOAD="$HL_PRELOAD" HOSTLANE_STATS="$stats.c") ;;
	off) env_s=(LD_PRELOAD="$HL_PRELOAD" HOSTLANE_DISABLE=1 HOSTLANE_STATS="$stats.s")
	     env_c=(LD_PRELOAD="$HL_PRELOAD" HOSTLANE_DISABLE=1 HOSTLANE_STATS="$stats.c") ;;
	mixed) env_s=(HL_NONE=1)
	       env_c=(LD_PRELOAD="$HL_PRELOAD" HOSTLANE_STATS="$stats.c") ;;
	esac
	pod_bg b env "${env_s[@]}" python3 "$echo_py" server "$port" 2
	local spid=$POD_BG_PID
	wait_tcp a "$ip_b" "$port" >/dev/null 2>&1 || true
	# wait_tcp itself made one (kernel) connection: the server serves 2.
	out=$(pod_exec a timeout 60 env "${env_c[@]}" python3 "$echo_py" client "$ip_b" "$port" 3000000 2>&1)
	wait "$spid" 2>/dev/null
}

run hl 7101
ok "hostlane: 3 MB echoed intact" grep -q '^ok ' <<<"$out"
tap_eq "hostlane: the client made 1 hostlane connection" "conns=1" \
	"$(stat "$stats.c" conns)"
tap_eq "hostlane: the client sent 3000000 bytes over rings" "tx_bytes=3000000" \
	"$(stat "$stats.c" tx_bytes)"
tap_eq "hostlane: the server received them over rings" "rx_bytes=3000000" \
	"$(stat "$stats.s" rx_bytes)"

run off 7102
ok "HOSTLANE_DISABLE=1: 3 MB echoed intact" grep -q '^ok ' <<<"$out"
tap_eq "HOSTLANE_DISABLE=1: the layer is off in every preloaded process" "0" \
	"$(grep -c 'off=0' "$stats.c")"
tap_eq "HOSTLANE_DISABLE=1: nothing over rings" "tx_bytes=0" \
	"$(stat "$stats.c" tx_bytes)"

run mixed 7103
ok "preloaded client to a kernel-only server: echoed intact" grep -q '^ok ' <<<"$out"
tap_eq "preloaded client to a kernel-only server: fell back" "fallbacks=1 tx_bytes=0" \
	"$(stat "$stats.c" fallbacks) $(stat "$stats.c" tx_bytes)"
tap_done
