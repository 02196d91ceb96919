/* SPDX-License-Identifier: Apache-2.0 */
#include "fctl_rig.h"

#include <check.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const struct fpgactl_caps geom = {
	.nq = RIG_NQ, .n_pods = 16, .n_eps = 16,
	.pod_log2 = 3, .lsn_log2 = 3, .pair_log2 = 3, .svc_log2 = 2, .pol_log2 = 3,
};

void rig_open(struct rig *r, const char *device)
{
	struct fpgactl_opts o = { .device = device, .geom = geom,
				  .seed = { 0x9e3779b9, 0x7f4a7c15, 0x85ebca6b, 0xc2b2ae35,
					    0x27d4eb2f, 0x165667b1, 0xd3a2646c, 0xfd7046c5 } };

	memset(r, 0, sizeof(*r));
	/* hugetlb mappings reserve their pages at mmap: a failure there means
	 * none are free, and a plain memfd stands in */
	r->fd = memfd_create("fctl-rig", MFD_CLOEXEC | MFD_HUGETLB);
	r->mem = MAP_FAILED;
	if (r->fd >= 0 && ftruncate(r->fd, RIG_MEM) == 0)
		r->mem = mmap(NULL, RIG_MEM, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	r->huge = r->mem != MAP_FAILED;
	if (!r->huge) {
		if (r->fd >= 0)
			close(r->fd);
		r->fd = memfd_create("fctl-rig", MFD_CLOEXEC);
		ck_assert_int_ge(r->fd, 0);
		ck_assert_int_eq(ftruncate(r->fd, RIG_MEM), 0);
		r->mem = mmap(NULL, RIG_MEM, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	}
	ck_assert_ptr_ne(r->mem, MAP_FAILED);
	/* a hugetlb mapping faults its page in only when touched: no SIGBUS later */
	memset(r->mem, 0, RIG_MEM);
	r->f = fpgactl_open(&o);
	ck_assert_msg(r->f, "fpgactl_open(%s): %s", device ? device : "software", strerror(errno));
	ck_assert_int_eq(fpgactl_mem_map(r->f, r->fd, r->mem, RIG_MEM, &r->iova), 0);
	rig_queue(r, 0, 0, RIG_LOG2);
	ck_assert_int_eq(fpgactl_run(r->f, true), 0);
}

void rig_close(struct rig *r)
{
	fpgactl_close(r->f);
	munmap(r->mem, RIG_MEM);
	close(r->fd);
}

void *rig_rq(struct rig *r, unsigned q)
{
	return r->mem + (size_t)q * RIG_SPAN;
}

void *rig_eq(struct rig *r, unsigned q)
{
	return r->mem + (size_t)q * RIG_SPAN + RIG_SPAN / 2;
}

void rig_queue(struct rig *r, unsigned q, unsigned pod, unsigned eq_log2)
{
	struct fpgactl_queue_cfg c = {
		.rq_iova = r->iova + (uint64_t)q * RIG_SPAN,
		.eq_iova = r->iova + (uint64_t)q * RIG_SPAN + RIG_SPAN / 2,
		.rq_log2 = RIG_LOG2, .eq_log2 = eq_log2, .pod = pod,
	};

	ck_assert_int_eq(fpgactl_ring_init(rig_rq(r, q), RIG_LOG2), 0);
	ck_assert_int_eq(fpgactl_ring_init(rig_eq(r, q), eq_log2), 0);
	ck_assert_int_eq(fpgactl_queue_enable(r->f, q, &c), 0);
}

void rig_submit(struct rig *r, unsigned q, const struct fpgactl_req *req, unsigned n)
{
	ck_assert_uint_eq(fpgactl_rq_push(rig_rq(r, q), RIG_LOG2, req, n), n);
	ck_assert_int_eq(fpgactl_doorbell(r->f, q, fpgactl_rq_tail(rig_rq(r, q))), 0);
	ck_assert_int_eq(fpgactl_wait_idle(r->f, 5000), 0);
}

int rig_pop(struct rig *r, unsigned q, struct fpgactl_evt *ev, unsigned max)
{
	const struct fpgactl_ring_hdr *h = rig_eq(r, q);

	return fpgactl_eq_pop(rig_eq(r, q), h->log2_size, ev, max);
}

int rig_admin(struct rig *r, const struct fpgactl_req *req)
{
	struct fpgactl_evt ev[2];

	rig_submit(r, 0, req, 1);
	ck_assert_int_eq(rig_pop(r, 0, ev, 2), 1);
	ck_assert_uint_eq(ev[0].type, FPGACTL_EVT_CPL);
	ck_assert_uint_eq(ev[0].op, req->op);
	ck_assert_uint_eq(ev[0].tag, req->tag);
	return ev[0].status;
}

void rig_ip(uint8_t a[16], unsigned host)
{
	fpgactl_addr_v4(a, __builtin_bswap32(0x0a000000u | host));
}

void rig_pod(struct rig *r, unsigned pod)
{
	struct fpgactl_req q;
	uint8_t a[16];

	rig_ip(a, pod);
	fpgactl_tw_pod(&q, ++r->tag, a, pod, false);
	ck_assert_int_eq(rig_admin(r, &q), 0);
}

struct fpgactl_req rig_listen(uint16_t port, unsigned host, unsigned flags)
{
	struct fpgactl_req q = { .op = FPGACTL_OP_LISTEN, .port = port, .flags = (uint8_t)flags,
				 .tag = port };

	if (host)
		rig_ip(q.addr, host);
	return q;
}

struct fpgactl_req rig_connect(unsigned dst_host, uint16_t port, unsigned src_host, uint16_t lport)
{
	struct fpgactl_req q = { .op = FPGACTL_OP_CONNECT, .port = port, .lport = lport,
				 .tag = lport };

	rig_ip(q.addr, dst_host);
	rig_ip(q.src, src_host);
	return q;
}
