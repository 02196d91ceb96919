/* SPDX-License-Identifier: Apache-2.0 */
#include "endpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "ep_quota.h"
#include "loop.h"
#include "hl_codec.h"
#include "shmq.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  /* Linux 6.5 */
#endif

#define DEFAULT_CAPACITY (512u << 10)  /* a connection's ring pair fits 2 MiB */
#define BATCH 32                       /* requests served per wake-up */
/* Slot connections (v2): ring pairs of this size per direction (the
 * kernel's default TCP receive buffer), as many as fit in one 2 MiB page. */
#define SLOT_CAPACITY (128u << 10)

struct ep_client;

/* A region handed out: charged to one pod, held by one or two clients. */
struct ep_region {
	struct ep_region *next, *prev;
	uint32_t id;
	struct shmq_region *r;
	uint64_t bytes;
	struct hl_endpoint *charged;   /* NULL once that pod is gone */
	struct ep_client *holder[2];
	/* A process pair's slot region (n_slots > 0): holder[0] connects to
	 * holder[1]; used[side] has a bit per slot that side holds. */
	uint32_t n_slots;
	uint64_t used[2];
	/* A direct region (v3, docs/monitor.md): the connector sets up every
	 * connection after the first itself; the monitor never hands out a
	 * slot of it again and reads the rings to see which are in use. */
	bool direct;
};

struct ep_client {
	struct ep_client *next, *prev;
	struct hl_endpoint *ep;
	int fd, pidfd;
	pid_t pid;
	uid_t uid;
	bool hello;
	uint16_t version;              /* negotiated at HELLO */
	struct hl_stats_hdr *stats;    /* its stats region (v2), or NULL */
	int bell;                      /* v3: its doorbell eventfd, or -1 */
	bool direct;                   /* v3: takes direct connections */
};

struct ep_listener {
	struct ep_listener *next;
	uint16_t port;
	struct ep_client *c;
};

struct hl_endpoint {
	struct hl_endpoint *next, *prev;
	struct hl_ep_node *node;
	char key[HL_PROTO_KEY_MAX];
	struct hl_proto_addr ips[HL_PROTO_MAX_IPS];
	size_t n_ips;
	int fd;
	struct hl_quota quota;
	struct ep_client *clients;
	unsigned n_clients, n_regions, n_listeners;
	struct ep_listener *listeners;
};

struct hl_ep_node {
	struct hl_ep_node_opts o;
	struct hl_quota pool;
	struct hl_endpoint *eps;
	struct ep_region *regions;
	uint32_t next_id;
};

/* ---- lists and logs ------------------------------------------------------ */

#define LIST_ADD(head, e) do {			\
		(e)->prev = NULL;			\
		(e)->next = (head);			\
		if (head)				\
			(head)->prev = (e);		\
		(head) = (e);				\
	} while (0)
#define LIST_DEL(head, e) do {			\
		if ((e)->prev)				\
			(e)->prev->next = (e)->next;	\
		else					\
			(head) = (e)->next;		\
		if ((e)->next)				\
			(e)->next->prev = (e)->prev;	\
	} while (0)

__attribute__((format(printf, 3, 4)))
static void logf_(const struct hl_ep_node *n, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!n->o.log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n->o.log(n->o.log_arg, level, buf);
}

static void shmq_log(void *arg, int level, const char *msg)
{
	logf_(arg, level == SHMQ_LOG_WARN ? LOG_WARNING : LOG_INFO, "shmq: %s", msg);
}

/* ---- regions -------------------------------------------------------------- */

static void region_release(struct hl_ep_node *n, struct ep_region *g)
{
	if (g->charged) {
		hl_quota_release(&g->charged->quota, g->bytes);
		g->charged->n_regions--;
	}
	hl_quota_release(&n->pool, g->bytes);
	LIST_DEL(n->regions, g);
	shmq_region_close(g->r);
	free(g);
}

/*
 * The slots of slot region @g still in use. A side gives a slot back by
 * closing its ring endpoint (the ring records it), so closing a connection
 * costs no message to the monitor; CONN_CLOSE is for connections a process
 * never set up.
 */
static uint64_t slots_busy(struct ep_region *g)
{
	if (g->direct) {
		uint64_t busy = 0;

		/* A slot is in use while a side whose process is still
		 * here has not closed it (a corrupt header: in use). */
		for (uint32_t i = 0; i < g->n_slots; i++) {
			int m = shmq_pair_closed(g->r, i);

			for (unsigned s = 0; s < 2; s++)
				if (g->holder[s] && (m < 0 || !(m & (1 << s))))
					busy |= UINT64_C(1) << i;
		}
		return busy;
	}
	for (uint64_t b = g->used[0] | g->used[1]; b; b &= b - 1) {
		uint32_t i = (uint32_t)__builtin_ctzll(b);
		int m = shmq_pair_closed(g->r, i);

		if (m < 0)
			continue;  /* a corrupt header: the slot stays out of use */
		if (m & 1)
			g->used[0] &= ~(UINT64_C(1) << i);
		if (m & 2)
			g->used[1] &= ~(UINT64_C(1) << i);
	}
	return g->used[0] | g->used[1];
}

/* Drops @c's hold on @g (one hold; a self-connection holds twice), with
 * the slots it held. A slot region goes as soon as the remaining holder has
 * no slot in it left. */
