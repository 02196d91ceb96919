/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hostile-pod tool (test/integration/hostile-*.sh): a process in a shm
 * pod that speaks the pod protocol itself (lib/proto's messages and codec,
 * shmq's layouts) and does what a hostile tenant would with what the
 * monitor hands it. Each command is one attack; it prints what it managed
 * as "key value" lines for the test to judge.
 */
#ifndef HOSTLANE_HOSTILE_H
#define HOSTLANE_HOSTILE_H

#include <stdbool.h>
#include <stdint.h>

#include "hostlane_proto.h"

/* One connection to the pod's endpoint (@hostlane). */
struct hs_ep {
	int fd;
	uint32_t seq;
	uint16_t version;
	uint32_t hello_flags;
	int hello_fds[HL_PROTO_MAX_FDS];   /* what HELLO brought (stats, bell, ...) */
	unsigned n_hello_fds;
	unsigned events;                   /* EV_ACCEPTs seen (fds kept open) */
};

/* A reply and the fds it carried. */
struct hs_reply {
	struct hl_proto_msg m;
	int fds[HL_PROTO_MAX_FDS];
	int nfds;
};

/* Connects to @hostlane of this netns and says HELLO (versions @minv..@maxv).
 * 0 or -errno (the reply's status for a refused HELLO). */
int hs_open(struct hs_ep *e, unsigned minv, unsigned maxv);
void hs_close(struct hs_ep *e);
/* Sends @req (seq filled in) and waits for its reply; events that come
 * first are counted and their fds kept (a hostile listener never lets go).
 * 0 (see r->m.hdr.status) or -errno of the channel. */
int hs_call(struct hs_ep *e, struct hl_proto_msg *req, struct hs_reply *r);
/* Sends @req without waiting. 0 or -errno. */
int hs_send(struct hs_ep *e, struct hl_proto_msg *req);
/* Receives one message (reply or event) into @r; @wait_ms -1 forever.
 * 1 got one, 0 timed out, -errno. */
int hs_recv(struct hs_ep *e, struct hs_reply *r, int wait_ms);
/* CONNECT to @ip:@port (slot flag when the version has slots). */
int hs_connect(struct hs_ep *e, const char *ip, uint16_t port, struct hs_reply *r);

/* "eventfd", "pidfd", "memfd", "socket", "pipe", ... of @fd. */
const char *hs_fd_kind(int fd);
/* Writes one wake-up to @fd whatever it is (8 bytes). */
void hs_poke(int fd);

/* The protocol versions HELLO offers (-V MIN:MAX). */
extern unsigned hs_vmin, hs_vmax;
/* CLOCK_MONOTONIC in milliseconds. */
uint64_t hs_now_ms(void);
/* Sleeps @ms, whatever signals come. */
void hs_hold(unsigned ms);
/* hs_open() with hs_vmin..hs_vmax, or exit 2 with the reason printed. */
int hs_open_or_die(struct hs_ep *e);
/* CONNECT to @ip:@port, or exit 2 with the reason printed. */
void hs_connect_or_die(struct hs_ep *e, const char *ip, const char *port, struct hs_reply *r);

/* Commands in hostile_mem.c: ARGC/ARGV after the command's name; 0 when the
 * attack ran (its outcome printed), -1 for a usage error; a failed set-up
 * step exits 2. */
int cmd_steal(int argc, char **argv);
int cmd_punch(int argc, char **argv);
int cmd_punch_agent(int argc, char **argv);
int cmd_flagflip(int argc, char **argv);
int cmd_dflood(int argc, char **argv);
/* In hostile_direct.c. */
int cmd_dsteal(int argc, char **argv);

#endif
