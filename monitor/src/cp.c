/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The monitor's engine (fpga-ctl): the admin queue (queue 0, both rings in
 * one memfd), and the table writes that keep the engine's tables
 * equal to the monitor's view. A sync computes the tables the view asks
 * for (cp_want.c), compares them with what was last written (the shadow,
 * sorted by key), sends the difference through the admin queue (or a
 * device's table window while it does not serve its queues), and reads
 * every write back to verify it. Loop thread only.
 */
#include "mon_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <syslog.h>
#include <unistd.h>

#include "fpgactl.h"

#define CP_LOG2 10u                 /* admin ring entries: 1024 each way */
#define CP_MEM (256u << 10)         /* both rings (2 x 66 KiB), page-aligned */

struct mon_cp {
	struct fpgactl *f;
	struct fpgactl_caps caps;
	char device[128];
	int memfd;
	void *mem;
	uint64_t iova;
	void *rq, *eq;
	uint32_t tag;
	uint8_t *ids;                   /* pod ids in use (caps.n_pods; 0 never) */
	struct mon_cp_set shadow;       /* what the engine holds, sorted by key */
	struct mon_cp_set want, pol;    /* scratch; pol: the admission entries */
	uint64_t over, pol_over;
	struct hl_mon_cp_stats st;
	struct mon_cpq *queues;         /* the processes' queues (cp_check.c) */
};

/* The order writes go in (endpoints before the Services that point at
 * them) and the key each table write has. */
static unsigned rank(uint8_t op)
{
	switch (op) {
	case FPGACTL_OP_POD_SET: return 0;
	case FPGACTL_OP_POD_FLAGS: return 1;
	case FPGACTL_OP_EP_SET: return 2;
	case FPGACTL_OP_SVC_SET: return 3;
	default: return 4;  /* POL_SET */
	}
}

static int cmp_key(const struct fpgactl_req *a, const struct fpgactl_req *b)
{
	int c = (int)rank(a->op) - (int)rank(b->op);

	if (c)
		return c;
	switch (a->op) {
	case FPGACTL_OP_POD_SET:
		return memcmp(a->addr, b->addr, 16);
	case FPGACTL_OP_POD_FLAGS:
		return (int)a->pod - (int)b->pod;
	case FPGACTL_OP_EP_SET:
		return (int)a->aux - (int)b->aux;
	case FPGACTL_OP_SVC_SET:
		c = memcmp(a->addr, b->addr, 16);
		return c ? c : (int)a->port - (int)b->port;
	default:
		if (a->pod != b->pod)
			return (int)a->pod - (int)b->pod;
		if (a->aux != b->aux)
			return (int)a->aux - (int)b->aux;
		return (int)a->port - (int)b->port;
	}
}

static int cmp_req(const void *x, const void *y)
{
	return cmp_key(x, y);
}

/* What removes the entry @w set: DEL for a hashed key, zero for the
 * direct-indexed pod flags and endpoints. */
static void undo(struct fpgactl_req *r, const struct fpgactl_req *w)
{
	static const uint8_t zero[16];

	switch (w->op) {
	case FPGACTL_OP_POD_SET: fpgactl_tw_pod(r, 0, w->addr, 0, true); break;
	case FPGACTL_OP_POD_FLAGS: fpgactl_tw_pod_flags(r, 0, w->pod, 0); break;
	case FPGACTL_OP_EP_SET: fpgactl_tw_ep(r, 0, w->aux, zero, 0, false); break;
	case FPGACTL_OP_SVC_SET: fpgactl_tw_svc(r, 0, w->addr, w->port, 0, 0, false, true); break;
	default: fpgactl_tw_pol(r, 0, w->pod, w->aux, w->port, 0, true); break;
	}
}

static bool is_del(const struct fpgactl_req *w)
{
	return w->op != FPGACTL_OP_POD_FLAGS && w->op != FPGACTL_OP_EP_SET && (w->flags & FPGACTL_TBL_DEL);
}

/* Whether this backend holds @w's table now (a device without its request
 * pipeline takes only the pods table, through its window). */
static bool holds(const struct mon_cp *cp, const struct fpgactl_req *w)
{
	return cp->caps.serves || w->op == FPGACTL_OP_POD_SET;
}

/* Reads @w back: whether the engine holds what it wrote. */
static bool verify(struct mon_cp *cp, const struct fpgactl_req *w)
{
	struct fpgactl_req got, want = *w;
	int rc = fpgactl_tw_read(cp->f, w, &got);

	if (is_del(w))
		return rc == -ENOENT;
	if (rc)
		return false;
	want.tag = got.tag = 0;
	return !memcmp(&got, &want, sizeof(got));
}

/* Sends @n writes through the admin queue and collects their statuses. */
static void send_queue(struct mon_cp *cp, struct fpgactl_req *w, size_t n, int *status)
{
	const unsigned ring = 1u << CP_LOG2;

	for (size_t i = 0; i < n; i++)
		status[i] = -ETIMEDOUT;
	for (size_t done = 0; done < n;) {
		size_t chunk = n - done < ring ? n - done : ring, got = 0;
		struct fpgactl_evt ev[64];

		for (size_t i = 0; i < chunk; i++)
			w[done + i].tag = ++cp->tag;
		if (fpgactl_rq_push(cp->rq, CP_LOG2, w + done, (unsigned)chunk) != chunk)
			break;  /* the engine stopped consuming: the rest time out */
		fpgactl_doorbell(cp->f, 0, fpgactl_rq_tail(cp->rq));
		fpgactl_service(cp->f, (unsigned)(chunk / FPGACTL_BUDGET + 2));
		fpgactl_wait_idle(cp->f, 1000);
		for (int k; got < chunk && (k = fpgactl_eq_pop(cp->eq, CP_LOG2, ev, 64)) > 0;)
			for (int j = 0; j < k; j++) {
				uint32_t t = ev[j].tag - w[done].tag;

				/* only completions of this chunk; stage 1 sends
				 * nothing that makes other events */
				if (ev[j].type == FPGACTL_EVT_CPL && t < chunk) {
					status[done + t] = ev[j].status;
					got++;
				}
			}
		done += chunk;
	}
}

/* Sends the writes @w[0..n), verifies each, and fills @status. */
static void send(struct mon_cp *cp, struct fpgactl_req *w, size_t n, int *status)
{
	if (cp->caps.serves) {
		send_queue(cp, w, n, status);
	} else {
		for (size_t i = 0; i < n; i++)
			status[i] = fpgactl_tw_window(cp->f, &w[i]);
	}
	for (size_t i = 0; i < n; i++) {
		cp->st.writes++;
		if (status[i]) {
			cp->st.write_errors++;
			continue;
		}
		if (verify(cp, &w[i])) {
			cp->st.verified++;
		} else {
			cp->st.mismatches++;
			status[i] = -EIO;
		}
	}
}

/* The difference of the shadow and @want (both sorted): the writes to
 * send; the shadow becomes @want. */
static void apply(struct hl_monitor *n, struct mon_cp *cp)
{
	struct mon_cp_set out = { 0 };
	const struct mon_cp_set *want = &cp->want, *old = &cp->shadow;
	size_t i = 0, j = 0;
	struct fpgactl_req r;
	int *status;
	uint8_t *drop;

	/* removals first: a key leaving makes room in its bucket */
	while (i < old->n || j < want->n) {
		int c = i == old->n ? 1 : j == want->n ? -1 : cmp_key(&old->w[i], &want->w[j]);

		if (c < 0) {
			undo(&r, &old->w[i++]);
			if (mon_cp_set_add(&out, &r))
				goto oom;
		} else {
			i += c == 0;
			j++;
		}
	}
	for (i = j = 0; j < want->n; j++) {
		int c = 1;

		while (i < old->n && (c = cmp_key(&old->w[i], &want->w[j])) < 0)
			i++;
		if (c == 0) {
			struct fpgactl_req a = old->w[i], b = want->w[j];

			a.tag = b.tag = 0;
			if (!memcmp(&a, &b, sizeof(a)))
				continue;
		}
		if (mon_cp_set_add(&out, &want->w[j]))
			goto oom;
	}
	status = calloc(out.n ? out.n : 1, sizeof(*status));
	drop = calloc(want->n ? want->n : 1, 1);
	if (!status || !drop) {
		free(status);
		free(drop);
		goto oom;
	}
	send(cp, out.w, out.n, status);
	/* the shadow is the view now, less the keys whose write failed or
	 * read back otherwise: those are sent again at the next sync */
	for (i = 0; i < out.n; i++) {
		struct fpgactl_req *hit;

		if (!status[i] || !want->n)
			continue;
		hit = bsearch(&out.w[i], want->w, want->n, sizeof(*want->w), cmp_req);
		if (hit)
			drop[hit - want->w] = 1;
	}
	for (i = j = 0; i < want->n; i++)
		if (!drop[i])
			cp->want.w[j++] = want->w[i];
	cp->want.n = j;
	free(drop);
	free(status);
	free(out.w);
	free(cp->shadow.w);
	cp->shadow = cp->want;
	cp->want = (struct mon_cp_set){ 0 };
	return;
oom:
	free(out.w);
	mon_log(n, LOG_WARNING, "engine tables: out of memory, sync skipped");
}

static int alloc_id(struct hl_monitor *n, struct hl_mon_pod *ep)
{
	struct mon_cp *cp = n->cp;

	for (unsigned i = 1; i < cp->caps.n_pods; i++)
		if (!cp->ids[i]) {
			cp->ids[i] = 1;
			ep->cp_id = (uint16_t)i;
			return 0;
		}
	return -ENOSPC;
}

void mon_cp_pod_gone(struct hl_monitor *n, struct hl_mon_pod *ep)
{
	if (n->cp && ep->cp_id) {
		n->cp->ids[ep->cp_id] = 0;
		ep->cp_id = 0;
	}
}

static void count(struct mon_cp *cp)
{
	static const uint8_t tbl[] = { HL_MON_CP_PODS, HL_MON_CP_POD_FLAGS, HL_MON_CP_ENDPOINTS,
				       HL_MON_CP_SERVICES, HL_MON_CP_POLICY };

	memset(cp->st.entries, 0, sizeof(cp->st.entries));
	for (size_t i = 0; i < cp->shadow.n; i++)
		cp->st.entries[tbl[rank(cp->shadow.w[i].op)]]++;
}

void mon_cp_sync(struct hl_monitor *n, bool policy)
{
	struct mon_cp *cp = n->cp;
	uint64_t over = 0;

	if (!cp || n->stopping)
		return;
	if (policy) {
		cp->pol_over = 0;
		/* ids first: the admission entries name them */
		for (struct hl_mon_pod *ep = n->eps; ep; ep = ep->next)
			if (!ep->cp_id)
				alloc_id(n, ep);
		if (mon_cp_want_policy(n, &cp->pol, &cp->pol_over))
			cp->pol.n = 0;
	}
	if (mon_cp_want(n, cp->caps.n_eps, alloc_id, &cp->want, &over))
		return;
	for (size_t i = 0; i < cp->pol.n; i++)
		if (mon_cp_set_add(&cp->want, &cp->pol.w[i]))
			return;
	/* what this backend cannot hold stays out, counted */
	size_t k = 0;

	for (size_t i = 0; i < cp->want.n; i++) {
		if (holds(cp, &cp->want.w[i]))
			cp->want.w[k++] = cp->want.w[i];
		else
			over++;
	}
	cp->want.n = k;
	if (cp->want.n > 1)
		qsort(cp->want.w, cp->want.n, sizeof(*cp->want.w), cmp_req);
	cp->over = over + cp->pol_over;
	apply(n, cp);
	cp->st.syncs++;
	count(cp);
}

static void cp_close(struct mon_cp *cp)
{
	if (cp->f)
		fpgactl_close(cp->f);  /* stops it: nothing reads the rings after */
	mon_cpq_free(cp->queues);
	if (cp->mem && cp->mem != MAP_FAILED)
		munmap(cp->mem, CP_MEM);
	if (cp->memfd >= 0)
		close(cp->memfd);
	free(cp->ids);
	free(cp->shadow.w);
	free(cp->want.w);
	free(cp->pol.w);
	free(cp);
}

struct fpgactl *mon_cp_engine(struct mon_cp *cp)
{
	return cp->f;
}

const struct fpgactl_caps *mon_cp_caps(const struct mon_cp *cp)
{
	return &cp->caps;
}

struct mon_cpq **mon_cp_queues(struct mon_cp *cp)
{
	return &cp->queues;
}

struct hl_mon_cp_stats *mon_cp_stats(struct mon_cp *cp)
{
	return &cp->st;
}

uint32_t mon_cp_tag(struct mon_cp *cp)
{
	return ++cp->tag;
}

int mon_cp_admin(struct mon_cp *cp, const struct fpgactl_req *r)
{
	if (fpgactl_rq_push(cp->rq, CP_LOG2, r, 1) != 1)
		return -EAGAIN;
	fpgactl_doorbell(cp->f, 0, fpgactl_rq_tail(cp->rq));
	return fpgactl_wait_idle(cp->f, 1000);
}

int mon_cp_admin_event(struct mon_cp *cp, uint32_t tag, struct fpgactl_evt *ev)
{
	int k;

	while ((k = fpgactl_eq_pop(cp->eq, CP_LOG2, ev, 1)) == 1)
		if (ev->tag == tag)
			return 0;
	return k < 0 ? k : -ENOENT;
}

void mon_cp_free(struct hl_monitor *n)
{
	if (n->cp) {
		const struct hl_mon_cp_stats *st = &n->cp->st;

		mon_log(n, LOG_INFO, "engine: %llu table writes (%llu refused, %llu read back otherwise); "
			"%llu CONNECTs decided; %llu LISTEN/UNLISTEN checked, %llu otherwise",
			(unsigned long long)st->writes, (unsigned long long)st->write_errors,
			(unsigned long long)st->mismatches, (unsigned long long)st->decided,
			(unsigned long long)st->checked, (unsigned long long)st->disagreed);
		cp_close(n->cp);
	}
	n->cp = NULL;
}

/* The admin rings, in ordinary pages: the queue is the agent's own and
 * shared with no pod, and a hugepage taken here would come out of the
 * pool the agent hands pods (a device's DMA mapping pins the pages). */
static int cp_rings(struct mon_cp *cp)
{
	size_t rb = fpgactl_ring_bytes(CP_LOG2);
	int rc;

	cp->memfd = memfd_create("hostlane-admin-queue", MFD_CLOEXEC);
	if (cp->memfd < 0 || ftruncate(cp->memfd, CP_MEM))
		return -errno;
	cp->mem = mmap(NULL, CP_MEM, PROT_READ | PROT_WRITE, MAP_SHARED, cp->memfd, 0);
	if (cp->mem == MAP_FAILED) {
		cp->mem = NULL;
		return -errno;
	}
	cp->rq = cp->mem;
	cp->eq = (uint8_t *)cp->mem + ((rb + 4095) & ~(size_t)4095);
	fpgactl_ring_init(cp->rq, CP_LOG2);
	fpgactl_ring_init(cp->eq, CP_LOG2);
	rc = fpgactl_mem_map(cp->f, cp->memfd, cp->mem, CP_MEM, &cp->iova);
	if (rc)
		return rc;
	return fpgactl_queue_enable(cp->f, 0, &(struct fpgactl_queue_cfg){
		.rq_iova = cp->iova, .eq_iova = cp->iova + ((uint8_t *)cp->eq - (uint8_t *)cp->mem),
		.rq_log2 = CP_LOG2, .eq_log2 = CP_LOG2, .pod = 0 });
}

int hl_mon_set_backend(struct hl_monitor *n, struct fpgactl *f, const char *device)
{
	struct mon_cp *cp;
	int rc;

	if (!n || !f) {
		fpgactl_close(f);
		return -EINVAL;
	}
	if (n->cp) {
		fpgactl_close(f);
		return -EEXIST;
	}
	cp = calloc(1, sizeof(*cp));
	if (!cp) {
		fpgactl_close(f);
		return -ENOMEM;
	}
	cp->f = f;
	cp->memfd = -1;
	fpgactl_caps(f, &cp->caps);
	snprintf(cp->device, sizeof(cp->device), "%s", device ? device : "software");
	cp->ids = calloc(cp->caps.n_pods ? cp->caps.n_pods : 1, 1);
	rc = cp->ids ? cp_rings(cp) : -ENOMEM;
	if (!rc)
		rc = fpgactl_run(f, true);
	if (rc) {
		cp_close(cp);
		return rc;
	}
	n->cp = cp;
	mon_log(n, LOG_INFO, "engine: %s (%s), %u queues, %u pod ids, tables %s", fpgactl_name(f),
		cp->device, cp->caps.nq, cp->caps.n_pods,
		cp->caps.serves ? "through the admin queue" : "through the register window (pods)");
	mon_cp_sync(n, true);
	return 0;
}

void hl_mon_cp_get_stats(const struct hl_monitor *n, struct hl_mon_cp_stats *st)
{
	const struct mon_cp *cp = n->cp;
	const struct fpgactl_caps *c;
	uint64_t cnt[FPGACTL_CNT_N];

	_Static_assert(FPGACTL_CNT_N == HL_MON_CP_COUNTERS, "engine counters");
	memset(st, 0, sizeof(*st));
	if (!cp)
		return;
	*st = cp->st;
	c = &cp->caps;
	st->on = true;
	st->serves = c->serves;
	snprintf(st->backend, sizeof(st->backend), "%s", fpgactl_name(cp->f));
	snprintf(st->device, sizeof(st->device), "%s", cp->device);
	st->unsupported = cp->over;
	st->capacity[HL_MON_CP_PODS] = (uint64_t)FPGACTL_WAYS << c->pod_log2;
	st->capacity[HL_MON_CP_POD_FLAGS] = c->n_pods;
	st->capacity[HL_MON_CP_SERVICES] = (uint64_t)FPGACTL_WAYS << c->svc_log2;
	st->capacity[HL_MON_CP_ENDPOINTS] = c->n_eps;
	st->capacity[HL_MON_CP_POLICY] = (uint64_t)FPGACTL_WAYS << c->pol_log2;
	if (!fpgactl_counters(cp->f, cnt))
		memcpy(st->counters, cnt, sizeof(cnt));
}

const char *hl_mon_cp_counter_name(unsigned i)
{
	static const char *const names[HL_MON_CP_COUNTERS] = {
		"cycles", "busy", "requests", "events", "dmaReads", "dmaWrites", "errors", "misses", "drops",
	};

	return i < HL_MON_CP_COUNTERS ? names[i] : NULL;
}

const char *hl_mon_cp_table_name(unsigned t)
{
	static const char *const names[HL_MON_CP_TABLES] = {
		"pods", "podFlags", "services", "endpoints", "policy",
	};

	return t < HL_MON_CP_TABLES ? names[t] : NULL;
}
