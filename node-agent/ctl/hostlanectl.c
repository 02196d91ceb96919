/* SPDX-License-Identifier: Apache-2.0 */
/* hostlanectl: asks the running hostlaned about itself and its pods. */
#include "ctl.h"
#include "hlagent.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct command {
	const char *name;
	int (*fn)(struct ctl *c, int argc, char **argv);
	const char *args;
	const char *help;
};

static const struct command commands[];

/* Exit codes: 0 ok, 1 the agent said no, 2 usage, 3 agent unreachable. */
static int call_failed(const struct ctl *c, int rc)
{
	char msg[256];

	fprintf(stderr, "hostlanectl: %s\n", hlagent_strerror(rc, c->socket, msg, sizeof(msg)));
	return 3;
}

static int agent_error(const struct hlagent_reply *r)
{
	fprintf(stderr, "hostlanectl: %s%s%s (code %d)\n", r->msg, r->details[0] ? ": " : "", r->details, r->code);
	return 1;
}

/* Runs a simple request; on success *root holds the parsed reply. */
static int ask(const struct ctl *c, const char *op, const char *key, const char *val, long offset,
	       cJSON **root)
{
	struct hlagent_reply r;
	int rc = hlagent_simple(c->socket, op, key, val, offset, c->timeout_ms, &r);

	if (rc < 0)
		return call_failed(c, rc);
	if (!r.ok) {
		rc = agent_error(&r);
		hlagent_reply_free(&r);
		return rc;
	}
	*root = cJSON_Parse(r.json);
	hlagent_reply_free(&r);
	return *root ? 0 : 1;
}

static void print_json(const cJSON *o)
{
	char *s = cJSON_Print(o);

	if (s)
		puts(s);
	free(s);
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* "3s ago", "never". */
static const char *ago(double t, char *buf, size_t n)
{
	double d = (double)time(NULL) - t;

	if (t <= 0)
		return "never";
	snprintf(buf, n, "%.0fs ago", d < 0 ? 0 : d);
	return buf;
}

/* The API connection as the agent finds it: state, last sync, last error. */
static void k8s_line(const cJSON *k)
{
	const char *state = str(k, "state");
	char a[32], b[32];

	if (!*state || !strcmp(state, "off")) {
		printf("k8s:       off (no API server configured)\n");
		return;
	}
	if (!strcmp(state, "error")) {
		printf("k8s:       error: %s\n", str(k, "lastError"));
		return;
	}
	printf("k8s:       %s, %s; last sync %s; %.0f pods cached; %.0f errors\n", state,
	       str(k, "server"), ago(num(k, "lastSync"), a, sizeof(a)), num(k, "cachedPods"),
	       num(k, "errors"));
	if (*str(k, "lastError"))
		printf("           last error (%s): %s\n", ago(num(k, "lastErrorTime"), b, sizeof(b)),
		       str(k, "lastError"));
}

/* Policy kinds the agent does not enforce: what was found, what it does. */
static void unknown_line(const cJSON *u)
{
	const char *scope = str(u, "scope");
	const cJSON *k, *it, *ns = cJSON_GetObjectItemCaseSensitive(u, "namespaces");
	bool ignore = !strcmp(str(u, "mode"), "ignore");

	if (!*scope)
		return;
	if (!strcmp(scope, "unknown")) {
		printf("           other policy kinds: not looked up yet%s%s (no fast path until then)\n",
		       *str(u, "lastError") ? ": " : "", str(u, "lastError"));
		return;
	}
	if (!strcmp(scope, "none")) {
		printf("           other policy kinds: none with objects%s\n", ignore ? " (unknownPolicies: ignore)" : "");
		return;
	}
	printf("           other policy kinds (not enforced here):");
	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(u, "kinds")) {
		if (num(k, "objects") > 0 || *str(k, "note"))
			printf(" %s (%.0f%s%s)", str(k, "resource"), num(k, "objects"), *str(k, "note") ? ", " : "",
			       str(k, "note"));
	}
	if (ignore) {
		printf("\n           IGNORED (unknownPolicies: ignore): fast-path connections bypass them\n");
		return;
	}
	if (!strcmp(scope, "all")) {
		printf("\n           so no pod gets a fast-path connection (the kernel path carries them)\n");
		return;
	}
	printf("\n           so the pods of these namespaces get no fast-path connection:");
	cJSON_ArrayForEach(it, ns) {
		printf(" %s", cJSON_IsString(it) ? it->valuestring : "?");
	}
	printf("\n");
}

