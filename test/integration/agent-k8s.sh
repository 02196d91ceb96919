#!/usr/bin/env bash
# The node agent's Kubernetes client (node-agent/k8s, libhlk8s) against a
# local HTTPS fake API server (test/tools/fake-apiserver) that serves
# real-shaped Pods, Services, EndpointSlices, their lists, WatchEvents and
# Status objects. Certificates are
# made here with openssl; every scenario is one run of the C driver
# $BUILD/test/hlk8s-itest (see node-agent/k8s/tests/hlk8s_itest.c).
# HLK8S_IT_WRAP runs the driver under a wrapper (valgrind).
. "$(dirname "$0")/../lib/tap.sh"

drv=$BUILD/test/hlk8s-itest
srv=$HOSTLANE_TOP/test/tools/fake-apiserver/fake_apiserver.py
command -v openssl >/dev/null || tap_skip_all "openssl not installed"
command -v python3 >/dev/null || tap_skip_all "python3 not installed"
if [ ! -x "$drv" ]; then
	tap_fail "driver $drv is built (make tests)"
	tap_done; exit 1
fi

dir=$(mktemp -d /tmp/hlk8s-it.XXXXXX)
on_exit "rm -rf '$dir'"

# CA, server certificate for 127.0.0.1, a client certificate, and a CA that
# signed nothing here (for the negative TLS check).
mkcerts() {
	cd "$dir" || return 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=hostlane-test-ca" \
		-keyout ca.key -out ca.pem &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other-ca" \
		-keyout other.key -out other.pem &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
		-keyout srv.key -out srv.csr &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >srv.ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile srv.ext -out srv.pem &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=system:node:it/O=system:nodes" \
		-keyout cli.key -out cli.csr &&
	printf 'extendedKeyUsage=clientAuth\n' >cli.ext &&
	openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile cli.ext -out cli.pem
}
if ! out=$(mkcerts 2>&1); then
	tap_fail "make test certificates" "$out"
	tap_done; exit 1
fi

echo "initial-token" >"$dir/server-token"
python3 "$srv" --cert "$dir/srv.pem" --key "$dir/srv.key" --client-ca "$dir/ca.pem" \
	--token-file "$dir/server-token" --port-file "$dir/ports" 2>"$dir/server.log" &
srv_pid=$!
on_exit "kill $srv_pid; wait $srv_pid"
for _ in $(seq 100); do
	[ -s "$dir/ports" ] && break
	kill -0 $srv_pid 2>/dev/null || break
	sleep 0.1
done
if [ ! -s "$dir/ports" ]; then
	tap_fail "fake API server starts" "$(cat "$dir/server.log")"
	tap_done; exit 1
fi
read -r api_port ctl_port <"$dir/ports"

# Client certificate and key as -data blobs; and a kubeconfig with a wrong CA.
kc_tail() { # user-section
	printf 'contexts:\n- name: it\n  context: {cluster: fake, user: u}\n'
	printf 'users:\n- name: u\n  user:\n%s\n' "$1"
}
{
	printf 'apiVersion: v1\nkind: Config\ncurrent-context: it\nclusters:\n'
	printf -- '- name: fake\n  cluster:\n    server: https://127.0.0.1:%s\n' "$api_port"
	printf '    certificate-authority-data: %s\n' "$(base64 -w0 "$dir/ca.pem")"
	kc_tail "$(printf '    client-certificate-data: %s\n    client-key-data: %s' \
		"$(base64 -w0 "$dir/cli.pem")" "$(base64 -w0 "$dir/cli.key")")"
} >"$dir/kc-mtls.yaml"
{
	printf 'apiVersion: v1\nkind: Config\ncurrent-context: it\nclusters:\n'
	printf -- '- name: fake\n  cluster:\n    server: https://127.0.0.1:%s\n' "$api_port"
	printf '    certificate-authority: other.pem\n'
	kc_tail "    token: anything"
} >"$dir/kc-badca.yaml"

export IT_DIR=$dir IT_CA=$dir/ca.pem IT_SERVER_TOKEN=$dir/server-token \
	IT_NODE=it-node-$$ IT_API_PORT=$api_port IT_CTL_PORT=$ctl_port

run() { # scenario description
	local out
	# shellcheck disable=SC2086 # HLK8S_IT_WRAP: e.g. "valgrind --error-exitcode=9 --leak-check=full"
	if out=$(${HLK8S_IT_WRAP:-} "$drv" "$1" 2>&1); then
		tap_ok "$2"
	else
		tap_fail "$2" "$(printf '%s\n' "$out" | tail -n 30)"
	fi
}
run get       "GET finds hostlane.io/fastpath and hugepages; 404 and missing annotation -> ENOENT"
run watch     "watch fills the cache (no GET needed); ADDED, MODIFIED, DELETED, 256 KiB event; stop_fd stops"
run rotate    "in-cluster: rotated projected token (..data swap) is picked up; watch reconnects with it"
run rotate401 "token changed invisibly to stat: 401 -> re-read -> retry succeeds"
run gone      "410 Gone after compaction -> relist; cache matches the server"
run resume    "dropped watch resumes from the last resourceVersion (incl. BOOKMARK); missed event arrives"
run down      "API down: GET fails with ECONNREFUSED within the bound; watch backs off and stops"
run stall     "API stalled: GET fails with ETIMEDOUT within the bound; stop_fd ends a held LIST"
run mtls      "client certificate from -data blobs; anonymous -> EACCES; wrong CA -> EIO"
run concurrent "lookups from 4 threads while events and a relist are applied"
run kinds     "Service and EndpointSlice informers: LIST, watch events and a 410 relist told to the handler as differences"
run podips    "pods of the node: status.podIPs (IPv4 and IPv6) and readiness told to the handler"
tap_done
