/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the decoders of the API server's discovery answers and lists
 * (discovery.c) that find policy kinds the agent does not enforce: any
 * input is refused or decoded into names a request path can carry, without
 * a fault or a leak.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlnp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void resources(const char *buf, size_t n, const char *gv)
{
	struct hlnp_disc_res *r;
	size_t nr;
	int rc = hlnp_disc_resources(buf, n, gv, &r, &nr);

	assert(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	assert(rc == 0 || (!r && !nr));
	for (size_t i = 0; i < nr; i++) {
		assert(!strcmp(r[i].group_version, gv));
		assert(memchr(r[i].resource, 0, sizeof(r[i].resource)));
		assert(!strchr(r[i].resource, '/'));
	}
	free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	char **gv, **ns = NULL, cont[128];
	size_t n_gv, n_ns = 0, items = 0;
	int rc = hlnp_disc_groups(buf, size, &gv, &n_gv);

	assert(rc == 0 || rc == -EINVAL || rc == -E2BIG || rc == -ENOMEM);
	assert(rc == 0 || (!gv && !n_gv));
	for (size_t i = 0; i < n_gv; i++) {
		assert(strchr(gv[i], '/') && !strstr(gv[i], "..") && !strpbrk(gv[i], "?#% "));
		resources(buf, size, gv[i]);
	}
	hlnp_strv_free(gv, n_gv);
	resources(buf, size, "cilium.io/v2");
	resources(buf, size, "crd.projectcalico.org/v1");
	for (int namespaced = 0; namespaced < 2; namespaced++) {
		rc = hlnp_disc_list(buf, size, namespaced, &ns, &n_ns, &items, cont, sizeof(cont));
		assert(rc == 0 || rc == -EINVAL || rc == -E2BIG || rc == -ENOMEM);
		assert(memchr(cont, 0, sizeof(cont)));
		assert(namespaced || !n_ns);
	}
	hlnp_strv_free(ns, n_ns);
	return 0;
}
