#!/usr/bin/env bash
# Code quality gates that are cheap enough for every make test run:
# cppcheck over every component, and the exported symbols of each shared
# library (only the library's own prefix, or the intercepted libc API for
# libhostlane's LD_PRELOAD layer, may be exported).
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
intercepted='socket|bind|listen|accept|accept4|connect|read|write|readv|writev|send|recv|sendto|recvfrom|sendmsg|recvmsg|close|shutdown|dup|dup2|dup3|fcntl|fcntl64|getsockopt|setsockopt|getsockname|getpeername|ioctl|poll|ppoll|__poll_chk|__ppoll_chk|select|pselect|epoll_create|epoll_create1|epoll_ctl|epoll_wait|epoll_pwait|fork|vfork|execve|execv|execvp|execvpe|execl|execlp|execle|fexecve|__read_chk|__recv_chk|__recvfrom_chk|_init|_fini|__close|__fcntl|__libc_fork|close_range|socketpair|sendfile|sendfile64'
exports "$BUILD/lib/libhostlane.so" "^(hl_|($intercepted)\$)"
tap_done
