/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The monitor's internals, shared by its files (nothing here is seen
 * outside monitor/src):
 *   pod.c      the node state, pods and their @hostlane sockets
 *   client.c   pod processes: accept, read, dispatch, reply, free
 *   request.c  HELLO, REGION_ALLOC/FREE, LISTEN/UNLISTEN
 *   connect.c  CONNECT and CONN_CLOSE
 *   region.c   regions, slot regions, direct regions
 *   stats.c    the processes' stats regions
 *   quota.c    quota arithmetic
 *   admit.c    NetworkPolicy admission (the table: policy.c, policy_match.c)
 *   grant.c    the grants of direct regions (admission per port, sealed)
 *   cp.c       the engine (fpga-ctl): admin queue, table writes, read-back
 *   cp_want.c  the engine's tables as the monitor's view says they must be
 * Everything runs on the agent's loop thread; no locks.
 */
#ifndef HOSTLANE_MON_PRIVATE_H
#define HOSTLANE_MON_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hostlane_direct.h"
#include "hostlane_proto.h"
#include "hostlane_stats.h"
#include "monitor.h"
#include "quota.h"
#include "shmq.h"

struct hl_loop;
struct hl_pol_table;

/* Slot connections (v2): ring pairs of this size per direction (the
 * kernel's default TCP receive buffer), as many as fit in one 2 MiB page. */
#define SLOT_CAPACITY (128u << 10)

struct mon_client;
struct mon_linger;
struct mon_svc;

/* A region handed out: charged to one pod, held by one or two clients. */
struct mon_region {
	struct mon_region *next, *prev;
	uint32_t id;
	struct shmq_region *r;
	uint64_t bytes;
	struct hl_mon_pod *charged;   /* NULL once that pod is gone */
	struct mon_client *holder[2];
	/* A side whose client exec'd (EXEC, then its channel closed with the
	 * exec): the new image maps the region from the fds the old one
	 * handed over, so the hold lasts until the process exits. */
	struct mon_linger *linger[2];
	/* A process pair's slot region (n_slots > 0): holder[0] connects to
	 * holder[1]; used[side] has a bit per slot that side holds. */
	uint32_t n_slots;
	uint64_t used[2];
	/* A direct region (v3, docs/monitor.md): the connector sets up every
	 * connection after the first itself; the monitor never hands out a
	 * slot of it again and reads the rings to see which are in use. */
	bool direct;
	struct hl_direct_blk *blk;     /* direct: its control block (pod memory) */
	/* v5 direct: its grant (grant.c), mapped writable by us only; the fd
	 * until both sides got it (then -1) */
	struct hl_direct_grant *grant;
	int grant_fd;
	bool nf_off;                   /* a pod's netfilter rules turned it off */
};

/* Fds a request's handling leaves for the caller to close once the reply
 * is sent: the wake sockets of a new region, then its grant. */
#define MON_CLOSE_FDS (2u * HL_PROTO_MAX_SLOTS + 1u)
#define MON_CLOSE_GRANT (2u * HL_PROTO_MAX_SLOTS)

struct mon_client {
	struct mon_client *next, *prev;
	struct hl_mon_pod *ep;
	int fd, pidfd;
	pid_t pid;
	uid_t uid;
	bool hello;
	uint16_t version;              /* negotiated at HELLO */
	struct hl_stats_hdr *stats;    /* its stats region (v2), or NULL */
	int bell;                      /* v3: its doorbell eventfd, or -1 */
	bool direct;                   /* v3: takes direct connections */
	unsigned ev_budget;            /* socket buffer bytes accept events may fill */
	/* Its liveness pipe: peers get the read end (it hangs up once every
	 * write end is closed); the write end is the process's to hold (v4)
	 * or ours until the process exits (older clients). */
	int life_rd, life_wr;
	bool exec_hold;                /* sent EXEC: its holds outlive its channel */
	uint16_t cp_q;                 /* its engine queue (cp_check.c), 0: none */
};

/* A process whose channel closed (an exec) while it lives on: until its
 * pidfd says it exited, the write end of its liveness pipe (older clients;
 * else -1) stays open and, if it sent EXEC, the regions it held stay held
 * (mon_region.linger). */
struct mon_linger {
	struct mon_linger *next;
	struct hl_mon_pod *ep;
	int pidfd, wr;
};

