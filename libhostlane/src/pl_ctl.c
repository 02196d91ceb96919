/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control channel of the preload layer: one SOCK_SEQPACKET connection
 * per process to the pod's endpoint `@hostlane` (docs/pod-protocol.md).
 *
 * A forked child must not share its parent's request/reply stream (a reply
 * could be read by the wrong process), so each process opens its own at
 * first use. The parent's channel stays open in the child: listeners the
 * child inherited get their accept events on it, and connections accepted
 * through it are freed on it. Requests hold the channel's lock until their
 * reply; replies nobody waits for (the REGION_FREE sent at close) are
 * dropped wherever they are read.
 *
 * A channel breaks when the agent goes away (restart, crash, OOM kill);
 * connections already made do not need it (their rings are shared with
 * the peer alone) and go on. The process opens a new channel when the
 * endpoint is back, with back-off, and registers its listeners again
 * there; a process that only waits (a server in epoll_wait or accept)
 * looks at least every 200 ms while it has lost its channel
 * (pl_ctl_lost_wait_ms()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hl_codec.h"
#include "pl_private.h"

struct pl_ctl {
	struct pl_ctl *next;
	int fd;
	pid_t owner;
	uint32_t seq;
	bool broken;
	int life;      /* v4: the write end of this process's liveness pipe */
	pthread_mutex_t lock;
	struct hl_proto_hello_rep id;
	/* Accept events: sent, as the endpoint counts them in the channel's
	 * stats region (NULL without one), and read here. */
	const _Atomic uint64_t *ev_sent;
	_Atomic uint64_t ev_seen;
};

static pthread_mutex_t ctls_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pl_ctl *ctls;

/* Reconnection: when this process's channel breaks (the agent restarted,
 * crashed, was killed), the next pl_ctl_get() opens a new one, at most
 * once per back-off interval (10 ms doubling to 200 ms) while the
 * endpoint is not there, so a process making connections meanwhile pays
 * one failed connect() per interval, not one per connection. Listeners
 * registered on the broken channel are registered on the new one
 * (pl_sock_relisten()). Under ctls_lock. */
#define RETRY_MIN_NS (10 * 1000000LL)
#define RETRY_MAX_NS (200 * 1000000LL)
static int64_t retry_at, retry_ns;
atomic_int pl_ctl_lost;

static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0) {
			pl_real.close(fds[i]);
			fds[i] = -1;
		}
}

/* The endpoint went away (agent restarted or gone): the channel is dead for
 * good, and at end-of-file it would stay readable in every listener's
 * epoll set, so take it out of them. */
static void ctl_break(struct pl_ctl *c)
{
	if (c->broken)
		return;
	c->broken = true;
	pl_sock_ctl_broken(c);
	/* The waits of this process look for a new one from now on. */
	if (c->owner == pl_pid())
		atomic_store(&pl_ctl_lost, 1);
}

static int ctl_send(struct pl_ctl *c, struct hl_proto_msg *m)
{
	ssize_t w;

	if (c->broken)
		return -ECONNRESET;
	do
		w = pl_real.send(c->fd, m, sizeof(*m), MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w == (ssize_t)sizeof(*m))
		return 0;
	ctl_break(c);
	return -ECONNRESET;
}

/* One message and its fds (close-on-exec). Return: nfds, -EAGAIN, or
 * -ECONNRESET/-EPROTO (the channel is broken for good). */
static int ctl_recv(struct pl_ctl *c, struct hl_proto_msg *m, int *fds, int flags)
{
	int rc;

	if (c->broken)
		return -ECONNRESET;
	rc = hl_proto_recv_reply(c->fd, flags, pl_real.recvmsg, pl_real.close, m, fds);
	if (rc >= 0 && m->hdr.op == HL_POD_OP_EV_ACCEPT)
		atomic_fetch_add_explicit(&c->ev_seen, 1, memory_order_relaxed);
	if (rc >= 0 || rc == -EAGAIN)
		return rc;
	ctl_break(c);
	return rc == -EPROTO ? -EPROTO : -ECONNRESET;
}

/* Sends a request whose reply nobody waits for (dropped when read). The
 * caller holds c->lock. */
static void send_locked(struct pl_ctl *c, struct hl_proto_msg *req)
{
	req->hdr.seq = ++c->seq ? c->seq : ++c->seq;
	ctl_send(c, req);
}

/* Gives back what a connection message handed us (c->lock held). */
static void give_back_locked(struct pl_ctl *c, const struct hl_proto_conn *m)
{
	struct hl_proto_msg req;

	if (m->flags & HL_CONN_F_SLOT) {
		hl_proto_init(&req, HL_POD_OP_CONN_CLOSE, 0);
		req.u.conn_close.region_id = m->region_id;
		req.u.conn_close.pair = m->pair;
		req.u.conn_close.side = m->side;
	} else {
		hl_proto_init(&req, HL_POD_OP_REGION_FREE, 0);
		req.u.region_free.region_id = m->region_id;
	}
	send_locked(c, &req);
}

