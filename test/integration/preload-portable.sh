#!/usr/bin/env bash
# The layer loads in the app images people run. The glibc build needs no
# symbol version above GLIBC_2.17 (CentOS 7's glibc; read from the .so's
# version needs, whatever the build machine's glibc is) and no library a
# glibc image lacks; the musl build needs musl's libc alone and no glibc
# version; both export the same interposed calls (but glibc's own
# 64-bit-offset aliases).
. "$(dirname "$0")/../lib/tap.sh"
G=$BUILD/lib/libhostlane.so M=$BUILD/musl/lib/libhostlane.so
command -v readelf >/dev/null || tap_skip_all "readelf is not installed (binutils)"
[ -f "$G" ] && [ -f "$M" ] || { tap_fail "both builds exist" "$G $M"; tap_done; exit 1; }

# The versions the .so needs from glibc (its .gnu.version_r), highest first.
needs() { readelf -V --wide "$1" | sed -n 's/.*Name: \(GLIBC_[0-9.]*\).*/\1/p' | sort -u -V; }
if [ "${SAN:-0}" = 1 ]; then
	for w in "the glibc build needs GLIBC_2.17 at most" "... no GLIBC_PRIVATE" "... and needs libc, libdl, libpthread and the loader" \
		"... every glibc symbol it calls is of GLIBC_2.17 or older"; do
		tap_skip "$w" "SAN=1: the sanitizer runtimes are linked into the glibc build (the baseline is the release build's)"
	done
else
top=$(needs "$G" | tail -1)
ok "the glibc build needs GLIBC_2.17 at most (highest: $top)" \
	test "$(printf '%s\nGLIBC_2.17\n' "$top" | sort -V | tail -1)" = GLIBC_2.17
tap_eq "... no GLIBC_PRIVATE" "" "$(readelf -V --wide "$G" | grep -o 'GLIBC_PRIVATE' | head -1)"
tap_eq "... and needs libc, libdl, libpthread and the loader (every glibc image has them)" \
	"ld-linux-x86-64.so.2 libc.so.6 libdl.so.2 libpthread.so.0" \
	"$(readelf -d "$G" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ' | sed 's/ $//')"
# Every undefined symbol with a version: its version at most 2.17.
over=$(objdump -T "$G" | awk '$0 ~ /\*UND\*/ && match($0, /GLIBC_[0-9.]+/) {
	v = substr($0, RSTART, RLENGTH); print v, $NF }' | while read -r v s; do
	[ "$(printf '%s\nGLIBC_2.17\n' "$v" | sort -V | tail -1)" = GLIBC_2.17 ] || echo "$s@$v"; done)
tap_eq "... every glibc symbol it calls is of GLIBC_2.17 or older" "" "$over"
fi

tap_eq "the musl build needs musl's libc alone" "libc.so" \
	"$(readelf -d "$M" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ' | sed 's/ $//')"
tap_eq "... and no glibc version" "" "$(needs "$M")"
exports() { nm -D --defined-only "$1" | awk '{ print $3 }' | sed 's/@.*//' | sort -u; }
tap_eq "both export the same calls (the glibc build also fcntl64 and sendfile64)" "fcntl64 sendfile64" \
	"$(comm -3 <(exports "$G") <(exports "$M") | tr -d '\t' | tr '\n' ' ' | sed 's/ $//')"
tap_done
