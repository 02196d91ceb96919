/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness: the stdin network configuration parser (with
 * prevResult and valid-attachments), for every command, and the result
 * conversion of whatever it accepts. */
#include "../src/cni.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int versions[] = { CNI_V030, CNI_V031, CNI_V040, CNI_V100, CNI_V110 };
static const enum cni_cmd cmds[] = { CNI_CMD_ADD, CNI_CMD_DEL, CNI_CMD_CHECK, CNI_CMD_STATUS,
				     CNI_CMD_GC };

static void exercise(const struct cni_conf *c)
{
	char *s = cni_conf_ipam_stdin(c, CNI_V100);

	free(s);
	if (!c->has_prev)
		return;
	for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
		cJSON *o = cni_result_to_json(&c->prev, versions[v]);
		struct cni_result back;
		struct cni_err e;

		/* What we print must parse again. */
		if (cni_result_parse(o, &back, "fuzz", &e) < 0)
			abort();
		cni_result_free(&back);
		cJSON_Delete(o);
	}
	(void)cni_attachment_valid(c, "a", "eth0");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;

	if (!init) {
		cni_log_setup(NULL, CNI_LOG_ERROR);
		init = 1;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct cni_conf c;
		struct cni_err e;

		if (cni_conf_parse((const char *)data, size, cmds[i], &c, &e) == 0)
			exercise(&c);
		else
			free(cni_err_json(&e, NULL));
		cni_conf_free(&c);
	}
	return 0;
}