static int take_conn_fds(struct pl_ctl *c, const struct hl_proto_conn *m, int *fds, int n,
			 struct pl_region **g)
{
	*g = NULL;
	if (!(m->flags & HL_CONN_F_SLOT))
		return n == 4 ? 0 : -EPROTO;
	if (m->flags & HL_CONN_F_REGION) {
		bool bell = (m->flags & HL_CONN_F_DIRECT) && m->side == 0;
		bool grant = (m->flags & HL_CONN_F_GRANT) != 0;

		if (n != (int)(2 + 2 * m->slots + (bell ? 1 : 0) + (grant ? 1 : 0)))
			return -EPROTO;
		*g = pl_region_new(c, m, fds, n);
		hl_proto_fds_reset(fds);  /* taken either way */
	} else {
		if (n != 0)
			return -EPROTO;
		*g = pl_region_get(m->region_id, m->side);
	}
	return *g ? 0 : -EPROTO;
}

/* Like ctl_recv() blocking, but polls for the spin budget first: the
 * endpoint usually answers within microseconds, and a reply that finds us
 * awake needs no wake-up (the costliest part of a round trip, above all in
 * a VM). */
static int ctl_recv_spin(struct pl_ctl *c, struct hl_proto_msg *m, int *fds)
{
	struct pl_spin sp;

	pl_spin_begin(&sp, PL_SPIN_CTL, pl_spin_ns());
	for (;;) {
		int n = ctl_recv(c, m, fds, MSG_DONTWAIT);

		if (n != -EAGAIN) {
			pl_spin_end(&sp);
			return n;
		}
		if (!pl_spin_more(&sp))
			return ctl_recv(c, m, fds, 0);
	}
}

/* Handles a message that is not the reply being waited for. */
static void ctl_other(struct pl_ctl *c, struct hl_proto_msg *m, int *fds, int n)
{
	struct pl_region *g = NULL;

	if (m->hdr.op != HL_POD_OP_EV_ACCEPT) {
		close_fds(fds, (unsigned)n);
		return;
	}
	if (take_conn_fds(c, &m->u.conn, fds, n, &g) == 0 &&
	    pl_sock_deliver_accept(c, &m->u.conn, fds, g) == 0)
		return;
	/* Nobody listens here any more: give the connection back (we hold
	 * the lock; the reply is dropped like any stray one). Our side of a
	 * slot is closed here, where the connector can be woken. */
	close_fds(fds, HL_PROTO_MAX_FDS);
	if (g)
		pl_region_slot_close(g, m->u.conn.pair, m->u.conn.side, true);
	pl_region_put(g);
	give_back_locked(c, &m->u.conn);
}

/* Sends @req and waits for its reply (c->lock held): the reply's status,
 * fds filled (-1 when none). */
static int call_locked(struct pl_ctl *c, struct hl_proto_msg *req, struct hl_proto_msg *rep,
		       int *fds)
{
	int rc;

	for (unsigned i = 0; i < HL_PROTO_MAX_FDS; i++)
		fds[i] = -1;
	req->hdr.seq = ++c->seq ? c->seq : ++c->seq;
	rc = ctl_send(c, req);
	while (!rc) {
		int tmp[HL_PROTO_MAX_FDS], n;

		hl_proto_fds_reset(tmp);
		n = ctl_recv_spin(c, rep, tmp);

		if (n < 0) {
			rc = n;
			break;
		}
		if (rep->hdr.seq != req->hdr.seq || rep->hdr.op != req->hdr.op ||
		    (rep->hdr.flags & HL_PROTO_F_REPLY) == 0) {
			ctl_other(c, rep, tmp, n);
			continue;
		}
		memcpy(fds, tmp, sizeof(tmp));
		rc = rep->hdr.status;
		break;
	}
	atomic_fetch_add_explicit(&pl_stats->ctl_calls, 1, memory_order_relaxed);
	return rc;
}

