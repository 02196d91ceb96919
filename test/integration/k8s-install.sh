#!/usr/bin/env bash
# The install as the DaemonSet runs it, from the image: `make image`'s
# archive loaded into a private podman storage, its install-cni container
# run (privileged, host network, as in manifests/02-daemonset.yaml) against a
# temporary "node" tree that a primary CNI (flannel-like) already set up:
#   secondary   the binary lands (renamed in whole: an inotify log of the
#               dirs shows MOVED_TO and never CREATE/MODIFY on the final
#               name), nothing else changes; a second run changes nothing.
#   chain       hostlane appended to the first conflist (not the other
#               one), atomically; idempotent; the keeper container puts it
#               back when the primary CNI rewrites its file (renamed in, or
#               written in place); SIGTERM leaves it.
#   standalone  own conflist, subnet = the node's spec.podCIDR read from a
#               fake API server with in-cluster credentials; no podCIDR: a
#               clear failure, nothing written.
#   uninstall   after each mode the tree is as it was (the primary's JSON
#               compared by value).
# Then the agent container from the image (host network and PID namespace,
# node dirs bind-mounted) serves the installed plugin on the host: ADD
# (fast path shm), CHECK, DEL; uninstall with the pod still attached keeps
# the binary and the bridge with the pod on it, the next uninstall removes
# them.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/image.sh"
. "$(dirname "$0")/../lib/fakeapi.sh"
image_setup
command -v jq >/dev/null || tap_skip_all "jq is not installed"
export HOSTLANE_NPM_DIR=${HOSTLANE_NPM_DIR:-$HOSTLANE_TOP/build/npm}
T=$IMG_TMP
node=$T/node run=$$ br=hlb$$ nodename=node-$$ pod=hlt-inst-$$
net=$node/etc/cni/net.d bin=$node/opt/cni/bin
mkdir -p "$bin" "$net" "$node/run" "$node/var/lib/cni" "$T/cfg" "$T/api"
cleanup() {
	ip netns del "$pod" 2>/dev/null
	ip link del "$br" 2>/dev/null
	[ -n "${log_pid:-}" ] && kill "$log_pid" 2>/dev/null
}
on_exit cleanup

# The node as its primary CNI left it.
printf '#!/bin/true\n' >"$bin/flannel" && chmod 0755 "$bin/flannel"
PRIMARY='{"cniVersion":"0.3.1","name":"cbr0","plugins":[{"type":"flannel","delegate":{"hairpinMode":true,"isDefaultGateway":true}},{"type":"portmap","capabilities":{"portMappings":true}}]}'
echo "$PRIMARY" >"$net/10-flannel.conflist"
echo '{"cniVersion":"0.3.1","name":"lo","type":"loopback"}' >"$net/99-loopback.conf"

# The tree: every entry with its type and mode, every file's content (CNI
# configs by JSON value, which the installer may re-indent).
snapshot() {
	(cd "$node" && find . -printf '%y %m %p\n' | sort &&
		find . -type f -printf '%p\n' | sort | while read -r f; do
			case $f in *.conf | *.conflist) printf '%s %s\n' "$f" "$(jq -cS . "$f" | sha256sum)" ;;
			*) sha256sum "$f" ;; esac
		done)
}
before=$(snapshot)

# install.json as shipped, with the names and paths of this run: the
# plugin runs on this host, so its paths are the node tree's.
node "$HOSTLANE_TOP/hack/k8s/manifests.mjs" get "$HOSTLANE_TOP/manifests/01-configmap.yaml" \
	ConfigMap hostlane '["data", "install.json"]' >"$T/shipped.json" ||
	{ tap_fail "read install.json from the shipped ConfigMap"; tap_done; exit 1; }
jq --arg br "$br" --arg n "$node" '
	.chainEntry.agentSocket = "\($n)/run/hostlane/agent.sock" |
	.standalone.plugin += {bridge: $br, agentSocket: "\($n)/run/hostlane/agent.sock",
		fastpath: "shm", ipam: {type: "host-local", dataDir: "\($n)/var/lib/cni/networks"}}
	' "$T/shipped.json" >"$T/cfg/install.json"

