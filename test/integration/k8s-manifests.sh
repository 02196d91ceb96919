#!/usr/bin/env bash
# The Kubernetes manifests, checked the way the API server would: every
# object of manifests/, manifests/examples/ and manifests/variants/ against
# the Kubernetes OpenAPI schemas (kubernetes-models) with strict field
# checking (unknown fields are errors), and a planted error is caught. The
# NetworkAttachmentDefinitions' spec.config go through the plugin's own
# parser, each ConfigMap's hostlaned.json through the agent's and its
# install.json through the installer's. Then what the install relies on:
# config-hash annotation = hash of the ConfigMap, image tag = VERSION =
# the agent's version, cniVersion 1.0.0 in shipped configs, numbered files
# (ServiceAccount before DaemonSet), nodeSelector, privileged installer,
# startupProbe, metrics on the node IP.
. "$(dirname "$0")/../lib/tap.sh"
top=$HOSTLANE_TOP
export HOSTLANE_NPM_DIR=${HOSTLANE_NPM_DIR:-$top/build/npm}
m() { node "$top/hack/k8s/manifests.mjs" "$@"; }
command -v node >/dev/null || { tap_fail "node is installed (hack/deps.sh)"; tap_done; exit 1; }
if [ ! -d "$HOSTLANE_NPM_DIR/node_modules/kubernetes-models" ]; then
	tap_fail "the schema modules are installed" "missing $HOSTLANE_NPM_DIR/node_modules (hack/deps.sh)"
	tap_done; exit 1
