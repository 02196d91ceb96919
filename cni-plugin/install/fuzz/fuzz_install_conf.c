/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness: the node's CNI config files the installer reads
 * (written by any other CNI on the node) chained in and out, and
 * install.json. What the installer writes must parse again and keep
 * exactly one hostlane entry, last. */
#include "../hli.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_chained(const char *out, const cJSON *entry)
{
	cJSON *r = cJSON_Parse(out), *pl = cJSON_GetObjectItemCaseSensitive(r, "plugins");
	int n = cJSON_GetArraySize(pl), same = 0;
	char *back = NULL, *again = NULL;

	if (!cJSON_IsArray(pl) || n < 1 || !cJSON_Compare(cJSON_GetArrayItem(pl, n - 1), entry, 1))
		abort();
	for (int i = 0; i < n; i++) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(pl, i), "type");

		same += cJSON_IsString(t) && strcmp(t->valuestring, "hostlane") == 0;
	}
	if (same != 1)
		abort();
	/* Idempotent, and removable. */
	if (hli_chain_insert(out, strlen(out), entry, &again) != 0 || again)
		abort();
	if (hli_chain_remove(out, strlen(out), "hostlane", &back) != 0 || !back)
		abort();
	free(back);
	cJSON_Delete(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *entry = cJSON_Parse("{\"type\": \"hostlane\", \"agentSocket\": \"/run/hostlane/agent.sock\"}");
	struct hli_config c;
	char err[256], *out = NULL;

	if (hli_chain_insert((const char *)data, size, entry, &out) == 0 && out)
		check_chained(out, entry);
	free(out);
	out = NULL;
	if (hli_chain_remove((const char *)data, size, "hostlane", &out) == 0)
		free(out);
	if (hli_config_parse((const char *)data, size, &c, err, sizeof(err)) == 0) {
		snprintf(c.pod_cidr, sizeof(c.pod_cidr), "10.244.1.0/24");
		free(hli_standalone_conflist(&c));
	}
	hli_config_free(&c);
	cJSON_Delete(entry);
	return 0;
}
