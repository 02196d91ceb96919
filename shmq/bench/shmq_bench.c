/* SPDX-License-Identifier: MIT */
/*
 * shmq-bench: shmq against a bare ring (the floor of this machine) and the
 * kernel transports, in one run, on the same two cores.
 *
 *   shmq-bench [--mode stream|pingpong] [--msg-size N] [--count N | --seconds S]
 *              [--transport LIST] [--cpus A,B] [--batch N] [--json]
 *
 * stream:   one-way messages/s, producer and consumer in two processes.
 * pingpong: round-trip time percentiles over many round trips.
 * Transports: shmq, raw, pipe, unix, tcp-loopback, tcp-veth.
 *
 * This file: the options, one measurement (two forked workers), the
 * output. The rest is in bench_*.c (see bench.h).
 */
#include "bench.h"

const char *const tp_name[T_N] = { "shmq", "raw", "shmq-stream", "shmq-pool", "pipe", "unix",
				   "tcp-loopback", "tcp-veth" };

struct opts cfg = { STREAM, 64, 0, 1.0, { 1, 1, 1, 1, 1, 1, 1, 1 }, { 0, 1 }, 32, 0 };

/* ---- one measurement ------------------------------------------------- */

static pid_t workers[2];

static void on_signal(int sig)
{
	for (int i = 0; i < 2; i++)
		if (workers[i] > 0)
			kill(workers[i], SIGKILL);
	ns_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void worker(struct run *r, int s, int go_fd, int res_fd)
{
	struct result res;
	struct clock_stop cs = { 0, cfg.count };
	struct side sd;
	char c;

	memset(&res, 0, sizeof(res));
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	pin(cfg.cpu[s]);
	side_open(r, s, &sd);
	if (read_full(go_fd, &c, 1))
		die("go");
	if (!cfg.count)
		cs.deadline = now_ns() + (uint64_t)(cfg.seconds * 1e9);
	if (cfg.mode == STREAM) {
		if (s == 0)
			stream_producer(&sd, r->tp, &cs);
		else
			stream_consumer(&sd, r->tp, &res);
	} else {
		if (s == 0)
			pp_client(&sd, r->tp, &cs, &res);
		else
			pp_server(&sd, r->tp);
	}
	side_close(&sd, r->tp);
	if ((cfg.mode == STREAM) == (s == 1) && write_full(res_fd, &res, sizeof(res)))
		die("result");
	_exit(0);
}

static struct result measure(enum tp tp)
{
	struct result res;
	struct run r;
	int go[2], rp[2], st;

	memset(&res, 0, sizeof(res));
	if (run_prepare(&r, tp)) {
		snprintf(res.err, sizeof(res.err), "setup failed: %s%s", strerror(errno),
			 tp == T_VETH ? " (needs root and ip netns)" : "");
		run_release(&r);
		return res;
	}
	if (pipe(go) || pipe(rp))
		die("pipe");
	for (int s = 0; s < 2; s++) {
		workers[s] = fork();
		if (workers[s] < 0)
			die("fork");
		if (workers[s] == 0) {
			close(go[1]);
			close(rp[0]);
			worker(&r, s, go[0], rp[1]);
		}
	}
	close(go[0]);
	close(rp[1]);
	/* Only the workers may hold the transport fds (pipe EOF needs it). */
	for (int i = 0; i < 2; i++) {
		if (r.fd[i][1] >= 0 && r.fd[i][1] != r.fd[i][0])
			close(r.fd[i][1]);
		if (r.fd[i][0] >= 0)
			close(r.fd[i][0]);
		r.fd[i][0] = r.fd[i][1] = -1;
	}
	if (write_full(go[1], "gg", 2))
		die("go");
	close(go[1]);
	if (read_full(rp[0], &res, sizeof(res)))
		snprintf(res.err, sizeof(res.err), "worker failed");
	close(rp[0]);
	for (int s = 0; s < 2; s++) {
		while (waitpid(workers[s], &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			res.ok = 0;
			snprintf(res.err, sizeof(res.err), "worker %d failed", s);
		}
		workers[s] = 0;
	}
	run_release(&r);
	return res;
}

/* ---- output ---------------------------------------------------------- */

static void print_json(enum tp tp, const struct result *r)
{
	double mps = r->ok && r->ns ? (double)r->msgs * 1e9 / (double)r->ns : 0;

	printf("{\"transport\":\"%s\",\"mode\":\"%s\",\"msg_size\":%zu,", tp_name[tp],
	       cfg.mode == STREAM ? "stream" : "pingpong", cfg.msg);
	if (!r->ok) {
		printf("\"msgs_per_sec\":null,\"gbit_per_sec\":null,\"rtt_p50_ns\":null,"
		       "\"rtt_p99_ns\":null,\"error\":\"%s\"}\n", r->err);
		return;
	}
	printf("\"msgs_per_sec\":%.0f,", mps);
	if (cfg.mode == STREAM)
		printf("\"gbit_per_sec\":%.3f,\"rtt_p50_ns\":null,\"rtt_p99_ns\":null}\n",
		       mps * (double)cfg.msg * 8 / 1e9);
	else
		printf("\"gbit_per_sec\":null,\"rtt_p50_ns\":%.0f,\"rtt_p99_ns\":%.0f}\n", r->p50,
		       r->p99);
	fflush(stdout);
}

static void print_table(const struct result *res)
{
	const struct result *s = &res[T_SHMQ];

	printf("%-8s %8s  %-13s %12s %9s %11s %11s  %s\n", "mode", "msg_size", "transport",
	       "msgs/s", "Gbit/s", "RTT p50 ns", "RTT p99 ns",
	       cfg.mode == STREAM ? "shmq msgs/s ratio" : "this p50 / shmq p50");
	for (int t = 0; t < T_N; t++) {
		const struct result *r = &res[t];
		double mps, smps;
		char ratio[32] = "-";

		if (!cfg.tp[t])
			continue;
		if (!r->ok) {
			printf("%-8s %8zu  %-13s  not measured: %s\n",
			       cfg.mode == STREAM ? "stream" : "pingpong", cfg.msg, tp_name[t], r->err);
			continue;
		}
		mps = (double)r->msgs * 1e9 / (double)r->ns;
		smps = s->ok ? (double)s->msgs * 1e9 / (double)s->ns : 0;
		if (s->ok && cfg.mode == STREAM)
			snprintf(ratio, sizeof(ratio), "%.2fx", smps / mps);
		else if (s->ok && s->p50 > 0)
			snprintf(ratio, sizeof(ratio), "%.2fx", r->p50 / s->p50);
		if (cfg.mode == STREAM)
			printf("%-8s %8zu  %-13s %12.0f %9.2f %11s %11s  %s\n", "stream", cfg.msg,
			       tp_name[t], mps, mps * (double)cfg.msg * 8 / 1e9, "-", "-", ratio);
		else
			printf("%-8s %8zu  %-13s %12.0f %9s %11.0f %11.0f  %s\n", "pingpong", cfg.msg,
			       tp_name[t], mps, "-", r->p50, r->p99, ratio);
	}
}

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: shmq-bench [--mode stream|pingpong] [--msg-size N] [--count N | --seconds S]\n"
		"                  [--transport LIST] [--cpus A,B] [--batch N] [--json]\n"
		"  transports: shmq,raw,shmq-stream,shmq-pool,pipe,unix,tcp-loopback,tcp-veth\n"
		"              (default: all)\n");
	exit(rc);
}

