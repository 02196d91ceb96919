# SPDX-License-Identifier: Apache-2.0
"""The fake API server's object kinds and what it derives from them: the
built-in kinds it serves, the custom kinds a test registers (a CRD's effect
on discovery), the discovery documents (APIGroupList, APIResourceList),
Status objects and JSON merge patches, in the shapes the real API server
uses."""

def merge_patch(target, patch):
    """RFC 7386: objects merge key by key, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def status(code, reason, message, details=None):
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {},
          "status": "Failure", "message": message, "reason": reason,
          "code": code}
    if details:
        st["details"] = details
    return st


KINDS = {
    # name: (path parts, kind, list kind, apiVersion)
    "pods": (["api", "v1", "pods"], "Pod", "PodList", "v1"),
    "services": (["api", "v1", "services"], "Service", "ServiceList", "v1"),
    "endpointslices": (["apis", "discovery.k8s.io", "v1", "endpointslices"],
                       "EndpointSlice", "EndpointSliceList", "discovery.k8s.io/v1"),
    "networkpolicies": (["apis", "networking.k8s.io", "v1", "networkpolicies"],
                        "NetworkPolicy", "NetworkPolicyList", "networking.k8s.io/v1"),
    "namespaces": (["api", "v1", "namespaces"], "Namespace", "NamespaceList", "v1"),
}
CLUSTER_SCOPED = ("namespaces",)
# Registered custom kinds: "plural.group" -> (path parts, kind, list kind,
# apiVersion, namespaced). Cleared by /reset.
CRDS = {}


def kind_info(kind):
    return KINDS.get(kind) or CRDS[kind][:4]


def cluster_scoped(kind):
    return kind in CLUSTER_SCOPED or (kind in CRDS and not CRDS[kind][4])


def discovery_groups():
    groups = {}
    for path, _, _, gv in list(KINDS.values()) + [c[:4] for c in CRDS.values()]:
        if path[0] != "apis":
            continue
        g, v = gv.split("/")
        groups.setdefault(g, [])
        if v not in groups[g]:
            groups[g].append(v)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": g, "versions": [{"groupVersion": g + "/" + v, "version": v} for v in vs],
         "preferredVersion": {"groupVersion": g + "/" + vs[0], "version": vs[0]}}
        for g, vs in sorted(groups.items())]}


def discovery_resources(gv):
    res = []
    for name, info in list(KINDS.items()) + [(n, c) for n, c in CRDS.items()]:
        if info[3] != gv:
            continue
        plural = info[0][-1]
        namespaced = not cluster_scoped(name)
        res.append({"name": plural, "singularName": info[1].lower(), "namespaced": namespaced,
                    "kind": info[1], "verbs": ["get", "list", "watch"]})
        res.append({"name": plural + "/status", "singularName": "", "namespaced": namespaced,
                    "kind": info[1], "verbs": ["get", "patch", "update"]})
    if not res:
        return None
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": res}
