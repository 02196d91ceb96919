/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the monitor's reading of an nftables chain and rule dump of a
 * pod's netns (netfilter.c): the kernel frames the messages, but the pod
 * chose every name and value in them. The input is a flags byte (bit 0:
 * read as rules, else chains; bit 1: start a new scan) and chunks of a
 * 2-byte length and that many payload bytes (family header and
 * attributes), each framed here as the kernel frames a message. Nothing
 * may read out of bounds, and the scan stays within its table.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "mon_private.h"

static struct mon_nf_scan scan;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[4096] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	size_t off = 1;
	int rules;

	if (size < 1)
		return 0;
	rules = data[0] & 1;
	if (data[0] & 2)
		memset(&scan, 0, sizeof(scan));
	while (off + 2 <= size) {
		size_t len = (size_t)data[off] | (size_t)data[off + 1] << 8;

		off += 2;
		if (len > size - off || len > sizeof(buf) - sizeof(*nlh))
			len = size - off < sizeof(buf) - sizeof(*nlh) ? size - off : sizeof(buf) - sizeof(*nlh);
		memset(buf, 0, sizeof(buf));
		nlh->nlmsg_len = (uint32_t)(sizeof(*nlh) + len);
		memcpy(buf + sizeof(*nlh), data + off, len);
		off += len;
		if (rules)
			mon_nf_scan_rule(&scan, nlh);
		else
			mon_nf_scan_chain(&scan, nlh);
	}
	assert(scan.n <= MON_NF_BASES);
	for (unsigned i = 0; i < scan.n; i++)
		assert(memchr(scan.base[i].table, 0, sizeof(scan.base[i].table)) &&
		       memchr(scan.base[i].chain, 0, sizeof(scan.base[i].chain)));
	assert(!(scan.hooks & ~(MON_NF_IN | MON_NF_OUT)));
	return 0;
}
