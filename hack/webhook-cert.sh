#!/usr/bin/env bash
# Makes the admission webhook's TLS material (manifests/03-webhook.yaml):
# a CA of its own and a certificate for the webhook's Service name signed
# by it, both with openssl; writes into OUTDIR
#   ca.crt ca.key tls.crt tls.key
#   secret.yaml          the kubernetes.io/tls Secret hostlane-webhook-tls
#   cabundle-patch.json  a JSON Patch that puts ca.crt into the
#                        MutatingWebhookConfiguration's caBundle
#
# Usage: hack/webhook-cert.sh OUTDIR [NAMESPACE] [DAYS]
#   NAMESPACE  where the webhook's Service is (kube-system)
#   DAYS       validity (365); run again and re-apply both to rotate: the
#              webhook serves a rotated Secret without a restart.
set -eu
out=$1 ns=${2:-kube-system} days=${3:-365}
svc=hostlane-webhook.$ns.svc
mkdir -p "$out"
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -days "$days" -subj "/CN=hostlane-webhook-ca" \
	-keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=$svc" -keyout "$out/tls.key" -out "$out/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:hostlane-webhook.%s.svc,DNS:hostlane-webhook.%s.svc.cluster.local\nextendedKeyUsage=serverAuth\n' \
	"$ns" "$ns" >"$out/ext.cnf"
openssl x509 -req -in "$out/tls.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
	-days "$days" -extfile "$out/ext.cnf" -out "$out/tls.crt" 2>/dev/null
rm -f "$out/tls.csr" "$out/ext.cnf" "$out/ca.srl"
b64() { base64 -w0 <"$1"; }
cat >"$out/secret.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: hostlane-webhook-tls
  namespace: $ns
  labels: { app.kubernetes.io/name: hostlane }
type: kubernetes.io/tls
data:
  tls.crt: $(b64 "$out/tls.crt")
  tls.key: $(b64 "$out/tls.key")
YAML
printf '[{"op": "add", "path": "/webhooks/0/clientConfig/caBundle", "value": "%s"}]\n' \
	"$(b64 "$out/ca.crt")" >"$out/cabundle-patch.json"
echo "webhook-cert: $out/secret.yaml and $out/cabundle-patch.json for $svc (valid $days days)"