/* NetworkPolicy admission: sync state, the table, the monitor's verdicts. */
static void netpol_line(const cJSON *k)
{
	const char *state = str(k, "state");

	if (!*state)
		return;
	if (!strcmp(state, "off")) {
		printf("netpol:    off (%s)\n", str(k, "reason"));
		return;
	}
	printf("netpol:    %s; %.0f policies (%.0f not understood), %.0f namespaces, %.0f pods; "
	       "fast path: %.0f admitted, %.0f denied by policy\n", state, num(k, "policies"),
	       num(k, "refused"), num(k, "namespaces"), num(k, "pods"), num(k, "admitted"),
	       num(k, "denied"));
	if (*str(k, "lastRefused"))
		printf("           not understood (namespace isolated): %s\n", str(k, "lastRefused"));
	unknown_line(cJSON_GetObjectItemCaseSensitive(k, "unknownPolicies"));
}

/* "quota 3, pool 1" for the reasons that are not 0; "0" when none is. */
static void fallbacks(const cJSON *f, char *buf, size_t len)
{
	const cJSON *it;
	size_t n = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(it, f) {
		if (cJSON_IsNumber(it) && it->valuedouble > 0 && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s %.0f", n ? ", " : "", it->string,
					      it->valuedouble);
	}
	if (!n)
		snprintf(buf, len, "%s", f ? "0" : "-");
}

static int cmd_status(struct ctl *c, int argc, char **argv)
{
	cJSON *o, *fp, *it;
	char line[256];
	int rc;

	(void)argc; (void)argv;
	if ((rc = ask(c, "STATUS", NULL, NULL, -1, &o)) != 0)
		return rc;
	if (c->json) {
		print_json(o);
	} else {
		printf("agent:     hostlaned %s on node %s (up %.0fs)\n", str(o, "version"), str(o, "node"),
		       num(o, "uptimeSeconds"));
		printf("pods:      %.0f (", num(o, "pods"));
		fp = cJSON_GetObjectItemCaseSensitive(o, "podsByFastpath");
		cJSON_ArrayForEach(it, fp) {
			printf("%s%s %.0f", it == fp->child ? "" : ", ", it->string, it->valuedouble);
		}
		printf(")\nhugepages: pool %.0f MiB, used %.0f MiB, free on the node %.0f MiB; quotas %.0f MiB "
		       "of %.0f MiB (pool x overcommit %.0f)\n", num(o, "hugepagePoolBytes") / 1048576,
		       num(o, "hugepageUsedBytes") / 1048576, num(o, "hugepageFreeBytes") / 1048576,
		       num(o, "hugepageQuotaBytes") / 1048576, num(o, "shmCapacityBytes") / 1048576,
		       num(o, "overcommit"));
		fallbacks(cJSON_GetObjectItemCaseSensitive(o, "fallbacks"), line, sizeof(line));
		printf("fallbacks: %s (regions refused: those connections went to the kernel)\n", line);
		k8s_line(cJSON_GetObjectItemCaseSensitive(o, "kubernetes"));
		netpol_line(cJSON_GetObjectItemCaseSensitive(o, "networkPolicy"));
	}
	cJSON_Delete(o);
	return 0;
}

