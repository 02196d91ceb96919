#!/usr/bin/env bash
# hostlanectl inject over a corpus of real-shaped manifests
# (test/inject/manifests: a multi-document application with a Deployment
# whose pods already preload a library and run an init container, a
# CronJob and a Job, a StatefulSet with YAML anchors, a DaemonSet that does
# not ask, a Deployment annotated in the wrong place, a DaemonSet and a
# ReplicaSet that ask, a JSON stream with a List). What it writes is read back with independent readers (js-yaml,
# JSON.parse) and checked against the Kubernetes schemas with strict
# fields; objects that do not ask are unchanged; a second pass changes
# nothing; invalid annotations fail with exit 1 and the reason.
. "$(dirname "$0")/../lib/tap.sh"
top=$HOSTLANE_TOP
CTL=$BUILD/bin/hostlanectl
export HOSTLANE_NPM_DIR=${HOSTLANE_NPM_DIR:-$top/build/npm}
for c in jq node; do
	command -v $c >/dev/null || { tap_fail "$c is installed (hack/deps.sh)"; tap_done; exit 1; }
done
[ -d "$HOSTLANE_NPM_DIR/node_modules/js-yaml" ] ||
	{ tap_fail "the npm modules are installed" "missing in $HOSTLANE_NPM_DIR (hack/deps.sh)"; tap_done; exit 1; }
T=$(mktemp -d /tmp/hlinj-$$.XXXXXX)
on_exit "rm -rf '$T'"
M=$top/test/inject/manifests
docs() { node "$top/hack/k8s/docs.mjs" "$@"; }
pre='/opt/hostlane/$LIB/libhostlane.so'

for f in app.yaml batch.yaml stateful.yaml daemon.yaml pods.json; do
	if "$CTL" inject -f "$M/$f" >"$T/$f" 2>"$T/$f.err"; then
		tap_ok "$f: injected (exit 0)"
	else
		tap_fail "$f: injected (exit 0)" "$(cat "$T/$f.err")"
		continue
	fi
	docs "$M/$f" >"$T/$f.in.json"
	docs "$T/$f" >"$T/$f.out.json"
	tap_eq "$f: as many objects out as in, same kinds and names" \
		"$(jq -c 'map([.kind, .metadata.name])' "$T/$f.in.json")" \
		"$(jq -c 'map([.kind, .metadata.name])' "$T/$f.out.json")"
	case $f in
	*.json) ok "$f: written as JSON, as it came" grep -q '^{' "$T/$f" ;;
	*) ok "$f: written as YAML, as it came" grep -q '^apiVersion:' "$T/$f" ;;
	esac
	docs --yaml "$T/$f" >"$T/$f.check.yaml"
	out=$(node "$top/hack/k8s/manifests.mjs" validate "$T/$f.check.yaml" 2>&1)
	tap_eq "$f: every object passes its schema with strict fields" "0 errors" \
		"$(tail -n1 <<<"$out" | grep -o '[0-9]* errors')"
	"$CTL" inject -f "$T/$f" >"$T/$f.again" 2>/dev/null
	ok "$f: a second pass changes nothing (byte for byte)" cmp -s "$T/$f" "$T/$f.again"
done

# What went where. pod PATH FILE: the pod spec at a jq path of the output.
spec() { jq -c "$2" "$T/$1.out.json"; }
tap_eq "Deployment: jemalloc kept, the layer appended" "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2:$pre" \
	"$(spec app.yaml '.[1].spec.template.spec.containers[0].env[] | select(.name == "LD_PRELOAD") | .value' | jq -r .)"
tap_eq "Deployment: valueFrom and other env kept in order" '["LD_PRELOAD","GOMAXPROCS","FEATURE_FLAGS"]' \
	"$(spec app.yaml '[.[1].spec.template.spec.containers[0].env[].name]')"
tap_eq "Deployment: \"on\" stays the string \"on\" (not YAML 1.1's true)" '"on"' \
	"$(spec app.yaml '.[1].spec.template.spec.containers[0].env[2].value')"
tap_eq "Deployment: the sidecar gets the layer too" "\"$pre\"" \
	"$(spec app.yaml '.[1].spec.template.spec.containers[1].env[0].value')"
tap_eq "Deployment: init containers: the layer's first, then the app's with the layer" \
	"[\"hostlane-init\",\"migrate\"] \"$pre\"" \
	"$(spec app.yaml '[.[1].spec.template.spec.initContainers[].name]') $(spec app.yaml \
		'.[1].spec.template.spec.initContainers[1].env[] | select(.name == "LD_PRELOAD") | .value')"
tap_eq "Deployment: its quota annotation (128Mi) is the requested hostlane.io/shm" '"128Mi"' \
	"$(spec app.yaml '.[1].spec.template.spec.initContainers[0].resources.requests["hostlane.io/shm"]')"
tap_eq "Deployment: the existing volume and mount stay" '"config" "/etc/cart"' \
	"$(spec app.yaml '.[1].spec.template.spec.volumes[0].name') $(spec app.yaml '.[1].spec.template.spec.containers[0].volumeMounts[0].mountPath')"
for i in 0 2 3; do
	tap_eq "app.yaml: $(jq -r ".[$i].kind" "$T/app.yaml.in.json") unchanged" \
		"$(jq -c ".[$i]" "$T/app.yaml.in.json")" "$(spec app.yaml ".[$i]")"
