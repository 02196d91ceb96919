/*
 * cni-bench: ADD+DEL latency of CNI plugins, side by side.
 *
 *   cni-bench [--json] --pods N --netns-prefix PREFIX
 *             LABEL BINARY CONFIG  LABEL BINARY CONFIG ...
 *
 * For pod i (0..N-1) every plugin gets an ADD then a DEL in the network
 * namespace PREFIX<i> (created by the caller), container id
 * bench-<label>-<i>, ifname eth0, its CONFIG file on stdin and the caller's
 * CNI_PATH. The plugin order is rotated per pod so that all of them see the
 * same machine state (caches, bridge age) on average. Each call is timed
 * from fork to reaped exit with CLOCK_MONOTONIC, i.e. what a runtime pays.
 *
 * Prints median and p99 of ADD, DEL and ADD+DEL per plugin, and the ratio
 * of each plugin's median to the last plugin's (the reference); with --json
 * one object per line: {"bench","plugin","op","pods","p50_us","p99_us",
 * "ratio","vs"} where ratio = p50 / p50 of plugin "vs".
 * A failing call aborts the run (exit 1) with the plugin's output on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PLUGINS 4
#define OUT_MAX     65536

enum { OP_ADD, OP_DEL, OP_BOTH, OP_COUNT };
static const char *const op_names[OP_COUNT] = { "ADD", "DEL", "ADD+DEL" };

struct plugin {
	const char *label;
	const char *binary;
	char *config;
	size_t config_len;
	double *us[OP_COUNT];
};

struct run {
	int pods;
	int json;
	const char *netns_prefix;
	int nplugins;
	struct plugin plugins[MAX_PLUGINS];
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

static void child_exec(const struct plugin *p, const char *cmd, const char *cid,
		       const char *netns, int in_fd, int out_fd)
{
	int devnull = open("/dev/null", O_WRONLY);

	if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0)
		_exit(127);
	/* stderr is the plugin's log: keep it out of the timing pipe. */
	if (devnull >= 0)
		dup2(devnull, STDERR_FILENO);
	setenv("CNI_COMMAND", cmd, 1);
	setenv("CNI_CONTAINERID", cid, 1);
	setenv("CNI_NETNS", netns, 1);
	setenv("CNI_IFNAME", "eth0", 1);
	execl(p->binary, p->binary, (char *)NULL);
	_exit(127);
}

/* Writes the whole config, then drains stdout; configs are far below the
 * pipe buffer, so the write never waits on the child reading. */
