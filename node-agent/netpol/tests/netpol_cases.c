/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scenarios of the truth table (netpol_cases.h), after the upstream
 * NetworkPolicy conformance suites' layout. Each grid was worked out by
 * hand from the Kubernetes NetworkPolicy documentation. Namespace labels:
 * ns=<name>, and team=blue (x) / team=red (z); y has no team. Pod labels:
 * pod=<a|b|c>. Every pod names its ports serve-80-tcp, serve-81-tcp, and
 * serve-81-udp (UDP 81).
 */
#include "netpol_cases.h"

#define POL(ns, name, spec) \
	"{'apiVersion':'networking.k8s.io/v1','kind':'NetworkPolicy'," \
	"'metadata':{'namespace':'" ns "','name':'" name "'},'spec':" spec "}"

#define ALL { "111111111", "111111111", "111111111", "111111111", "111111111", \
	      "111111111", "111111111", "111111111", "111111111" }
/* Only pods of the given rows may reach x/a (column 0). */
#define TO_XA(r0, r1, r2, r3, r4, r5, r6, r7, r8) \
	{ r0 "11111111", r1 "11111111", r2 "11111111", r3 "11111111", r4 "11111111", \
	  r5 "11111111", r6 "11111111", r7 "11111111", r8 "11111111" }
#define XA_ONLY_SELF TO_XA("1", ".", ".", ".", ".", ".", ".", ".", ".")