/* The control plane's engine: backend, device, table occupancy, counters. */
static int cmd_fpga(struct ctl *c, int argc, char **argv)
{
	cJSON *o, *cp, *it;
	int rc, k = 0;

	(void)argc; (void)argv;
	if ((rc = ask(c, "STATUS", NULL, NULL, -1, &o)) != 0)
		return rc;
	cp = cJSON_GetObjectItemCaseSensitive(o, "controlPlane");
	if (c->json) {
		print_json(cp);
	} else if (cp) {
		printf("backend:   %s (engine %s, device %s); tables through %s\n", str(cp, "backend"),
		       str(cp, "engine"), *str(cp, "device") ? str(cp, "device") : "-",
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cp, "servesQueues")) ?
		       "the admin queue" : "the register window");
		const cJSON *tb = cJSON_GetObjectItemCaseSensitive(cp, "tables");
		const cJSON *cn = cJSON_GetObjectItemCaseSensitive(cp, "counters");

		printf("tables:    ");
		cJSON_ArrayForEach(it, tb) {
			printf("%s%s %.0f/%.0f", k++ ? ", " : "", it->string, num(it, "entries"),
			       num(it, "capacity"));
		}
		printf("; not held by this engine %.0f\n", num(cp, "notHeld"));
		printf("writes:    %.0f syncs, %.0f writes, %.0f refused, %.0f verified, %.0f mismatches\n",
		       num(cp, "syncs"), num(cp, "writes"), num(cp, "writeErrors"), num(cp, "verified"),
		       num(cp, "mismatches"));
		printf("requests:  %.0f CONNECTs decided by the engine; LISTEN/UNLISTEN: %.0f served by both, "
		       "%.0f decided otherwise\n", num(cp, "connectsDecided"), num(cp, "listensChecked"),
		       num(cp, "listensDisagreed"));
		printf("counters: ");
		cJSON_ArrayForEach(it, cn) {
			printf(" %s %.0f", it->string, it->valuedouble);
		}
		printf("\n");
	} else {
		printf("backend:   none (an agent without a control-plane engine)\n");
	}
	cJSON_Delete(o);
	return 0;
}

static void pod_row(const cJSON *p)
{
	char name[512], ips[256] = "", procs[16] = "-", fb[128], used[24] = "-";
	const cJSON *ip, *arr = cJSON_GetObjectItemCaseSensitive(p, "ips");
	size_t n = 0;

	if (*str(p, "namespace"))
		snprintf(name, sizeof(name), "%s/%s", str(p, "namespace"), str(p, "name"));
	else
		snprintf(name, sizeof(name), "-");
	cJSON_ArrayForEach(ip, arr) {
		if (cJSON_IsString(ip) && n < sizeof(ips))
			n += (size_t)snprintf(ips + n, sizeof(ips) - n, "%s%s", n ? "," : "", ip->valuestring);
	}
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(p, "processes")))
		snprintf(procs, sizeof(procs), "%.0f", num(p, "processes"));
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(p, "usedBytes")))
		snprintf(used, sizeof(used), "%.0f", num(p, "usedBytes") / 1048576);
	fallbacks(cJSON_GetObjectItemCaseSensitive(p, "fallbacks"), fb, sizeof(fb));
	printf("%-32s %-14.12s %-6s %-18s %-22s %-10s %8.0f %7s %-8s %-5s %s\n", name, str(p, "containerID"),
	       str(p, "ifname"), str(p, "network"), n ? ips : "-", str(p, "fastpath"),
	       num(p, "quotaBytes") / 1048576, used,
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "endpoint")) ? "yes" : "-", procs, fb);
}

/* All pages of LIST, as one array. */
/* Every page of @op's "pods" into @all. */
static int list_all(const struct ctl *c, const char *op, cJSON *all)
{
	long off = 0;

	while (off >= 0) {
		cJSON *o, *pods, *next;
		int rc = ask(c, op, NULL, NULL, off, &o);

		if (rc != 0)
			return rc;
		pods = cJSON_DetachItemFromObjectCaseSensitive(o, "pods");
		while (pods && pods->child)
			cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(pods, pods->child));
		cJSON_Delete(pods);
		next = cJSON_GetObjectItemCaseSensitive(o, "next");
		off = cJSON_IsNumber(next) && next->valuedouble > off ? (long)next->valuedouble : -1;
		cJSON_Delete(o);
	}
	return 0;
}

