/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control plane's engine: the agent opens the fpga-ctl backend the
 * config names and hands it to the monitor, which programs its tables
 * (monitor/src/cp.c); STATUS reports it ("controlPlane", `hostlanectl
 * fpga`).
 */
#include "daemon.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>

#include "fpgactl.h"
#include "monitor.h"

int hl_cp_start(struct agent *a)
{
	const char *dev = strcmp(a->cfg.cp_backend, "fpga") ? "software" : a->cfg.cp_device;
	struct fpgactl_opts o = { .device = dev };
	struct fpgactl *f = fpgactl_open(&o);
	int rc;

	if (!f) {
		rc = -errno;
		hl_log(HL_LOG_ERROR, "controlPlane: backend %s, device %s: %s", a->cfg.cp_backend, dev,
		       strerror(errno));
		return rc;
	}
	rc = hl_mon_set_backend(a->ep_node, f, dev);
	if (rc < 0) {
		hl_log(HL_LOG_ERROR, "controlPlane: %s: the admin queue: %s", dev, strerror(-rc));
		return rc;
	}
	hl_log(HL_LOG_INFO, "controlPlane: backend %s, device %s", a->cfg.cp_backend, dev);
	return 0;
}

/* On the loop thread: the monitor is its alone. */
static void cp_numbers(struct agent *a, void *arg)
{
	if (a->ep_node)
		hl_mon_cp_get_stats(a->ep_node, arg);
}

void hl_cp_status(struct agent *a, cJSON *o)
{
	struct hl_mon_cp_stats st;
	cJSON *c = cJSON_AddObjectToObject(o, "controlPlane"), *t, *n;

	memset(&st, 0, sizeof(st));
	hl_run_on_loop(a, cp_numbers, &st);
	if (!c)
		return;
	cJSON_AddStringToObject(c, "backend", a->cfg.cp_backend);
	cJSON_AddStringToObject(c, "engine", st.on ? st.backend : "none");
	cJSON_AddStringToObject(c, "device", st.device);
	cJSON_AddBoolToObject(c, "servesQueues", st.serves);
	t = cJSON_AddObjectToObject(c, "tables");
	for (unsigned i = 0; t && i < HL_MON_CP_TABLES; i++) {
		cJSON *e = cJSON_AddObjectToObject(t, hl_mon_cp_table_name(i));

		if (!e)
			continue;
		cJSON_AddNumberToObject(e, "entries", (double)st.entries[i]);
		cJSON_AddNumberToObject(e, "capacity", (double)st.capacity[i]);
	}
	cJSON_AddNumberToObject(c, "notHeld", (double)st.unsupported);
	cJSON_AddNumberToObject(c, "syncs", (double)st.syncs);
	cJSON_AddNumberToObject(c, "writes", (double)st.writes);
	cJSON_AddNumberToObject(c, "writeErrors", (double)st.write_errors);
	cJSON_AddNumberToObject(c, "verified", (double)st.verified);
	cJSON_AddNumberToObject(c, "mismatches", (double)st.mismatches);
	cJSON_AddNumberToObject(c, "connectsDecided", (double)st.decided);
	cJSON_AddNumberToObject(c, "listensChecked", (double)st.checked);
	cJSON_AddNumberToObject(c, "listensDisagreed", (double)st.disagreed);
	n = cJSON_AddObjectToObject(c, "counters");
	for (unsigned i = 0; n && i < HL_MON_CP_COUNTERS; i++)
		cJSON_AddNumberToObject(n, hl_mon_cp_counter_name(i), (double)st.counters[i]);
}