static void parse_transports(char *list)
{
	memset(cfg.tp, 0, sizeof(cfg.tp));
	for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
		int found = 0;

		for (int i = 0; i < T_N; i++)
			if (!strcmp(t, tp_name[i]))
				cfg.tp[i] = found = 1;
		if (!found) {
			fprintf(stderr, "shmq-bench: unknown transport %s\n", t);
			usage(2);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "msg-size", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "transport", required_argument, NULL, 'T' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "batch", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct result res[T_N];
	int c;

	while ((c = getopt_long(argc, argv, "m:s:n:t:T:c:b:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "stream"))
				cfg.mode = STREAM;
			else if (!strcmp(optarg, "pingpong"))
				cfg.mode = PINGPONG;
			else
				usage(2);
			break;
		case 's': cfg.msg = strtoul(optarg, NULL, 0); break;
		case 'n': cfg.count = strtoull(optarg, NULL, 0); break;
		case 't': cfg.seconds = strtod(optarg, NULL); cfg.count = 0; break;
		case 'T': parse_transports(optarg); break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &cfg.cpu[0], &cfg.cpu[1]) != 2)
				usage(2);
			break;
		case 'b': cfg.batch = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'j': cfg.json = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (cfg.msg < 1 || cfg.msg > (16u << 20) || cfg.batch < 1 || cfg.batch > 4096 ||
	    (!cfg.count && !(cfg.seconds > 0)))
		usage(2);
	raw_geometry();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	memset(res, 0, sizeof(res));
	for (int t = 0; t < T_N; t++) {
		if (!cfg.tp[t])
			continue;
		res[t] = measure((enum tp)t);
		if (cfg.json)
			print_json((enum tp)t, &res[t]);
	}
	if (!cfg.json)
		print_table(res);
	return 0;
}
