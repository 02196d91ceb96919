/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kinds the client keeps whole (struct hlk8s_raw): NetworkPolicies and
 * Namespaces, which the agent's NetworkPolicy code decodes itself
 * (node-agent/netpol), so that one decoder, fuzzed on its own, reads them.
 */
#include <errno.h>

#include "hlk8s_private.h"

int hlk8s__raw_parse(const cJSON *json, void *obj)
{
	struct hlk8s_raw *r = obj;

	r->json = cJSON_Duplicate(json, 1);
	return r->json ? 0 : -ENOMEM;
}

void hlk8s__raw_clear(void *obj)
{
	struct hlk8s_raw *r = obj;

	cJSON_Delete(r->json);
	r->json = NULL;
}
