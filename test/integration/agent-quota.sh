#!/usr/bin/env bash
# Quota the scheduler can see. With an API server (test/tools/fake-apiserver)
# the agent publishes its shm capacity, pool x hugepages.overcommit (8 by
# default), as the node's extended resource hostlane.io/shm (capacity and
# allocatable, a PATCH of the node's status), again after a SIGHUP that
# changes the pool or the factor; STATUS says what it published.
# hugepages.namespaceQuota gives a namespace's pods their default quota; a
# pod's hostlane.io/hugepages still wins. An ADD whose quota would take the
# quotas past that capacity fails with 103 (the node serves no more than
# it advertises).
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
. "$(dirname "$0")/../lib/fakeapi.sh"
cni_setup
agent_setup
fakeapi_start "$CNI_TMP/api" || { tap_fail "the fake API server starts" "$(cat "$CNI_TMP/api/server.log" 2>/dev/null)"; tap_done; exit 1; }
node=node-$CNI_RUN
fakeapi_post /nodes "{\"name\":\"$node\"}" >/dev/null
fakeapi_kubeconfig "$CNI_TMP/kubeconfig"
getnode() {
	curl -sf --cacert "$FAKEAPI_SA/ca.crt" -H "Authorization: Bearer $(cat "$FAKEAPI_SA/token")" \
		"https://127.0.0.1:$FAKEAPI_PORT/api/v1/nodes/$node"
}
published() { getnode | jq -r ".status.$1[\"hostlane.io/shm\"] // empty"; }
wait_published() { # VALUE
	local i
	for i in $(seq 100); do [ "$(published allocatable)" = "$1" ] && return 0; sleep 0.05; done
	return 1
}
cat >"$AG_DIR/agent.json" <<'EOF'
{ "hugepages": { "pool": "64Mi", "defaultQuota": "4Mi", "namespaceQuota": { "big": "16Mi", "small": "2Mi" } } }
EOF
agent_start --config "$AG_DIR/agent.json" --kubeconfig "$CNI_TMP/kubeconfig" ||
	{ tap_fail "the agent starts" "$(tail "$AG_DIR/agent.log")"; tap_done; exit 1; }
ok "the node's allocatable hostlane.io/shm is the pool x 8 (64Mi x 8)" wait_published 536870912
tap_eq "... and its capacity" 536870912 "$(published capacity)"
tap_eq "... the node's other status is kept (merge patch)" InternalIP "$(getnode | jq -r '.status.addresses[0].type')"
tap_eq "STATUS says what was published" "hostlane.io/shm 536870912 " \
	"$(ctl --json status | jq -r '.nodeResource | "\(.name) \(.published) \(.lastError)"')"
jq '.hugepages.pool = "32Mi"' "$AG_DIR/agent.json" >"$AG_DIR/agent.json.new" && mv "$AG_DIR/agent.json.new" "$AG_DIR/agent.json"
kill -HUP "$AG_PID"
ok "after SIGHUP with a 32Mi pool the node says 32Mi x 8" wait_published 268435456
jq '.hugepages.overcommit = 1' "$AG_DIR/agent.json" >"$AG_DIR/agent.json.new" && mv "$AG_DIR/agent.json.new" "$AG_DIR/agent.json"
kill -HUP "$AG_PID"
ok "after SIGHUP with overcommit 1 the node says 32Mi" wait_published 33554432

# Namespace defaults.
# Not in a command substitution: the netns must be registered with this
# shell for the cleanup.
for p in p1 p2 p3 p4; do cni_netns_add "$(cni_pod "$p")"; done
try() { # NAME NAMESPACE ANNOTATIONS-JSON -> the pod's quota in MiB
	local ns
	ns=$(cni_pod "$1")
	fakeapi_post /pods "{\"namespace\":\"$2\",\"name\":\"$1\",\"node\":\"$node\",\"annotations\":$3}" >/dev/null
	CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=$2;K8S_POD_NAME=$1;K8S_POD_UID=u-$1")
	cni_add "cid-$1" "$ns" eth0 "$(agent_conf none)"
	CNI_EXTRA_ENV=()
	agent_pods ".[] | select(.containerID == \"cid-$1\") | .quotaBytes / 1048576"
}
tap_eq "a pod of namespace big gets its namespace's default (16Mi)" 16 "$(try p1 big '{"hostlane.io/fastpath":"shm"}')"
tap_eq "a pod of namespace small: 2Mi" 2 "$(try p2 small '{"hostlane.io/fastpath":"shm"}')"
tap_eq "a pod of another namespace: the default (4Mi)" 4 "$(try p3 other '{"hostlane.io/fastpath":"shm"}')"
tap_eq "the pod's own annotation wins over its namespace's default" 8 \
	"$(try p4 big '{"hostlane.io/fastpath":"shm","hostlane.io/hugepages":"8Mi"}')"
# 16 + 2 + 4 + 8 = 30 MiB of quotas on a 32Mi x 1 capacity: 4Mi more is refused.
cni_netns_add "$(cni_pod p5)"
fakeapi_post /pods "{\"namespace\":\"other\",\"name\":\"p5\",\"node\":\"$node\",\"annotations\":{\"hostlane.io/fastpath\":\"shm\"}}" >/dev/null
CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=other;K8S_POD_NAME=p5;K8S_POD_UID=u-p5")
cni_add cid-p5 "$(cni_pod p5)" eth0 "$(agent_conf none)"
CNI_EXTRA_ENV=()
cni_err_code "an ADD past pool x overcommit fails with 103" 103 "shm capacity"
tap_eq "STATUS: quotas 30Mi of a 32Mi capacity" "31457280 33554432 1" \
	"$(ctl --json status | jq -r '"\(.hugepageQuotaBytes) \(.shmCapacityBytes) \(.overcommit)"')"
echo '{"hugepages": {"overcommit": 0}}' >"$CNI_TMP/bad.json"
ok_not "an overcommit below 1 is refused" "$HL_AGENTD" --config "$CNI_TMP/bad.json" --check-config
echo '{"hugepages": {"namespaceQuota": {"x": 5}}}' >"$CNI_TMP/bad.json"
ok_not "a namespaceQuota that is not a quantity is refused at start" "$HL_AGENTD" --config "$CNI_TMP/bad.json" --check-config
agent_stop
tap_done