int pl_ctl_call(struct pl_ctl *c, struct hl_proto_msg *req, struct hl_proto_msg *rep, int *fds)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = call_locked(c, req, rep, fds);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int pl_ctl_connect(struct pl_ctl *c, struct hl_proto_msg *req, struct hl_proto_msg *rep,
		   int *fds, struct pl_region **g)
{
	int rc;

	*g = NULL;
	pthread_mutex_lock(&c->lock);
	rc = call_locked(c, req, rep, fds);
	/* The region a first connection brings is mapped before the next
	 * request can go out: a reply to another thread's CONNECT may name
	 * it already (a later slot of it, with no fds). A redirect to a
	 * Service endpoint brings nothing: the caller connects there. */
	if (!rc && (rep->u.conn.flags & HL_CONN_F_REDIRECT)) {
		/* no connection yet */
	} else if (!rc) {
		rc = take_conn_fds(c, &rep->u.conn, fds, (int)rep->hdr.nfds, g);
		if (rc) {
			close_fds(fds, HL_PROTO_MAX_FDS);
			give_back_locked(c, &rep->u.conn);
		}
	} else {
		close_fds(fds, HL_PROTO_MAX_FDS);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void pl_ctl_post(struct pl_ctl *c, struct hl_proto_msg *req)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	send_locked(c, req);
	pthread_mutex_unlock(&c->lock);
}

void pl_ctl_give_back(struct pl_ctl *c, const struct hl_proto_conn *m)
{
	if (!c || !m->region_id)
		return;
	pthread_mutex_lock(&c->lock);
	give_back_locked(c, m);
	pthread_mutex_unlock(&c->lock);
	pl_ctl_drain(c);
}

unsigned pl_ctl_version(const struct pl_ctl *c)
{
	return c->id.version;
}

void pl_ctl_drain(struct pl_ctl *c)
{
	if (!c || pthread_mutex_trylock(&c->lock))
		return;  /* whoever holds it reads the channel anyway */
	for (int i = 0; i < 256; i++) {
		struct hl_proto_msg m;
		int fds[HL_PROTO_MAX_FDS], n;

		hl_proto_fds_reset(fds);
		n = ctl_recv(c, &m, fds, MSG_DONTWAIT);

		if (n < 0)
			break;
		ctl_other(c, &m, fds, n);
	}
	pthread_mutex_unlock(&c->lock);
}

void pl_ctl_catch_up(struct pl_ctl *c)
{
	uint64_t sent;

	if (!c || !c->ev_sent)
		return;
	/* Acquire: pairs with the endpoint's release increment, made before
	 * the event was sent and so before any announcement its connector
	 * made afterwards, which our caller has seen. Only a count ahead of
	 * ours matters (an endpoint that does not count leaves 0). */
	sent = atomic_load_explicit(c->ev_sent, memory_order_acquire);
	if ((int64_t)(sent - atomic_load_explicit(&c->ev_seen, memory_order_relaxed)) > 0)
		pl_ctl_drain(c);
}

int pl_ctl_fd(const struct pl_ctl *c)
{
	return c->fd;
}

static int connect_endpoint(void)
{
	const char *name = getenv("HOSTLANE_ENDPOINT");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	size_t n;
	int fd;

	if (!name || !*name)
		name = "@" HL_PROTO_ENDPOINT;
	n = strlen(name);
	if (n >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] != '@'));
	fd = pl_real.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (pl_real.connect(fd, (struct sockaddr *)&sa, len) < 0) {
		int err = -errno;

		pl_real.close(fd);
		return err;
	}
	return pl_fd_hide(fd);
}

/*
 * The write end of this process's liveness pipe: its peers hold the read
 * end and see the process gone (a hang-up) once no write end is left. Kept
 * high and across exec (not close-on-exec): the process lives on in the
 * new image, and so do its connections; a forked child closes it
 * (pl_ctl_atfork_child()), as the process it names is not the child.
 */
static void life_keep(struct pl_ctl *c, int fd)
{
	c->life = pl_fd_hide(fd);
	if (c->life >= 0)
		pl_real.fcntl(c->life, F_SETFD, 0);
}

static struct pl_ctl *ctl_open(void)
{
	struct pl_ctl *c = calloc(1, sizeof(*c));
	struct hl_proto_msg req, rep;
	int fds[HL_PROTO_MAX_FDS], k;

	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->owner = getpid();
	c->life = -1;
	c->fd = connect_endpoint();
	if (c->fd < 0) {
		free(c);
		return NULL;
	}
	hl_proto_init(&req, HL_POD_OP_HELLO, 0);
	req.u.hello_req.min_version = HL_PROTO_VERSION_MIN;
	req.u.hello_req.max_version = HL_PROTO_VERSION;
	if (pl_ctl_call(c, &req, &rep, fds)) {
		pl_real.close(c->fd);
		free(c);
		return NULL;
	}
	c->id = rep.u.hello_rep;
	k = c->id.flags & HL_HELLO_F_STATS ? 1 : 0;
	if (k && pl_stats_attach(fds[0], c->owner) < 0) {
		/* the counters stay private: only hostlanectl conns misses them */
	} else if (k) {
		c->ev_sent = pl_stats_ev_sent();
	}
	if (c->id.flags & HL_HELLO_F_LIFE)
		life_keep(c, fds[k + (c->id.flags & HL_HELLO_F_BELL ? 1 : 0)]);
	if ((c->id.flags & HL_HELLO_F_BELL) && !pl_direct_bell_take(fds[k])) {
		hl_proto_init(&req, HL_POD_OP_DIRECT_OFF, 0);
		pl_ctl_call(c, &req, &rep, fds);
	}
	return c;
}