static int cmd_pods(struct ctl *c, int argc, char **argv)
{
	cJSON *all = cJSON_CreateArray(), *p;
	int rc;

	(void)argc; (void)argv;
	if (!all)
		return 1;
	rc = list_all(c, "LIST", all);
	if (rc == 0 && c->json) {
		print_json(all);
	} else if (rc == 0) {
		printf("%-32s %-14s %-6s %-18s %-22s %-10s %8s %7s %-8s %-5s %s\n", "POD", "CONTAINER", "IF",
		       "NETWORK", "IPS", "FASTPATH", "QUOTA_MI", "USED_MI", "ENDPOINT", "PROCS", "FALLBACKS");
		cJSON_ArrayForEach(p, all) {
			pod_row(p);
		}
	}
	cJSON_Delete(all);
	return rc;
}

static int cmd_pod(struct ctl *c, int argc, char **argv)
{
	cJSON *o;
	int rc;

	if (argc != 1) {
		fprintf(stderr, "usage: hostlanectl pod ID  (container id or prefix, or namespace/name)\n");
		return 2;
	}
	if ((rc = ask(c, "GET", "id", argv[0], -1, &o)) != 0)
		return rc;
	print_json(cJSON_GetObjectItemCaseSensitive(o, "pod"));
	cJSON_Delete(o);
	return 0;
}

static void conn_rows(const cJSON *proc)
{
	const cJSON *k;

	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(proc, "connections")) {
		const char *to = str(k, "to"), *svc = str(k, "service");

		/* What the peer was: a pod IP, a Service (named), loopback. */
		printf("    fd %-5.0f %-9s %-22s -> %-22s %12.0f %12.0f %10.0f %10.0f %8.0f  %s%s%s\n",
		       num(k, "fd"), str(k, "side"), str(k, "local"), str(k, "peer"),
		       num(k, "tx_bytes"), num(k, "rx_bytes"), num(k, "tx_calls"),
		       num(k, "rx_calls"), num(k, "wakeups"), to, *svc ? " " : "", svc);
	}
}

static int cmd_conns(struct ctl *c, int argc, char **argv)
{
	cJSON *all = cJSON_CreateArray(), *p, *pr;
	int rc;

	if (argc > 1) {
		fprintf(stderr, "usage: hostlanectl conns [POD]  (namespace/name)\n");
		cJSON_Delete(all);
		return 2;
	}
	if (!all)
		return 1;
	rc = list_all(c, "CONNS", all);
	if (rc == 0 && argc == 1) {
		for (p = all->child; p;) {
			cJSON *nx = p->next;

			if (strcmp(str(p, "pod"), argv[0]))
				cJSON_Delete(cJSON_DetachItemViaPointer(all, p));
			p = nx;
		}
	}
	if (rc == 0 && c->json) {
		print_json(all);
	} else if (rc == 0) {
		printf("%-32s %8s %5s %8s %8s %9s %12s %12s %10s %10s %8s\n", "POD / PROCESS", "PID",
		       "OPEN", "CONNS", "DIRECT", "FALLBACKS", "TX_BYTES", "RX_BYTES", "TX_CALLS",
		       "RX_CALLS", "WAKEUPS");
		cJSON_ArrayForEach(p, all) {
			printf("%s\n", str(p, "pod"));
			cJSON_ArrayForEach(pr, cJSON_GetObjectItemCaseSensitive(p, "processes")) {
				printf("  %-30s %8.0f %5.0f %8.0f %8.0f %9.0f %12.0f %12.0f %10.0f %10.0f %8.0f\n",
				       "", num(pr, "pid"), num(pr, "open"), num(pr, "conns"), num(pr, "direct"),
				       num(pr, "fallbacks"),
				       num(pr, "tx_bytes"), num(pr, "rx_bytes"), num(pr, "tx_calls"),
				       num(pr, "rx_calls"), num(pr, "wakeups"));
				conn_rows(pr);
			}
		}
	}
	cJSON_Delete(all);
	return rc;
}

static int cmd_metrics(struct ctl *c, int argc, char **argv)
{
	cJSON *o;
	int rc;

	(void)argc; (void)argv;
	if ((rc = ask(c, "METRICS", NULL, NULL, -1, &o)) != 0)
		return rc;
	if (c->json)
		print_json(o);
	else
		fputs(str(o, "text"), stdout);
	cJSON_Delete(o);
	return 0;
}