fakeapi_start "$T/api" || { tap_fail "fake API server starts" "$(cat "$T/api/"*.log)"; tap_done; exit 1; }

# The install-cni container of the DaemonSet, with in-cluster credentials.
inst() { # MODE [ARGS...]
	pm run --rm "${IMG_RUN[@]}" --network host --privileged \
		-v "$bin:/host/opt/cni/bin" -v "$net:/host/etc/cni/net.d" \
		-v "$node/run:/host/run" -v "$node/var/lib:/host/var/lib" -v "$T/cfg:/etc/hostlane:ro" \
		-v "$FAKEAPI_SA:/var/run/secrets/kubernetes.io/serviceaccount:ro" \
		-e KUBERNETES_SERVICE_HOST=127.0.0.1 -e KUBERNETES_SERVICE_PORT="$FAKEAPI_PORT" \
		-e NODE_NAME="$nodename" --entrypoint /usr/bin/hostlane-install "$IMG_REF" \
		--config /etc/hostlane/install.json --mode "$@"
}
inst_ok() { # WHAT MODE [ARGS...]
	local what=$1 out; shift
	if out=$(inst "$@" 2>&1); then tap_ok "$what"; else tap_fail "$what" "$out"; fi
}

# inotify log of the two dirs, to see how files land.
events=$T/events
python3 "$HOSTLANE_TOP/test/tools/inotify-log.py" "$events" "$bin" "$net" &
log_pid=$!
for _ in $(seq 50); do grep -q READY "$events" 2>/dev/null && break; sleep 0.1; done
mark() { wc -l <"$events"; }
since() { tail -n +"$(($1 + 1))" "$events"; }
# atomic FILE FROM: FILE (dir/name) came in by rename only, since line FROM.
atomic() {
	local ev
	ev=$(since "$2" | awk -v f="$1" '$2 == f { print $1 }' | sort -u | tr '\n' ' ')
	tap_eq "$1 renamed in whole (inotify: $ev)" "MOVED_TO " "$ev"
}
quiet() { # FROM: no event on a final name (only the dirs' temporaries, if any)
	tap_eq "$2: no file touched" "" "$(since "$1" | grep -v READY)"
}
plugin_types() { jq -c '[.plugins[].type]' "$net/$1"; }
plugin_src=$BUILD/static/bin/hostlane   # what the image carries

# ---- secondary ----
m0=$(mark)
inst_ok "secondary: install-cni runs" secondary
tap_eq "secondary: the plugin is the image's" "$(sha256sum <"$plugin_src")" "$(sha256sum <"$bin/hostlane")"
tap_eq "secondary: mode 0755" 755 "$(stat -c %a "$bin/hostlane")"
atomic bin/hostlane "$m0"
tap_eq "secondary: the primary conflist is untouched" "$PRIMARY" "$(cat "$net/10-flannel.conflist")"
ino=$(stat -c %i "$bin/hostlane")
m1=$(mark)
inst_ok "secondary: second run" secondary
quiet "$m1" "secondary: second run"
tap_eq "secondary: same file (inode)" "$ino" "$(stat -c %i "$bin/hostlane")"
inst_ok "secondary: uninstall" uninstall
tap_eq "secondary: after uninstall the tree is as it was" "$before" "$(snapshot)"

# ---- chain ----
m0=$(mark)
inst_ok "chain: install-cni runs" chain
tap_eq "chain: hostlane appended to the first conflist" '["flannel","portmap","hostlane"]' \
	"$(plugin_types 10-flannel.conflist)"
tap_eq "chain: the entry is install.json's chainEntry" "$(jq -cS .chainEntry "$T/cfg/install.json")" \
	"$(jq -cS '.plugins[2]' "$net/10-flannel.conflist")"
tap_eq "chain: the rest of the primary's config kept" "$(jq -cS '.plugins[0:2]' <<<"$PRIMARY")" \
	"$(jq -cS '.plugins[0:2]' "$net/10-flannel.conflist")"
