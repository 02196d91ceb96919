/* SPDX-License-Identifier: Apache-2.0 */
/* The plugin's entry: environment, stdin config, one command, output. */
#include "cni.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	enum cni_cmd cmd;
	int (*fn)(struct cni_ctx *x, struct cni_err *e);
	const char *help;
} table[] = {
	{ CNI_CMD_ADD, cni_cmd_add, "attach a container (veth + bridge + IPAM, or chained)" },
	{ CNI_CMD_DEL, cni_cmd_del, "detach a container, idempotently" },
	{ CNI_CMD_CHECK, cni_cmd_check, "verify an attachment against prevResult" },
	{ CNI_CMD_STATUS, cni_cmd_status, "report whether ADD can be served" },
	{ CNI_CMD_GC, cni_cmd_gc, "release attachments not in cni.dev/valid-attachments" },
};

static void print_error(const struct cni_err *e, const char *version)
{
	char *s = cni_err_json(e, version);

	cni_err_log("%s: %s", e->msg, e->details);
	if (s)
		printf("%s\n", s);
	free(s);
}

static void usage(void)
{
	fprintf(stderr, "hostlane: a CNI plugin (spec 0.3.0 to 1.1.0); run by a container runtime\n"
			"with CNI_COMMAND set and the network configuration on stdin:\n");
	fprintf(stderr, "  %-8s %s\n", "VERSION", "print the supported CNI versions");
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		static const char *const names[] = { "", "ADD", "DEL", "CHECK", "STATUS", "GC" };

		fprintf(stderr, "  %-8s %s\n", names[table[i].cmd], table[i].help);
	}
}

static int run_cmd(struct cni_ctx *x, const char *in, size_t len, struct cni_err *e)
{
	if (cni_conf_parse(in, len, x->env.cmd, &x->conf, e) < 0)
		return -1;
	cni_log_setup(x->conf.log_file, x->conf.log_level);
	cni_debug("%s %s/%s netns=%s", x->env.command, x->env.containerid ? x->env.containerid : "-",
		  x->env.ifname ? x->env.ifname : "-", x->env.netns ? x->env.netns : "-");
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].cmd == x->env.cmd)
			return table[i].fn(x, e);
	return cni_err_set(e, CNI_ERR_ENV, "invalid environment variable", "CNI_COMMAND");
}

int cni_run(const char *in, size_t len, const char *(*get)(const char *))
{
	struct cni_ctx x = { .cache_root = cni_cache_dir() };
	struct cni_err e = { 0 };
	int rc;

	cni_log_setup(NULL, CNI_LOG_WARN);
	if (cni_env_load(&x.env, get, &e) < 0) {
		if (!get("CNI_COMMAND"))
			usage();
		print_error(&e, NULL);
		return 1;
	}
	if (x.env.cmd == CNI_CMD_VERSION) {
		char *v = cni_version_json();

		printf("%s\n", v ? v : "");
		free(v);
		return v ? 0 : 1;
	}
	rc = run_cmd(&x, in, len, &e);
	if (rc < 0)
		print_error(&e, x.conf.version > 0 ? x.conf.version_str : NULL);
	else if (x.out)
		printf("%s\n", x.out);
	free(x.out);
	cni_conf_free(&x.conf);
	cni_log_close();
	return rc < 0 ? 1 : 0;
}