static void region_unhold(struct hl_ep_node *n, struct ep_region *g, struct ep_client *c)
{
	int side = g->holder[0] == c ? 0 : g->holder[1] == c ? 1 : -1;

	if (side >= 0) {
		g->holder[side] = NULL;
		g->used[side] = 0;
	}
	if ((!g->holder[0] && !g->holder[1]) ||
	    (side >= 0 && g->n_slots && g->holder[!side] != c && !slots_busy(g)))
		region_release(n, g);
}

/* Releases slot regions that lost a holder and whose other holder closed
 * all its connections in them since. */
static void slot_gc(struct hl_ep_node *n)
{
	for (struct ep_region *g = n->regions, *nx; g; g = nx) {
		nx = g->next;
		if (g->n_slots && (!g->holder[0] || !g->holder[1]) && !slots_busy(g))
			region_release(n, g);
	}
}

static uint32_t slots_per_region(void)
{
	static uint32_t n;

	if (!n) {
		uint32_t k = HL_PROTO_MAX_SLOTS;

		/* with room for a direct region's control block */
		while (k > 1 && shmq_region_bytes(k, SLOT_CAPACITY) + HL_DIRECT_BLK > HL_EP_PAGE)
			k--;
		n = k;
	}
	return n;
}

/* A slot region of process pair (@c connects to @l) with a free slot, at
 * *@slot; NULL when there is none. */
static struct ep_region *slot_find(struct hl_ep_node *n, const struct ep_client *c,
				   const struct ep_client *l, uint32_t *slot)
{
	for (struct ep_region *g = n->regions; g; g = g->next) {
		uint64_t all = (UINT64_C(1) << g->n_slots) - 1, busy;

		if (!g->n_slots || g->direct || g->holder[0] != c || g->holder[1] != l)
			continue;
		busy = slots_busy(g);
		if (busy != all) {
			*slot = (uint32_t)__builtin_ctzll(~busy);
			return g;
		}
	}
	return NULL;
}

static struct ep_region *region_find(struct hl_ep_node *n, uint32_t id)
{
	for (struct ep_region *g = n->regions; g; g = g->next)
		if (g->id == id)
			return g;
	return NULL;
}

/*
 * Charges @bytes to @ep and the node pool and creates the region.
 * On failure fills @reason and returns -errno.
 */
static int region_new(struct hl_endpoint *ep, uint64_t bytes, struct ep_region **out,
		      char *reason, size_t rlen)
{
	struct hl_ep_node *n = ep->node;
	uint64_t charge = hl_quota_round(bytes, HL_EP_PAGE);
	struct ep_region *g;
	int err;

	if (!charge || charge > SIZE_MAX) {
		snprintf(reason, rlen, "region size out of range");
		return -EINVAL;
	}
	if (hl_quota_charge(&ep->quota, charge)) {
		hl_quota_reason("quota", &ep->quota, charge, reason, rlen);
		return -ENOSPC;
	}
	if (hl_quota_charge(&n->pool, charge)) {
		hl_quota_reason("node hugepage pool", &n->pool, charge, reason, rlen);
		hl_quota_release(&ep->quota, charge);
		return -ENOSPC;
	}
	g = calloc(1, sizeof(*g));
	if (g)
		g->r = shmq_region_create((size_t)charge, 0, shmq_log, n);
	if (!g || !g->r) {
		err = errno ? errno : ENOMEM;
		free(g);
		hl_quota_release(&ep->quota, charge);
		hl_quota_release(&n->pool, charge);
		snprintf(reason, rlen, "cannot create region: %s", strerror(err));
		return -err;
	}
	g->bytes = charge;
	g->charged = ep;
	do
		g->id = ++n->next_id;
	while (!g->id || region_find(n, g->id));
	ep->n_regions++;
	LIST_ADD(n->regions, g);
	*out = g;
	return 0;
}

static int region_layout(struct ep_region *g, uint32_t n_pairs, uint32_t cap,
			 enum shmq_mode mode)
{
	int rc = shmq_region_layout(g->r, n_pairs, cap);

	for (uint32_t i = 0; !rc && i < n_pairs; i++)
		rc = shmq_pair_init(g->r, i, mode);
	return rc;
}

/* ---- sending -------------------------------------------------------------- */

/* Sends @m with @nfds fds. Never blocks: a client that does not read its
 * replies gets -EAGAIN here and is dropped by the caller. */
static int send_msg(int fd, struct hl_proto_msg *m, const int *fds, unsigned nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * HL_PROTO_MAX_FDS)];
	} cb;
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t w;

	m->hdr.flags |= HL_PROTO_F_REPLY;
	m->hdr.nfds = nfds;
	if (nfds) {
		memset(&cb, 0, sizeof(cb));
		mh.msg_control = cb.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	w = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w < 0)
		return -errno;
	return w == (ssize_t)sizeof(*m) ? 0 : -EIO;
}

__attribute__((format(printf, 3, 4)))
static void set_error(struct hl_proto_msg *rep, int err, const char *fmt, ...)
{
	va_list ap;

	rep->hdr.status = err;
	memset(&rep->u, 0, sizeof(rep->u));
	va_start(ap, fmt);
	vsnprintf(rep->u.error.reason, sizeof(rep->u.error.reason), fmt, ap);
	va_end(ap);
}

/* ---- clients -------------------------------------------------------------- */