/* Did this process have a channel that broke? (ctls_lock held) */
static bool lost_one(pid_t me)
{
	for (struct pl_ctl *c = ctls; c; c = c->next)
		if (c->owner == me && c->broken)
			return true;
	return false;
}

struct pl_ctl *pl_ctl_get(void)
{
	struct pl_ctl *c;
	bool again = false;
	pid_t me;

	if (atomic_load_explicit(&pl_off, memory_order_relaxed))
		return NULL;
	me = pl_pid();
	c = __atomic_load_n(&ctls, __ATOMIC_ACQUIRE);
	if (c && c->owner == me && !c->broken)
		return c;
	pthread_mutex_lock(&ctls_lock);
	for (c = ctls; c; c = c->next)
		if (c->owner == me && !c->broken)
			break;
	if (!c) {
		int64_t now = pl_now_ns();

		again = lost_one(me);
		if (again && now < retry_at) {
			pthread_mutex_unlock(&ctls_lock);
			return NULL;  /* the endpoint was not there a moment ago */
		}
		c = ctl_open();
		if (c) {
			c->next = ctls;
			retry_ns = 0;
			/* Release: pairs with the acquire load above. */
			__atomic_store_n(&ctls, c, __ATOMIC_RELEASE);
		} else if (again) {
			retry_ns = retry_ns ? retry_ns * 2 : RETRY_MIN_NS;
			if (retry_ns > RETRY_MAX_NS)
				retry_ns = RETRY_MAX_NS;
			retry_at = now + retry_ns;
		} else if (!ctls) {
			/* No endpoint in this pod: pass everything through. */
			atomic_store(&pl_off, 1);
		}
	}
	pthread_mutex_unlock(&ctls_lock);
	if (c && again) {
		/* Outside ctls_lock: registering takes the channel's lock. */
		atomic_store(&pl_ctl_lost, 0);
		pl_sock_relisten(c);
	}
	return c;
}

void pl_ctl_exec_hold(void)
{
	struct hl_proto_msg req, rep;
	int fds[HL_PROTO_MAX_FDS];
	struct pl_ctl *c;
	pid_t me = pl_pid();

	pthread_mutex_lock(&ctls_lock);
	for (c = ctls; c; c = c->next)
		if (c->owner == me && !c->broken)
			break;
	pthread_mutex_unlock(&ctls_lock);
	if (!c)
		return;
	hl_proto_init(&req, HL_POD_OP_EXEC, 0);
	pl_ctl_call(c, &req, &rep, fds);
}

void pl_ctl_retry(void)
{
	bool due;

	pthread_mutex_lock(&ctls_lock);
	due = pl_now_ns() >= retry_at;
	pthread_mutex_unlock(&ctls_lock);
	if (due)
		pl_ctl_get();
}

int pl_ctl_lost_wait_ms(int ms)
{
	int cap = (int)(RETRY_MAX_NS / 1000000);

	if (!atomic_load_explicit(&pl_ctl_lost, memory_order_relaxed))
		return ms;
	return ms < 0 || ms > cap ? cap : ms;
}

void pl_ctl_atfork_child(void)
{
	/* The locks may have been held by a thread that does not exist here. */
	pthread_mutex_init(&ctls_lock, NULL);
	retry_at = retry_ns = 0;
	atomic_store(&pl_ctl_lost, 0);
	for (struct pl_ctl *c = ctls; c; c = c->next) {
		pthread_mutex_init(&c->lock, NULL);
		pl_close_quiet(c->life);  /* the parent's liveness, not ours */
		c->life = -1;
	}
	pl_region_atfork_child();
	pl_fault_atfork_child();
}

bool pl_ctl_own(const struct pl_ctl *c)
{
	return pl_ctl_mine(c) && !c->broken;
}

bool pl_ctl_mine(const struct pl_ctl *c)
{
	return c && c->owner == pl_pid();
}

int pl_ctl_pod_addr(struct pl_ctl *c, int family, struct hl_proto_addr *a)
{
	for (unsigned i = 0; c && i < c->id.n_ips && i < HL_PROTO_MAX_IPS; i++)
		if (c->id.ips[i].family == family) {
			*a = c->id.ips[i];
			return 0;
		}
	return -ENOENT;
}
