/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A listener several processes share after fork() (a pre-fork server:
 * nginx's master listens, its workers accept). The registration with the
 * monitor (LISTEN) belongs to the channel of the process that listened; a
 * child that accepts on the listener it inherited takes the registration
 * over: UNLISTEN on the inherited channel (sent without waiting: another
 * holder may read its reply), LISTEN on its own channel, whose doorbell
 * and accept events it watches in the listener's epoll set from then on.
 * Connections to the port are then set up with that process: the first of
 * each connector process through the monitor, every later one directly in
 * the region they share (pl_direct.c), as with a listener nobody shares.
 *
 * The monitor takes one listener per port and pod, so one holder takes the
 * hostlane connections: a second one that tries gets EADDRINUSE and tries
 * again at most every CLAIM_EVERY_NS while it accepts (kernel connections
 * only meanwhile). When the holder that took it exits, its channel closes
 * and the monitor drops its registration: connections go to the kernel
 * listener, which every holder shares, until the next holder that accepts
 * takes the registration. A listener whose own process keeps accepting
 * (a fork-per-connection server, a snapshot child) is never taken: the
 * children do not accept.
 */
#include <string.h>
#include <time.h>

#include "hl_codec.h"
#include "pl_private.h"

#define CLAIM_EVERY_NS 100000000  /* 100 ms */
#define CLAIM_TRIES 4             /* LISTEN retried 1 ms apart */

static atomic_int claiming;

static void take(struct pl_sock *s, struct pl_ctl *old, struct pl_ctl *c, int tries);

void pl_listen_claim(struct pl_sock *s)
{
	struct pl_ctl *c, *old = s->ctl;
	int64_t now;
	int tries;

	if (!old || pl_ctl_mine(old) || s->lep < 0 || s->kind != PL_LISTEN)
		return;
	now = pl_now_ns();
	if (s->claim_ns && now - s->claim_ns < CLAIM_EVERY_NS)
		return;
	/* One thread of the process at a time (the others accept as before). */
	if (atomic_exchange(&claiming, 1))
		return;
	tries = s->claim_ns ? 0 : CLAIM_TRIES;  /* retries on the first try only */
	s->claim_ns = now;
	c = pl_ctl_get();  /* our own channel (and doorbell, at its HELLO) */
	if (c && c != old)
		take(s, old, c, tries);
	atomic_store(&claiming, 0);
}

/* Moves listener @s from channel @old to our own channel @c. */
static void take(struct pl_sock *s, struct pl_ctl *old, struct pl_ctl *c, int tries)
{
	struct epoll_event ec = { .events = EPOLLIN, .data.u32 = LISTEN_EV_CTL };
	struct epoll_event eb = { .events = EPOLLIN, .data.u32 = LISTEN_EV_PEER };
	struct hl_proto_msg req;
	int bell;

	/* The process that listened gives the port up, if it still has it
	 * (if another holder took it, this changes nothing). */
	hl_proto_init(&req, HL_POD_OP_UNLISTEN, 0);
	req.u.listen.port = s->port;
	pl_ctl_post(old, &req);
	/* The monitor reads the two channels in no fixed order: the LISTEN
	 * may come before the UNLISTEN: a few short retries the first time
	 * (later tries find another holder's registration, most likely). */
	for (int i = 0; pl_exec_ctl_port(c, HL_POD_OP_LISTEN, s->port, s->kfd); i++) {
		struct timespec ts = { 0, 1000000 };

		if (i >= tries)
			return;  /* another holder has it */
		nanosleep(&ts, NULL);
	}
	if (pl_real.epoll_ctl(s->lep, EPOLL_CTL_ADD, pl_ctl_fd(c), &ec) < 0) {
		pl_exec_ctl_port(c, HL_POD_OP_UNLISTEN, s->port, -1);
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->ctl_old = old;
	s->ctl = c;
	pthread_mutex_unlock(&s->lock);
	/* Regions mapped before the fork were the parent's: its table
	 * entries for this port go, so their connectors ask the monitor,
	 * which sends them here. */
	pl_direct_unpublish_inherited(old, s->port);
	bell = pl_direct_bell_fd();
	s->published = false;
	if (bell >= 0 && pl_real.epoll_ctl(s->lep, EPOLL_CTL_ADD, bell, &eb) == 0) {
		s->published = pl_direct_publish(s->port, &s->pub_addr, s->pub_v6only, true);
		if (!s->published)
			pl_real.epoll_ctl(s->lep, EPOLL_CTL_DEL, bell, NULL);
	}
}
