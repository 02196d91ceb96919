/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Does a pod filter its own traffic? A pod's netfilter rules (nftables:
 * what nft and iptables-nft program) decide over its kernel connections;
 * hostlane's fast path must not route around them. The monitor keeps a
 * NETLINK_NETFILTER socket opened in each pod's netns and refuses the fast
 * path to a pod with rules on its input hooks (prerouting, input, netdev
 * ingress) and from a pod with rules on its output hooks (output,
 * postrouting): the connection then goes to the kernel, which applies
 * them (docs/security.md).
 *
 * Work is bounded: the rule-set generation is asked first (one short round
 * trip) and the chains and rules are read again only when it changed, at
 * most once a second per pod (meanwhile a changed rule set counts as
 * filtering); a rule set too big to read in a bounded number of messages
 * counts as filtering, for good. What the dump says is the pod's (chain and table
 * names): it is parsed with bounds (mon_nf_scan_*, fuzz_mon_nft).
 */
#include "mon_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#define REFRESH_MS 1000
#define MAX_MSGS   20000  /* messages read per refresh at most */

struct mon_nf {
	struct mnl_socket *nl;
	uint32_t portid, seq;
	uint32_t gen;
	bool known;             /* gen and hooks are valid */
	bool giant;             /* too big to read: filtering, for good */
	unsigned hooks;         /* MON_NF_* that filter */
	uint64_t checked_ms;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the dump's parser (pure) ------------------------------------------------ */

static int chain_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int t = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, NFTA_CHAIN_MAX) < 0)
		return MNL_CB_OK;
	switch (t) {
	case NFTA_CHAIN_TABLE:
	case NFTA_CHAIN_NAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			return MNL_CB_OK;
		break;
	case NFTA_CHAIN_HOOK:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			return MNL_CB_OK;
		break;
	case NFTA_CHAIN_POLICY:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_OK;
		break;
	default:
		return MNL_CB_OK;
	}
	tb[t] = a;
	return MNL_CB_OK;
}

static int hook_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(a) == NFTA_HOOK_HOOKNUM && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		tb[NFTA_HOOK_HOOKNUM] = a;
	return MNL_CB_OK;
}

/* MON_NF_* of a base chain at @hook of @family, 0 if not one we look at. */
static unsigned hook_bit(uint8_t family, uint32_t hook)
{
	if (family == NFPROTO_NETDEV)
		return hook == NF_NETDEV_INGRESS ? MON_NF_IN : 0;
	if (family != NFPROTO_IPV4 && family != NFPROTO_IPV6 && family != NFPROTO_INET)
		return 0;
	switch (hook) {
	case NF_INET_PRE_ROUTING: case NF_INET_LOCAL_IN: return MON_NF_IN;
	case NF_INET_LOCAL_OUT: case NF_INET_POST_ROUTING: return MON_NF_OUT;
	}
	return 0;
}

int mon_nf_scan_chain(struct mon_nf_scan *s, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[NFTA_CHAIN_MAX + 1] = { NULL }, *hk[NFTA_HOOK_MAX + 1] = { NULL };
	const struct nfgenmsg *g;
	struct mon_nf_base *b;
	unsigned bit;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*g)))
		return -EINVAL;
	g = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*g), chain_attr, tb) < 0 || !tb[NFTA_CHAIN_TABLE] ||
	    !tb[NFTA_CHAIN_NAME] || !tb[NFTA_CHAIN_HOOK])
		return 0;  /* not a base chain: only rules in base chains count */
	if (mnl_attr_parse_nested(tb[NFTA_CHAIN_HOOK], hook_attr, hk) < 0 || !hk[NFTA_HOOK_HOOKNUM])
		return 0;
	bit = hook_bit(g->nfgen_family, ntohl(mnl_attr_get_u32(hk[NFTA_HOOK_HOOKNUM])));
	if (!bit)
		return 0;
	if (s->n == MON_NF_BASES) {
		s->hooks |= MON_NF_IN | MON_NF_OUT;  /* too many to tell: filtering */
		return 0;
	}
	b = &s->base[s->n++];
	b->family = g->nfgen_family;
	b->bit = bit;
	snprintf(b->table, sizeof(b->table), "%s", mnl_attr_get_str(tb[NFTA_CHAIN_TABLE]));
	snprintf(b->chain, sizeof(b->chain), "%s", mnl_attr_get_str(tb[NFTA_CHAIN_NAME]));
	/* A base chain that drops by default filters without a rule. */
	if (tb[NFTA_CHAIN_POLICY] && ntohl(mnl_attr_get_u32(tb[NFTA_CHAIN_POLICY])) != NF_ACCEPT)
		s->hooks |= bit;
	return 0;
}

static int rule_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int t = mnl_attr_get_type(a);

	if ((t == NFTA_RULE_TABLE || t == NFTA_RULE_CHAIN) &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		tb[t] = a;
	return MNL_CB_OK;
}