struct mon_listener {
	struct mon_listener *next;
	uint16_t port;
	uint16_t flags;                /* HL_LISTEN_F_* */
	struct hl_proto_addr addr;     /* bound to (family 0: older client, any) */
	struct mon_client *c;
};

struct mon_nf;

struct hl_mon_pod {
	struct hl_mon_pod *next, *prev;
	struct mon_nf *nf;             /* its netns's nftables, or NULL */
	struct hl_monitor *node;
	char key[HL_PROTO_KEY_MAX];
	struct hl_proto_addr ips[HL_PROTO_MAX_IPS];
	size_t n_ips;
	int fd;
	struct hl_quota quota;
	struct mon_client *clients;
	unsigned n_clients, n_regions, n_listeners;
	unsigned n_fds;                /* fds kept for it (limits.fds) */
	struct mon_linger *lingers;
	unsigned n_lingers;
	uint64_t police_tick;          /* the tick its netfilter hooks were read at */
	unsigned police_hooks;         /* then (an error: all) */
	struct mon_listener *listeners;
	int64_t resume;                /* accepting paused (out of fds): its timer */
	unsigned refused;              /* clients refused since the last log line */
	uint64_t regions_refused[HL_MON_REFUSED_COUNT];
	uint64_t logged_ms;            /* when that line was written */
	uint16_t cp_id;                /* its pod id in the engine (cp.c), 0: none yet */
};

struct hl_monitor {
	struct hl_mon_opts o;
	struct hl_quota pool;
	struct hl_mon_pod *eps;
	struct mon_region *regions;
	uint32_t next_id;
	int reserve;                   /* an fd given up to refuse a client when out of fds */
	unsigned msg_cost;             /* socket buffer bytes one queued message takes */
	int64_t tick;                  /* the once-a-second timer, or 0 */
	uint64_t ticks;                /* how many it ran */
	bool stopping;                 /* hl_mon_free(): the agent goes, regions stay whole */
	uint64_t regions_refused[HL_MON_REFUSED_COUNT];   /* pods gone included */
	/* NetworkPolicy admission (admit.c) */
	bool pol_enforce;
	struct hl_pol_table *pol;      /* NULL: not synced (nothing admitted) */
	uint64_t pol_generation, pol_admitted, pol_denied, pol_direct_off;
	struct hl_mon_svcmap *svcs;    /* the Service map, or NULL */
	struct hl_mon_svc_stats svc_st;
	struct mon_cp *cp;             /* the engine (cp.c), or NULL */
};

/* Doubly linked lists with next/prev members. */
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

/* ---- pod.c ---- */

/* Logs through the node's log callback (syslog priorities). */
__attribute__((format(printf, 3, 4)))
void mon_log(const struct hl_monitor *n, int level, const char *fmt, ...);
/* shmq's log callback, @arg the node. */
void mon_shmq_log(void *arg, int level, const char *msg);
/* Logs about pod @ep at most once a second; @what gets "(N more)". */
void mon_log_limited(struct hl_mon_pod *ep, const char *what);
/* The pod that has address @a, or NULL. */
struct hl_mon_pod *mon_pod_by_addr(struct hl_monitor *n, const struct hl_proto_addr *a);

/* ---- client.c ---- */

/* Sends @m (a reply or event) with @nfds fds, never blocking: -EAGAIN when
 * the client does not read (the caller drops it), or -errno. */
int mon_send(int fd, struct hl_proto_msg *m, const int *fds, unsigned nfds);
/* Makes @rep an error reply with status @err and a formatted reason. */
__attribute__((format(printf, 3, 4)))
void mon_set_error(struct hl_proto_msg *rep, int err, const char *fmt, ...);
/* Whether one more event fits in what @c's unread events may take: they
 * never fill more than half its socket buffer (replies keep the rest) nor
 * more than limits.events messages. */
bool mon_event_room(const struct mon_client *c);
/* Bytes a queued message takes in a unix socket's buffer (measured). */
unsigned mon_msg_cost(void);
/* Ends every linger of @ep (exited channels): liveness pipe ends closed,
 * region holds dropped. */
void mon_lingers_free(struct hl_mon_pod *ep);
/* Frees @c and everything it held (listeners, regions, stats, doorbell). */
void mon_client_free(struct mon_client *c);
/* The loop callback of a pod's @hostlane socket (@arg the pod). */
void mon_accept_cb(struct hl_loop *loop, int fd, uint32_t events, void *arg);

/* ---- request.c ---- */

