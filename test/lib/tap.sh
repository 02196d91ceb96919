# TAP helpers for shell integration tests. Source it; call tap_* and finish
# with tap_done. Every test script must clean up what it made in an EXIT trap
# (use on_exit to register cleanup steps; they run in reverse order).
#
#   ok "what" cmd args...        ok if the command succeeds
#   ok_not "what" cmd args...    ok if the command fails
#   tap_ok / tap_fail "what" [detail]
#   tap_skip "what" "why"
#   tap_todo "what" "why" [detail]   a known bug (listed in the test's data)
#   tap_eq "what" expected actual
set -u
HOSTLANE_TOP=${HOSTLANE_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$HOSTLANE_TOP/$BUILD ;; esac
_tap_n=0
_tap_failed=0
_tap_cleanups=()

tap_ok()   { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1"; }
tap_fail() {
	_tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $1"
	[ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'
	return 0
}
tap_skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP $2"; }
# tap_todo "what" "why" [detail]: a failure that is a known, listed bug.
tap_todo() {
	_tap_n=$((_tap_n + 1))
	echo "not ok $_tap_n - $1 # TODO $2"
	[ $# -gt 2 ] && printf '%s\n' "$3" | sed 's/^/#   /'
	return 0
}
tap_eq() {
	if [ "$2" = "$3" ]; then tap_ok "$1"; else tap_fail "$1" "expected '$2', got '$3'"; fi
}
ok() {
	local what=$1 out; shift
	if out=$("$@" 2>&1); then tap_ok "$what"; else tap_fail "$what" "command: $* -> $out"; fi
}
ok_not() {
	local what=$1 out; shift
	if out=$("$@" 2>&1); then tap_fail "$what" "command succeeded but should fail: $* -> $out"; else tap_ok "$what"; fi
}
# tap_skip_all "why": the whole file cannot run here.
tap_skip_all() { echo "1..0 # SKIP $1"; echo "ok 1 - ${0##*/} # SKIP $1"; exit 0; }
need_root() { [ "$(id -u)" = 0 ] || tap_skip_all "needs root"; }

on_exit() { _tap_cleanups+=("$*"); }
_tap_run_cleanups() {
	local i
	for ((i = ${#_tap_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_tap_cleanups[$i]}" >/dev/null 2>&1 || true
	done
}
trap _tap_run_cleanups EXIT
trap 'exit 130' INT TERM

tap_done() {
	echo "1..$_tap_n"
	[ "$_tap_failed" = 0 ]
}
