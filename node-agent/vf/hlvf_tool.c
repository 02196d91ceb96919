/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlvf — inspect and drive the VF pool from the command line (operators
 * debugging a node; the vf-* integration tests). Every call opens the pool
 * from its persisted state, exactly as a restarted agent does.
 *
 * Output is key=value lines. Exit status: 0 ok, 11 no free VF (the CNI
 * "try again later" code), 2 usage, 1 any other error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlvf.h"

struct ctx {
	struct hl_vf_pool *pool;
	bool netdev_only;
	int argc;
	char **argv;
};

static void print_mac(const char *key, const uint8_t *m)
{
	printf("%s=%02x:%02x:%02x:%02x:%02x:%02x\n", key, m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void print_info(const struct hl_vf_info *in)
{
	static const char *const st[] = { "free", "allocated", "attaching", "attached" };

	printf("pci=%s pf=%s vf=%u driver=%s netdev=%s mode=%s state=%s gen=%llu owner=%s\n",
	       in->pci, in->pf, in->vf, in->driver[0] ? in->driver : "-",
	       in->netdev[0] ? in->netdev : "-", in->dpdk ? "dpdk" : "kernel", st[in->state],
	       (unsigned long long)in->gen, in->owner[0] ? in->owner : "-");
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "hlvf: %s: %s\n", what, hl_vf_strerror(rc));
	return rc == -EAGAIN ? HL_VF_CNI_ERR_TRY_AGAIN : 1;
}

static int parse_conf(const char *json, struct hl_vf_conf *c)
{
	char err[128];

	if (!json)
		return 0;
	if (hl_vf_conf_parse(json, strlen(json), c, err, sizeof(err))) {
		fprintf(stderr, "hlvf: configuration: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

static int cmd_list(struct ctx *c)
{
	for (size_t i = 0; i < hl_vf_count(c->pool); i++) {
		struct hl_vf_info in;
		int rc = hl_vf_get(c->pool, i, &in);

		if (rc)
			return fail("list", rc);
		print_info(&in);
	}
	return 0;
}

static int cmd_alloc(struct ctx *c)
{
	enum hl_vf_want want = HL_VF_WANT_ANY;
	struct hl_vf_info in;
	int rc;

	if (c->argc > 1 && !strcmp(c->argv[1], "kernel"))
		want = HL_VF_WANT_KERNEL;
	else if (c->argc > 1 && !strcmp(c->argv[1], "dpdk"))
		want = HL_VF_WANT_DPDK;
	rc = hl_vf_alloc(c->pool, c->argv[0], want, &in);
	if (rc)
		return fail("alloc", rc);
	print_info(&in);
	return 0;
}

static int cmd_alloc_pci(struct ctx *c)
{
	struct hl_vf_info in;
	int rc = hl_vf_alloc_pci(c->pool, c->argv[0], c->argv[1], &in);

	if (rc)
		return fail("alloc-pci", rc);
	print_info(&in);
	return 0;
}

static int cmd_attach(struct ctx *c)
{
	struct hl_vf_conf conf = { 0 };
	struct hl_vf_result res;
	int rc;

	if (parse_conf(c->argc > 3 ? c->argv[3] : NULL, &conf))
		return 2;
	if (c->netdev_only) /* the PF rejects VF settings: configure the netdev only */
		memset(&conf.pf, 0, sizeof(conf.pf));
	rc = hl_vf_attach_kernel(c->pool, c->argv[0], c->argv[1], c->argv[2], &conf, &res);
	if (rc)
		return fail("attach", rc);
	printf("pciID=%s\nifname=%s\nifindex=%d\nmtu=%u\n", res.pci, res.ifname, res.ifindex,
	       res.mtu);
	print_mac("mac", res.mac);
	return 0;
}

static int cmd_attach_dpdk(struct ctx *c)
{
	struct hl_vf_conf conf = { 0 };
	struct hl_vf_result res;
	int rc;

	if (parse_conf(c->argc > 1 && c->argv[1][0] ? c->argv[1] : NULL, &conf))
		return 2;
	rc = hl_vf_attach_dpdk(c->pool, c->argv[0], &conf, &res);
	if (rc)
		return fail("attach-dpdk", rc);
	if (c->argc > 2) {
		rc = hl_vf_devinfo_write(c->argv[2], res.pci, res.pf_pci);
		if (rc)
			return fail("device-info", rc);
	}
	printf("pciID=%s\ndriver=%s\n", res.pci, res.driver);
	return 0;
}

static int cmd_release(struct ctx *c)
{
	int rc = hl_vf_release(c->pool, c->argv[0]);

	return rc ? fail("release", rc) : 0;
}

static int cmd_devinfo(struct ctx *c)
{
	char buf[512];
	int rc = hl_vf_devinfo_json(c->argv[0], c->argc > 1 ? c->argv[1] : NULL, buf,
				    sizeof(buf));

	if (rc < 0)
		return fail("devinfo", rc);
	fputs(buf, stdout);
	return 0;
}

static const struct command {
	const char *name;
	int (*fn)(struct ctx *c);
	int min_args;
	bool pool;
	const char *help;
} commands[] = {
	{ "list", cmd_list, 0, true, "list                          VFs and their slots" },
	{ "alloc", cmd_alloc, 1, true, "alloc OWNER [any|kernel|dpdk]  take a free VF" },
	{ "alloc-pci", cmd_alloc_pci, 2, true, "alloc-pci OWNER PCI           take that VF" },
	{ "attach", cmd_attach, 3, true, "attach OWNER NETNS IFNAME [JSON]  kernel mode" },
	{ "attach-dpdk", cmd_attach_dpdk, 1, true,
	  "attach-dpdk OWNER [JSON [DEVINFO]]  vfio mode, writes device-info" },
	{ "release", cmd_release, 1, true, "release OWNER                 restore and free" },
	{ "devinfo", cmd_devinfo, 1, false, "devinfo PCI [PF_PCI]          print device-info JSON" },
};

static int usage(FILE *f)
{
	fprintf(f, "usage: hlvf [--sysfs ROOT] --pf PF [--pf PF...] --state DIR [-v]\n"
		"            [--netdev-only (attach: send no PF settings)] COMMAND\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].help);
	return 2;
}

static void log_stderr(void *arg, int level, const char *msg)
{
	if (level <= *(int *)arg)
		fprintf(stderr, "hlvf: %s\n", msg);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "sysfs", required_argument, NULL, 's' }, { "pf", required_argument, NULL, 'p' },
		{ "state", required_argument, NULL, 'd' }, { "verbose", no_argument, NULL, 'v' },
		{ "netdev-only", no_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hl_vf_pool_opts o = { .log = log_stderr };
	int verbose = HL_VF_LOG_WARN, npf = 0, opt, rc;
	struct ctx c = { 0 };

	o.log_arg = &verbose;
	while ((opt = getopt_long(argc, argv, "+s:p:d:nvh", lo, NULL)) != -1) {
		switch (opt) {
		case 's': o.sysfs_root = optarg; break;
		case 'p':
			if (npf == HL_VF_MAX_PFS)
				return usage(stderr);
			o.pfs[npf++] = optarg;
			break;
		case 'd': o.state_dir = optarg; break;
		case 'n': c.netdev_only = true; break;
		case 'v': verbose = HL_VF_LOG_DEBUG; break;
		case 'h': return usage(stdout), 0;
		default: return usage(stderr);
		}
	}
	if (optind >= argc)
		return usage(stderr);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *cmd = &commands[i];

		if (strcmp(argv[optind], cmd->name))
			continue;
		c.argc = argc - optind - 1;
		c.argv = argv + optind + 1;
		if (c.argc < cmd->min_args)
			return usage(stderr);
		if (cmd->pool) {
			c.pool = hl_vf_pool_open(&o);
			if (!c.pool)
				return fail("open pool", -errno);
		}
		rc = cmd->fn(&c);
		hl_vf_pool_close(c.pool);
		return rc;
	}
	return usage(stderr);
}