static int feed_and_collect(const struct plugin *p, int in_w, int out_r, char *out, size_t *out_len)
{
	size_t off = 0;
	ssize_t n;

	while (off < p->config_len) {
		n = write(in_w, p->config + off, p->config_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break; /* the child may exit without reading stdin */
		off += (size_t)n;
	}
	close(in_w);
	*out_len = 0;
	for (;;) {
		n = read(out_r, out + *out_len, OUT_MAX - 1 - *out_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*out_len += (size_t)n;
		if (*out_len == OUT_MAX - 1)
			break;
	}
	out[*out_len] = '\0';
	close(out_r);
	return 0;
}

/* Runs one CNI call; returns its wall time in microseconds, or -1. */
static double run_call(const struct plugin *p, const char *cmd, const char *cid, const char *netns)
{
	static char out[OUT_MAX];
	int in[2], outp[2], status;
	size_t out_len;
	double t0, t1;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(outp, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	t0 = now_us();
	pid = fork();
	if (pid == 0)
		child_exec(p, cmd, cid, netns, in[0], outp[1]);
	close(in[0]);
	close(outp[1]);
	if (pid < 0) {
		close(in[1]);
		close(outp[0]);
		return -1;
	}
	feed_and_collect(p, in[1], outp[0], out, &out_len);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	t1 = now_us();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "cni-bench: %s %s %s failed (status %d): %s\n", p->label, cmd, cid,
			status, out);
		return -1;
	}
	return t1 - t0;
}

static int bench_pod(struct run *r, int i)
{
	char cid[128], netns[512];
	int k;

	snprintf(netns, sizeof(netns), "%s%d", r->netns_prefix, i);
	for (k = 0; k < r->nplugins; k++) {
		struct plugin *p = &r->plugins[(i + k) % r->nplugins];
		double add, del;

		snprintf(cid, sizeof(cid), "bench-%s-%d", p->label, i);
		add = run_call(p, "ADD", cid, netns);
		if (add < 0)
			return -1;
		del = run_call(p, "DEL", cid, netns);
		if (del < 0)
			return -1;
		p->us[OP_ADD][i] = add;
		p->us[OP_DEL][i] = del;
		p->us[OP_BOTH][i] = add + del;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double percentile(const double *v, int n, double q)
{
	int rank = (int)(q * n + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

static void report(struct run *r)
{
	double p50[MAX_PLUGINS][OP_COUNT], p99[MAX_PLUGINS][OP_COUNT];
	int k, op, ref = r->nplugins - 1;

	for (k = 0; k < r->nplugins; k++)
		for (op = 0; op < OP_COUNT; op++) {
			double *v = r->plugins[k].us[op];

			qsort(v, (size_t)r->pods, sizeof(*v), cmp_double);
			p50[k][op] = percentile(v, r->pods, 0.50);
			p99[k][op] = percentile(v, r->pods, 0.99);
		}
	if (r->json) {
		for (k = 0; k < r->nplugins; k++)
			for (op = 0; op < OP_COUNT; op++)
				printf("{\"bench\":\"cni-add-del\",\"plugin\":\"%s\",\"op\":\"%s\","
				       "\"pods\":%d,\"p50_us\":%.0f,\"p99_us\":%.0f,\"ratio\":%.3f,"
				       "\"vs\":\"%s\"}\n",
				       r->plugins[k].label, op_names[op], r->pods, p50[k][op],
				       p99[k][op], p50[k][op] / p50[ref][op], r->plugins[ref].label);
		return;
	}
	printf("CNI ADD+DEL latency, %d pods, microseconds (fork to exit)\n", r->pods);
	printf("%-8s", "op");
	for (k = 0; k < r->nplugins; k++)
		printf("  %12s p50 %8s", r->plugins[k].label, "p99");
	for (k = 0; k < ref; k++)
		printf("  %s/%s", r->plugins[k].label, r->plugins[ref].label);
	printf("\n");
	for (op = 0; op < OP_COUNT; op++) {
		printf("%-8s", op_names[op]);
		for (k = 0; k < r->nplugins; k++)
			printf("  %16.0f %8.0f", p50[k][op], p99[k][op]);
		for (k = 0; k < ref; k++)
			printf("  %*.2f", (int)(strlen(r->plugins[k].label) + strlen(r->plugins[ref].label) + 1),
			       p50[k][op] / p50[ref][op]);
		printf("\n");
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: cni-bench [--json] --pods N --netns-prefix PREFIX "
			"LABEL BINARY CONFIG [LABEL BINARY CONFIG ...]\n");
	return 2;
}

static int parse_args(struct run *r, int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			r->json = 1;
		else if (strcmp(argv[i], "--pods") == 0 && i + 1 < argc)
			r->pods = atoi(argv[++i]);
		else if (strcmp(argv[i], "--netns-prefix") == 0 && i + 1 < argc)
			r->netns_prefix = argv[++i];
		else
			return -EINVAL;
	}
	if (r->pods < 1 || !r->netns_prefix || (argc - i) % 3 != 0 || argc - i < 3 ||
	    (argc - i) / 3 > MAX_PLUGINS)
		return -EINVAL;
	for (; i < argc; i += 3) {
		struct plugin *p = &r->plugins[r->nplugins++];
		int op;

		p->label = argv[i];
		p->binary = argv[i + 1];
		p->config = read_file(argv[i + 2], &p->config_len);
		if (!p->config) {
			fprintf(stderr, "cni-bench: cannot read %s: %s\n", argv[i + 2], strerror(errno));
			return -errno;
		}
		for (op = 0; op < OP_COUNT; op++) {
			p->us[op] = calloc((size_t)r->pods, sizeof(double));
			if (!p->us[op])
				return -ENOMEM;
		}
	}
	return 0;
}

static void free_run(struct run *r)
{
	int k, op;

	for (k = 0; k < r->nplugins; k++) {
		free(r->plugins[k].config);
		for (op = 0; op < OP_COUNT; op++)
			free(r->plugins[k].us[op]);
	}
}

int main(int argc, char **argv)
{
	struct run r = { 0 };
	int i, rc = 0;

	if (parse_args(&r, argc, argv) < 0) {
		free_run(&r);
		return usage();
	}
	for (i = 0; i < r.pods; i++) {
		if (bench_pod(&r, i) < 0) {
			rc = 1;
			break;
		}
	}
	if (rc == 0)
		report(&r);
	free_run(&r);
	return rc;
}