const struct np_case np_cases[] = {
	{ "no policy: everything admitted", "[]", NULL, NULL, ALL, { NULL } },
	{ "default-deny ingress in x",
	  "[" POL("x", "deny", "{'podSelector':{},'policyTypes':['Ingress']}") "]", NULL, NULL,
	  { "1..111111", ".1.111111", "..1111111", "...111111", "...111111",
	    "...111111", "...111111", "...111111", "...111111" }, { NULL } },
	{ "default-deny egress in x",
	  "[" POL("x", "deny", "{'podSelector':{},'policyTypes':['Egress']}") "]", NULL, NULL,
	  { "1........", ".1.......", "..1......", "111111111", "111111111",
	    "111111111", "111111111", "111111111", "111111111" }, { NULL } },
	{ "default-deny both ways in x",
	  "[" POL("x", "deny", "{'podSelector':{},'policyTypes':['Ingress','Egress']}") "]",
	  NULL, NULL,
	  { "1........", ".1.......", "..1......", "...111111", "...111111",
	    "...111111", "...111111", "...111111", "...111111" }, { NULL } },
	{ "x/a from pods pod=b of x (pod selector alone: own namespace)",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},"
		  "'ingress':[{'from':[{'podSelector':{'matchLabels':{'pod':'b'}}}]}]}") "]",
	  NULL, NULL, TO_XA("1", "1", ".", ".", ".", ".", ".", ".", "."), { NULL } },
	{ "x/a from namespaces ns=y",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},"
		  "'ingress':[{'from':[{'namespaceSelector':{'matchLabels':{'ns':'y'}}}]}]}") "]",
	  NULL, NULL, TO_XA("1", ".", ".", "1", "1", "1", ".", ".", "."), { NULL } },
	{ "x/a from namespace ns=y AND pod pod=b (one peer)",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},"
		  "'ingress':[{'from':[{'namespaceSelector':{'matchLabels':{'ns':'y'}},"
		  "'podSelector':{'matchLabels':{'pod':'b'}}}]}]}") "]",
	  NULL, NULL, TO_XA("1", ".", ".", ".", "1", ".", ".", ".", "."), { NULL } },
	{ "x/a from namespace ns=y OR pod pod=b (two peers)",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},"
		  "'ingress':[{'from':[{'namespaceSelector':{'matchLabels':{'ns':'y'}}},"
		  "{'podSelector':{'matchLabels':{'pod':'b'}}}]}]}") "]",
	  NULL, NULL, TO_XA("1", "1", ".", "1", "1", "1", ".", ".", "."), { NULL } },
	{ "x/a from ipBlock 10.0.0.0/16 except 10.0.2.0/24 (y)",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},"
		  "'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.0.0/16','except':['10.0.2.0/24']}}]}]}") "]",
	  NULL, NULL, TO_XA("1", "1", "1", ".", ".", ".", "1", "1", "1"), { NULL } },
	{ "x/a from ipBlock 10.0.2.2/32 (y/b)",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},"
		  "'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.2.2/32'}}]}]}") "]",
	  NULL, NULL, TO_XA("1", ".", ".", ".", "1", ".", ".", ".", "."), { NULL } },
	{ "x/a from anyone on port 80",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},"
		  "'ingress':[{'ports':[{'port':80}]}]}") "]",
	  NULL, NULL, ALL, XA_ONLY_SELF },
	{ "x/a on named port serve-81-tcp",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},"
		  "'ingress':[{'ports':[{'port':'serve-81-tcp'}]}]}") "]",
	  NULL, NULL, XA_ONLY_SELF, ALL },
	{ "x/a from z on ports 81-90 (endPort)",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},"
		  "'ingress':[{'from':[{'namespaceSelector':{'matchLabels':{'ns':'z'}}}],"
		  "'ports':[{'protocol':'TCP','port':81,'endPort':90}]}]}") "]",
	  NULL, NULL, XA_ONLY_SELF, TO_XA("1", ".", ".", ".", ".", ".", "1", "1", "1") },
	{ "x/a on UDP 81 only: no TCP",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},"
		  "'ingress':[{'ports':[{'protocol':'UDP','port':81},{'protocol':'SCTP'}]}]}") "]",
	  NULL, NULL, XA_ONLY_SELF, { NULL } },
	{ "x/a on named port serve-81-udp over TCP: no such TCP port",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},"
		  "'ingress':[{'ports':[{'port':'serve-81-udp'}]}]}") "]",
	  NULL, NULL, XA_ONLY_SELF, { NULL } },
	{ "union of two policies on x/a (pod=b of x; ns=z)",
	  "[" POL("x", "p1", "{'podSelector':{'matchLabels':{'pod':'a'}},'policyTypes':['Ingress'],"
		  "'ingress':[{'from':[{'podSelector':{'matchLabels':{'pod':'b'}}}]}]}") ","
	      POL("x", "p2", "{'podSelector':{'matchLabels':{'pod':'a'}},'policyTypes':['Ingress'],"
		  "'ingress':[{'from':[{'namespaceSelector':{'matchLabels':{'ns':'z'}}}]}]}") "]",
	  NULL, NULL, TO_XA("1", "1", ".", ".", ".", ".", "1", "1", "1"), { NULL } },
	{ "x/a egress only to y on port 80",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},'policyTypes':['Egress'],"
		  "'egress':[{'to':[{'namespaceSelector':{'matchLabels':{'ns':'y'}}}],"
		  "'ports':[{'port':80}]}]}") "]",
	  NULL, NULL,
	  { "1..111...", "111111111", "111111111", "111111111", "111111111",
	    "111111111", "111111111", "111111111", "111111111" },
	  { "1........", "111111111", "111111111", "111111111", "111111111",
	    "111111111", "111111111", "111111111", "111111111" } },
	{ "egress denied in y, x admits only y: both sides must admit",
	  "[" POL("y", "deny-out", "{'podSelector':{},'policyTypes':['Egress']}") ","
	      POL("x", "from-y", "{'podSelector':{},'policyTypes':['Ingress'],"
		  "'ingress':[{'from':[{'namespaceSelector':{'matchLabels':{'ns':'y'}}}]}]}") "]",
	  NULL, NULL,
	  { "1..111111", ".1.111111", "..1111111", "...1.....", "....1....",
	    ".....1...", "...111111", "...111111", "...111111" }, { NULL } },
	{ "x from pods pod In (a, b) of any namespace",
	  "[" POL("x", "p", "{'podSelector':{},'ingress':[{'from':[{'namespaceSelector':{},"
		  "'podSelector':{'matchExpressions':[{'key':'pod','operator':'In',"
		  "'values':['a','b']}]}}]}]}") "]",
	  NULL, NULL,
	  { "111111111", "111111111", "..1111111", "111111111", "111111111",
	    "...111111", "111111111", "111111111", "...111111" }, { NULL } },
	{ "x from namespaces ns NotIn (y)",
	  "[" POL("x", "p", "{'podSelector':{},'ingress':[{'from':[{'namespaceSelector':"
		  "{'matchExpressions':[{'key':'ns','operator':'NotIn','values':['y']}]}}]}]}") "]",
	  NULL, NULL,
	  { "111111111", "111111111", "111111111", "...111111", "...111111",
	    "...111111", "111111111", "111111111", "111111111" }, { NULL } },
	{ "x from namespaces without a team label (DoesNotExist)",
	  "[" POL("x", "p", "{'podSelector':{},'ingress':[{'from':[{'namespaceSelector':"
		  "{'matchExpressions':[{'key':'team','operator':'DoesNotExist'}]}}]}]}") "]",
	  NULL, NULL,
	  { "1..111111", ".1.111111", "..1111111", "111111111", "111111111",
	    "111111111", "...111111", "...111111", "...111111" }, { NULL } },
	{ "x from namespaces with a team label (Exists) by the namespace name label",
	  "[" POL("x", "p", "{'podSelector':{},'ingress':[{'from':[{'namespaceSelector':"
		  "{'matchExpressions':[{'key':'team','operator':'Exists'},"
		  "{'key':'kubernetes.io/metadata.name','operator':'In','values':['z']}]}}]}]}") "]",
	  NULL, NULL,
	  { "1..111111", ".1.111111", "..1111111", "...111111", "...111111",
	    "...111111", "111111111", "111111111", "111111111" }, { NULL } },
	{ "x/a with one empty ingress rule: everything admitted",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},'ingress':[{}]}") "]",
	  NULL, NULL, ALL, { NULL } },
	{ "no policyTypes, egress rules: isolates both ways (ingress: none admitted)",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},"
		  "'egress':[{'to':[{'namespaceSelector':{'matchLabels':{'ns':'y'}}}]}]}") "]",
	  NULL, NULL,
	  { "1..111...", ".11111111", ".11111111", ".11111111", ".11111111",
	    ".11111111", ".11111111", ".11111111", ".11111111" }, { NULL } },
	{ "no policyTypes, empty ingress list: default-deny ingress of x/a",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},'ingress':[]}") "]",
	  NULL, NULL, XA_ONLY_SELF, { NULL } },
	{ "x/a egress to anyone on named port serve-81-tcp (the destination's)",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},'policyTypes':['Egress'],"
		  "'egress':[{'ports':[{'port':'serve-81-tcp'}]}]}") "]",
	  NULL, NULL,
	  { "1........", "111111111", "111111111", "111111111", "111111111",
	    "111111111", "111111111", "111111111", "111111111" }, ALL },
	{ "x/a egress to ipBlock 10.0.3.0/24 (z)",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},'policyTypes':['Egress'],"
		  "'egress':[{'to':[{'ipBlock':{'cidr':'10.0.3.0/24'}}]}]}") "]",
	  NULL, NULL,
	  { "1.....111", "111111111", "111111111", "111111111", "111111111",
	    "111111111", "111111111", "111111111", "111111111" }, { NULL } },
	{ "deny ingress to pods pod NotIn (a) of x",
	  "[" POL("x", "p", "{'podSelector':{'matchExpressions':[{'key':'pod','operator':'NotIn',"
		  "'values':['a']}]},'policyTypes':['Ingress']}") "]",
	  NULL, NULL,
	  { "1..111111", "11.111111", "1.1111111", "1..111111", "1..111111",
	    "1..111111", "1..111111", "1..111111", "1..111111" }, { NULL } },
	{ "label change: x/c relabelled pod=b is admitted to x/a as pod=b",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},"
		  "'ingress':[{'from':[{'podSelector':{'matchLabels':{'pod':'b'}}}]}]}") "]",
	  "x/c pod=b", NULL, TO_XA("1", "1", "1", ".", ".", ".", ".", ".", "."), { NULL } },
	{ "label change: x/a relabelled pod=c leaves the policy's selection",
	  "[" POL("x", "p", "{'podSelector':{'matchLabels':{'pod':'a'}},"
		  "'ingress':[{'from':[{'podSelector':{'matchLabels':{'pod':'b'}}}]}]}") "]",
	  "x/a pod=c", NULL, ALL, { NULL } },
	{ "an undecodable policy in y: y isolated both ways (fail closed)",
	  "[]", NULL, "y",
	  { "111...111", "111...111", "111...111", "...1.....", "....1....",
	    ".....1...", "111...111", "111...111", "111...111" }, { NULL } },
	{ "policies of other namespaces select nothing of x",
	  "[" POL("y", "p", "{'podSelector':{},'policyTypes':['Ingress']}") ","
	      POL("z", "q", "{'podSelector':{'matchLabels':{'pod':'a'}},'policyTypes':['Egress']}") "]",
	  NULL, NULL,
	  { "111...111", "111...111", "111...111", "1111..111", "111.1.111",
	    "111..1111", "......1..", "111...111", "111...111" }, { NULL } },
};

const size_t np_n_cases = sizeof(np_cases) / sizeof(np_cases[0]);