fi
tmp=$(mktemp -d /tmp/hlk8s-man.XXXXXX)
on_exit "rm -rf '$tmp'"
cd "$top" || exit 1
files=(manifests/*.yaml manifests/examples/*.yaml manifests/variants/*/*.yaml manifests/uninstall/*.yaml)

# 1. Schemas, strict.
out=$(m validate "${files[@]}" 2>&1); rc=$?
while read -r st what; do
	case $st in
	ok) tap_ok "schema + strict fields: $what" ;;
	error) tap_fail "schema + strict fields: ${what%%:*}" "${what#*: }" ;;
	esac
done <<<"$out"
tap_eq "validator: 0 errors over every manifest" "0 errors" "$(tail -n1 <<<"$out" | grep -o '[0-9]* errors')"
tap_eq "validator exit status" 0 "$rc"

# 2. The validator fails where it must: a misspelt field, a bad enum, a
#    wrong type, an unknown key in a NetworkAttachmentDefinition's spec.
sed -e 's/^      hostNetwork: true/      hostNetwork: true\n      hostNetworking: true/' manifests/02-daemonset.yaml >"$tmp/bad-field.yaml"
sed -e '0,/imagePullPolicy: IfNotPresent/s//imagePullPolicy: Sometimes/' manifests/02-daemonset.yaml >"$tmp/bad-enum.yaml"
sed -e 's/periodSeconds: 2$/periodSeconds: "2"/' manifests/02-daemonset.yaml >"$tmp/bad-type.yaml"
sed -e 's/^  config: |/  configs: x\n  config: |/' manifests/examples/nad-chained.yaml >"$tmp/bad-nad.yaml"
for b in field enum type nad; do
	ok_not "a planted bad $b is an error" m validate "$tmp/bad-$b.yaml"
done
o=$(m validate "$tmp/bad-field.yaml")
ok "the error names the misspelt field" grep -q 'spec.template.spec.hostNetworking: unknown field' <<<"$o"

# 3. NetworkAttachmentDefinitions through the plugin's own parser.
check=$BUILD/test/hostlane-conf-check
mkdir -p "$tmp/nads"
m nads "$tmp/nads" manifests/examples/*.yaml
n=$(find "$tmp/nads" -name '*.json' | wc -l)
ok "examples hold NetworkAttachmentDefinitions for chained, shm, vhost-user and vf ($n)" test "$n" -ge 5
for f in "$tmp"/nads/*.json; do
	ok "plugin parser accepts NAD $(basename "$f" .json)" "$check" "$f"
done
echo '{"cniVersion": "1.0.0", "name": "x", "type": "hostlane", "mtu": 10}' >"$tmp/bad.json"
ok_not "plugin parser refuses a bad config (control)" "$check" "$tmp/bad.json"

# 4. Each ConfigMap: the agent's and the installer's own parsers.
for cm in manifests/01-configmap.yaml manifests/variants/*/01-configmap.yaml; do
	n=$(basename "$(dirname "$cm")")
	[ "$n" = manifests ] && n=default
	m get "$cm" ConfigMap hostlane '["data", "hostlaned.json"]' >"$tmp/$n-agent.json"
	m get "$cm" ConfigMap hostlane '["data", "install.json"]' >"$tmp/$n-install.json"
	ok "$n: hostlaned.json parses (hostlaned --check-config)" \
		"$BUILD/bin/hostlaned" --check-config --config "$tmp/$n-agent.json"
	ok "$n: install.json parses (hostlane-install --check)" \
		"$BUILD/bin/hostlane-install" --check --config "$tmp/$n-install.json"
	tap_eq "$n: default install mode is secondary" secondary "$(jq -r .mode "$tmp/$n-install.json")"
	tap_eq "$n: standalone cniVersion 1.0.0" 1.0.0 "$(jq -r .standalone.cniVersion "$tmp/$n-install.json")"
done
ok "vhost-user variant has a vhostUser section (external switch)" jq -e '.vhostUser.backend == "external"' "$tmp/vhost-user-agent.json"
ok "vf variant has a vf section" jq -e .vf "$tmp/vf-agent.json"
ok_not "no shipped config says cniVersion 1.1.0" grep -rq '"cniVersion": *"1.1.0"' manifests

# 5. What the install relies on.
ds=manifests/02-daemonset.yaml
dsget() { m get "$ds" DaemonSet hostlaned "$1"; }
tap_eq "config-hash annotation = hash of 01-configmap.yaml" "$(m hash manifests/01-configmap.yaml)" \
	"$(dsget '["spec", "template", "metadata", "annotations", "hostlane.io/config-hash"]')"
ver=$(cat VERSION)
tap_eq "VERSION = the agent's version" "hostlaned $ver" "$("$BUILD/bin/hostlaned" --version | cut -d' ' -f1-2)"
imgs=$(grep -rhoE 'image: *localhost/hostlane:[^ ]+' manifests | sort -u)
tap_eq "every manifest pins localhost/hostlane:$ver" "image: localhost/hostlane:$ver" "$imgs"
tap_eq "Kustomization's images: tag is VERSION" "\"$ver\"" \
	"$(awk '$1 == "newTag:" { print $2 }' manifests/Kustomization)"
first_sa=$(grep -l '^kind: ServiceAccount' manifests/*.yaml | head -n1)
ok "the ServiceAccount's file sorts before the DaemonSet's" test "$first_sa" \< "$ds"
tap_eq "nodeSelector: linux nodes labelled hostlane.io/node=true" \
	'{"kubernetes.io/os":"linux","hostlane.io/node":"true"}' "$(dsget '["spec", "template", "spec", "nodeSelector"]')"
tap_eq "install-cni init container is privileged" true \
	"$(dsget '["spec", "template", "spec", "initContainers", 0, "securityContext", "privileged"]')"
ok "the agent has a startupProbe" test "$(dsget '["spec", "template", "spec", "containers", 0, "startupProbe", "httpGet", "path"]')" = /healthz
ok "metrics bound to the node IP" grep -q -- '--metrics-addr=$(HOST_IP):9540' <<<"$(dsget '["spec", "template", "spec", "containers", 0, "args"]')"
tap_eq "HOST_IP is the node's status.hostIP" status.hostIP \
	"$(dsget '["spec", "template", "spec", "containers", 0, "env", 1, "valueFrom", "fieldRef", "fieldPath"]')"
ok "the keeper container watches" grep -q -- '--watch' <<<"$(dsget '["spec", "template", "spec", "containers", 1, "args"]')"

# The vhost-user variant's DaemonSet: the switch in a container of its own,
# every container Guaranteed (requests = limits), the hash of its ConfigMap.
vds=manifests/variants/vhost-user/02-daemonset.yaml
vget() { m get "$vds" DaemonSet hostlaned "$1"; }
tap_eq "vhost-user variant: containers" '["hostlaned","cni-keeper","vswitch"]' \
	"$(vget '["spec", "template", "spec", "containers"]' | jq -c '[.[].name]')"
tap_eq "vhost-user variant: every container has requests = limits" "" \
	"$(vget '["spec", "template", "spec"]' | jq -c '(.containers + .initContainers)[] | select(.resources.requests != .resources.limits) | .name')"
tap_eq "vhost-user variant: the switch has its own core and hugepages" '{"cpu":"1","hugepages-2Mi":"512Mi","memory":"256Mi"}' \
	"$(vget '["spec", "template", "spec", "containers", 2, "resources", "limits"]' | jq -cS .)"
tap_eq "vhost-user variant: config-hash = hash of its ConfigMap" \
	"$(m hash manifests/variants/vhost-user/01-configmap.yaml)" \
	"$(vget '["spec", "template", "metadata", "annotations", "hostlane.io/config-hash"]')"
tap_eq "vhost-user variant: otherwise the default DaemonSet (volumes)" \
	"$(dsget '["spec", "template", "spec", "volumes"]' | jq -c '[.[].name]')" \
	"$(vget '["spec", "template", "spec", "volumes"]' | jq -c '[.[].name] - ["switch-hugepages"]')"

# 6. kustomize, where kubectl is installed: the images: override works.
if command -v kubectl >/dev/null && kubectl kustomize --help >/dev/null 2>&1; then
	mkdir -p "$tmp/ov"
	printf 'resources: [%s]\nimages:\n- {name: localhost/hostlane, newName: registry.example/hl, newTag: "9.9"}\n' \
		"$(realpath --relative-to="$tmp/ov" "$top/manifests")" >"$tmp/ov/kustomization.yaml"
	out=$(kubectl kustomize "$tmp/ov" 2>&1)
	tap_eq "kustomize images: overrides every image" "image: registry.example/hl:9.9" \
		"$(grep -oE 'image: [^ ]+' <<<"$out" | sort -u)"
else
	tap_skip "kustomize images: override" "kubectl is not installed"
fi
tap_done
