#!/usr/bin/env bash
# The annotation is all a pod needs. Two pod specs that only carry
# hostlane.io/fastpath: shm (test/inject/pods: redis, glibc; a client,
# musl-linked ping-pong) are injected twice, by the admission webhook
# (its JSONPatch applied with fast-json-patch) and by hostlanectl inject,
# and each injected spec is run with podman the way a kubelet would: an
# emptyDir-like volume, the init container from the hostlane image (make
# image) laying the layer out in it as the user it names, then the app
# container with the spec's env (LD_PRELOAD), mounts and command, on a
# hostlane network (the real plugin, the run's agent). The app images are
# root directories holding the unmodified programs: redis-server with its
# glibc libraries, ping-pong with musl's loader. The musl client's
# connections to redis go over hostlane (its counters), and redis is
# attached (the agent's LIST and conns).
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
. "$(dirname "$0")/../lib/image.sh"
. "$(dirname "$0")/../lib/podman.sh"
. "$(dirname "$0")/../lib/webhook.sh"
top=$HOSTLANE_TOP
export HOSTLANE_NPM_DIR=${HOSTLANE_NPM_DIR:-$top/build/npm}
for c in redis-server jq node curl openssl; do
	command -v $c >/dev/null || tap_skip_all "$c is not installed (hack/deps.sh)"
done
[ -e /lib/ld-musl-x86_64.so.1 ] || tap_skip_all "musl's loader is not installed (musl-tools)"
case "${SAN:-0}" in 1) tap_skip_all "SAN=1: the layer is not preloaded behind ASan (preload-smoke says why)" ;; esac
[ -x "$BUILD/musl/bin/ping-pong" ] || { tap_fail "the musl ping-pong is built"; tap_done; exit 1; }
cni_setup
image_setup
agent_setup
agent_start || { tap_fail "the agent of the run starts" "$(tail "$AG_DIR/agent.log")"; tap_done; exit 1; }
T=$CNI_TMP/pm
mkdir -p "$T/plugins" "$T/net.d" "$T/stats"

# ---- podman on a hostlane network (shm), plugins and config private to the run ----
podman_cni_net "$T" "$(jq -nc --arg sock "$AG_SOCK" '{fastpath: "shm", agentSocket: $sock}')"
pmn() { pm --network-backend cni --cni-config-dir "$T/net.d" "$@"; }
# Containers first (their DEL releases the agent's endpoints), then the image's storage.
on_exit "pmn rm -a -f -t 0"

# ---- the app images: root directories with the unmodified programs ----
copy_elf() { # ROOT FILE: FILE and every library the loader resolves for it
	local root=$1 f
	for f in "$2" $(ldd "$2" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		mkdir -p "$root$(dirname "$f")" && cp -L "$f" "$root$f"
	done
}
R=$T/rootfs-redis M=$T/rootfs-musl
mkdir -p "$R/tmp" "$M/usr/bin" "$M/lib" "$M/tmp"
copy_elf "$R" /usr/bin/redis-server
# The rest of glibc, as any glibc image has it (the layer names libdl and libpthread).
for l in libdl.so.2 libpthread.so.0; do cp -L "/lib/x86_64-linux-gnu/$l" "$R/lib/x86_64-linux-gnu/"; done
cp -L /lib/ld-musl-x86_64.so.1 "$M/lib/"
cp "$BUILD/musl/bin/ping-pong" "$M/usr/bin/"
ok "the client image holds a musl program and musl alone" \
	sh -c "! find '$M' -name 'libc.so.6' | grep -q . && readelf -l '$M/usr/bin/ping-pong' | grep -q ld-musl"
rootfs_of() { case $1 in redis:*) echo "$R" ;; alpine:*) echo "$M" ;; *) return 1 ;; esac; }