tap_eq "chain: the other config is untouched" '{"cniVersion":"0.3.1","name":"lo","type":"loopback"}' \
	"$(cat "$net/99-loopback.conf")"
atomic net.d/10-flannel.conflist "$m0"
ino=$(stat -c %i "$net/10-flannel.conflist")
m1=$(mark)
inst_ok "chain: second run" chain
quiet "$m1" "chain: second run"
tap_eq "chain: same file (inode)" "$ino" "$(stat -c %i "$net/10-flannel.conflist")"

# The keeper container (cni-keeper in the DaemonSet); a long interval, so
# that only inotify can explain a quick repair.
if out=$(pm run -d --name "keeper-$run" "${IMG_RUN[@]}" --network host --privileged \
	-v "$bin:/host/opt/cni/bin" -v "$net:/host/etc/cni/net.d" -v "$T/cfg:/etc/hostlane:ro" \
	--entrypoint /usr/bin/hostlane-install "$IMG_REF" --config /etc/hostlane/install.json \
	--mode chain --watch --interval 600 2>&1); then tap_ok "chain: keeper container starts"; else
	tap_fail "chain: keeper container starts" "$out"; fi
wait_chained() {
	local i
	for i in $(seq 100); do
		[ "$(plugin_types 10-flannel.conflist 2>/dev/null)" = '["flannel","portmap","hostlane"]' ] && return 0
		sleep 0.1
	done
	return 1
}
sleep 1 # let it arm its watches
echo "$PRIMARY" >"$T/new.conflist" && mv "$T/new.conflist" "$net/10-flannel.conflist"
ok "chain: primary CNI renames a new conflist in: the keeper chains again" wait_chained
echo "$PRIMARY" >"$net/10-flannel.conflist"
ok "chain: primary CNI rewrites it in place: the keeper chains again" wait_chained
pm stop -t 10 "keeper-$run" >/dev/null 2>&1
tap_eq "chain: keeper exits 0 on SIGTERM" 0 "$(pm inspect "keeper-$run" --format '{{.State.ExitCode}}' 2>&1)"
tap_eq "chain: SIGTERM leaves the entry (rolling update)" '["flannel","portmap","hostlane"]' \
	"$(plugin_types 10-flannel.conflist)"
pm rm -f "keeper-$run" >/dev/null 2>&1
m0=$(mark)
inst_ok "chain: uninstall" uninstall
atomic net.d/10-flannel.conflist "$m0"
tap_eq "chain: after uninstall the tree is as it was" "$before" "$(snapshot)"

# ---- standalone ----
fakeapi_post /nodes "{\"name\": \"$nodename\"}" >/dev/null
out=$(inst standalone 2>&1); rc=$?
ok_not "standalone: a node without spec.podCIDR is an error" test "$rc" = 0
ok "standalone: ... that says why" grep -q 'no spec.podCIDR' <<<"$out"
tap_eq "standalone: ... and writes no config" "" "$(ls "$net" | grep hostlane)"
a=$((100 + $$ % 100)) b=$(($$ / 100 % 250))
cidr=10.$a.$b.0/24
fakeapi_post /nodes "{\"name\": \"$nodename\", \"podCIDR\": \"$cidr\"}" >/dev/null
m0=$(mark)
inst_ok "standalone: install-cni runs" standalone
sa=$net/10-hostlane.conflist
tap_eq "standalone: subnet is the node's spec.podCIDR" "$cidr" \
	"$(jq -r '.plugins[0].ipam.ranges[0][0].subnet' "$sa" 2>/dev/null)"
tap_eq "standalone: cniVersion 1.0.0" 1.0.0 "$(jq -r .cniVersion "$sa")"
tap_eq "standalone: the primary's conflist untouched" "$(jq -cS . <<<"$PRIMARY")" \
	"$(jq -cS . "$net/10-flannel.conflist")"
atomic net.d/10-hostlane.conflist "$m0"
m1=$(mark)
inst_ok "standalone: second run" standalone
quiet "$m1" "standalone: second run"