static void client_free(struct ep_client *c)
{
	struct hl_endpoint *ep = c->ep;
	struct hl_ep_node *n = ep->node;
	struct ep_listener **pl = &ep->listeners;

	while (*pl) {
		struct ep_listener *l = *pl;

		if (l->c == c) {
			*pl = l->next;
			ep->n_listeners--;
			free(l);
		} else {
			pl = &l->next;
		}
	}
	for (struct ep_region *g = n->regions, *nx; g; g = nx) {
		int holds = (g->holder[0] == c) + (g->holder[1] == c);

		nx = g->next;
		while (holds--)
			region_unhold(n, g, c);  /* may free g on the last hold */
	}
	slot_gc(n);
	if (c->stats)
		munmap(c->stats, HL_STATS_SIZE);
	if (c->bell >= 0)
		close(c->bell);
	hl_loop_del(n->o.loop, c->fd);
	close(c->fd);
	if (c->pidfd >= 0) {
		hl_loop_del(n->o.loop, c->pidfd);
		close(c->pidfd);
	}
	LIST_DEL(ep->clients, c);
	ep->n_clients--;
	logf_(n, LOG_DEBUG, "endpoint %s: client pid %d gone", ep->key, (int)c->pid);
	free(c);
}

/* ---- requests ------------------------------------------------------------- */

/* The client's stats region: a small sealed memfd it keeps its counters in
 * (struct hl_stats_hdr); we keep a mapping to read them. Return: the fd
 * for the reply, or -1 (the client then has no stats: not an error). */
static int stats_new(struct ep_client *c)
{
	int fd = memfd_create("hostlane-stats", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct hl_stats_hdr *h;

	if (fd < 0)
		return -1;
	if (ftruncate(fd, HL_STATS_SIZE) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		close(fd);
		return -1;
	}
	h = mmap(NULL, HL_STATS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		close(fd);
		return -1;
	}
	h->magic = HL_STATS_MAGIC;
	h->version = HL_STATS_VERSION;
	h->hdr_size = HL_STATS_HDR;
	h->rec_size = HL_STATS_REC;
	h->n_recs = HL_STATS_RECS;
	h->pid = (int32_t)c->pid;
	c->stats = h;
	return fd;
}

static void do_hello(struct ep_client *c, const struct hl_proto_msg *req, struct hl_proto_msg *rep)
{
	const struct hl_proto_hello_req *h = &req->u.hello_req;
	struct hl_proto_hello_rep *r = &rep->u.hello_rep;
	struct hl_endpoint *ep = c->ep;

	if (h->min_version > HL_PROTO_VERSION || h->max_version < HL_PROTO_VERSION_MIN) {
		set_error(rep, -EPROTONOSUPPORT, "versions %u..%u not supported (this endpoint: %u..%u)",
			  h->min_version, h->max_version, HL_PROTO_VERSION_MIN, HL_PROTO_VERSION);
		return;
	}
	c->hello = true;
	c->version = h->max_version < HL_PROTO_VERSION ? h->max_version : HL_PROTO_VERSION;
	r->version = c->version;
	r->n_ips = (uint16_t)ep->n_ips;
	r->quota_bytes = ep->quota.limit;
	r->used_bytes = ep->quota.used;
	memcpy(r->pod_key, ep->key, sizeof(r->pod_key));
	memcpy(r->ips, ep->ips, sizeof(ep->ips[0]) * ep->n_ips);
}

/* Returns the fd to attach to the reply, or -1. */
static int do_region_alloc(struct ep_client *c, const struct hl_proto_msg *req,
			   struct hl_proto_msg *rep)
{
	const struct hl_proto_region_req *q = &req->u.region_req;
	char reason[HL_PROTO_REASON_MAX];
	struct ep_region *g;
	uint64_t size = q->size;
	int rc;

	if (q->n_pairs) {
		uint64_t need = shmq_region_bytes(q->n_pairs, q->capacity);

		if (!need || (size && size < need)) {
			set_error(rep, -EINVAL, "%u pairs of %u bytes do not fit in %llu bytes",
				  q->n_pairs, q->capacity, (unsigned long long)size);
			return -1;
		}
		size = size > need ? size : need;
	}
	rc = region_new(c->ep, size, &g, reason, sizeof(reason));
	if (rc) {
		set_error(rep, rc, "%s", reason);
		return -1;
	}
	if (q->n_pairs) {
		rc = region_layout(g, q->n_pairs, q->capacity, (enum shmq_mode)q->mode);
		if (rc) {
			region_release(c->ep->node, g);
			set_error(rep, rc, "cannot lay out the region: %s", strerror(-rc));
			return -1;
		}
	}
	g->holder[0] = c;
	rep->u.region_rep.region_id = g->id;
	rep->u.region_rep.size = g->bytes;
	rep->u.region_rep.flags = shmq_region_is_hugetlb(g->r) ? HL_PROTO_REGION_HUGETLB : 0;
	return shmq_region_fd(g->r);
}

static void do_region_free(struct ep_client *c, const struct hl_proto_msg *req,
			   struct hl_proto_msg *rep)
{
	struct ep_region *g = region_find(c->ep->node, req->u.region_free.region_id);

	if (!g || (g->holder[0] != c && g->holder[1] != c)) {
		set_error(rep, -ENOENT, "region %u is not held by this client",
			  req->u.region_free.region_id);
		return;
	}
	region_unhold(c->ep->node, g, c);
}

static struct ep_listener *listener_find(struct hl_endpoint *ep, uint16_t port)
{
	for (struct ep_listener *l = ep->listeners; l; l = l->next)
		if (l->port == port)
			return l;
	return NULL;
}

static void do_listen(struct ep_client *c, const struct hl_proto_msg *req,
		      struct hl_proto_msg *rep)
{
	struct hl_endpoint *ep = c->ep;
	uint16_t port = req->u.listen.port;
	struct ep_listener *l = listener_find(ep, port);

	if (l) {
		set_error(rep, -EADDRINUSE, "port %u already has a listener in this pod", port);
		return;
	}
	if (ep->n_listeners >= HL_EP_MAX_LISTENERS) {
		set_error(rep, -ENOBUFS, "too many listen ports (%u)", HL_EP_MAX_LISTENERS);
		return;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		set_error(rep, -ENOMEM, "out of memory");
		return;
	}
	l->port = port;
	l->c = c;
	l->next = ep->listeners;
	ep->listeners = l;
	ep->n_listeners++;
}

static void do_unlisten(struct ep_client *c, const struct hl_proto_msg *req,
			struct hl_proto_msg *rep)
{
	struct hl_endpoint *ep = c->ep;

	for (struct ep_listener **pl = &ep->listeners; *pl; pl = &(*pl)->next) {
		struct ep_listener *l = *pl;

		if (l->port == req->u.listen.port && l->c == c) {
			*pl = l->next;
			ep->n_listeners--;
			free(l);
			return;
		}
	}
	set_error(rep, -ENOENT, "this client does not listen on port %u", req->u.listen.port);
}

static struct hl_endpoint *registry_lookup(struct hl_ep_node *n, const struct hl_proto_addr *a)
{
	for (struct hl_endpoint *ep = n->eps; ep; ep = ep->next)
		for (size_t i = 0; i < ep->n_ips; i++)
			if (hl_proto_addr_eq(&ep->ips[i], a))
				return ep;
	return NULL;
}

/* The address the listener sees as its peer: the connector pod's first
 * address of the same family, else its first, else 0.0.0.0. */
static struct hl_proto_addr peer_addr(const struct hl_endpoint *ep, uint8_t family)
{
	struct hl_proto_addr a = { .family = 4 };

	for (size_t i = 0; i < ep->n_ips; i++)
		if (ep->ips[i].family == family)
			return ep->ips[i];
	return ep->n_ips ? ep->ips[0] : a;
}

static void close_all(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

/* @n eventfds into @efd, or -errno with none left open. */
static int make_efds(int *efd, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efd[i] < 0) {
			int err = -errno;

			close_all(efd, i);
			return err;
		}
	}
	return 0;
}

