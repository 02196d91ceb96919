#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The NetworkPolicy test's own policy engine.

Reads a world (namespaces with labels; pods with namespace, labels, IP,
named TCP ports and the host-side veth) and a list of NetworkPolicy
objects, and prints an nftables ruleset that enforces them on the kernel
path the way a veth-based policy engine would: a netdev ingress chain on
each pod's host-side veth (the pod's outgoing packets) accepts the TCP SYNs
both the source's egress and the destination's ingress admit and rejects
(TCP reset) every other SYN to a pod of the world; and, for connections
to a Service (DNATed on the node, as kube-proxy does), a forward chain judges
the endpoint the DNAT chose (the packet's address and port after it), as
engines that act after kube-proxy do. Established connections are not
touched. A separate implementation of the Kubernetes semantics from
the agent's, so that the test compares two.

  engine.py TABLE WORLD.json POLICIES.json   -> nft script on stdout
  engine.py --verdicts WORLD.json POLICIES.json  -> a grid of 1/. per port
"""
import ipaddress
import json
import sys

PORTS = (80, 81)


def sel_match(sel, labels):
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def types(pol):
    spec = pol["spec"]
    if spec.get("policyTypes"):
        return spec["policyTypes"]
    return ["Ingress"] + (["Egress"] if spec.get("egress") else [])


def peer_ok(peer, pol_ns, other, nslabels):
    if peer.get("ipBlock"):
        ip = ipaddress.ip_address(other["ip"])
        blk = peer["ipBlock"]
        if ip not in ipaddress.ip_network(blk["cidr"], strict=False):
            return False
        return not any(ip in ipaddress.ip_network(x, strict=False) for x in blk.get("except") or [])
    if peer.get("namespaceSelector") is not None:
        ns_ok = sel_match(peer["namespaceSelector"], nslabels.get(other["ns"], {}))
    else:
        ns_ok = other["ns"] == pol_ns
    pod_ok = sel_match(peer["podSelector"], other["labels"]) if peer.get("podSelector") is not None else True
    return ns_ok and pod_ok


def port_ok(rule, dst, port):
    ports = rule.get("ports") or []
    if not ports:
        return True
    for p in ports:
        if p.get("protocol", "TCP") != "TCP":
            continue
        v = p.get("port")
        if v is None:
            return True
        if isinstance(v, str):
            if dst["ports"].get(v) == port:
                return True
        elif p.get("endPort"):
            if v <= port <= p["endPort"]:
                return True
        elif v == port:
            return True
    return False


def side_ok(pols, pod, other, dst, port, direction, nslabels):
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    sel = [p for p in pols if p["metadata"]["namespace"] == pod["ns"] and direction in types(p)
           and sel_match(p["spec"].get("podSelector") or {}, pod["labels"])]
    if not sel:
        return True
    for p in sel:
        for rule in p["spec"].get(key) or []:
            peers = rule.get(peers_key) or []
            if (not peers or any(peer_ok(pe, p["metadata"]["namespace"], other, nslabels)
                                 for pe in peers)) and port_ok(rule, dst, port):
                return True
    return False


def allowed(world, pols, src, dst, port):
    if src is dst:
        return True   # never leaves the pod's netns
    ns = world["namespaces"]
    return (side_ok(pols, src, dst, dst, port, "Egress", ns) and
            side_ok(pols, dst, src, dst, port, "Ingress", ns))


def main():
    if sys.argv[1] == "--verdicts":
        world, pols = (json.load(open(f)) for f in sys.argv[2:4])
        for port in PORTS:
            for s in world["pods"]:
                print("".join("1" if allowed(world, pols, s, d, port) else "." for d in world["pods"]))
        return
    table = sys.argv[1]
    world, pols = (json.load(open(f)) for f in sys.argv[2:4])
    ips = ", ".join(p["ip"] for p in world["pods"])
    out = ["table netdev %s {" % table]
    for i, s in enumerate(world["pods"]):
        out.append("  chain src%d {" % i)
        out.append('    type filter hook ingress device "%s" priority 0; policy accept;' % s["veth"])
        for d in world["pods"]:
            for port in PORTS:
                if d is not s and allowed(world, pols, s, d, port):
                    out.append("    ip daddr %s tcp dport %d tcp flags syn / syn,ack accept" % (d["ip"], port))
        out.append("    ip daddr { %s } tcp flags syn / syn,ack reject with tcp reset" % ips)
        out.append("  }")
    out.append("}")
    out.append("table ip %s {" % table)
    out.append("  chain dnat_fwd {")
    out.append("    type filter hook forward priority 0; policy accept;")
    for s in world["pods"]:
        for d in world["pods"]:
            for port in PORTS:
                if allowed(world, pols, s, d, port):
                    out.append("    ct status dnat ip saddr %s ip daddr %s tcp dport %d tcp flags syn / syn,ack accept"
                               % (s["ip"], d["ip"], port))
    # An ICMP error, not a TCP reset: conntrack translates the packet it
    # quotes back to the ClusterIP, so the client learns at once.
    out.append("    ct status dnat ip daddr { %s } tcp flags syn / syn,ack reject with icmp type admin-prohibited" % ips)
    out.append("  }")
    out.append("}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