static int cmd_version(struct ctl *c, int argc, char **argv)
{
	cJSON *o;
	int rc;

	(void)argc; (void)argv;
	rc = ask(c, "VERSION", NULL, NULL, -1, &o);
	if (rc == 0 && c->json) {
		cJSON_AddStringToObject(o, "client", CTL_VERSION);
		print_json(o);
	} else if (rc == 0) {
		printf("hostlanectl %s, hostlaned %s (protocol %.0f)\n", CTL_VERSION, str(o, "version"),
		       num(o, "protocol"));
	} else {
		printf("hostlanectl %s (protocol %d)\n", CTL_VERSION, HLAGENT_PROTO_VERSION);
	}
	cJSON_Delete(rc == 0 ? o : NULL);
	return rc;
}

/* Debugging and tests: stdin, as is, is the one request message. */
static int cmd_raw(struct ctl *c, int argc, char **argv)
{
	size_t cap = 1 << 16, n = 0, r;
	char *buf = malloc(cap);
	struct hlagent_reply rep;
	int rc;

	(void)argc; (void)argv;
	while (buf && (r = fread(buf + n, 1, cap - n, stdin)) > 0) {
		n += r;
		if (n == cap) {
			char *nb = cap < (1u << 24) ? realloc(buf, cap *= 2) : NULL;

			if (!nb) {
				free(buf);
				return 2;
			}
			buf = nb;
		}
	}
	if (!buf)
		return 2;
	rc = hlagent_call(c->socket, buf, n, c->timeout_ms, &rep);
	free(buf);
	if (rc < 0)
		return call_failed(c, rc);
	puts(rep.json);
	rc = rep.ok ? 0 : 1;
	hlagent_reply_free(&rep);
	return rc;
}

static int cmd_help(struct ctl *c, int argc, char **argv);

static const struct command commands[] = {
	{ "status",  cmd_status,  "",   "agent health, pod counts, hugepage pool" },
	{ "pods",    cmd_pods,    "",   "every pod attachment the agent knows; PROCS: processes attached to shm" },
	{ "pod",     cmd_pod,     "ID", "one pod (container id or prefix, or namespace/name)" },
	{ "metrics", cmd_metrics, "",   "the Prometheus metrics text" },
	{ "conns",   cmd_conns,   "[POD]", "preloaded processes and their hostlane connections, counters" },
	{ "fpga",    cmd_fpga,    "",   "the control plane's engine: backend, device, table occupancy, counters" },
	{ "version", cmd_version, "",   "client and agent versions" },
	{ "raw",     cmd_raw,     "",   "send stdin as one raw request, print the reply" },
	{ "inject",  ctl_inject,  "-f FILE", "give pods annotated hostlane.io/fastpath: shm the layer (no agent needed)" },
	{ "install-lib", ctl_install_lib, "DEST", "lay the layer out in DEST (the injected init container)" },
	{ "help",    cmd_help,    "",   "this text" },
	{ NULL, NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hostlanectl [--socket PATH] [--json] [--timeout MS] COMMAND [ARGS]\n\n"
		   "  --socket PATH  the agent's socket (default %s)\n"
		   "  --json         machine-readable output\n\ncommands:\n", HLAGENT_DEFAULT_SOCKET);
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-11s %-8s %s\n", c->name, c->args, c->help);
	fprintf(f, "\nexit status: 0 ok, 1 the agent answered with an error, 2 usage, 3 agent unreachable\n");
}

static int cmd_help(struct ctl *c, int argc, char **argv)
{
	(void)c; (void)argc; (void)argv;
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c = { .socket = HLAGENT_DEFAULT_SOCKET, .timeout_ms = 10000 };
	int opt;

	while ((opt = getopt_long(argc, argv, "+s:jt:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': c.socket = optarg; break;
		case 'j': c.json = true; break;
		case 't': c.timeout_ms = strtol(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (const struct command *cmd = commands; cmd->name; cmd++)
		if (strcmp(cmd->name, argv[optind]) == 0)
			return cmd->fn(&c, argc - optind - 1, argv + optind + 1);
	fprintf(stderr, "hostlanectl: unknown command \"%s\"\n", argv[optind]);
	usage(stderr);
	return 2;
}