/*
 * The fds a side gets with a connection (see struct hl_proto_conn): @efd
 * holds an eventfd per side and ring pair ([2 * pair + side]).
 */
static unsigned conn_fds(int *fds, const struct ep_region *g, bool slot, bool fresh,
			 unsigned side, int peer_pidfd, const int *efd)
{
	unsigned n = 0;

	if (slot && !fresh)
		return 0;
	fds[n++] = shmq_region_fd(g->r);
	if (!slot) {
		fds[n++] = efd[side];
		fds[n++] = efd[!side];
		fds[n++] = peer_pidfd;
		return n;
	}
	fds[n++] = peer_pidfd;
	for (uint32_t i = 0; i < g->n_slots; i++) {
		fds[n++] = efd[2 * i + side];
		fds[n++] = efd[2 * i + !side];
	}
	if (g->direct && side == 0)
		fds[n++] = g->holder[1]->bell;  /* where to announce */
	return n;
}

/*
 * Makes fresh slot region @g a direct one if both processes speak v3 and
 * the listener's takes direct connections: the control block goes at the
 * region's end, and every slot but @pair (the first connection's) starts
 * closed on both sides, free for the connector to take.
 */
static void direct_setup(struct ep_region *g, const struct ep_client *c,
			 const struct ep_client *l, uint32_t pair)
{
	struct hl_direct_blk *b;

	if (c->version < 3 || l->version < 3 || !l->direct || l->bell < 0 ||
	    !(b = shmq_region_tail(g->r, HL_DIRECT_BLK)))
		return;
	memset(b, 0, sizeof(*b));
	for (uint32_t i = 0; i < g->n_slots; i++) {
		struct shmq_ep *e[2] = { NULL, NULL };

		if (i == pair)
			continue;
		e[0] = shmq_ep_attach(g->r, i, 0);
		e[1] = shmq_ep_attach(g->r, i, 1);
		if (!e[0] || !e[1]) {
			shmq_ep_detach(e[0]);
			shmq_ep_detach(e[1]);
			return;  /* a plain slot region then */
		}
		shmq_ep_close(e[0]);
		shmq_ep_close(e[1]);
	}
	b->n_slots = g->n_slots;
	b->magic = HL_DIRECT_MAGIC;
	g->direct = true;
}

/*
 * CONNECT: the region is charged to the connector's pod; the ACCEPT event
 * goes out first, so the connector only ever hears of a connection that the
 * listener was told about. A slot connection (v2, both ends) takes a free
 * slot of the region the two processes share, or makes that region (one
 * 2 MiB page of slots) on their first connection; only then do the region
 * memfd and the pidfds travel. Returns the number of fds put in @fds for
 * the reply, or 0 with @rep set to the error (0 fds is also a later slot
 * connection: check rep's status). @efd (2 * HL_PROTO_MAX_SLOTS, all -1)
 * gets the eventfds made, for the caller to close after the reply.
 */