done
tap_eq "ConfigMap: the multi-line value is kept exactly" \
	"$(jq -c '.[3].data["cart.yaml"]' "$T/app.yaml.in.json")" "$(spec app.yaml '.[3].data["cart.yaml"]')"
tap_eq "CronJob: its job template's pod gets the layer" "\"$pre\"" \
	"$(spec batch.yaml '.[0].spec.jobTemplate.spec.template.spec.containers[0].env[0].value')"
tap_eq "Job: the excluded container is left alone" "null" \
	"$(spec batch.yaml '.[1].spec.template.spec.containers[1].env')"
tap_eq "StatefulSet (labels from an anchor): injected, the alias expanded" '{"app":"redis"} 2' \
	"$(spec stateful.yaml '.[0].spec.template.metadata.labels') $(spec stateful.yaml '.[0].spec.template.spec.containers[0] | (.env | length) + (.volumeMounts | length)')"
tap_eq "DaemonSet without the annotation: unchanged" \
	"$(jq -c '.[1]' "$T/stateful.yaml.in.json")" "$(spec stateful.yaml '.[1]')"
tap_eq "the Deployment annotated on itself, not its pods: unchanged" \
	"$(jq -c '.[2]' "$T/stateful.yaml.in.json")" "$(spec stateful.yaml '.[2]')"
ok "... and a warning says why" grep -q 'Deployment misplaced: hostlane.io/fastpath is on the object, not on its pod template' "$T/stateful.yaml.err"
tap_eq "DaemonSet: its pods get the layer, their quota (32Mi) requested" "\"$pre\" \"32Mi\"" \
	"$(spec daemon.yaml '.[0].spec.template.spec | .containers[0].env[0].value, .initContainers[0].resources.limits["hostlane.io/shm"]' | tr '\n' ' ' | sed 's/ $//')"
tap_eq "DaemonSet: its scheduling, resources and other annotations stay" \
	"$(jq -c '.[0].spec.template | .metadata.annotations, .spec.nodeSelector, .spec.tolerations, .spec.containers[0].resources' "$T/daemon.yaml.in.json")" \
	"$(spec daemon.yaml '.[0].spec.template | .metadata.annotations, .spec.nodeSelector, .spec.tolerations, .spec.containers[0].resources')"
tap_eq "ReplicaSet: an empty LD_PRELOAD becomes the layer alone (no empty entry)" "\"$pre\"" \
	"$(spec daemon.yaml '.[1].spec.template.spec.containers[0].env[] | select(.name == "LD_PRELOAD") | .value')"
tap_eq "List: the annotated pod injected, the other one not" "1 null" \
	"$(spec pods.json '.[0].items[0].spec.initContainers | length') $(spec pods.json '.[0].items[1].spec.initContainers')"
tap_eq "JSON stream: the second object (16Mi quota) too" '"16Mi"' \
	"$(spec pods.json '.[1].spec.initContainers[0].resources.limits["hostlane.io/shm"]')"

# Formats, stdin, options.
"$CTL" inject -o json -f - <"$M/batch.yaml" >"$T/batch.out.json" 2>/dev/null
tap_eq "stdin (-f -) and -o json" "$(jq -c . "$T/batch.yaml.out.json")" "$(docs "$T/batch.out.json" | jq -c .)"
"$CTL" inject -o yaml -f "$M/pods.json" --image registry.example/hostlane:0.4.0 --resource "" >"$T/p.yaml" 2>/dev/null
tap_eq "-o yaml, --image, --resource \"\"" '"registry.example/hostlane:0.4.0" null' \
	"$(docs "$T/p.yaml" | jq -c '.[1].spec.initContainers[0] | .image, .resources' | tr '\n' ' ' | sed 's/ $//')"

"$CTL" inject -o json --network kube-system/hostlane-shm -f "$M/app.yaml" >"$T/net.json" 2>/dev/null
tap_eq "--network: the pod template names the hostlane network for Multus (secondary mode)" \
	'"kube-system/hostlane-shm"' \
	"$(docs "$T/net.json" | jq -c '.[1].spec.template.metadata.annotations["k8s.v1.cni.cncf.io/networks"]')"
tap_eq "... and a pod that asks nothing gets no network" null \
	"$(docs "$T/net.json" | jq -c '.[0].metadata.annotations')"

# Failures.
"$CTL" inject -f "$M/bad-quota.yaml" >"$T/bad.out" 2>"$T/bad.err"
tap_eq "a quota above the maximum: exit 1, nothing written" "1 0" "$? $(wc -c <"$T/bad.out")"
ok "... the error names the pod and the annotation" grep -q 'Pod greedy: annotation hostlane.io/hugepages "4Gi" is above' "$T/bad.err"
printf 'a: [1, 2\n' >"$T/broken.yaml"
"$CTL" inject -f "$T/broken.yaml" >/dev/null 2>"$T/broken.err"
tap_eq "broken YAML: exit 2" 2 "$?"
ok "... with the line of the error" grep -q 'line' "$T/broken.err"
"$CTL" inject -f "$T/nonexistent.yaml" >/dev/null 2>&1
tap_eq "a missing file: exit 2" 2 "$?"
tap_done
