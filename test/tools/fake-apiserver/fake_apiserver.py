#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A fake Kubernetes API server for hostlane's tests.

Serves, over HTTPS on 127.0.0.1, the part of the API the node agent uses,
with the shapes the real API server sends:

  GET /api/v1/namespaces/{ns}/pods/{name}       Pod, or a 404 Status
  GET /api/v1/pods?fieldSelector=spec.nodeName=N[&limit=&continue=]
                                                PodList (metadata.resourceVersion)
  GET /api/v1/services[?limit=&continue=]       ServiceList
  GET /apis/discovery.k8s.io/v1/endpointslices[?limit=&continue=]
                                                EndpointSliceList
  GET /apis/networking.k8s.io/v1/networkpolicies[?limit=&continue=]
                                                NetworkPolicyList
  GET /api/v1/namespaces[?limit=&continue=]     NamespaceList (cluster-scoped)
  GET /api/v1/nodes/{name}                      Node (spec.podCIDR[s], labels), or 404
  GET /apis                                     APIGroupList: the groups above and
                                                those of the registered custom kinds
  GET /apis/{group}/{version}                   APIResourceList of that groupVersion
  GET /apis/{group}/{version}/{plural}[?limit=&continue=]
                                                list of a registered custom kind
  PATCH /api/v1/nodes/{name}/status             JSON merge patch (application/
                                                merge-patch+json) of the Node's
                                                status; the Node, 404, or 415
  GET <any list path>?watch=1&resourceVersion=R[&fieldSelector=...]
                                                chunked stream of WatchEvents of
                                                that kind, ERROR + Status 410
                                                "Expired" when R is older than the
                                                compaction point

One resourceVersion sequence for every kind, as etcd has.

Authentication: "Authorization: Bearer <token>" where <token> is the content
of --token-file, re-read on every request (so a test rotates the token by
rewriting that file: the old token then gets 401), or a client certificate
signed by --client-ca.

A second, plain-HTTP control listener on 127.0.0.1 lets the test script the
server (JSON bodies; every answer is JSON):

  POST /reset                       forget objects, history, log; end watches
  POST /pods     {namespace, name, node, annotations?, uid?, ips?: [..],
                  ready?: bool, phase?, labels?, ports?: [{name, containerPort,
                  protocol?}]}
                                    create or update a Pod (ADDED / MODIFIED);
                                    ips become status.podIP and status.podIPs,
                                    ports the container's ports
  POST /delete   {namespace, name, kind?}
                                    delete (DELETED event); kind "pods"
                                    (default), "services", "endpointslices",
                                    "networkpolicies" or "namespaces" (no
                                    namespace)
  POST /services {object}           create or update a Service: the object as
                                    a client would send it (metadata.name,
                                    namespace; spec); the server fills uid,
                                    resourceVersion, creationTimestamp
  POST /endpointslices {object}     the same for an EndpointSlice
  POST /networkpolicies {object}    the same for a NetworkPolicy
  POST /namespaces {object}         the same for a Namespace (metadata.name;
                                    the server adds the label
                                    kubernetes.io/metadata.name, as the real
                                    one does, and status.phase Active)
  POST /nodes    {name, podCIDR?, labels?}
                                    create or replace a Node
  POST /crd      {group, version, plural, kind, namespaced}
                                    register a custom kind (a CRD's effect on
                                    discovery), e.g. Calico's
                                    globalnetworkpolicies
  POST /crd-delete {group, plural}  unregister it, and forget its objects
  POST /crd-object {group, plural, object}
                                    create or update an object of it; delete
                                    with /delete and kind "{plural}.{group}"
  POST /drop     {pods?:[...], services?:[...], endpointslices?:[...],
                  networkpolicies?:[...], namespaces?:[...], deletes?:[...]}
                                    cut every open watch connection (no final
                                    chunk), then apply the changes, so that only
                                    a resumed watch can deliver them
  POST /compact  (the same)         like /drop, then compact: any watch from an
                                    older resourceVersion gets 410
  POST /bookmark                    send a BOOKMARK to every open watch
  POST /stall    {on: bool}         hold every API request until turned off
  GET  /log                         {watches:[{kind, rv, last_sent, dropped}],
                                     gets, lists, patches, unauthorized, held, rv}

