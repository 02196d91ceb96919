/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The "controlPlane" config section: which connection-setup engine the
 * monitor programs (docs/agent.md). Start-up only.
 */
#include "agent.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int hl_config_control_plane(struct hl_config *c, const cJSON *o, char *err, size_t errlen)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "backend");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "device");
	const cJSON *it;

	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "controlPlane must be an object {\"backend\": \"software\"|\"fpga\", "
			 "\"device\": ...}");
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, o)
		if (strcmp(it->string, "backend") && strcmp(it->string, "device")) {
			snprintf(err, errlen, "controlPlane.%.64s: unknown key", it->string);
			return -EINVAL;
		}
	if ((b && !cJSON_IsString(b)) || (d && !cJSON_IsString(d))) {
		snprintf(err, errlen, "controlPlane.backend and controlPlane.device are strings");
		return -EINVAL;
	}
	if (b && strcmp(b->valuestring, "software") && strcmp(b->valuestring, "fpga")) {
		snprintf(err, errlen, "controlPlane.backend: \"%.64s\" is not \"software\" or \"fpga\"",
			 b->valuestring);
		return -EINVAL;
	}
	if (b && !strcmp(b->valuestring, "fpga")) {
		if (!d || !d->valuestring[0] || strlen(d->valuestring) >= sizeof(c->cp_device)) {
			snprintf(err, errlen, "controlPlane.backend \"fpga\" needs a device "
				 "(\"model:/path.sock\" or a PCI address like \"0000:3b:00.0\")");
			return -EINVAL;
		}
		snprintf(c->cp_backend, sizeof(c->cp_backend), "fpga");
		snprintf(c->cp_device, sizeof(c->cp_device), "%s", d->valuestring);
		return 0;
	}
	if (d) {
		snprintf(err, errlen, "controlPlane.device is for the \"fpga\" backend");
		return -EINVAL;
	}
	snprintf(c->cp_backend, sizeof(c->cp_backend), "software");
	c->cp_device[0] = '\0';
	return 0;
}
