#!/usr/bin/env bash
# Code quality gates that are cheap enough for every make test run:
# cppcheck over every component; the exported symbols of each shared library
# (only the library's own prefix, or the intercepted libc API for
# libhostlane's LD_PRELOAD layer, may be exported; and the calls the layer
# interposes must be, unversioned, or every hostlane-mode test would quietly
# turn into a SKIP); and the layering of the build: shmq compiles with its
# own include dirs alone, and an include the wrong way (shmq including the
# monitor's or the shared protocol's header) does not compile.
. "$(dirname "$0")/../lib/tap.sh"
cd "$HOSTLANE_TOP"

if command -v cppcheck >/dev/null; then
	out=$(make --no-print-directory BUILD="$BUILD" check 2>&1)
	if [ $? = 0 ]; then tap_ok "cppcheck clean"; else tap_fail "cppcheck clean" "$(echo "$out" | grep -E 'warning|error' | head -20)"; fi
else
	tap_skip "cppcheck clean" "cppcheck not installed"
fi

# exports LIB ALLOWED_REGEX: every defined dynamic symbol matches the regex.
exports() {
	local lib=$1 allow=$2 bad
	if [ ! -e "$lib" ]; then
		tap_fail "$(basename "$lib") exists" "not built"
		return
	fi
	bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWi]$/ {print $3}' |
		sed 's/@.*//' | grep -vE "$allow" | sort -u)
	if [ -z "$bad" ]; then
		tap_ok "$(basename "$lib") exports only its API"
	else
		tap_fail "$(basename "$lib") exports only its API" "unexpected: $(echo $bad | head -c 600)"
	fi
}
exports "$BUILD/lib/libshmq.so" '^shmq_'
# libhostlane: the native API, plus the libc functions the preload layer
# intercepts (a fixed list: anything else exported would clash with the
# application's own symbols).
intercepted='socket|bind|listen|accept|accept4|connect|read|write|readv|writev|send|recv|sendto|recvfrom|sendmsg|recvmsg|close|shutdown|dup|dup2|dup3|fcntl|fcntl64|getsockopt|setsockopt|getsockname|getpeername|ioctl|poll|ppoll|__poll_chk|__ppoll_chk|select|pselect|epoll_create|epoll_create1|epoll_ctl|epoll_wait|epoll_pwait|fork|vfork|execve|execv|execvp|execvpe|execl|execlp|execle|fexecve|__read_chk|__recv_chk|__recvfrom_chk|_init|_fini|__close|__fcntl|__libc_fork|close_range|socketpair|sendfile|sendfile64|sigaction|__sigaction|signal|bsd_signal|sysv_signal|__sysv_signal|ssignal|sigset|siginterrupt'
exports "$BUILD/lib/libhostlane.so" "^(hl_|($intercepted)\$)"

# must_export LIB WHAT NAMES...: each of NAMES is a function LIB defines and
# exports without a version (an interposing definition must be unversioned:
# the application's read@GLIBC_2.2.5 binds only to an unversioned read).
must_export() {
	local lib=$1 what=$2 syms missing= n; shift 2
	[ -e "$lib" ] || { tap_fail "$(basename "$lib") exports $what" "not built"; return; }
	syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWi]$/ {print $3}')
	for n in "$@"; do
		grep -qx "$n" <<<"$syms" || missing+=" $n"
	done
	if [ -z "$missing" ]; then
		tap_ok "$(basename "$lib") exports $what ($# functions, unversioned)"
	else
		tap_fail "$(basename "$lib") exports $what" "missing or versioned:$missing"
	fi
}
must_export "$BUILD/lib/libhostlane.so" "the socket calls it interposes" \
	socket bind listen accept accept4 connect read write readv writev send recv \
	sendto recvfrom sendmsg recvmsg sendfile close shutdown dup dup2 dup3 fcntl ioctl \
	getsockopt setsockopt getsockname getpeername __read_chk __recv_chk __recvfrom_chk
must_export "$BUILD/lib/libhostlane.so" "the readiness calls it interposes" \
	poll ppoll select pselect epoll_create epoll_create1 epoll_ctl epoll_wait epoll_pwait \
	__poll_chk __ppoll_chk