static unsigned do_connect(struct ep_client *c, const struct hl_proto_msg *req,
			   struct hl_proto_msg *rep, int *fds, int *efd)
{
	const struct hl_proto_connect_req *q = &req->u.connect;
	struct hl_ep_node *n = c->ep->node;
	char reason[HL_PROTO_REASON_MAX], ip[64] = "?";
	struct hl_endpoint *dst = registry_lookup(n, &q->addr);
	struct ep_listener *l = dst ? listener_find(dst, q->port) : NULL;
	bool slot = (q->flags & HL_CONNECT_F_SLOT) != 0, fresh = true;
	struct hl_proto_msg ev;
	struct ep_region *g;
	uint32_t pair = 0;
	int rc = 0, evfds[HL_PROTO_MAX_FDS];
	unsigned nfds;

	hl_proto_addr_format(&q->addr, ip, sizeof(ip));
	if (slot && c->version < 2) {
		set_error(rep, -EINVAL, "slot connections need protocol version 2");
		return 0;
	}
	if (!dst) {
		set_error(rep, -EHOSTUNREACH, "no hostlane pod on this node has %s", ip);
		return 0;
	}
	if (!l) {
		set_error(rep, -ECONNREFUSED, "nothing listens on %s:%u over hostlane", ip, q->port);
		return 0;
	}
	slot = slot && l->c->version >= 2;  /* a v1 listener gets a region */
	g = slot ? slot_find(n, c, l->c, &pair) : NULL;
	if (g) {
		fresh = false;
		/* Re-initialised for each use: cheap, and whatever the last
		 * connection left in it (or a hostile peer wrote) is gone. */
		rc = shmq_pair_init(g->r, pair, SHMQ_MODE_STREAM);
	} else {
		uint32_t np = slot ? slots_per_region() : 1;
		uint32_t cap = slot ? SLOT_CAPACITY : q->capacity ? q->capacity : DEFAULT_CAPACITY;

		if (slot)
			slot_gc(n);  /* the pod's quota may be held by orphans */
		rc = region_new(c->ep, shmq_region_bytes(np, cap), &g, reason, sizeof(reason));
		if (rc) {
			set_error(rep, rc, "%s", reason);
			return 0;
		}
		rc = region_layout(g, np, cap, SHMQ_MODE_STREAM);
		g->n_slots = slot ? np : 0;
		if (!rc)
			rc = make_efds(efd, 2 * np);
		if (!rc && slot) {
			/* holder[1] names the doorbell in conn_fds() */
			g->holder[1] = l->c;
			direct_setup(g, c, l->c, pair);
		}
	}
	if (rc)
		goto fail;
	hl_proto_init(&ev, HL_OP_EV_ACCEPT, 0);
	ev.hdr.version = l->c->version;
	ev.u.conn.region_id = g->id;
	ev.u.conn.side = 1;
	ev.u.conn.pair = pair;
	ev.u.conn.local_port = q->port;
	ev.u.conn.peer_port = q->local_port;
	ev.u.conn.peer = peer_addr(c->ep, q->addr.family);
	ev.u.conn.size = g->bytes;
	ev.u.conn.flags = slot ? HL_CONN_F_SLOT | (fresh ? HL_CONN_F_REGION : 0) : 0;
	ev.u.conn.flags |= g->direct ? HL_CONN_F_DIRECT : 0;
	ev.u.conn.slots = slot && fresh ? g->n_slots : 0;
	nfds = conn_fds(evfds, g, slot, fresh, 1, c->pidfd, efd);
	rc = send_msg(l->c->fd, &ev, evfds, nfds);
	if (rc) {
		logf_(n, LOG_INFO, "endpoint %s: listener on port %u not reachable: %s",
		      dst->key, q->port, strerror(-rc));
		rc = rc == -EAGAIN ? -EAGAIN : -ECONNREFUSED;
		goto fail;
	}
	if (fresh) {
		g->holder[0] = c;
		g->holder[1] = l->c;
	}
	if (slot) {
		g->used[0] |= UINT64_C(1) << pair;
		g->used[1] |= UINT64_C(1) << pair;
	}
	rep->u.conn = ev.u.conn;
	rep->u.conn.side = 0;
	rep->u.conn.local_port = 0;
	rep->u.conn.peer_port = q->port;
	rep->u.conn.peer = q->addr;
	/* The caller closes our copies of the eventfds once this is sent. */
	return conn_fds(fds, g, slot, fresh, 0, l->c->pidfd, efd);
fail:
	if (fresh)
		region_release(n, g);
	close_all(efd, 2 * HL_PROTO_MAX_SLOTS);
	set_error(rep, rc, "cannot connect to %s:%u: %s", ip, q->port,
		  rc == -EAGAIN ? "listener backlog full" : strerror(-rc));
	return 0;
}

/* CONN_CLOSE: @c gives its side of a slot back. A region whose other holder
 * is gone is released with the last slot of the survivor. */
static void do_conn_close(struct ep_client *c, const struct hl_proto_msg *req,
			  struct hl_proto_msg *rep)
{
	const struct hl_proto_conn_close_req *q = &req->u.conn_close;
	struct ep_region *g = region_find(c->ep->node, q->region_id);
	uint64_t bit = UINT64_C(1) << q->pair;

	struct shmq_ep *e;

	if (c->version < 2 || !g || q->pair >= g->n_slots || g->holder[q->side] != c ||
	    (!g->direct && !(g->used[q->side] & bit))) {
		set_error(rep, -ENOENT, "slot %u of region %u (side %u) is not held by this client",
			  q->pair, q->region_id, q->side);
		return;
	}
	/* The client never set this side up (a listener closed with the
	 * connection still queued): close its ring for it, so the other side
	 * reads end-of-stream, or a reset if its bytes are unread, instead of
	 * waiting forever; a direct region's slot is free once both sides
	 * are closed. */
	e = shmq_ep_attach(g->r, q->pair, q->side);
	if (e)
		shmq_ep_close(e);
	g->used[q->side] &= ~bit;
	if (g->direct)
		return;
	if (!g->holder[!q->side] && !g->used[q->side])
		region_unhold(c->ep->node, g, c);
}

