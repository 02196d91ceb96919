# shellcheck shell=bash
# The admission webhook of a run (hostlane-webhook started by the test).
#
#   webhook_port LOG     waits for "serving on port N" in the webhook's LOG
#                        and prints N; 1 after 5 s without it
webhook_port() {
	local p
	for _ in $(seq 100); do
		p=$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$1")
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.05
	done
	return 1
}
