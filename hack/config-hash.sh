#!/usr/bin/env bash
# The hostlane.io/config-hash of a ConfigMap file: sha256 over its data (keys
# sorted). With a DaemonSet file as second argument, writes the hash into its
# pod template's annotation, so that applying both rolls the DaemonSet.
#   hack/config-hash.sh manifests/01-configmap.yaml manifests/02-daemonset.yaml
# Needs the modules hack/deps.sh installs (build/npm).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
export HOSTLANE_NPM_DIR=${HOSTLANE_NPM_DIR:-$top/build/npm}
h=$(node "$top/hack/k8s/manifests.mjs" hash "$1")
if [ $# -gt 1 ]; then
	sed -i -E "s|^( *hostlane\.io/config-hash: ).*|\1\"$h\"|" "$2"
	grep -q "hostlane.io/config-hash: \"$h\"" "$2"
fi
echo "$h"