/* Makes @c's stats region; returns its fd for the reply, or -1. */
int mon_stats_new(struct mon_client *c);
void mon_hello(struct mon_client *c, const struct hl_proto_msg *req, struct hl_proto_msg *rep);
/* Returns the region's fd to attach to the reply, or -1 (@rep has the error). */
int mon_region_alloc(struct mon_client *c, const struct hl_proto_msg *req, struct hl_proto_msg *rep);
void mon_region_free(struct mon_client *c, const struct hl_proto_msg *req, struct hl_proto_msg *rep);
struct mon_listener *mon_listener_find(struct hl_mon_pod *ep, uint16_t port);
/* Whether listener @l is reached at address @dst (as the kernel would). */
bool mon_listener_reaches(const struct mon_listener *l, const struct hl_proto_addr *dst);
void mon_listen(struct mon_client *c, const struct hl_proto_msg *req, struct hl_proto_msg *rep);
void mon_unlisten(struct mon_client *c, const struct hl_proto_msg *req, struct hl_proto_msg *rep);

/* ---- connect.c ---- */

/* Closes the fds of @fds that are >= 0 and sets them to -1. */
void mon_close_fds(int *fds, unsigned n);
/* See connect.c; returns the number of fds put in @fds for the reply. */
unsigned mon_connect(struct mon_client *c, const struct hl_proto_msg *req,
		    struct hl_proto_msg *rep, int *fds, int *efd);
void mon_conn_close(struct mon_client *c, const struct hl_proto_msg *req, struct hl_proto_msg *rep);

/* ---- services.c ---- */

/* Where a CONNECT goes. */
struct mon_target {
	struct hl_mon_pod *pod;        /* the pod that has the listener; NULL: a
					* Service endpoint that is no pod here */
	struct hl_proto_addr addr;     /* its address connected to (the endpoint's
					* for a Service, the loopback address) */
	uint16_t port;                 /* its port (a Service's target port) */
	const struct mon_svc *svc;     /* the Service resolved, or NULL */
	bool loopback;                 /* inside the connector's pod */
	struct hl_proto_addr addr_from; /* loopback: the connector's address */
};

/*
 * Resolves @addr:@port of a CONNECT from @c: loopback (127.0.0.0/8, ::1)
 * is the connector's own pod; a local pod's IP is that pod; a Service's
 * ClusterIP:port is the endpoint chosen as kube-proxy would (t->pod NULL
 * when it is no pod here). Return: 0 (@t filled); -EHOSTUNREACH with @rep
 * set (not a hostlane pod, no usable endpoint: the kernel connects).
 */
int mon_resolve(struct mon_client *c, const struct hl_proto_addr *addr, uint16_t port,
		struct mon_target *t, struct hl_proto_msg *rep);
/* Makes @rep the redirect to Service endpoint @t (@kernel: not a hostlane
 * listener, the connector's kernel socket connects to it), with the
 * Service's candidates for the connector to choose from itself a while. */
void mon_svc_redirect(struct hl_monitor *n, const struct mon_target *t, bool kernel,
		      struct hl_proto_msg *rep);
/* Counts a connection made to @t (Service and loopback counters). */
void mon_count(struct hl_monitor *n, const struct mon_target *t);

/* The address the listener sees as its peer, and the connector as its own,
 * for a connection to @dst: connector pod @ep's address of @dst's family
 * with the longest prefix in common with it, else its first, else 0.0.0.0. */
struct hl_proto_addr mon_peer_addr(const struct hl_mon_pod *ep, const struct hl_proto_addr *dst);

/* ---- region.c ---- */

void mon_region_release(struct hl_monitor *n, struct mon_region *g);
void mon_region_unhold(struct hl_monitor *n, struct mon_region *g, struct mon_client *c);
/* @c's holds on @g become @lg's (its process exec'd), the slots it held
 * with them. */
void mon_region_linger(struct mon_region *g, struct mon_client *c, struct mon_linger *lg);
/* The process of @lg exited: its holds on @g go as a client's do. */
void mon_region_unlinger(struct hl_monitor *n, struct mon_region *g, struct mon_linger *lg);
void mon_slot_gc(struct hl_monitor *n);
uint32_t mon_slots_per_region(void);
struct mon_region *mon_slot_find(struct hl_monitor *n, const struct mon_client *c,
			    const struct mon_client *l, uint32_t *slot);
struct mon_region *mon_region_find(struct hl_monitor *n, uint32_t id);
int mon_region_new(struct hl_mon_pod *ep, uint64_t bytes, struct mon_region **out,
	       char *reason, size_t rlen);
