#!/usr/bin/env bash
# The admission webhook as the API server meets it: hostlane-webhook serves
# HTTPS with the arguments of its manifest (manifests/03-webhook.yaml) and
# a certificate for its Service name from hack/webhook-cert.sh (signed by a
# self-signed CA, the one the caBundle patch carries); AdmissionReviews
# of real-shaped pods (test/inject/pods: annotated, not annotated, with an
# LD_PRELOAD of their own and an excluded container, already injected,
# invalid quota) are posted with curl; each returned JSONPatch is applied
# with a real JSON Patch implementation (fast-json-patch) and the result is
# validated against the Pod schema with strict fields (kubernetes-models,
# hack/k8s/manifests.mjs). Bad bodies get a 400 with a reason (or 413), the
# server lives on; a rotated certificate is served without a restart.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/webhook.sh"
top=$HOSTLANE_TOP
WH=$BUILD/bin/hostlane-webhook
export HOSTLANE_NPM_DIR=${HOSTLANE_NPM_DIR:-$top/build/npm}
for c in curl jq openssl node; do
	command -v $c >/dev/null || { tap_fail "$c is installed (hack/deps.sh)"; tap_done; exit 1; }
done
[ -x "$WH" ] || { tap_fail "hostlane-webhook is built"; tap_done; exit 1; }
[ -d "$HOSTLANE_NPM_DIR/node_modules/fast-json-patch" ] ||
	{ tap_fail "the npm modules are installed" "missing in $HOSTLANE_NPM_DIR (hack/deps.sh)"; tap_done; exit 1; }
T=$(mktemp -d /tmp/hlwh-$$.XXXXXX)
on_exit "rm -rf '$T'"
pods=$top/test/inject/pods
svc=hostlane-webhook.kube-system.svc

man=$top/manifests/03-webhook.yaml
mget() { node "$top/hack/k8s/manifests.mjs" get "$man" "$@"; }
"$top/hack/webhook-cert.sh" "$T/a" kube-system 1 >/dev/null
cp "$T/a/tls.crt" "$T/tls.crt"
cp "$T/a/tls.key" "$T/tls.key"
mget MutatingWebhookConfiguration hostlane-inject '[]' >"$T/mwc.json"
node "$top/hack/k8s/jsonpatch.mjs" "$T/mwc.json" "$T/a/cabundle-patch.json" >"$T/mwc.patched.json"
tap_eq "the caBundle patch puts the CA into the MutatingWebhookConfiguration" "$(base64 -w0 <"$T/a/ca.crt")" \
	"$(jq -r '.webhooks[0].clientConfig.caBundle' "$T/mwc.patched.json")"
ok "the Secret hack/webhook-cert.sh writes passes its schema" node "$top/hack/k8s/manifests.mjs" validate "$T/a/secret.yaml"
tap_eq "the webhook is sent pod CREATEs, fails closed, is called again when needed" "CREATE pods Fail IfNeeded" \
	"$(jq -r '.webhooks[0] | "\(.rules[0].operations[0]) \(.rules[0].resources[0]) \(.failurePolicy) \(.reinvocationPolicy)"' "$T/mwc.json")"
# The manifest's arguments, with the files and address of this run.
mapfile -t margs < <(mget Deployment hostlane-webhook '["spec","template","spec","containers",0,"args"]' | jq -r '.[]' |
	sed -e "s|^--listen=.*|--listen=127.0.0.1:0|" -e "s|^--tls-cert=.*|--tls-cert=$T/tls.crt|" \
	    -e "s|^--tls-key=.*|--tls-key=$T/tls.key|" -e "s|^--agent-config=.*|--agent-config=$T/hostlaned.json|")
cat >"$T/hostlaned.json" <<'EOF'
{ "fastpath": "none", "hugepages": { "pool": "1Gi", "defaultQuota": "64Mi", "maxQuota": "128Mi",
  "namespaceQuota": { "team-a": "16Mi" } } }
EOF
"$WH" "${margs[@]}" 2>"$T/wh.log" &
wh=$!
on_exit "kill $wh; wait $wh"
port=$(webhook_port "$T/wh.log") || { tap_fail "the webhook starts" "$(cat "$T/wh.log")"; tap_done; exit 1; }
tap_ok "the webhook runs with its manifest's arguments, serving HTTPS on port $port"
url=https://$svc:$port
cu() { curl -sS --resolve "$svc:$port:127.0.0.1" --cacert "${CA:-$T/a/ca.crt}" "$@"; }
tap_eq "/healthz over TLS, the certificate checked against its Service name" ok "$(cu "$url/healthz")"