On start it writes "<api_port> <control_port>\\n" to --port-file.
"""
import argparse
import http.server
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse

from apiobjects import (CLUSTER_SCOPED, CRDS, KINDS, cluster_scoped, discovery_groups,
                        discovery_resources, kind_info, merge_patch, status)

STALL_MAX_S = 60


class State:
    def __init__(self, token_file):
        self.cond = threading.Condition()
        self.token_file = token_file
        self.rv = 1000
        self.held = 0           # requests being held by /stall now
        self.reset_locked()

    def reset_locked(self):
        CRDS.clear()
        self.objs = {k: {} for k in KINDS}   # kind -> (ns, name) -> object
        self.nodes = {}         # name -> Node
        self.history = []       # (rv, kind, type, object), in order
        self.compacted = 0      # watches from an rv below this get 410
        self.epoch = getattr(self, "epoch", 0) + 1  # bumping it ends watches
        self.stall = False
        self.watches = []
        self.gets = self.lists = self.patches = self.unauthorized = 0
        self.uid_seq = 0

    @property
    def pods(self):
        return self.objs["pods"]

    def next_rv(self):
        self.rv += 1
        return self.rv

    def next_uid(self):
        self.uid_seq += 1
        return "6f1c2b3a-0000-4000-8000-%012d" % self.uid_seq

    def store_locked(self, kind, obj):
        """Creates or replaces an object; records the event."""
        md = obj["metadata"]
        if kind in CRDS and not CRDS[kind][4]:
            md.pop("namespace", None)
        if kind in CLUSTER_SCOPED:
            md.pop("namespace", None)
            md.setdefault("labels", {})["kubernetes.io/metadata.name"] = md["name"]
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj.setdefault("status", {"phase": "Active"})
        key = (md.get("namespace", ""), md["name"])
        old = self.objs[kind].get(key)
        rv = self.next_rv()
        md["uid"] = old["metadata"]["uid"] if old else (md.get("uid") or self.next_uid())
        md["resourceVersion"] = str(rv)
        md.setdefault("creationTimestamp", "2024-05-01T10:00:00Z")
        obj["kind"], obj["apiVersion"] = kind_info(kind)[1], kind_info(kind)[3]
        self.objs[kind][key] = obj
        self.history.append((rv, kind, "MODIFIED" if old else "ADDED", obj))
        return rv

    def pod_locked(self, spec):
        ips = spec.get("ips")
        if ips is None:
            ips = ["10.244.0.7"]
        status = {"phase": spec.get("phase", "Running")}
        if ips:
            status["podIP"] = ips[0]
            status["podIPs"] = [{"ip": ip} for ip in ips]
        ready = "True" if spec.get("ready", True) else "False"
        status["conditions"] = [
            {"type": "Initialized", "status": "True"},
            {"type": "Ready", "status": ready},
            {"type": "ContainersReady", "status": ready},
            {"type": "PodScheduled", "status": "True"}]
        pod = {
            "metadata": {
                "name": spec["name"], "namespace": spec["namespace"],
                "uid": spec.get("uid"),
                "labels": dict(spec.get("labels") or {"app": spec["name"]}),
                "annotations": dict(spec.get("annotations") or {}),
            },
            "spec": {"nodeName": spec["node"],
                     "containers": [{"name": "app", "image": "busybox:1.36"}]},
            "status": status,
        }
        if spec.get("ports"):
            pod["spec"]["containers"][0]["ports"] = [
                dict({"protocol": "TCP"}, **p) for p in spec["ports"]]
        return self.store_locked("pods", pod)

    def delete_locked(self, ns, name, kind="pods"):
        obj = self.objs[kind].pop((ns, name), None)
        if not obj:
            return None
        rv = self.next_rv()
        obj = json.loads(json.dumps(obj))
        obj["metadata"]["resourceVersion"] = str(rv)
        self.history.append((rv, kind, "DELETED", obj))
        return rv

    def changes_locked(self, body):
        for spec in body.get("pods") or []:
            self.pod_locked(spec)
        for kind in ("services", "endpointslices", "networkpolicies", "namespaces"):
            for obj in body.get(kind) or []:
                self.store_locked(kind, json.loads(json.dumps(obj)))
        for d in body.get("deletes") or []:
            self.delete_locked(d.get("namespace", ""), d["name"], d.get("kind", "pods"))


class ApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-apiserver/1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("api: " + fmt % args + "\n")

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized(self, st):
        try:
            if self.connection.getpeercert():
                return True
        except (AttributeError, ValueError):
            pass
        try:
            with open(st.token_file) as f:
                token = f.read().strip()
        except OSError:
            return False
        return self.headers.get("Authorization") == "Bearer " + token

    def wait_stall(self, st):
        deadline = time.monotonic() + STALL_MAX_S
        with st.cond:
            if not st.stall:
                return
            st.held += 1
            while st.stall and time.monotonic() < deadline:
                st.cond.wait(0.1)
            st.held -= 1

    def do_GET(self):
        st = self.server.state
        self.wait_stall(st)
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if not self.authorized(st):
            with st.cond:
                st.unauthorized += 1
            return self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
        parts = url.path.strip("/").split("/")
        if parts == ["apis"]:
            with st.cond:
                return self.send_json(200, discovery_groups())
        if parts[0] == "apis" and len(parts) == 3:
            with st.cond:
                res = discovery_resources(parts[1] + "/" + parts[2])
            if res:
                return self.send_json(200, res)
        with st.cond:
            crds = [(k, c[0]) for k, c in CRDS.items()]
        for kind, path in crds:
            if parts == path:
                return self.list(st, q, kind, None)
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 6 and parts[4] == "pods":
            return self.get_pod(st, parts[3], parts[5])
        if parts[:3] == ["api", "v1", "nodes"] and len(parts) == 4:
            return self.get_node(st, parts[3])
        for kind, (path, _, _, _) in KINDS.items():
            if parts == path:
                node = self.node_of(q) if kind == "pods" else None
                if q.get("watch", ["0"])[0] in ("1", "true"):
                    return self.watch(st, q, kind, node)
                return self.list(st, q, kind, node)
        self.send_json(404, status(404, "NotFound", "the server could not find the requested resource"))

    def do_PATCH(self):
        st = self.server.state
        self.wait_stall(st)
        parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        if not self.authorized(st):
            with st.cond:
                st.unauthorized += 1
            return self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
        if parts[:3] != ["api", "v1", "nodes"] or len(parts) != 5 or parts[4] != "status":
            return self.send_json(404, status(404, "NotFound", "the server could not find the requested resource"))
        if self.headers.get("Content-Type") != "application/merge-patch+json":
            return self.send_json(415, status(415, "UnsupportedMediaType", "the body of the request was in an unknown format"))
        try:
            patch = json.loads(body)
        except ValueError:
            return self.send_json(400, status(400, "BadRequest", "invalid JSON"))
        with st.cond:
            node = st.nodes.get(parts[3])
            if node is None:
                return self.send_json(404, status(404, "NotFound", 'nodes "%s" not found' % parts[3],
                                                  {"name": parts[3], "kind": "nodes"}))
            # The status subresource takes the patch's status and nothing else.
            node["status"] = merge_patch(node.get("status", {}), patch.get("status", {}))
            node["metadata"]["resourceVersion"] = str(st.next_rv())
            st.patches += 1
            node = json.loads(json.dumps(node))
        self.send_json(200, node)

    @staticmethod
    def node_of(q):
        sel = q.get("fieldSelector", [""])[0]
        for term in sel.split(","):
            if term.startswith("spec.nodeName="):
                return term.split("=", 1)[1]
        return None

    def get_pod(self, st, ns, name):
        with st.cond:
            st.gets += 1
            pod = st.pods.get((ns, name))
            pod = json.loads(json.dumps(pod)) if pod else None
        if pod:
            return self.send_json(200, pod)
        self.send_json(404, status(404, "NotFound", 'pods "%s" not found' % name,
                                   {"name": name, "kind": "pods"}))

    def get_node(self, st, name):
        with st.cond:
            st.gets += 1
            node = json.loads(json.dumps(st.nodes.get(name))) if name in st.nodes else None
        if node:
            return self.send_json(200, node)
        self.send_json(404, status(404, "NotFound", 'nodes "%s" not found' % name,
                                   {"name": name, "kind": "nodes"}))

    @staticmethod
    def mine(kind, obj, node):
        return node is None or kind != "pods" or obj["spec"]["nodeName"] == node

    def list(self, st, q, kind, node):
        limit = int(q.get("limit", ["0"])[0] or 0)
        start = int(q.get("continue", ["0"])[0] or 0)
        with st.cond:
            st.lists += 1
            objs = [o for _, o in sorted(st.objs.get(kind, {}).items()) if self.mine(kind, o, node)]
            rv = str(st.rv)
            info = kind_info(kind) if kind in KINDS or kind in CRDS else None
        if not info:
            return self.send_json(404, status(404, "NotFound", "the server could not find the requested resource"))
        md = {"resourceVersion": rv}
        if limit and start + limit < len(objs):
            md["continue"] = str(start + limit)
        objs = objs[start:start + limit] if limit else objs[start:]
        self.send_json(200, {"kind": info[2], "apiVersion": info[3],
                             "metadata": md, "items": objs})

    def chunk(self, obj):
        data = (json.dumps(obj) + "\n").encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, st, q, kind, node):
        rv_s = q.get("resourceVersion", [""])[0]
        rv = int(rv_s) if rv_s.isdigit() else 0
        rec = {"kind": kind, "rv": rv_s, "last_sent": rv_s, "dropped": False}
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        with st.cond:
            st.watches.append(rec)
            epoch = st.epoch
            if rv and rv < st.compacted:
                msg = "too old resource version: %d (%d)" % (rv, st.compacted)
                gone = status(410, "Expired", msg)
            else:
                gone = None
                # "" / "0": start with the current state as synthetic ADDED events.
                pending = ([(int(o["metadata"]["resourceVersion"]), kind, "ADDED", o)
                            for o in st.objs[kind].values()] if not rv else
                           [e for e in st.history if e[0] > rv])
                sent_to = st.rv if not rv else (pending[-1][0] if pending else rv)
        if gone:
            self.chunk({"type": "ERROR", "object": gone})
            self.wfile.write(b"0\r\n\r\n")
            return
        try:
            self.stream(st, kind, node, epoch, pending, sent_to, rec)
        except OSError:
            pass

    def stream(self, st, kind, node, epoch, pending, sent_to, rec):
        bookmarks = self.server.bookmarks
        while True:
            for ev_rv, ev_kind, typ, obj in pending:
                if ev_kind == kind and self.mine(kind, obj, node):
                    self.chunk({"type": typ, "object": obj})
                    rec["last_sent"] = str(ev_rv)
            with st.cond:
                while True:
                    if st.epoch != epoch:
                        rec["dropped"] = True
                        # Cut the connection without the final chunk, as a
                        # crashing apiserver or a broken LB would.
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    pending = [e for e in st.history if e[0] > sent_to]
                    if pending:
                        sent_to = pending[-1][0]
                        break
                    if bookmarks.get(id(rec)):
                        break
                    st.cond.wait(0.5)
                bm = bookmarks.pop(id(rec), None)
            if bm:
                self.chunk({"type": "BOOKMARK", "object": {
                    "kind": KINDS[kind][1], "apiVersion": KINDS[kind][3],
                    "metadata": {"resourceVersion": bm}}})
                rec["last_sent"] = bm


class ApiServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, handler, ctx, state, verbose):
        super().__init__(addr, handler)
        self.ctx = ctx
        self.state = state
        self.verbose = verbose
        self.bookmarks = {}

    def finish_request(self, request, client_address):
        # Handshake in the connection's own thread, so that one slow or
        # failing client cannot block the accept loop.
        try:
            request.settimeout(30)
            tls = self.ctx.wrap_socket(request, server_side=True)
            tls.settimeout(None)
        except (ssl.SSLError, OSError) as e:
            if self.verbose:
                sys.stderr.write("api: TLS handshake failed: %s\n" % e)
            return
        self.RequestHandlerClass(tls, client_address, self)

    def shutdown_request(self, request):
        try:
            request.close()
        except OSError:
            pass


class CtlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if self.server.api.verbose:
            sys.stderr.write("ctl: " + fmt % args + "\n")

    def reply(self, obj, code=200):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        st = self.server.api.state
        if self.path != "/log":
            return self.reply({"error": "no such endpoint"}, 404)
        with st.cond:
            self.reply({"watches": st.watches, "gets": st.gets, "lists": st.lists,
                        "patches": st.patches,
                        "unauthorized": st.unauthorized, "held": st.held,
                        "rv": str(st.rv)})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            return self.reply({"error": "bad json"}, 400)
        st = self.server.api.state
        ep = self.path
        with st.cond:
            if ep == "/reset":
                st.reset_locked()
            elif ep == "/pods":
                st.pod_locked(body)
            elif ep in ("/services", "/endpointslices", "/networkpolicies", "/namespaces"):
                md = body.get("metadata") or {}
                if not md.get("name") or (not md.get("namespace") and ep != "/namespaces"):
                    return self.reply({"error": "metadata.name and namespace"}, 400)
                st.store_locked(ep[1:], body)
            elif ep == "/nodes":
                spec = {}
                if body.get("podCIDR"):
                    spec = {"podCIDR": body["podCIDR"], "podCIDRs": [body["podCIDR"]]}
                labels = {"kubernetes.io/os": "linux", "hostlane.io/node": "true"}
                labels.update(body.get("labels") or {})
                st.nodes[body["name"]] = {
                    "kind": "Node", "apiVersion": "v1",
                    "metadata": {"name": body["name"], "uid": "node-" + body["name"],
                                 "resourceVersion": str(st.next_rv()),
                                 "labels": labels},
                    "spec": spec,
                    "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}]}}
            elif ep == "/crd":
                name = body["plural"] + "." + body["group"]
                gv = body["group"] + "/" + body["version"]
                CRDS[name] = (["apis", body["group"], body["version"], body["plural"]], body["kind"],
                              body["kind"] + "List", gv, bool(body.get("namespaced")))
                st.objs.setdefault(name, {})
                st.next_rv()
            elif ep == "/crd-delete":
                name = body["plural"] + "." + body["group"]
                if CRDS.pop(name, None) is None:
                    return self.reply({"error": "no such kind"}, 404)
                st.objs.pop(name, None)
                st.next_rv()
            elif ep == "/crd-object":
                name = body["plural"] + "." + body["group"]
                obj = body.get("object") or {}
                md = obj.get("metadata") or {}
                if name not in CRDS or not md.get("name") or (CRDS[name][4] and not md.get("namespace")):
                    return self.reply({"error": "registered kind, metadata.name (and namespace)"}, 400)
                st.store_locked(name, obj)
            elif ep == "/delete":
                kind = body.get("kind", "pods")
                if kind not in KINDS and kind not in CRDS:
                    return self.reply({"error": "no such kind"}, 400)
                if st.delete_locked(body.get("namespace", ""), body["name"], kind) is None:
                    return self.reply({"error": "no such object"}, 404)
            elif ep in ("/drop", "/compact"):
                st.epoch += 1
                st.changes_locked(body)
                if ep == "/compact":
                    st.compacted = st.rv
            elif ep == "/bookmark":
                for w in st.watches:
                    self.server.api.bookmarks[id(w)] = str(st.rv)
            elif ep == "/stall":
                st.stall = bool(body.get("on"))
            else:
                return self.reply({"error": "no such endpoint"}, 404)
            st.cond.notify_all()
            self.reply({"rv": str(st.rv)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cert", required=True, help="server certificate (PEM)")
    ap.add_argument("--key", required=True, help="server key (PEM)")
    ap.add_argument("--token-file", required=True, help="the accepted bearer token")
    ap.add_argument("--client-ca", help="CA whose client certificates are accepted")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    if a.client_ca:
        ctx.load_verify_locations(a.client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    state = State(a.token_file)
    api = ApiServer(("127.0.0.1", 0), ApiHandler, ctx, state, a.verbose)
    ctl = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CtlHandler)
    ctl.daemon_threads = True
    ctl.api = api
    threading.Thread(target=ctl.serve_forever, daemon=True).start()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (api.server_address[1], ctl.server_address[1]))
    os.rename(tmp, a.port_file)
    try:
        api.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
