/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the exec handover state (HOSTLANE_EXEC_STATE) as a new image
 * reads it from the old one. Input byte 0 picks the shape: bit 7 set, the
 * rest is the state verbatim; else a well-formed state of (input[0] & 15)
 * records is built and the rest of the input is a list of patches
 * [u16 offset][u8 len][len bytes] applied to it, so the checks behind the
 * header are reached too. Whatever the input, the parser must not crash,
 * read outside the buffer, or accept a state whose fields break the rules
 * pl_exec.c relies on; accepted states are re-checked here.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pl_private.h"

#define PID 4242

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t build(uint8_t *buf, unsigned n)
{
	struct pl_exec_hdr *h = (struct pl_exec_hdr *)buf;
	struct pl_exec_rec *r = (struct pl_exec_rec *)(h + 1);
	int next = 100;

	memset(buf, 0, sizeof(*h) + n * sizeof(*r));
	*h = (struct pl_exec_hdr){ .magic = PL_EXEC_MAGIC, .version = PL_EXEC_VERSION,
				   .rec_size = sizeof(*r), .n_recs = n, .pid = PID,
				   .shref_fd = next++ };
	for (unsigned i = 0; i < n; i++) {
		/* one listener first, then connections, the last one queued */
		uint32_t kind = i == 0 ? PL_X_LISTEN : i + 1 == n && n > 2 ? PL_X_QUEUED : PL_X_CONN;

		r[i].kind = kind;
		r[i].fd = kind == PL_X_QUEUED ? 3 : 3 + (int)i;
		r[i].family = AF_INET;
		for (unsigned k = 0; k < 4; k++)
			r[i].fds[k] = k < (kind == PL_X_LISTEN ? 2u : 4u) ? next++ : -1;
		r[i].shref = (int32_t)i;
		r[i].port = kind == PL_X_CONN ? 0 : 7300;
		r[i].peer_port = kind == PL_X_QUEUED ? 40000 : 0;
		r[i].qpeer.family = 4;
		r[i].rcvtimeo_us = 200000;
	}
	return sizeof(*h) + n * sizeof(*r);
}

static void recheck(const struct pl_exec_rec *r, int n)
{
	for (int i = 0; i < n; i++) {
		if ((r[i].kind == PL_X_CLOSED ? r[i].fd != -1 : r[i].fd < 0) ||
		    r[i].fd >= PL_FD_MAX || r[i].side > 1 ||
		    r[i].local_len > sizeof(struct sockaddr_storage) ||
		    r[i].peer_len > sizeof(struct sockaddr_storage) ||
		    r[i].shref >= PL_SHREF_SLOTS || r[i].kind < PL_X_PENDING || r[i].kind > PL_X_CLOSED)
			abort();
		for (unsigned k = 0; k < 4; k++)
			if (r[i].fds[k] < -1 || r[i].fds[k] >= PL_FD_MAX)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct pl_exec_rec *recs;
	uint8_t *buf;
	size_t len;
	int n, shref;

	if (size < 1)
		return 0;
	if (data[0] & 0x80) {
		len = size - 1;
		buf = malloc(len ? len : 1);
		if (!buf)
			return 0;
		memcpy(buf, data + 1, len);
	} else {
		unsigned nrec = data[0] & 15u;

		buf = malloc(sizeof(struct pl_exec_hdr) + nrec * sizeof(struct pl_exec_rec));
		if (!buf)
			return 0;
		len = build(buf, nrec);
		for (size_t i = 1; i + 3 <= size;) {
			size_t off = (size_t)data[i] | (size_t)data[i + 1] << 8, l = data[i + 2];

			i += 3;
			if (l > size - i)
				l = size - i;
			if (off < len)
				memcpy(buf + off, data + i, l < len - off ? l : len - off);
			i += l;
		}
	}
	n = pl_exec_state_check(buf, len, PID, &recs, &shref);
	if (n > 0)
		recheck(recs, n);
	if (n >= 0 && ((const uint8_t *)recs < buf || shref < -1))
		abort();
	free(buf);
	return 0;
}