# ---- the agent container, and the installed plugin on the host ----
ip netns add "$pod" && ip -n "$pod" link set lo up
mkdir -p "$node/run/hostlane" "$node/var/lib/hostlane"
metrics=127.0.0.1:$((20000 + $$ % 20000))
if out=$(pm run -d --name "agent-$run" "${IMG_RUN[@]}" --network host --pid host --privileged \
	-v "$node/run/hostlane:/run/hostlane" -v "$node/var/lib/hostlane:/var/lib/hostlane" \
	-v /var/run/netns:/var/run/netns:rslave -v /dev/hugepages:/dev/hugepages \
	"$IMG_REF" --node-name "$nodename" --metrics-addr "$metrics" 2>&1); then
	tap_ok "agent container starts"
else
	tap_fail "agent container starts" "$out"
fi
ctl() { "$BUILD/bin/hostlanectl" --socket "$node/run/hostlane/agent.sock" "$@"; }
for _ in $(seq 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
ok "hostlanectl on the host reaches the agent in the container" ctl status
conf=$(jq -c '.plugins[0] + {name: .name, cniVersion: .cniVersion}' "$sa")
cni() { # COMMAND [RESULT]
	local c=$conf
	[ -n "${2:-}" ] && c=$(jq -c --argjson r "$2" '. + {prevResult: $r}' <<<"$conf")
	env CNI_COMMAND="$1" CNI_CONTAINERID="cid-$run" CNI_NETNS="/var/run/netns/$pod" CNI_IFNAME=eth0 \
		CNI_PATH="$bin:/usr/lib/cni" HOSTLANE_CACHE_DIR="$node/var/lib/cni/hostlane" \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=ns-$run;K8S_POD_NAME=p$run" \
		"$bin/hostlane" <<<"$c"
}
res=$(cni ADD 2>&1); rc=$?
tap_eq "installed plugin: ADD against the agent in the container" 0 "$rc"
tap_eq "ADD: the pod's address is in the node's pod CIDR" "10.$a.$b" \
	"$(jq -r '.ips[0].address' <<<"$res" 2>/dev/null | cut -d. -f1-3)"
tap_eq "ADD: a $(jq -r .cniVersion <<<"$conf") result has no shm entry (socketPath is CNI 1.1.0's)" "" \
	"$(jq -r '.interfaces[] | select(.name == "hostlane-shm") | .sandbox' <<<"$res" 2>/dev/null)"
ok "the agent in the container bound @hostlane in the pod's netns" \
	sh -c "ip netns exec '$pod' cat /proc/net/unix | grep -q ' @hostlane\$'"
tap_eq "the agent lists the pod" "shm" \
	"$(ctl --json pods 2>/dev/null | jq -r --arg n "p$run" '.[] | select(.name == $n) | .fastpath')"
ok "installed plugin: CHECK" cni CHECK "$res"

# Uninstall as on a cluster: the DaemonSet (agent) goes first, then the
# uninstall mode runs while a pod is still attached.
pm stop -t 10 "agent-$run" >/dev/null 2>&1
tap_eq "agent container exits 0 on SIGTERM" 0 "$(pm inspect "agent-$run" --format '{{.State.ExitCode}}' 2>&1)"
pm rm -f "agent-$run" >/dev/null 2>&1
inst_ok "uninstall with the pod still attached" uninstall
ok "... keeps the binary (the runtime's DEL needs it)" test -x "$bin/hostlane"
ok "... keeps the bridge the pod is on" ip link show "$br"
ok "... the pod keeps its kernel networking" ip -n "$pod" addr show eth0
ok_not "... removes the standalone conflist" test -e "$sa"
ok_not "... removes the agent's run dir" test -e "$node/run/hostlane"
ok "installed plugin: DEL after uninstall (agent gone for good)" cni DEL "$res"
inst_ok "uninstall again, no pod left" uninstall
ok_not "... removes the bridge" ip link show "$br"
tap_eq "standalone: after uninstall the tree is as it was" "$before" "$(snapshot)"
tap_done