must_export "$BUILD/lib/libhostlane.so" "the exec calls it interposes" \
	execve execv execvp execvpe execl execlp execle fexecve
must_export "$BUILD/lib/libhostlane.so" "the signal calls it interposes" \
	sigaction __sigaction signal bsd_signal sysv_signal __sysv_signal ssignal sigset siginterrupt

# ---- layering: each component sees its own include dirs alone ----
cc=${CC:-cc}
cflags=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fsyntax-only)
shmq_inc=(-Ishmq/include -Ishmq/src)
lay=$(mktemp -d)
on_exit rm -rf "$lay"

# The build's own compile lines for shmq (make -n, same BUILD and SAN):
# their include dirs are shmq's and nothing else.
bad=
for f in shmq/src/*.c; do
	line=$(make --no-print-directory -B -n BUILD="$BUILD" "$BUILD/obj/${f%.c}.o" 2>&1 |
		grep -F -- "-c $f")
	incs=$(tr ' ' '\n' <<<"$line" | grep -E '^-I' | sort -u | tr '\n' ' ')
	[ "$incs" = "-Ishmq/include -Ishmq/src " ] || bad+="$f: [${incs:-no compile line: $line}] "
done
if [ -z "$bad" ]; then tap_ok "the build compiles shmq/src with -Ishmq/include -Ishmq/src alone"
else tap_fail "the build compiles shmq/src with -Ishmq/include -Ishmq/src alone" "$bad"; fi

# Every source and public header of shmq compiles with those dirs alone.
bad= n=0
for f in shmq/src/*.c; do
	n=$((n + 1))
	out=$("$cc" "${cflags[@]}" -DSHMQ_BUILDING "${shmq_inc[@]}" "$f" 2>&1) || bad+="$f: $out
"
done
for h in shmq/include/*.h; do
	n=$((n + 1))
	printf '#include "%s"\n' "$(basename "$h")" >"$lay/hdr.c"
	out=$("$cc" "${cflags[@]}" -Ishmq/include "$lay/hdr.c" 2>&1) || bad+="$h alone: $out
"
done
if [ -z "$bad" ]; then tap_ok "shmq compiles with its own include dirs alone ($n sources and headers)"
else tap_fail "shmq compiles with its own include dirs alone" "$bad"; fi

# A wrong-way include: shmq including the monitor's header does not compile
# with shmq's flags, because the header is not found; the same probe
# compiles once the monitor's dir is added (nothing else is wrong with it).
printf '%s\n' '#include "shmq.h"' '#include "monitor.h"' 'int layering_probe(void);' \
	'int layering_probe(void) { return (int)sizeof(struct shmq_ep *); }' >"$lay/probe.c"
if out=$("$cc" "${cflags[@]}" -DSHMQ_BUILDING "${shmq_inc[@]}" "$lay/probe.c" 2>&1); then
	tap_fail "shmq including monitor.h does not compile with shmq's include dirs" "it compiled"
elif grep -q 'monitor.h: No such file' <<<"$out"; then
	tap_ok "shmq including monitor.h does not compile with shmq's include dirs"
else
	tap_fail "shmq including monitor.h does not compile with shmq's include dirs" "failed otherwise: $out"
fi
ok "the same probe compiles with the monitor's include dir added" \
	"$cc" "${cflags[@]}" -DSHMQ_BUILDING "${shmq_inc[@]}" -Imonitor/include "$lay/probe.c"
# Nor are the shared protocol headers (lib/proto) shmq's to include.
printf '%s\n' '#include "shmq.h"' '#include "hostlane_proto.h"' >"$lay/probe2.c"
if out=$("$cc" "${cflags[@]}" -DSHMQ_BUILDING "${shmq_inc[@]}" "$lay/probe2.c" 2>&1); then
	tap_fail "shmq including hostlane_proto.h (lib/proto) does not compile with shmq's include dirs" "it compiled"
elif grep -q 'hostlane_proto.h: No such file' <<<"$out"; then
	tap_ok "shmq including hostlane_proto.h (lib/proto) does not compile with shmq's include dirs"
else
	tap_fail "shmq including hostlane_proto.h (lib/proto) does not compile with shmq's include dirs" "failed otherwise: $out"
fi
tap_done
