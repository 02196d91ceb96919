/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: an arbitrary ring image from a hostile peer, fed to the
 * consumer (and the producer) side. Input:
 *   byte 0 bit 7 set: the rest is the raw pair image, verbatim;
 *   else: bit 0 picks the mode, a valid pair is formatted and the rest is a
 *   list of patches [u16 offset][u8 len][len bytes], applied one at a time
 *   between operations, so the peer also changes things mid-stream.
 * Whatever the input, the library must not crash, read or write outside the
 * image, or loop; it either works or reports -EPROTO.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shmq.h"

#define CAP 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drive(struct shmq_ep *ep, int step)
{
	uint8_t buf[CAP];
	const void *p;
	void *w;
	ssize_t n;

	switch (step % 6) {
	case 0:
		n = shmq_ep_mode(ep) == SHMQ_MODE_MSG ? shmq_recv(ep, buf, sizeof(buf), 0)
						       : shmq_read(ep, buf, sizeof(buf), 0);
		break;
	case 1:
		n = shmq_peek(ep, &p);
		if (n > 0) {
			memcpy(buf, p, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
			shmq_release(ep, (size_t)n);
		}
		break;
	case 2: {
		struct iovec iov[3] = { { buf, 10 }, { buf, 1000 }, { buf, CAP } };

		n = shmq_ep_mode(ep) == SHMQ_MODE_MSG ? shmq_recv_burst(ep, iov, 3)
						       : shmq_readable(ep);
		break;
	}
	case 3:
		memset(buf, 0xee, sizeof(buf));
		n = shmq_ep_mode(ep) == SHMQ_MODE_MSG ? shmq_send(ep, buf, (size_t)step * 13 % 3000)
						       : shmq_write(ep, buf, (size_t)step * 97 % CAP);
		break;
	case 4:
		n = shmq_reserve(ep, (size_t)step * 31 % 2000, &w);
		if (n > 0) {
			memset(w, 0xdd, (size_t)n);
			shmq_commit(ep, (size_t)n);
		}
		break;
	default: {
		struct shmq_urgent u;

		n = shmq_poll(ep);
		n += shmq_writable(ep);
		n += shmq_peer_flags(ep);
		/* the peer's urgent mark: a byte it sent and we did not read,
		 * or nothing */
		if (shmq_urgent(ep, &u) == 1) {
			buf[0] = u.byte;
			if (step & 8)
				shmq_urgent_take(ep, u.pos);
		}
		if (step & 16)
			shmq_urgent_mark(ep);
		break;
	}
	}
	(void)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = shmq_pair_bytes(CAP), off = 1;
	uint8_t *mem = aligned_alloc(128, len);
	struct shmq_ep *ep[2];

	if (!mem || size < 1) {
		free(mem);
		return 0;
	}
	if (data[0] & 0x80) {
		memset(mem, 0, len);
		memcpy(mem, data + 1, size - 1 < len ? size - 1 : len);
	} else {
		shmq_pair_format(mem, len, CAP, data[0] & 1 ? SHMQ_MODE_STREAM : SHMQ_MODE_MSG);
	}
	ep[0] = shmq_ep_open(mem, len, 0);
	ep[1] = shmq_ep_open(mem, len, 1);
	for (int step = 0; step < 64; step++) {
		/* the peer's next scribble */
		if (!(data[0] & 0x80) && off + 3 <= size) {
			size_t at = (size_t)(data[off] | data[off + 1] << 8) % len;
			size_t n = data[off + 2];

			off += 3;
			if (n > size - off)
				n = size - off;
			if (n > len - at)
				n = len - at;
			memcpy(mem + at, data + off, n);
			off += n;
		}
		for (int s = 0; s < 2; s++)
			if (ep[s])
				drive(ep[s], step + s * 3);
	}
	shmq_ep_close(ep[0]);
	shmq_ep_close(ep[1]);
	free(mem);
	return 0;
}
