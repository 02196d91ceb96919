/* SPDX-License-Identifier: MIT */
/*
 * shmq-bench plumbing: pinning, dying, whole reads and writes, and the
 * network namespaces of the tcp-veth transport.
 */
#include "bench.h"

void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s) < 0)
		fprintf(stderr, "shmq-bench: cannot pin to cpu %d: %s\n", cpu, strerror(errno));
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "shmq-bench: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	_exit(2);
}

int write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- netns plumbing for tcp-veth ---- */

static char ns_name[3][32];
static int ns_up;

static int run_cmd(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

/* Async-signal-safe: fork+exec `ip netns del` for each namespace. */
void ns_cleanup(void)
{
	if (!ns_up)
		return;
	ns_up = 0;
	for (int i = 0; i < 3; i++) {
		pid_t p = fork();

		if (p == 0) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execlp("ip", "ip", "netns", "del", ns_name[i], (char *)NULL);
			_exit(127);
		}
		if (p > 0)
			waitpid(p, NULL, 0);
	}
}

int ns_setup(void)
{
	static const char *const sfx[3] = { "br", "srv", "cli" };

	for (int i = 0; i < 3; i++)
		snprintf(ns_name[i], sizeof(ns_name[i]), "shmqb-%d-%s", (int)getpid(), sfx[i]);
	ns_up = 1;
	if (run_cmd("ip netns add %s && ip netns add %s && ip netns add %s", ns_name[0],
		    ns_name[1], ns_name[2]) ||
	    run_cmd("ip -n %s link add br0 type bridge && ip -n %s link set br0 up", ns_name[0],
		    ns_name[0]) ||
	    run_cmd("ip -n %s link add vs type veth peer name eth0 netns %s", ns_name[0],
		    ns_name[1]) ||
	    run_cmd("ip -n %s link add vc type veth peer name eth0 netns %s", ns_name[0],
		    ns_name[2]) ||
	    run_cmd("ip -n %s link set vs master br0 up && ip -n %s link set vc master br0 up",
		    ns_name[0], ns_name[0]) ||
	    run_cmd("ip -n %s addr add 10.211.0.1/24 dev eth0 && ip -n %s link set eth0 up && "
		    "ip -n %s link set lo up", ns_name[1], ns_name[1], ns_name[1]) ||
	    run_cmd("ip -n %s addr add 10.211.0.2/24 dev eth0 && ip -n %s link set eth0 up && "
		    "ip -n %s link set lo up", ns_name[2], ns_name[2], ns_name[2])) {
		ns_cleanup();
		return -1;
	}
	return 0;
}

void ns_enter(int which)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns_name[which]);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
		die("setns %s: %s", path, strerror(errno));
	close(fd);
}
