/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostlane-vswctl: command-line front end of libhlvsw, for operators, tests
 * and the demo. `supervise` runs the supervisor the way the agent embeds it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vsw_client.h"

struct cmd {
	const char *name;
	int (*fn)(const char *ctl, int argc, char **argv);
	const char *help;
};

static int fail(const char *what, int rc)
{
	fprintf(stderr, "hostlane-vswctl: %s: %s\n", what, strerror(-rc));
	return 1;
}

static struct hl_vsw_client *open_ctl(const char *ctl)
{
	struct hl_vsw_client *c = hl_vsw_client_open(ctl, 0);

	if (!c)
		fprintf(stderr, "hostlane-vswctl: %s: %s\n", ctl, strerror(errno));
	return c;
}

static int do_simple(const char *ctl, int argc, char **argv, int op)
{
	struct hl_vsw_client *c = open_ctl(ctl);
	enum hl_vsw_mode mode = HL_VSW_SWITCH_CLIENT;
	int rc;

	if (!c)
		return 1;
	if (op == 1 && argc == 4 && !strcmp(argv[3], "server"))
		mode = HL_VSW_SWITCH_SERVER;
	else if (op == 1 && argc == 4 && strcmp(argv[3], "client"))
		rc = -EINVAL;
	if (op == 0)
		rc = hl_vsw_ping(c);
	else if (op == 1)
		rc = argc >= 3 ? hl_vsw_add_port(c, argv[1], argv[2], mode) : -EINVAL;
	else
		rc = argc == 2 ? hl_vsw_del_port(c, argv[1]) : -EINVAL;
	hl_vsw_client_close(c);
	return rc ? fail(argv[0], rc) : 0;
}

static int cmd_ping(const char *ctl, int argc, char **argv)
{
	return do_simple(ctl, argc, argv, 0);
}

static int cmd_info(const char *ctl, int argc, char **argv)
{
	struct hl_vsw_client *c = open_ctl(ctl);
	struct hl_vsw_info in = { 0 };
	int rc;

	(void)argc;
	if (!c)
		return 1;
	rc = hl_vsw_get_info(c, &in);
	hl_vsw_client_close(c);
	if (rc)
		return fail(argv[0], rc);
	printf("pid %d start %llu ctl %s peer %d\n", (int)in.pid,
	       (unsigned long long)in.start_time, in.ctl, (int)in.peer_pid);
	return 0;
}

static int cmd_add(const char *ctl, int argc, char **argv)
{
	return do_simple(ctl, argc, argv, 1);
}

static int cmd_del(const char *ctl, int argc, char **argv)
{
	return do_simple(ctl, argc, argv, 2);
}

static int cmd_list(const char *ctl, int argc, char **argv)
{
	struct hl_vsw_port_stats p[64];
	struct hl_vsw_client *c = open_ctl(ctl);
	size_t n = 0;
	int rc;

	(void)argc;
	if (!c)
		return 1;
	rc = hl_vsw_list_ports(c, p, 64, &n);
	hl_vsw_client_close(c);
	if (rc)
		return fail(argv[0], rc);
	for (size_t i = 0; i < n; i++)
		printf("%s %s %s %s rx_packets=%llu rx_bytes=%llu tx_packets=%llu "
		       "tx_bytes=%llu rx_drops=%llu tx_drops=%llu\n",
		       p[i].name, p[i].up ? "up" : "down",
		       p[i].mode == HL_VSW_SWITCH_CLIENT ? "client" : "server",
		       p[i].path, (unsigned long long)p[i].rx_packets,
		       (unsigned long long)p[i].rx_bytes,
		       (unsigned long long)p[i].tx_packets,
		       (unsigned long long)p[i].tx_bytes,
		       (unsigned long long)p[i].rx_drops,
		       (unsigned long long)p[i].tx_drops);
	return 0;
}

static int cmd_macs(const char *ctl, int argc, char **argv)
{
	static struct hl_vsw_mac m[4096];
	struct hl_vsw_client *c = open_ctl(ctl);
	size_t n = 0;
	int rc;

	(void)argc;
	if (!c)
		return 1;
	rc = hl_vsw_list_macs(c, m, 4096, &n);
	hl_vsw_client_close(c);
	if (rc)
		return fail(argv[0], rc);
	for (size_t i = 0; i < n; i++)
		printf("%02x:%02x:%02x:%02x:%02x:%02x %s %llu\n", m[i].addr[0],
		       m[i].addr[1], m[i].addr[2], m[i].addr[3], m[i].addr[4],
		       m[i].addr[5], m[i].port, (unsigned long long)m[i].age_ms);
	return 0;
}

static int cmd_sockpath(const char *ctl, int argc, char **argv)
{
	char p[HL_VSW_PATH_MAX], n[HL_VSW_NAME_MAX];
	int rc;

	(void)ctl;
	if (argc != 5)
		return fail(argv[0], -EINVAL);
	rc = hl_vsw_sock_path(p, sizeof(p), argv[1], argv[2], argv[3], argv[4]);
	if (!rc)
		rc = hl_vsw_port_name(n, sizeof(n), argv[2], argv[3], argv[4]);
	if (rc)
		return fail(argv[0], rc);
	printf("%s %s\n", p, n);
	return 0;
}

