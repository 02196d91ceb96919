#!/usr/bin/env bash
# Programs the layer cannot reach keep working over the kernel, and the
# agent shows it: per shm pod, the processes attached to the fast path
# (hostlanectl pods' PROCS, LIST's "processes", the metric
# hostlane_agent_pod_processes). A static binary (busybox-static) run with
# LD_PRELOAD cannot load the layer: its pod shows 0 while it serves and is
# served over the kernel. A Go program (podman's API server and its remote
# client, dynamically linked, as Go builds with cgo are) loads the layer,
# but Go makes its own system calls: both work over the kernel and their
# pods show 0. A dynamically linked program in the other pod shows 1 while
# it runs, 0 after it exits.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/pods.sh"
preload_require python3 jq
[ -x /bin/busybox ] || tap_skip_all "busybox-static is not installed (hack/deps.sh installs it)"
file -L /bin/busybox | grep -q 'statically linked' || tap_skip_all "/bin/busybox is not a static binary"
pods_setup
pod_create a || { tap_fail "pod a"; tap_done; exit 1; }
pod_create b || { tap_fail "pod b"; tap_done; exit 1; }
ip_b=$(pod_ip b)
procs() { agent_pods ".[] | select(.containerID == \"cid-$1-$CNI_RUN\") | .processes"; }
metric() { ctl metrics | awk -v p="pod=\"$1\"" '/^hostlane_agent_pod_processes/ && index($0, p) { print $2 }'; }
wait_procs() { # POD N
	local i
	for i in $(seq 100); do [ "$(procs "$1")" = "$2" ] && return 0; sleep 0.05; done
	return 1
}
tap_eq "no process attached before anything runs (pod a, pod b)" "0 0" "$(procs a) $(procs b)"

# A static server under LD_PRELOAD: the loader cannot preload into it.
mkdir -p "$CNI_TMP/www" && echo "static-$CNI_RUN" >"$CNI_TMP/www/index.html"
preload_env
pod_bg b env "${HL_ENV[@]}" /bin/busybox httpd -f -p "$ip_b:8080" -h "$CNI_TMP/www"
spid=$POD_BG_PID
wait_tcp a "$ip_b" 8080 || tap_fail "the static server listens"
tap_eq "a static binary keeps working over the kernel" "static-$CNI_RUN" \
	"$(pod_exec a env "${HL_ENV[@]}" /bin/busybox wget -q -O - "http://$ip_b:8080/index.html" 2>/dev/null)"
tap_eq "... and its pod shows 0 processes attached (LIST)" 0 "$(procs b)"
tap_eq "... also in the metric hostlane_agent_pod_processes" 0 "$(metric b)"
ok "hostlanectl pods has the PROCS column" sh -c "$(declare -f ctl); AG_SOCK=$AG_SOCK HL_CTL=$HL_CTL; ctl pods | head -1 | grep -q PROCS"
pod_kill "$spid"

# A Go server and a Go client: the loader preloads the layer into both, and
# Go's net package never calls libc's socket(), connect() or accept().
if ! command -v podman >/dev/null; then
	tap_skip "a Go program (podman) works over the kernel, its pod shows 0" "podman is not installed"
elif ! gov=$(podman version --format '{{.Client.GoVersion}}' 2>/dev/null) || [ -z "$gov" ]; then
	tap_skip "a Go program (podman) works over the kernel, its pod shows 0" "podman does not tell its Go version"
else
	pmd=$CNI_TMP/podman
	pmo=(--root "$pmd/root" --runroot "$pmd/run" --storage-driver vfs --cgroup-manager cgroupfs
		--events-backend file)
	mkdir -p "$pmd"
	pod_bg b env "${HL_ENV[@]}" podman "${pmo[@]}" system service --time=0 "tcp:$ip_b:8888"
	gpid=$POD_BG_PID
	wait_tcp a "$ip_b" 8888 || tap_fail "podman's API server (Go) listens"
	ok "the Go server ($gov) has the layer loaded" grep -q libhostlane "/proc/$gpid/maps"
	out=$(pod_exec a env "${HL_ENV[@]}" podman --remote --url "tcp://$ip_b:8888" version \
		--format '{{.Server.Version}} {{.Client.GoVersion}}' 2>&1)
	tap_eq "a preloaded Go client gets the preloaded Go server's answer over the kernel" \
		"$(podman version --format '{{.Server.Version}}' 2>/dev/null) $gov" "$out"
	tap_eq "... the server, still running, shows 0 processes attached in its pod" 0 "$(procs b)"
	pod_kill "$gpid"
fi

# A dynamically linked program in pod a: attached while it runs.
go=$CNI_TMP/go
pod_bg a env "${HL_ENV[@]}" python3 -c '
import os, socket, sys, time
s = socket.socket()          # the first socket() opens the layer'"'"'s channel
while not os.path.exists(sys.argv[1]): time.sleep(0.05)
' "$go"
ppid=$POD_BG_PID
ok "a preloaded python3 in pod a: 1 process attached" wait_procs a 1
tap_eq "... the metric says the same" 1 "$(metric a)"
tap_eq "... pod b (static server gone) still 0" 0 "$(procs b)"
touch "$go"
wait "$ppid" 2>/dev/null
ok "after it exits: 0 again" wait_procs a 0
tap_done
