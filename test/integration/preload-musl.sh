#!/usr/bin/env bash
# The musl build of the layer, chosen by the loader: hostlanectl
# install-lib lays both builds out as an injected pod's init container does,
# and a dynamically linked musl client and server (ping-pong built with
# musl-gcc, run by musl's loader) with LD_PRELOAD=<dir>/$LIB/libhostlane.so
# talk over hostlane across two pods (their counters, HOSTLANE_STATS); a
# glibc client with the same LD_PRELOAD value loads the glibc build and
# reaches the musl server over hostlane too. Each loader refuses the other
# libc's build outright (the program does not start): the reason both are
# laid out and $LIB chooses.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
MUSL_LIB=$BUILD/musl/lib/libhostlane.so
PP=$BUILD/musl/bin/ping-pong
[ -x /lib/ld-musl-x86_64.so.1 ] || [ -e /lib/ld-musl-x86_64.so.1 ] || tap_skip_all "musl's loader is not installed (musl-tools)"
preload_require
[ -f "$MUSL_LIB" ] && [ -x "$PP" ] || { tap_fail "the musl builds exist" "$MUSL_LIB $PP"; tap_done; exit 1; }
pods_setup
pod_create a || { tap_fail "pod a"; tap_done; exit 1; }
pod_create b || { tap_fail "pod b"; tap_done; exit 1; }
ip_b=$(pod_ip b) port=7501 n=20
stats=$CNI_TMP/stats
tap_eq "ping-pong is a dynamically linked musl program" /lib/ld-musl-x86_64.so.1 \
	"$(readelf -l "$PP" | sed -n 's/.*interpreter: \(.*\)]/\1/p')"
tap_eq "the musl layer needs musl's libc alone" "libc.so" \
	"$(readelf -d "$MUSL_LIB" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ' | sed 's/ $//')"

# The pod's library directory, as the injected init container makes it.
mkdir -p "$CNI_TMP/from/musl"
cp "$HL_PRELOAD" "$CNI_TMP/from/libhostlane.so"
cp "$MUSL_LIB" "$CNI_TMP/from/musl/libhostlane.so"
ok "hostlanectl install-lib lays both builds out" "$HL_CTL" install-lib --from "$CNI_TMP/from" "$CNI_TMP/lib"
pre="$CNI_TMP/lib/\$LIB/libhostlane.so"
ok "glibc's \$LIB names the glibc build" cmp "$CNI_TMP/lib/$(LD_TRACE_LOADED_OBJECTS=1 LD_PRELOAD="$pre" /bin/true 2>/dev/null |
	awk '/libhostlane/ { print $3 }' | sed "s|^$CNI_TMP/lib/||")" "$HL_PRELOAD"

pod_bg b env LD_PRELOAD="$pre" HOSTLANE_STATS="$stats.b" "$PP" server "$ip_b" $port $((n + 1))
spid=$POD_BG_PID
for _ in $(seq 100); do
	ip netns exec "$(pod_ns b)" ss -ltn 2>/dev/null | grep -q ":$port " && break
	sleep 0.05
done
out=$(pod_exec a env LD_PRELOAD="$pre" HOSTLANE_STATS="$stats.a" "$PP" client "$ip_b" $port $n 2>&1)
tap_eq "the musl client gets $n answers from the musl server" "pong $n" "$out"
tap_eq "the client's $n connections went over hostlane (its counters)" "conns=$n fallbacks=0" \
	"$(grep -o 'conns=[0-9]* fallbacks=[0-9]*' "$stats.a" | tail -1)"
out=$(pod_exec a env LD_PRELOAD="$pre" HOSTLANE_STATS="$stats.g" "$BUILD/bin/ping-pong" client "$ip_b" $port 1 2>&1)
tap_eq "a glibc client with the same LD_PRELOAD reaches the musl server" "pong 1" "$out"
tap_eq "... over hostlane" "conns=1 fallbacks=0" "$(grep -o 'conns=[0-9]* fallbacks=[0-9]*' "$stats.g" | tail -1)"
wait "$spid"
tap_eq "the musl server served them all and exited 0" 0 "$?"
tap_eq "the server accepted them over hostlane (its counters)" "conns=$((n + 1))" \
	"$(grep -o 'conns=[0-9]*' "$stats.b" | tail -1)"

# The other libc's build: the loader refuses it, the program does not start.
env LD_PRELOAD="$HL_PRELOAD" "$PP" client 127.0.0.1 1 1 >/dev/null 2>&1
ok "the glibc build under musl's loader: the program does not start" test $? -gt 2
env LD_PRELOAD="$MUSL_LIB" /bin/true >/dev/null 2>&1
tap_eq "the musl build under glibc's loader: the program does not start" 127 "$?"
tap_done