# run_pod NAME SPEC.json [ARGS...]: the spec as a kubelet runs it (one
# app container, volumes of the injected kind); the app container's ID in
# POD_ID; with ARGS it runs in the foreground with them appended and its
# output in POD_OUT, else detached.
run_pod() {
	local name=$1 spec=$2 n i vol mp img user mnt
	shift 2
	local -a cmd env mounts
	vol=hl-$name-$CNI_RUN
	pmn volume create "$vol" >/dev/null || return 1
	# An emptyDir is writable by every user of the pod.
	chmod 0777 "$(pmn volume inspect "$vol" --format '{{.Mountpoint}}')"
	n=$(jq '.spec.initContainers | length' "$spec")
	for ((i = 0; i < n; i++)); do
		img=$(jq -r ".spec.initContainers[$i].image" "$spec")
		[ "$img" = "$IMG_REF" ] || { echo "init container image $img is not the hostlane image" >&2; return 1; }
		mp=$(jq -r ".spec.initContainers[$i].volumeMounts[] | select(.name == \"hostlane-lib\") | .mountPath" "$spec")
		user=$(jq -r ".spec.initContainers[$i].securityContext.runAsUser // 0" "$spec")
		mapfile -t cmd < <(jq -r ".spec.initContainers[$i] | (.command // []) + (.args // []) | .[]" "$spec")
		pmn run --rm "${IMG_RUN[@]}" --network none --user "$user" -v "$vol:$mp" \
			--entrypoint "${cmd[0]}" "$IMG_REF" "${cmd[@]:1}" >"$T/$name.init" 2>&1 ||
			{ cat "$T/$name.init" >&2; return 1; }
	done
	mapfile -t env < <(jq -r '.spec.containers[0].env[]? | select(.value) | "\(.name)=\(.value)"' "$spec")
	mapfile -t mounts < <(jq -r '.spec.containers[0].volumeMounts[]? | select(.name == "hostlane-lib") |
		"\(.mountPath):\(if .readOnly then "ro" else "rw" end)"' "$spec")
	mapfile -t cmd < <(jq -r '.spec.containers[0] | (.command // ["redis-server"]) + (.args // []) | .[]' "$spec")
	local -a opts=()
	for i in "${env[@]}"; do opts+=(-e "$i"); done
	for mnt in "${mounts[@]}"; do opts+=(-v "$vol:$mnt"); done
	if [ $# -gt 0 ]; then
		POD_OUT=$(pmn run --rm --name "$name-$CNI_RUN" "${IMG_RUN[@]}" --network "$CNI_NET" "${opts[@]}" \
			-e HOSTLANE_STATS=/stats/$name -v "$T/stats:/stats" \
			--rootfs "$(rootfs_of "$(jq -r '.spec.containers[0].image' "$spec")")" "${cmd[@]}" "$@" 2>&1)
	else
		POD_ID=$(pmn run -d --name "$name-$CNI_RUN" "${IMG_RUN[@]}" --network "$CNI_NET" "${opts[@]}" \
			--rootfs "$(rootfs_of "$(jq -r '.spec.containers[0].image' "$spec")")" "${cmd[@]}" 2>&1)
	fi
}

# ---- the two ways in: the webhook, hostlanectl inject ----
pods=$top/test/inject/pods
"$top/hack/webhook-cert.sh" "$T/cert" kube-system 1 >/dev/null
"$BUILD/bin/hostlane-webhook" --listen 127.0.0.1:0 --tls-cert "$T/cert/tls.crt" --tls-key "$T/cert/tls.key" \
	--image "$IMG_REF" 2>"$T/wh.log" &
wh=$!
on_exit "kill $wh; wait $wh"
port=$(webhook_port "$T/wh.log") || { tap_fail "the webhook starts" "$(cat "$T/wh.log")"; tap_done; exit 1; }
via_webhook() { # POD.json OUT.json
	jq -n --slurpfile pod "$1" '{apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
		request: {uid: "u-1", kind: {group: "", version: "v1", kind: "Pod"}, namespace: "default",
		          operation: "CREATE", object: $pod[0]}}' >"$2.review"
	curl -sS --resolve "hostlane-webhook.kube-system.svc:$port:127.0.0.1" --cacert "$T/cert/ca.crt" \
		--data-binary @"$2.review" "https://hostlane-webhook.kube-system.svc:$port/mutate" |
		jq -r .response.patch | base64 -d >"$2.patch" &&
		node "$top/hack/k8s/jsonpatch.mjs" "$1" "$2.patch" >"$2"
}
via_inject() { "$BUILD/bin/hostlanectl" inject -o json --image "$IMG_REF" -f "$1" >"$2"; }

n=5
for way in webhook inject; do
	for p in redis musl; do
		"via_$way" "$pods/$p.json" "$T/$way-$p.json" ||
			tap_fail "$way: the $p pod is injected" "$(cat "$T/$way-$p.json.patch" 2>/dev/null)"
	done
	tap_eq "$way: the specs had only the annotation; now LD_PRELOAD and the init container" \
		'/opt/hostlane/$LIB/libhostlane.so hostlane-init' \
		"$(jq -r '"\(.spec.containers[0].env[0].value) \(.spec.initContainers[0].name)"' "$T/$way-musl.json")"
	if ! run_pod "$way-redis" "$T/$way-redis.json"; then
		tap_fail "$way: the redis pod runs (init container, then redis-server)" "$POD_ID $(cat "$T/$way-redis.init" 2>/dev/null)"
		continue
	fi
	tap_ok "$way: the redis pod runs (init container, then redis-server)"
	rid=$POD_ID
	ip=$(pmn inspect "$rid" --format "{{(index .NetworkSettings.Networks \"$CNI_NET\").IPAddress}}")
	up=0
	for _ in $(seq 100); do
		pmn exec "$rid" /usr/bin/redis-server --version >/dev/null 2>&1 || true
		ip netns exec "$(basename "$(pmn inspect "$rid" --format '{{.NetworkSettings.SandboxKey}}')")" \
			ss -ltn 2>/dev/null | grep -q ':6379 ' && { up=1; break; }
		sleep 0.05
	done
	[ "$up" = 1 ] || tap_fail "$way: redis listens" "$(pmn logs "$rid" 2>&1 | tail -5)"
	run_pod "$way-client" "$T/$way-musl.json" "$ip" 6379 "$n"
	tap_eq "$way: the unmodified musl client gets $n PONGs from the unmodified redis" "pong $n" "$POD_OUT"
	tap_eq "$way: ... its $n connections went over hostlane (its counters)" "conns=$n fallbacks=0" \
		"$(grep -o 'conns=[0-9]* fallbacks=[0-9]*' "$T/stats/$way-client" 2>/dev/null | tail -1)"
	key="$CNI_NET/$rid/eth0"
	tap_eq "$way: redis-server is attached to the fast path (1 process)" 1 \
		"$(agent_pods ".[] | select(.containerID == \"$rid\") | .processes")"
	tap_eq "$way: ... and accepted the $n connections over hostlane (agent's conns)" "$n" \
		"$(ctl --json conns | jq -r ".[] | select(.pod == \"$key\") | .processes[0].conns")"
	pmn rm -f -t 0 "$rid" >/dev/null 2>&1
done
tap_done