/* Serves one valid request. Returns false if the client must be dropped. */
static bool serve(struct ep_client *c, const struct hl_proto_msg *req)
{
	struct hl_proto_msg rep;
	int fds[HL_PROTO_MAX_FDS], efd_close[2 * HL_PROTO_MAX_SLOTS], rc;
	unsigned nfds = 0;

	for (unsigned i = 0; i < 2 * HL_PROTO_MAX_SLOTS; i++)
		efd_close[i] = -1;

	hl_proto_init(&rep, req->hdr.op, req->hdr.seq);
	if (!c->hello && req->hdr.op != HL_OP_HELLO) {
		set_error(&rep, -EPROTO, "HELLO must come first");
	} else {
		switch (req->hdr.op) {
		case HL_OP_HELLO:
			do_hello(c, req, &rep);
			if (!rep.hdr.status && c->version >= 2 && !c->stats &&
			    (fds[0] = efd_close[0] = stats_new(c)) >= 0) {
				rep.u.hello_rep.flags |= HL_HELLO_F_STATS;
				nfds = 1;
			}
			if (!rep.hdr.status && c->version >= 3 && c->bell < 0 &&
			    (c->bell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) >= 0) {
				rep.u.hello_rep.flags |= HL_HELLO_F_BELL;
				fds[nfds++] = c->bell;
				c->direct = true;
			}
			break;
		case HL_OP_REGION_ALLOC:
			fds[0] = do_region_alloc(c, req, &rep);
			nfds = fds[0] >= 0;
			break;
		case HL_OP_REGION_FREE: do_region_free(c, req, &rep); break;
		case HL_OP_LISTEN: do_listen(c, req, &rep); break;
		case HL_OP_UNLISTEN: do_unlisten(c, req, &rep); break;
		case HL_OP_CONNECT: nfds = do_connect(c, req, &rep, fds, efd_close); break;
		case HL_OP_CONN_CLOSE: do_conn_close(c, req, &rep); break;
		case HL_OP_DIRECT_OFF:
			/* Its listeners are shared with children now: a
			 * connection announced to it might be taken by
			 * neither. Later regions to it are plain slot ones. */
			c->direct = false;
			break;
		}
	}
	if (c->version)
		rep.hdr.version = c->version;
	rc = send_msg(c->fd, &rep, fds, nfds);
	close_all(efd_close, 2 * HL_PROTO_MAX_SLOTS);
	if (rc) {
		logf_(c->ep->node, LOG_WARNING, "endpoint %s: dropping client pid %d: reply: %s",
		      c->ep->key, (int)c->pid, strerror(-rc));
		return false;
	}
	return true;
}

/* Replies to a request that failed validation; the client stays. */
static bool reject(struct ep_client *c, const uint8_t *buf, size_t len, int err)
{
	struct hl_proto_msg rep;
	struct hl_proto_hdr h = { 0 };

	memcpy(&h, buf, len < sizeof(h) ? len : sizeof(h));
	hl_proto_init(&rep, h.op, h.seq);
	set_error(&rep, err, "invalid %s request (%zu bytes): %s", hl_proto_op_name(h.op),
		  len, strerror(-err));
	return send_msg(c->fd, &rep, NULL, 0) == 0;
}

