#!/usr/bin/env bash
# The agent's socket and HTTP surface: malformed, oversized, wrong-version and
# invalid requests each get a clear error reply and the agent keeps serving;
# a client that connects and says nothing does not block others; hostlanectl
# commands; /metrics (Prometheus text with the required families), /healthz,
# /readyz.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
cni_setup
agent_setup
agent_start
tap_eq "agent up" 0 "$?"

# raw_err NAME INPUT-CMD NEEDLE: the reply is ok:false, code 102, naming NEEDLE.
raw_err() {
	local out
	out=$(eval "$2" | ctl raw 2>&1)
	if [ "$(jq -r '"\(.ok) \(.code)"' <<<"$out" 2>/dev/null)" = "false 102" ] &&
		grep -qi -- "$3" <<<"$out"; then
		tap_ok "$1"
	else
		tap_fail "$1" "reply: $out"
	fi
}
raw_err "not JSON" "printf 'hello'" "not a JSON object"
raw_err "empty message" "printf ''" "not a JSON object"
raw_err "binary garbage" "head -c 512 /dev/urandom" "JSON"
raw_err "wrong protocol version" "printf '{\"hostlane\":99,\"op\":\"STATUS\"}'" "unsupported protocol version 99"
raw_err "no version" "printf '{\"op\":\"STATUS\"}'" "version"
raw_err "unknown op" "printf '{\"hostlane\":1,\"op\":\"EXPLODE\"}'" "EXPLODE"
raw_err "ADD without netns" \
	"printf '{\"hostlane\":1,\"op\":\"ADD\",\"network\":\"n\",\"containerID\":\"c\",\"ifname\":\"eth0\"}'" netns
raw_err "ADD with a bad container id" \
	"printf '{\"hostlane\":1,\"op\":\"ADD\",\"network\":\"n\",\"containerID\":\"../etc\",\"ifname\":\"eth0\",\"netns\":\"/x\"}'" containerID
raw_err "ADD with a bad IP" \
	"printf '{\"hostlane\":1,\"op\":\"ADD\",\"network\":\"n\",\"containerID\":\"c\",\"ifname\":\"eth0\",\"netns\":\"/x\",\"ips\":[\"1.2.3\"]}'" ips
big() { printf '{"hostlane":1,"op":"STATUS","pad":"%s"}' "$(head -c 102400 /dev/zero | tr '\0' a)"; }
raw_err "oversized request (100 KiB)" big "too large"
ok "the agent still serves after all that" ctl status
tap_eq "bad requests are counted" 10 \
	"$(ctl metrics | awk '$1 == "hostlane_agent_errors_total{kind=\"protocol\"}" { print $2 }')"

# A silent client holds one worker only; the others keep answering.
if ! command -v python3 >/dev/null; then
	tap_skip "a silent client does not block others" "python3 is not installed"
else
python3 - "$AG_SOCK" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
time.sleep(3)
PY
silent=$!
on_exit "kill $silent"
ok "a silent client does not block others" ctl status
kill "$silent" 2>/dev/null; wait "$silent" 2>/dev/null
fi

# ---- hostlanectl ----
ok "hostlanectl version names both sides" sh -c "'$HL_CTL' --socket '$AG_SOCK' version | grep -q 'hostlaned'"
tap_eq "hostlanectl --json status" "true 0" "$(ctl --json status | jq -r '"\(.ready) \(.pods)"')"
ok "hostlanectl pods (empty) prints a header" sh -c "'$HL_CTL' --socket '$AG_SOCK' pods | grep -q FASTPATH"
ctl pod nosuchpod >/dev/null 2>&1
tap_eq "hostlanectl pod of an unknown pod exits 1" 1 "$?"
ctl bogus >/dev/null 2>&1
tap_eq "unknown command: usage, exit 2" 2 "$?"
"$HL_CTL" --socket "$AG_DIR/nope.sock" status >/dev/null 2>"$AG_DIR/ctl.err"
tap_eq "agent unreachable: exit 3" 3 "$?"
ok "... with a message naming the socket" grep -q "nope.sock" "$AG_DIR/ctl.err"

# ---- metrics over HTTP ----
m=$(curl -sf "http://$AG_METRICS/metrics")
for fam in hostlane_agent_pods hostlane_agent_hugepages_bytes hostlane_agent_requests_total \
	hostlane_agent_request_duration_seconds hostlane_agent_errors_total; do
	ok "/metrics has # TYPE of $fam" grep -q "^# TYPE $fam " <<<"$m"
done
ok "/metrics: pods by fast path" grep -q '^hostlane_agent_pods{fastpath="shm"} 0$' <<<"$m"
ok "/metrics: hugepages free" grep -qE '^hostlane_agent_hugepages_bytes\{state="free"\} [0-9]+$' <<<"$m"
ok "/metrics: STATUS requests counted" grep -qE '^hostlane_agent_requests_total\{op="STATUS",result="ok"\} [1-9]' <<<"$m"
ok "/metrics: histogram +Inf bucket" grep -q 'hostlane_agent_request_duration_seconds_bucket{op="STATUS",le="+Inf"}' <<<"$m"
tap_eq "/healthz answers 200" "200" "$(curl -s -o /dev/null -w '%{http_code}' "http://$AG_METRICS/healthz")"
tap_eq "/readyz answers 200 ready" "ready" "$(curl -sf "http://$AG_METRICS/readyz")"
tap_eq "unknown path: 404" "404" "$(curl -s -o /dev/null -w '%{http_code}' "http://$AG_METRICS/nope")"
tap_eq "POST: 405" "405" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$AG_METRICS/metrics")"
ok "hostlanectl metrics is the same text format" sh -c "'$HL_CTL' --socket '$AG_SOCK' metrics | grep -q '^# TYPE hostlane_agent_pods gauge'"
agent_stop
tap_eq "clean stop" 0 "$AG_RC"
tap_done