int mon_region_layout(struct mon_region *g, uint32_t n_pairs, uint32_t cap, enum shmq_mode mode);
void mon_direct_setup(struct mon_region *g, const struct mon_client *c,
		  const struct mon_client *l, uint32_t pair);
/* Turns direct connections off (the control block's `off`) in regions
 * whose listener's pod now filters its input, or whose connector's pod its
 * output (netfilter rules added after the region was made). */
void mon_direct_police(struct hl_monitor *n);

/* ---- admit.c ---- */

/* Whether NetworkPolicy admits @src (at @src_ip) connecting to @dst at
 * @dst_ip, @port: 0, or -EACCES with @why set (counted). Admits all when
 * enforcement is off. */
int mon_admit(struct hl_monitor *n, const struct hl_mon_pod *src, const struct hl_mon_pod *dst,
	      const struct hl_proto_addr *src_ip, const struct hl_proto_addr *dst_ip,
	      uint16_t port, const char **why);
/* Sets in @bits (HL_GRANT_WORDS words, overwritten) the ports pod @src may
 * connect to on pod @dst at every address of @dst (policy verdicts; all
 * with enforcement off or inside one pod; none without a table). */
void mon_admit_ports(struct hl_monitor *n, const struct hl_mon_pod *src,
		     const struct hl_mon_pod *dst, uint64_t *bits);
/* Whether a direct region without a grant (an endpoint older than v5) may
 * join connector pod @c to listener pod @l: only while NetworkPolicy is
 * not enforced. */
bool mon_direct_allowed(const struct hl_monitor *n, const struct hl_mon_pod *c,
			const struct hl_mon_pod *l);
void mon_policy_free(struct hl_monitor *n);

/* ---- grant.c ---- */

/* Makes region @g's grant: a sealed memfd (g->grant_fd) and our writable
 * mapping of it (g->grant). 0 or -errno (none made). */
int mon_grant_new(struct mon_region *g);
/* Unmaps @g's grant and closes its fd if still held. */
void mon_grant_free(struct mon_region *g);
/* Whether @g's grant admits @port (false without a grant). */
bool mon_grant_admits(const struct mon_region *g, uint16_t port);
/* Rewrites @g's grant from the table (nothing once turned off). */
void mon_grant_write(struct hl_monitor *n, struct mon_region *g);
/* Rewrites every grant (a new table, enforcement turned on or off). */
void mon_grants_write(struct hl_monitor *n);
/* Makes fresh slot region @g (@c connects to @l's @port, first connection
 * in @pair) a direct one if it may be: with a grant between two v5
 * processes when the grant admits @port, else only between pods no policy
 * isolates. */
void mon_direct_make(struct hl_monitor *n, struct mon_region *g, struct mon_client *c,
		     struct mon_client *l, uint32_t pair, uint16_t port);

/* ---- netfilter.c ---- */

/* Hooks a pod's rules may sit on. */
#define MON_NF_IN  1u   /* prerouting, input, netdev ingress */
#define MON_NF_OUT 2u   /* output, postrouting */
#define MON_NF_BASES 64u

struct nlmsghdr;

/* What a chain and rule dump said: the base chains at those hooks and
 * which hooks filter (a rule in such a chain, or a policy other than
 * accept). */
struct mon_nf_base {
	uint8_t family;
	unsigned bit;
	char table[256], chain[256];
};
struct mon_nf_scan {
	struct mon_nf_base base[MON_NF_BASES];
	unsigned n;
	unsigned hooks;
};
/* One NFT_MSG_NEWCHAIN / NEWRULE message of a dump (the pod's data: every
 * attribute checked). 0 or -EINVAL (too short). */
int mon_nf_scan_chain(struct mon_nf_scan *s, const struct nlmsghdr *nlh);
int mon_nf_scan_rule(struct mon_nf_scan *s, const struct nlmsghdr *nlh);

/* A NETLINK_NETFILTER socket in the calling thread's netns, or NULL. */
struct mon_nf *mon_nf_open(void);
void mon_nf_close(struct mon_nf *nf);
/* Which hooks of that netns filter (MON_NF_*), re-read at most once a
 * second and only when the rule set changed. @nf NULL: none. 0 or -errno
 * (then the caller treats the pod as filtering). */
int mon_nf_hooks(struct mon_nf *nf, unsigned *hooks);