int mon_nf_scan_rule(struct mon_nf_scan *s, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[NFTA_RULE_MAX + 1] = { NULL };
	const struct nfgenmsg *g;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*g)))
		return -EINVAL;
	g = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*g), rule_attr, tb) < 0 || !tb[NFTA_RULE_TABLE] ||
	    !tb[NFTA_RULE_CHAIN])
		return 0;
	for (unsigned i = 0; i < s->n; i++) {
		const struct mon_nf_base *b = &s->base[i];

		if (b->family == g->nfgen_family &&
		    !strcmp(b->table, mnl_attr_get_str(tb[NFTA_RULE_TABLE])) &&
		    !strcmp(b->chain, mnl_attr_get_str(tb[NFTA_RULE_CHAIN])))
			s->hooks |= b->bit;
	}
	return 0;
}

/* ---- the socket ------------------------------------------------------------ */

struct mon_nf *mon_nf_open(void)
{
	struct mon_nf *nf = calloc(1, sizeof(*nf));

	if (!nf)
		return NULL;
	nf->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nf->nl || mnl_socket_bind(nf->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		if (nf->nl)
			mnl_socket_close(nf->nl);
		free(nf);
		return NULL;
	}
	nf->portid = mnl_socket_get_portid(nf->nl);
	nf->seq = (uint32_t)time(NULL);
	return nf;
}

void mon_nf_close(struct mon_nf *nf)
{
	if (!nf)
		return;
	mnl_socket_close(nf->nl);
	free(nf);
}

struct walk {
	struct mon_nf_scan *scan;
	int (*fn)(struct mon_nf_scan *, const struct nlmsghdr *);
	uint32_t gen;
	unsigned msgs;
	bool intr;
};

static int walk_cb(const struct nlmsghdr *nlh, void *data)
{
	struct walk *w = data;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		w->intr = true;
	if (++w->msgs > MAX_MSGS)
		return MNL_CB_ERROR;
	if (!w->fn) {  /* NEWGEN */
		const struct nlattr *a;

		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
			if (mnl_attr_get_type(a) == NFTA_GEN_ID &&
			    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				w->gen = ntohl(mnl_attr_get_u32(a));
		return MNL_CB_OK;
	}
	w->fn(w->scan, nlh);
	return MNL_CB_OK;
}

/* One request of @type (a dump when @dump), its replies through @w.
 * 0, or -errno (-E2BIG: more than MAX_MSGS). */
static int ask(struct mon_nf *nf, uint16_t type, bool dump, struct walk *w)
{
	static char buf[32768] __attribute__((aligned(8)));  /* loop thread only */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	uint32_t seq = ++nf->seq;
	int rc;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	if (mnl_socket_sendto(nf->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nf->nl, buf, sizeof(buf));

		if (n < 0)
			return -errno;
		rc = mnl_cb_run(buf, (size_t)n, seq, nf->portid, walk_cb, w);
		if (rc == MNL_CB_ERROR)
			return w->msgs > MAX_MSGS ? -E2BIG : errno ? -errno : -EPROTO;
		if (rc == MNL_CB_STOP)
			return 0;
	}
}

/* Reads the base chains and their rules again. */
static int rescan(struct mon_nf *nf)
{
	struct mon_nf_scan *s = calloc(1, sizeof(*s));
	struct walk w = { .scan = s };
	int rc, tries = 0;

	if (!s)
		return -ENOMEM;
	do {
		memset(s, 0, sizeof(*s));
		w.intr = false;
		w.msgs = 0;
		w.fn = mon_nf_scan_chain;
		rc = ask(nf, NFT_MSG_GETCHAIN, true, &w);
		if (!rc) {
			w.fn = mon_nf_scan_rule;
			rc = ask(nf, NFT_MSG_GETRULE, true, &w);
		}
	} while (!rc && w.intr && ++tries < 3);
	if (!rc)
		nf->hooks = w.intr ? MON_NF_IN | MON_NF_OUT : s->hooks;
	free(s);
	return rc;
}

int mon_nf_hooks(struct mon_nf *nf, unsigned *hooks)
{
	struct walk w = { 0 };
	uint64_t now;
	int rc;

	*hooks = MON_NF_IN | MON_NF_OUT;
	if (!nf) {
		*hooks = 0;  /* no nf_tables in that netns: nothing can filter */
		return 0;
	}
	if (nf->giant)
		return 0;
	/* The generation is one short round trip: asked every time. */
	rc = ask(nf, NFT_MSG_GETGEN, false, &w);
	if (rc)
		return rc;
	if (nf->known && w.gen == nf->gen) {
		*hooks = nf->hooks;
		return 0;
	}
	/* Changed. Reading it all again is bounded to once a second; until
	 * then a changing rule set counts as filtering. */
	now = mono_ms();
	if (nf->checked_ms && now - nf->checked_ms < REFRESH_MS)
		return 0;
	nf->checked_ms = now;
	nf->known = false;
	rc = rescan(nf);
	if (rc == -E2BIG) {
		nf->giant = true;
		return 0;
	}
	if (rc)
		return rc;
	nf->gen = w.gen;
	nf->known = true;
	*hooks = nf->hooks;
	return 0;
}