/* Reads and serves up to BATCH requests. Returns false to drop the client. */
static bool client_read(struct ep_client *c)
{
	static uint8_t buf[BATCH][HL_PROTO_MSG_SIZE];  /* loop thread only */
	struct iovec iov[BATCH];
	struct mmsghdr mm[BATCH];
	struct hl_proto_msg req;
	int n;

	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		/* No control buffer: fds a client sends are closed by the
		 * kernel and flagged with MSG_CTRUNC. */
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	/* One system call for the whole batch: most wake-ups carry one
	 * request, and a second recvmsg only to hear EAGAIN doubles the cost. */
	n = recvmmsg(c->fd, mm, BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	for (int i = 0; i < n; i++) {
		const struct msghdr *mh = &mm[i].msg_hdr;
		size_t r = mm[i].msg_len;
		int rc;

		if (r == 0)
			return false;  /* end of stream */
		if (mh->msg_flags & (MSG_TRUNC | MSG_CTRUNC))
			rc = mh->msg_flags & MSG_CTRUNC ? -EINVAL : -EBADMSG;
		else
			rc = hl_proto_parse_request(buf[i], r, &req);
		if (rc ? !reject(c, buf[i], r, rc) : !serve(c, &req))
			return false;
	}
	return true;
}

static void client_cb(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ep_client *c = arg;

	(void)loop; (void)fd;
	if (!client_read(c) || (events & (EPOLLHUP | EPOLLERR)))
		client_free(c);
}

static void client_pid_cb(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop; (void)fd; (void)events;
	client_free(arg);  /* the process exited: its mappings are gone */
}

static int peer_pidfd(int fd, pid_t pid)
{
	int pfd = -1;
	socklen_t l = sizeof(pfd);

	/* SO_PEERPIDFD names the very process that connected; pidfd_open on
	 * the SO_PEERCRED pid could race with pid reuse. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pfd, &l) == 0 && pfd >= 0)
		return pfd;
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0)
		fcntl(pfd, F_SETFD, FD_CLOEXEC);
	return pfd;
}

static void client_new(struct hl_endpoint *ep, int fd)
{
	struct hl_ep_node *n = ep->node;
	struct ucred cr;
	socklen_t l = sizeof(cr);
	struct ep_client *c;

	if (ep->n_clients >= HL_EP_MAX_CLIENTS) {
		logf_(n, LOG_WARNING, "endpoint %s: client limit %u reached", ep->key,
		      HL_EP_MAX_CLIENTS);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0) {
		free(c);
		close(fd);
		return;
	}
	c->ep = ep;
	c->fd = fd;
	c->bell = -1;
	c->pid = cr.pid;
	c->uid = cr.uid;
	c->pidfd = peer_pidfd(fd, cr.pid);
	if (c->pidfd < 0 || hl_loop_add(n->o.loop, fd, EPOLLIN, client_cb, c) < 0) {
		logf_(n, LOG_WARNING, "endpoint %s: cannot serve client pid %d", ep->key, (int)cr.pid);
		if (c->pidfd >= 0)
			close(c->pidfd);
		close(fd);
		free(c);
		return;
	}
	if (hl_loop_add(n->o.loop, c->pidfd, EPOLLIN, client_pid_cb, c) < 0) {
		hl_loop_del(n->o.loop, fd);
		close(c->pidfd);
		close(fd);
		free(c);
		return;
	}
	LIST_ADD(ep->clients, c);
	ep->n_clients++;
	logf_(n, LOG_DEBUG, "endpoint %s: client pid %d uid %u", ep->key, (int)cr.pid,
	      (unsigned)cr.uid);
}

static void accept_cb(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct hl_endpoint *ep = arg;

	(void)loop; (void)events;
	for (int i = 0; i < BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				logf_(ep->node, LOG_WARNING, "endpoint %s: accept: %s", ep->key,
				      strerror(errno));
			return;
		}
		client_new(ep, cfd);
	}
}

/* ---- binding in the pod's netns ----------------------------------------- */

static int same_ns(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
		return -errno;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int bind_here(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				    strlen(HL_PROTO_ENDPOINT));
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int err;

	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path + 1, HL_PROTO_ENDPOINT, strlen(HL_PROTO_ENDPOINT));
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 128) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Returns the listening socket bound in @path's netns, or -errno. */
static int bind_in_netns(const char *path)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int target = open(path, O_RDONLY | O_CLOEXEC);
	int fd, same;

	if (self < 0 || target < 0) {
		fd = -errno;
		goto out;
	}
	same = same_ns(self, target);
	if (same) {
		fd = same > 0 ? -EINVAL : same;
		goto out;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		fd = -errno;
		goto out;
	}
	fd = bind_here();
	if (setns(self, CLONE_NEWNET) < 0)
		abort();  /* never serve on from a pod's netns */
out:
	if (self >= 0)
		close(self);
	if (target >= 0)
		close(target);
	return fd;
}

/* ---- endpoints and node ------------------------------------------------- */

static int parse_ips(struct hl_endpoint *ep, const char *const *ips, size_t n_ips)
{
	if (n_ips > HL_PROTO_MAX_IPS || (n_ips && !ips))
		return -EINVAL;
	for (size_t i = 0; i < n_ips; i++)
		if (!ips[i] || hl_proto_addr_parse(ips[i], &ep->ips[i]))
			return -EINVAL;
	ep->n_ips = n_ips;
	return 0;
}

struct hl_endpoint *hl_ep_create(struct hl_ep_node *n, const char *pod_key,
				 const char *netns_path, const char *const *ips,
				 size_t n_ips, uint64_t quota_bytes)
{
	struct hl_endpoint *ep;
	int rc;

	if (!n || !pod_key || !*pod_key || strlen(pod_key) >= HL_PROTO_KEY_MAX || !netns_path) {
		errno = EINVAL;
		return NULL;
	}
	if (hl_ep_find(n, pod_key)) {
		errno = EEXIST;
		return NULL;
	}
	ep = calloc(1, sizeof(*ep));
	if (!ep) {
		errno = ENOMEM;
		return NULL;
	}
	ep->node = n;
	ep->fd = -1;
	ep->quota.limit = quota_bytes;
	strcpy(ep->key, pod_key);
	rc = parse_ips(ep, ips, n_ips);
	for (size_t i = 0; !rc && i < ep->n_ips; i++)
		if (registry_lookup(n, &ep->ips[i]))
			rc = -EEXIST;
	if (!rc)
		rc = ep->fd = bind_in_netns(netns_path);
	if (rc >= 0)
		rc = hl_loop_add(n->o.loop, ep->fd, EPOLLIN, accept_cb, ep);
	if (rc < 0) {
		if (ep->fd >= 0)
			close(ep->fd);
		free(ep);
		errno = -rc;
		return NULL;
	}
	LIST_ADD(n->eps, ep);
	logf_(n, LOG_INFO, "endpoint %s: @%s bound in %s, quota %llu bytes", pod_key,
	      HL_PROTO_ENDPOINT, netns_path, (unsigned long long)quota_bytes);
	return ep;
}

