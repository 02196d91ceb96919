#!/usr/bin/env bash
# No silent loss at ADD: a pod annotated hostlane.io/fastpath: shm is
# created (the runtime runs ADD, as kubelet does, with the network's
# default fast path none) while the node's agent is down. ADD fails with
# 11 ("try again later") and leaves nothing behind; the runtime retries;
# once the agent is back (reading the annotation from the API server) the
# retried ADD puts the pod on the fast path: the annotation's fast path and
# quota, @hostlane bound in its netns.
. "$(dirname "$0")/../lib/tap.sh"
need_root
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
. "$(dirname "$0")/../lib/fakeapi.sh"
cni_setup
agent_setup
fakeapi_start "$CNI_TMP/api" || { tap_fail "the fake API server starts" "$(cat "$CNI_TMP/api/server.log" 2>/dev/null)"; tap_done; exit 1; }
fakeapi_kubeconfig "$CNI_TMP/kubeconfig"
ns=$(cni_pod a)
cni_netns_add "$ns"
fakeapi_post /pods "{\"namespace\":\"shop\",\"name\":\"redis\",\"node\":\"node-$CNI_RUN\",\"uid\":\"u-$CNI_RUN\",
	\"annotations\":{\"hostlane.io/fastpath\":\"shm\",\"hostlane.io/hugepages\":\"8Mi\"}}" >/dev/null ||
	tap_fail "the pod is created in the API server"
conf=$(agent_conf none)
args="IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=redis;K8S_POD_UID=u-$CNI_RUN"
add() { CNI_EXTRA_ENV=("CNI_ARGS=$args"); cni_add cid-a "$ns" eth0 "$conf"; CNI_EXTRA_ENV=(); }

# The agent is down (never started on this node yet, as after a reboot).
add
cni_err_code "agent down: ADD fails with 11, try again later" 11
ok "... naming the agent's socket" grep -q "$AG_SOCK" <<<"$CNI_STDOUT"
ok_not "... no interface left in the pod" ip -n "$ns" link show eth0
tap_eq "... no address held" "" "$(cni_allocations)"
add
cni_err_code "a retry while it is still down: 11 again" 11

printf '{"k8sTimeoutMs": 2000, "hugepages": {"defaultQuota": "4Mi"}}' >"$AG_DIR/agent.json"
agent_start --config "$AG_DIR/agent.json" --kubeconfig "$CNI_TMP/kubeconfig" ||
	{ tap_fail "the agent starts" "$(tail "$AG_DIR/agent.log")"; tap_done; exit 1; }
add
cni_ok_rc "agent back: the runtime's retry of ADD succeeds"
tap_eq "the pod is on the fast path its annotation asks for, with its quota" "shm annotation 8" \
	"$(agent_pods '.[] | select(.containerID == "cid-a") | "\(.fastpath) \(.fastpathSource) \(.quotaBytes / 1048576)"')"
ok "@hostlane is bound in the pod's netns" pod_has_endpoint "$ns"
tap_eq "the result names the shm endpoint" "@hostlane" \
	"$(jq -r '.interfaces[] | select(.name == "hostlane-shm") | .socketPath' <<<"$CNI_STDOUT")"
cni_del cid-a "$ns" eth0 "$conf"
cni_ok_rc "DEL"
tap_done