/* ---- stats.c ---- */

/*
 * Reports what stats region @h (HL_STATS_SIZE bytes the pod writes) says of
 * process @pid: @pcb once, then @ccb (may be NULL) per published record.
 * Nothing in it is trusted; it is only copied out.
 */
void mon_stats_read(const struct hl_stats_hdr *h, pid_t pid, hl_mon_proc_cb pcb,
		    hl_mon_conn_cb ccb, void *arg);

/* ---- cp.c ---- */

struct fpgactl_req;
struct mon_cp;

/* Writes the engine's tables to what the monitor's view says now (no-op
 * without a backend): pods, flags, Services; @policy: the admission
 * entries recomputed too (pods or policy changed). */
void mon_cp_sync(struct hl_monitor *n, bool policy);
/* Pod @ep goes: its engine pod id is free again (its entries go at the
 * next sync). */
void mon_cp_pod_gone(struct hl_monitor *n, struct hl_mon_pod *ep);
void mon_cp_free(struct hl_monitor *n);
/* For cp_check.c: the engine, its geometry, the processes' queues, the
 * counters, a fresh tag. */
struct fpgactl;
struct fpgactl_caps;
struct fpgactl_evt;
struct mon_cpq;
struct fpgactl *mon_cp_engine(struct mon_cp *cp);
const struct fpgactl_caps *mon_cp_caps(const struct mon_cp *cp);
struct mon_cpq **mon_cp_queues(struct mon_cp *cp);
struct hl_mon_cp_stats *mon_cp_stats(struct mon_cp *cp);
uint32_t mon_cp_tag(struct mon_cp *cp);
/* Submits @r on the admin queue and lets the engine serve it. 0 or -errno. */
int mon_cp_admin(struct mon_cp *cp, const struct fpgactl_req *r);
/* The admin queue's event of @tag (others read past). 0, -ENOENT. */
int mon_cp_admin_event(struct mon_cp *cp, uint32_t tag, struct fpgactl_evt *ev);

/* ---- cp_check.c ---- */

/* The engine's verdict on a request the monitor served with @mon_status
 * (or @rep), compared and counted (docs/monitor.md). No-ops without an
 * engine that serves queues. */
void mon_cp_check_listen(struct mon_client *c, const struct hl_proto_msg *req, int mon_status);
void mon_cp_check_unlisten(struct mon_client *c, uint16_t port, int mon_status);
/* The engine decides @c's CONNECT to @t (a pod's address, not loopback,
 * not a Service): 0 with *@lc the listener's process; -1 with @rep set
 * (refused: no listener, a policy, netfilter rules); 1 when the engine
 * cannot decide it (no engine queue for @c): the monitor's checks run. */
struct mon_target;
int mon_cp_connect(struct mon_client *c, const struct mon_target *t, uint16_t lport,
		   struct mon_client **lc, struct hl_proto_msg *rep);
/* @c goes: its engine listeners and queue with it. */
void mon_cp_client_gone(struct mon_client *c);
void mon_cpq_free(struct mon_cpq *qs);

/* ---- cp_want.c ---- */

/* A growing array of table writes (set form). */
struct mon_cp_set {
	struct fpgactl_req *w;
	size_t n, cap;
};
/* Appends @w. 0 or -ENOMEM. */
int mon_cp_set_add(struct mon_cp_set *s, const struct fpgactl_req *w);
/* Pods (each given an id first by @alloc), their flags, Service map and
 * endpoints, as table writes into @out (emptied first); entries past the
 * engine's room are counted in *@over. @n_eps: the engine's endpoint
 * entries. 0 or -ENOMEM. */
int mon_cp_want(struct hl_monitor *n, unsigned n_eps, int (*alloc)(struct hl_monitor *, struct hl_mon_pod *),
		struct mon_cp_set *out, uint64_t *over);
/* The admission entries (every ordered pair of pods with ids) into @out
 * (emptied first), the entries of a pair past MON_CP_POL_PAIR_MAX counted
 * in *@over (left out: denied, the kernel carries it). 0 or -ENOMEM. */
#define MON_CP_POL_PAIR_MAX 256u
/* The engine's flags for pod @ep now (netfilter hooks read, isolation). */
unsigned mon_cp_pod_flags(struct hl_monitor *n, struct hl_mon_pod *ep);
int mon_cp_want_policy(struct hl_monitor *n, struct mon_cp_set *out, uint64_t *over);

#endif