void hl_ep_destroy(struct hl_endpoint *ep)
{
	struct hl_ep_node *n;

	if (!ep)
		return;
	n = ep->node;
	while (ep->clients)
		client_free(ep->clients);
	/* Connections this pod opened to listeners elsewhere: the other side
	 * may still use them, so they stay on the node pool only. */
	for (struct ep_region *g = n->regions; g; g = g->next)
		if (g->charged == ep) {
			hl_quota_release(&ep->quota, g->bytes);
			g->charged = NULL;
		}
	hl_loop_del(n->o.loop, ep->fd);
	close(ep->fd);
	LIST_DEL(n->eps, ep);
	logf_(n, LOG_INFO, "endpoint %s: destroyed", ep->key);
	free(ep);
}

struct hl_ep_node *hl_ep_node_new(const struct hl_ep_node_opts *o)
{
	struct hl_ep_node *n;

	if (!o || !o->loop) {
		errno = EINVAL;
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		errno = ENOMEM;
		return NULL;
	}
	n->o = *o;
	n->pool.limit = o->pool_bytes;
	return n;
}

void hl_ep_node_free(struct hl_ep_node *n)
{
	if (!n)
		return;
	while (n->eps)
		hl_ep_destroy(n->eps);
	while (n->regions) {  /* none can be held any more; defensive */
		n->regions->charged = NULL;
		region_release(n, n->regions);
	}
	free(n);
}

/* Copies what one record says, if it is a published one with addresses
 * that make sense (the pod writes it: nothing in it is trusted). */
static bool stats_conn_read(const struct hl_stats_conn *r, struct hl_ep_conn_info *out)
{
	struct hl_stats_conn c;

	memcpy(&c, (const void *)r, sizeof(c));
	if (atomic_load_explicit(&c.state, memory_order_relaxed) != 1)
		return false;
	memset(out, 0, sizeof(*out));
	out->fd = c.fd;
	out->side = c.side;
	if (hl_proto_addr_valid(&c.local))
		hl_proto_addr_format(&c.local, out->local, sizeof(out->local));
	if (hl_proto_addr_valid(&c.peer))
		hl_proto_addr_format(&c.peer, out->peer, sizeof(out->peer));
	out->local_port = c.local_port;
	out->peer_port = c.peer_port;
	out->tx_bytes = atomic_load_explicit(&c.tx_bytes, memory_order_relaxed);
	out->rx_bytes = atomic_load_explicit(&c.rx_bytes, memory_order_relaxed);
	out->tx_calls = atomic_load_explicit(&c.tx_calls, memory_order_relaxed);
	out->rx_calls = atomic_load_explicit(&c.rx_calls, memory_order_relaxed);
	out->wakeups = atomic_load_explicit(&c.wakeups, memory_order_relaxed);
	return true;
}

void hl_ep_walk_stats(const struct hl_endpoint *ep, hl_ep_proc_cb pcb, hl_ep_conn_cb ccb,
		      void *arg)
{
	for (const struct ep_client *c = ep->clients; c; c = c->next) {
		const struct hl_stats_conn *recs;
		struct hl_ep_proc_info p = { .pid = c->pid };
		struct hl_stats_proc s;

		if (!c->stats)
			continue;
		/* Sizes are ours (the pod could rewrite the header). */
		memcpy(&s, (const void *)&c->stats->proc, sizeof(s));
		p.conns = atomic_load_explicit(&s.conns, memory_order_relaxed);
		p.fallbacks = atomic_load_explicit(&s.fallbacks, memory_order_relaxed);
		p.tx_bytes = atomic_load_explicit(&s.tx_bytes, memory_order_relaxed);
		p.rx_bytes = atomic_load_explicit(&s.rx_bytes, memory_order_relaxed);
		p.tx_calls = atomic_load_explicit(&s.tx_calls, memory_order_relaxed);
		p.rx_calls = atomic_load_explicit(&s.rx_calls, memory_order_relaxed);
		p.wakeups = atomic_load_explicit(&s.wakeups, memory_order_relaxed);
		p.ctl_calls = atomic_load_explicit(&s.ctl_calls, memory_order_relaxed);
		p.direct = atomic_load_explicit(&s.direct, memory_order_relaxed);
		recs = (const struct hl_stats_conn *)((const char *)c->stats + HL_STATS_HDR);
		for (unsigned i = 0; i < HL_STATS_RECS; i++)
			p.open += atomic_load_explicit(&recs[i].state, memory_order_relaxed) == 1;
		pcb(arg, &p);
		for (unsigned i = 0; i < HL_STATS_RECS && ccb; i++) {
			struct hl_ep_conn_info ci;

			if (stats_conn_read(&recs[i], &ci))
				ccb(arg, &ci);
		}
	}
}

void hl_ep_get_usage(const struct hl_endpoint *ep, struct hl_ep_usage *u)
{
	u->quota_bytes = ep->quota.limit;
	u->used_bytes = ep->quota.used;
	u->clients = ep->n_clients;
	u->regions = ep->n_regions;
}

void hl_ep_node_get_usage(const struct hl_ep_node *n, uint64_t *pool_bytes, uint64_t *used_bytes)
{
	if (pool_bytes)
		*pool_bytes = n->pool.limit;
	if (used_bytes)
		*used_bytes = n->pool.used;
}

struct hl_endpoint *hl_ep_find(const struct hl_ep_node *n, const char *pod_key)
{
	for (struct hl_endpoint *ep = n->eps; ep; ep = ep->next)
		if (!strcmp(ep->key, pod_key))
			return ep;
	return NULL;
}

const char *hl_ep_pod_key(const struct hl_endpoint *ep)
{
	return ep->key;
}

int hl_ep_set_quota(struct hl_endpoint *ep, uint64_t quota_bytes)
{
	ep->quota.limit = quota_bytes;
	return 0;
}