# review UID POD.json: the AdmissionReview the API server sends for a CREATE.
review() {
	jq -n --arg uid "$1" --arg ns "$(jq -r .metadata.namespace "$2")" --slurpfile pod "$2" '
		{apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
		 request: {uid: $uid, kind: {group: "", version: "v1", kind: "Pod"},
		           resource: {group: "", version: "v1", resource: "pods"},
		           requestKind: {group: "", version: "v1", kind: "Pod"},
		           name: $pod[0].metadata.name, namespace: $ns, operation: "CREATE",
		           userInfo: {username: "system:serviceaccount:kube-system:replicaset-controller"},
		           object: $pod[0], oldObject: null, dryRun: false,
		           options: {apiVersion: "meta.k8s.io/v1", kind: "CreateOptions"}}}'
}
# post FILE: POST it to /mutate; the body in $T/out, the status printed.
post() { cu -o "$T/out" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$1" "$url/mutate"; }
# admit NAME POD.json: post its review; the patched pod in $T/NAME.json.
admit() {
	review "uid-$1" "$2" >"$T/$1.review"
	ST=$(post "$T/$1.review")
	cp "$T/out" "$T/$1.answer"
	jq -r '.response.patch // empty' "$T/$1.answer" | base64 -d >"$T/$1.patch"
	[ -s "$T/$1.patch" ] || echo '[]' >"$T/$1.patch"
	node "$top/hack/k8s/jsonpatch.mjs" "$2" "$T/$1.patch" >"$T/$1.json" 2>"$T/$1.err"
}
resp() { jq -r ".response$2" "$T/$1.answer"; }
schema() { node "$top/hack/k8s/manifests.mjs" validate "$1"; }
pre='/opt/hostlane/$LIB/libhostlane.so'

# 1. An annotated pod.
admit redis "$pods/redis.json"
tap_eq "annotated pod: 200" 200 "$ST"
tap_eq "the answer echoes the request's uid" uid-redis "$(resp redis .uid)"
tap_eq "allowed, with a JSONPatch" "true JSONPatch" "$(resp redis .allowed) $(resp redis .patchType)"
ok "fast-json-patch applies the patch (every operation validated)" test -s "$T/redis.json"
ok "the patched pod passes the Pod schema with strict fields" schema "$T/redis.json"
tap_eq "the app container preloads the layer" "$pre" \
	"$(jq -r '.spec.containers[0].env[] | select(.name == "LD_PRELOAD") | .value' "$T/redis.json")"
tap_eq "the library volume is an emptyDir (no hostPath)" '{}' \
	"$(jq -c '.spec.volumes[] | select(.name == "hostlane-lib") | .emptyDir' "$T/redis.json")"
tap_eq "the init container runs install-lib from the hostlane image" \
	"hostlane-init localhost/hostlane:0.4.0 /usr/bin/hostlanectl install-lib /opt/hostlane" \
	"$(jq -r '.spec.initContainers[0] | [.name, .image] + .command | join(" ")' "$T/redis.json")"
tap_eq "the pod's quota is requested as hostlane.io/shm (the agent's default)" 64Mi \
	"$(jq -r '.spec.initContainers[0].resources.limits["hostlane.io/shm"]' "$T/redis.json")"
tap_eq "the init container runs as non-root without privileges" "true false" \
	"$(jq -r '.spec.initContainers[0].securityContext | "\(.runAsNonRoot) \(.allowPrivilegeEscalation)"' "$T/redis.json")"

# 2. Not annotated: untouched.
admit web "$pods/plain.json"
tap_eq "pod without the annotation: allowed, no patch" "200 true null" "$ST $(resp web .allowed) $(resp web .patch)"

# 3. Its own LD_PRELOAD, an init container, an excluded container, a namespace quota.
admit cache "$pods/preload.json"
ok "pod with its own LD_PRELOAD: the patched pod passes the schema" schema "$T/cache.json"
tap_eq "the existing LD_PRELOAD is appended to, not replaced" \
	"/usr/lib/x86_64-linux-gnu/libjemalloc.so.2:$pre" \
	"$(jq -r '.spec.containers[0].env[] | select(.name == "LD_PRELOAD") | .value' "$T/cache.json")"
tap_eq "the other env entries stay in place" "TZ LD_PRELOAD" \
	"$(jq -r '[.spec.containers[0].env[].name] | join(" ")' "$T/cache.json")"
tap_eq "the layer's init container runs first, the pod's own one after it" "hostlane-init warm" \
	"$(jq -r '[.spec.initContainers[].name] | join(" ")' "$T/cache.json")"
tap_eq "the pod's own init container gets the layer too" "$pre" \
	"$(jq -r '.spec.initContainers[1].env[0].value' "$T/cache.json")"
tap_eq "the excluded container (hostlane.io/inject-exclude) is left alone" "null null" \
	"$(jq -c '.spec.containers[1] | [.env, .volumeMounts] | .[]' "$T/cache.json" | tr '\n' ' ' | sed 's/ $//')"
tap_eq "the quota annotation (32Mi) wins over the namespace default" 32Mi \
	"$(jq -r '.spec.initContainers[0].resources.requests["hostlane.io/shm"]' "$T/cache.json")"
jq 'del(.metadata.annotations["hostlane.io/hugepages"])' "$pods/preload.json" >"$T/nsq.pod"
admit nsq "$T/nsq.pod"
tap_eq "without the annotation the namespace's default (team-a: 16Mi) is requested" 16Mi \
	"$(jq -r '.spec.initContainers[0].resources.requests["hostlane.io/shm"]' "$T/nsq.json")"

# 4. Already injected: idempotent.
admit again "$T/redis.json"
tap_eq "an injected pod is left as it is (no patch)" "200 true null" "$ST $(resp again .allowed) $(resp again .patch)"
admit again2 "$T/cache.json"
tap_eq "... also the one with its own LD_PRELOAD" "null" "$(resp again2 .patch)"

# 5. Invalid hostlane annotations: denied with the reason.
jq '.metadata.annotations["hostlane.io/hugepages"] = "1Gi"' "$pods/redis.json" >"$T/big.pod"
admit big "$T/big.pod"
tap_eq "a quota above maxQuota is denied (200, allowed false, code 400)" "200 false 400" \
	"$ST $(resp big .allowed) $(resp big .status.code)"
ok "... and the message says why" grep -q 'above the per-pod maximum' <<<"$(resp big .status.message)"

# 6. Bodies that are not AdmissionReviews.
bad() { # bad WHAT FILE CODE PATTERN
	local st
	st=$(post "$2")
	tap_eq "$1: HTTP $3" "$3" "$st"
	ok "$1: the error says why" grep -q "$4" "$T/out"
}
printf 'not json' >"$T/b1"
bad "not JSON" "$T/b1" 400 'not a JSON object'
echo '{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}}' >"$T/b2"
bad "a review without a uid" "$T/b2" 400 'no request with a uid'
echo '{"apiVersion": "v1", "kind": "Pod"}' >"$T/b3"
bad "a Pod instead of a review" "$T/b3" 400 'not an AdmissionReview'
head -c $((5 << 20)) /dev/zero | tr '\0' ' ' >"$T/b4"
bad "a 5 MiB body" "$T/b4" 413 'larger than 4 MiB'
tap_eq "GET /mutate: 405" 405 "$(cu -o /dev/null -w '%{http_code}' "$url/mutate")"
ok "the webhook is alive after all of it" kill -0 "$wh"
m=$(cu "$url/metrics")
tap_eq "metrics count the answers (injected, denied, bad requests)" "3 1 4" \
	"$(awk '/result="injected"/ {i=$2} /result="denied"/ {d=$2} /result="bad_request"/ {b=$2} END {print i, d, b}' <<<"$m")"

# 7. Certificate rotation (the Secret's files change): served without a restart.
"$top/hack/webhook-cert.sh" "$T/b" kube-system 1 >/dev/null
cp "$T/b/tls.key" "$T/tls.key.new" && cp "$T/b/tls.crt" "$T/tls.crt.new"
mv "$T/tls.key.new" "$T/tls.key" && mv "$T/tls.crt.new" "$T/tls.crt"
got=
for _ in $(seq 60); do   # the webhook looks every 2 s
	got=$(CA=$T/b/ca.crt cu "$url/healthz" 2>/dev/null) && break
	sleep 0.1
done
tap_eq "after rotation the new certificate is served" ok "$got"
ok_not "... and the old one is not" env CA="$T/a/ca.crt" bash -c "$(declare -f cu); svc=$svc port=$port T=$T; cu '$url/healthz'"
ok "the same process serves on" kill -0 "$wh"

# 8. The agent's config changes (the ConfigMap is updated): the quotas are
# read again; a broken file leaves the quotas in use.
CA=$T/b/ca.crt
export CA
nsq_quota() { admit "$1" "$T/nsq.pod" && jq -r '.spec.initContainers[0].resources.requests["hostlane.io/shm"]' "$T/$1.json"; }
jq '.hugepages.namespaceQuota["team-a"] = "24Mi"' "$T/hostlaned.json" >"$T/cfg.new" && mv "$T/cfg.new" "$T/hostlaned.json"
got=
for i in $(seq 60); do   # the webhook looks every 2 s
	got=$(nsq_quota "cfg$i")
	[ "$got" = 24Mi ] && break
	sleep 0.1
done
tap_eq "a changed namespaceQuota (team-a: 24Mi) is used without a restart" 24Mi "$got"
echo '{"hugepages": {"namespaceQuota": {"team-a": "lots"}}}' >"$T/cfg.new" && mv "$T/cfg.new" "$T/hostlaned.json"
for _ in $(seq 60); do
	grep -q 'the quotas in use stay' "$T/wh.log" && break
	sleep 0.1
done
ok "a config that does not parse is reported" grep -q 'namespaceQuota.team-a: not a quantity.*the quotas in use stay' "$T/wh.log"
tap_eq "... and the quotas in use stay (24Mi)" 24Mi "$(nsq_quota cfgbad)"
ok "the same process serves on" kill -0 "$wh"
tap_done