static int cmd_devinfo(const char *ctl, int argc, char **argv)
{
	char *s;

	(void)ctl;
	if (argc != 2)
		return fail(argv[0], -EINVAL);
	s = hl_vsw_devinfo_json(argv[1], HL_VSW_SWITCH_CLIENT);
	if (!s)
		return fail(argv[0], -errno);
	printf("%s\n", s);
	free(s);
	return 0;
}

static volatile sig_atomic_t g_stop;

static void on_sig(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void log_stderr(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "supervise: %s%s\n", level == 0 ? "error: " : "", msg);
}

/* The value of the switch's --pidfile in its argv, if any. */
static const char *pidfile_of(char **argv)
{
	for (size_t i = 0; argv[i]; i++) {
		if (!strcmp(argv[i], "--pidfile") && argv[i + 1])
			return argv[i + 1];
		if (!strncmp(argv[i], "--pidfile=", 10))
			return argv[i] + 10;
	}
	return NULL;
}

/* supervise PORTFILE -- SWITCH-ARGV...: PORTFILE lines "name path [mode]".
 * Prints "pid N" (and "adopted" when it took over a running switch) each
 * time the switch changes. */
static int cmd_supervise(const char *ctl, int argc, char **argv)
{
	struct hl_vsw_sup_opts o = { .ctl_path = ctl, .log = log_stderr };
	struct hl_vsw_sup *s;
	char line[256];
	pid_t last = 0;
	FILE *f;
	int rc;

	if (argc < 4 || strcmp(argv[2], "--"))
		return fail(argv[0], -EINVAL);
	o.argv = argv + 3;
	o.pidfile = pidfile_of(argv + 3);
	s = hl_vsw_sup_new(&o);
	if (!s)
		return fail(argv[0], -errno);
	f = fopen(argv[1], "r");
	while (f && fgets(line, sizeof(line), f)) {
		char name[64], path[128], mode[16] = "client";
		if (sscanf(line, "%63s %127s %15s", name, path, mode) < 2)
			continue;
		rc = hl_vsw_sup_add_port(s, name, path,
					 strcmp(mode, "server") ? HL_VSW_SWITCH_CLIENT
								: HL_VSW_SWITCH_SERVER);
		if (rc)
			fprintf(stderr, "supervise: port %s: %s\n", name, strerror(-rc));
	}
	if (f)
		fclose(f);
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	rc = hl_vsw_sup_start(s, 20000);
	if (rc)
		fprintf(stderr, "supervise: start: %s\n", strerror(-rc));
	while (!g_stop) {
		struct pollfd p = { .fd = hl_vsw_sup_fd(s), .events = POLLIN };
		int next = hl_vsw_sup_next_ms(s);

		if (hl_vsw_sup_pid(s) != last) {
			last = hl_vsw_sup_pid(s);
			printf("pid %d%s\n", (int)last, hl_vsw_sup_adopted(s) ? " adopted" : "");
			fflush(stdout);
		}
		if (poll(&p, 1, next >= 0 && next < 200 ? next : 200) > 0 || next >= 0)
			hl_vsw_sup_handle_event(s, 20000);
	}
	hl_vsw_sup_free(s);
	return 0;
}

static const struct cmd cmds[] = {
	{ "ping", cmd_ping, "ping" },
	{ "info", cmd_info, "info          pid, start time, control socket, peer pid" },
	{ "add-port", cmd_add, "add-port NAME SOCKPATH [client|server]" },
	{ "del-port", cmd_del, "del-port NAME" },
	{ "list", cmd_list, "list          ports and counters" },
	{ "macs", cmd_macs, "macs          learned MACs (addr port age_ms)" },
	{ "sock-path", cmd_sockpath, "sock-path BASE NS NAME IFNAME   (no switch needed)" },
	{ "devinfo", cmd_devinfo, "devinfo SOCKPATH   device-info JSON" },
	{ "supervise", cmd_supervise, "supervise PORTFILE -- SWITCH ARGS...   run and restart the switch" },
};

static void usage(void)
{
	fprintf(stderr, "usage: hostlane-vswctl [-s CTLSOCK] COMMAND ...\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "  %s\n", cmds[i].help);
}

int main(int argc, char **argv)
{
	const char *ctl = HL_VSW_DEFAULT_CTL;
	int i = 1;

	if (argc > 2 && !strcmp(argv[1], "-s")) {
		ctl = argv[2];
		i = 3;
	}
	if (i >= argc) {
		usage();
		return 2;
	}
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		if (!strcmp(argv[i], cmds[k].name))
			return cmds[k].fn(ctl, argc - i, argv + i);
	}
	usage();
	return 2;
}
