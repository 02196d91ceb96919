/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the NetworkPolicy decoder (and the Pod and Namespace decoders) on
 * JSON from the API server, and the evaluator on what they took: any input
 * must be refused or decoded into a model the table compiles and judges
 * without a fault or a leak.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlnp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void judge(struct hl_pol_table *t, const struct hl_pol_addr *a, const struct hl_pol_addr *b)
{
	static const uint16_t ports[] = { 1, 80, 81, 8080, 65535 };

	assert(hl_pol_table_compile(t) == 0);
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		enum hl_pol_verdict v = hl_pol_admit(t, "x", "a", a, "x", "b", b, ports[i]);

		assert(v <= HL_POL_UNKNOWN);
		v = hl_pol_admit(t, "x", "b", b, "x", "a", a, ports[i]);
		assert(v <= HL_POL_UNKNOWN);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *j = cJSON_ParseWithLength((const char *)data, size);
	struct hl_pol_table *t = hl_pol_table_new();
	struct hl_pol_pod pa = { 0 }, pb = { 0 };
	struct hl_pol_policy *p;
	struct hl_pol_label *l;
	char why[128], *name;
	size_t n;

	assert(t);
	/* The input as a policy of a world of two pods. */
	pa.ns = strdup("x");
	pa.name = strdup("a");
	pa.n_ips = 1;
	hlnp_addr_parse("10.0.0.1", &pa.ips[0]);
	pb.ns = strdup("x");
	pb.name = strdup("b");
	pb.n_ips = 1;
	hlnp_addr_parse("fd00::2", &pb.ips[0]);
	assert(hl_pol_table_add_pod(t, &pa) == 0 && hl_pol_table_add_pod(t, &pb) == 0);
	assert(hl_pol_table_add_ns(t, strdup("x"), NULL, 0) == 0);
	p = j ? hlnp_policy_decode(j, why, sizeof(why)) : NULL;
	if (p) {
		assert(p->ns && p->name);
		assert(hl_pol_table_add_policy(t, p) == 0);
		judge(t, &(struct hl_pol_addr){ 4, { 10, 0, 0, 1 } },
		      &(struct hl_pol_addr){ 6, { 0xfd } });
	} else if (j) {
		assert(errno == EINVAL || errno == ENOMEM);
		assert(memchr(why, 0, sizeof(why)));
	}
	/* And as a pod and a namespace. */
	if (j && hlnp_pod_decode(j, &pa) == 0) {
		assert(pa.ns && pa.name && pa.n_ips <= HL_POL_MAX_IPS);
		if (hl_pol_table_add_pod(t, &pa) == 0)
			judge(t, &(struct hl_pol_addr){ 4, { 10, 0, 0, 1 } },
			      &(struct hl_pol_addr){ 6, { 0xfd } });
	}
	if (j && hlnp_ns_decode(j, &name, &l, &n) == 0)
		(void)hl_pol_table_add_ns(t, name, l, n);
	hl_pol_table_free(t);
	cJSON_Delete(j);
	return 0;
}
