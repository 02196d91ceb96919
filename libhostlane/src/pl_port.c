/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Local ports of the connections this process makes over hostlane.
 *
 * A hostlane connection needs a local port (getsockname(), the peer's
 * accept() and getpeername()) but no kernel socket keeps one: asking the
 * kernel for it (bind to port 0, getsockname) costs two system calls per
 * connect(). The layer picks it itself instead, as the kernel would: from
 * the pod's ephemeral range (net.ipv4.ip_local_port_range of its network
 * namespace), never a reserved one (net.ipv4.ip_local_reserved_ports),
 * never one a live connection of this process holds; from a random start,
 * new in every process (a forked child too), going round the range.
 * Kernel-side uniqueness was never held anyway (the kernel socket that had
 * the port is gone once the connection is on hostlane).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pl_private.h"

int pl_ports_parse_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	char *end;
	unsigned long a, b;

	a = strtoul(s, &end, 10);
	if (end == s)
		return -EINVAL;
	s = end;
	b = strtoul(s, &end, 10);
	if (end == s || a == 0 || a > b || b > 65535)
		return -EINVAL;
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	if (*end)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

int pl_ports_parse_reserved(const char *s, uint64_t *bits)
{
	memset(bits, 0, PL_PORT_WORDS * sizeof(*bits));
	while (*s && *s != '\n') {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b;

		if (end == s || a > 65535)
			return -EINVAL;
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s || b > 65535 || b < a)
				return -EINVAL;
		}
		for (unsigned long p = a; p <= b; p++)
			bits[p / 64] |= UINT64_C(1) << (p % 64);
		if (*end == ',')
			end++;
		else if (*end && *end != '\n')
			return -EINVAL;
		s = end;
	}
	return 0;
}

uint16_t pl_ports_take(struct pl_ports *p)
{
	unsigned span = (unsigned)p->hi - p->lo + 1;

	if (!p->lo)
		return 0;
	for (unsigned i = 0; i < span; i++) {
		unsigned port = p->lo + atomic_fetch_add_explicit(&p->cursor, 1,
								  memory_order_relaxed) % span;
		uint64_t bit = UINT64_C(1) << (port % 64);

		if (p->reserved[port / 64] & bit)
			continue;
		if (!(atomic_fetch_or_explicit(&p->used[port / 64], bit, memory_order_relaxed) & bit))
			return (uint16_t)port;
	}
	return 0;  /* all held: the caller asks the kernel */
}

void pl_ports_release(struct pl_ports *p, uint16_t port)
{
	atomic_fetch_and_explicit(&p->used[port / 64], ~(UINT64_C(1) << (port % 64)),
				  memory_order_relaxed);
}

/* ---- this process's ------------------------------------------------------------ */

static struct pl_ports ports;
static pthread_once_t ports_once = PTHREAD_ONCE_INIT;

/* A whole small /proc file in @buf: 0, or -1 (an error, or more than fits). */
static int read_whole(const char *path, char *buf, size_t len)
{
	ssize_t n = pl_read_small(path, buf, len);

	return n < 0 || (size_t)n == len - 1 ? -1 : 0;
}

static void reseed(void)
{
	/* Different in every process, and in a child from its parent. */
	uint64_t x = (uint64_t)pl_now_ns() ^ ((uint64_t)getpid() << 32);

	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	atomic_store(&ports.cursor, (unsigned)x);
}

static void ports_init(void)
{
	char buf[4096];
	uint16_t lo, hi;

	if (read_whole("/proc/sys/net/ipv4/ip_local_port_range", buf, sizeof(buf)) ||
	    pl_ports_parse_range(buf, &lo, &hi))
		return;  /* lo stays 0: the kernel picks */
	if (read_whole("/proc/sys/net/ipv4/ip_local_reserved_ports", buf, sizeof(buf)) == 0 &&
	    pl_ports_parse_reserved(buf, ports.reserved))
		return;
	reseed();
	ports.hi = hi;
	ports.lo = lo;
}

uint16_t pl_port_get(void)
{
	pthread_once(&ports_once, ports_init);
	return pl_ports_take(&ports);
}

void pl_port_put(uint16_t port)
{
	if (port)
		pl_ports_release(&ports, port);
}

void pl_port_atfork_child(void)
{
	if (ports.lo)
		reseed();
}
