/* SPDX-License-Identifier: Apache-2.0 */
/* Socket address conversions of the preload layer. Pure functions. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "pl_private.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int pl_addr_from_sa(const struct sockaddr *sa, socklen_t len, struct hl_proto_addr *a,
		    uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in in;

		if (len < (socklen_t)sizeof(in))
			return -EINVAL;
		memcpy(&in, sa, sizeof(in));
		a->family = 4;
		memcpy(a->addr, &in.sin_addr, 4);
		*port = ntohs(in.sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 in6;

		if (len < (socklen_t)sizeof(in6))
			return -EINVAL;
		memcpy(&in6, sa, sizeof(in6));
		if (!memcmp(in6.sin6_addr.s6_addr, v4mapped, sizeof(v4mapped))) {
			a->family = 4;
			memcpy(a->addr, in6.sin6_addr.s6_addr + 12, 4);
		} else {
			a->family = 6;
			memcpy(a->addr, in6.sin6_addr.s6_addr, 16);
		}
		*port = ntohs(in6.sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

socklen_t pl_addr_to_sa(const struct hl_proto_addr *a, uint16_t port, int family,
			struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		if (a->family == 4) {
			memcpy(in6->sin6_addr.s6_addr, v4mapped, sizeof(v4mapped));
			memcpy(in6->sin6_addr.s6_addr + 12, a->addr, 4);
		} else {
			memcpy(in6->sin6_addr.s6_addr, a->addr, 16);
		}
		return sizeof(*in6);
	}
	struct sockaddr_in *in = (struct sockaddr_in *)ss;

	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	if (a->family == 4)
		memcpy(&in->sin_addr, a->addr, 4);
	return sizeof(*in);
}

bool pl_addr_loopback(const struct hl_proto_addr *a)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	return (a->family == 4 && a->addr[0] == 127) ||
	       (a->family == 6 && !memcmp(a->addr, lo6, 16));
}

bool pl_addr_local_only(const struct hl_proto_addr *a)
{
	static const uint8_t zero[16], lo6[16] = { [15] = 1 };

	if (a->family == 4)
		return a->addr[0] == 127 || a->addr[0] == 0 || a->addr[0] >= 224;
	return !memcmp(a->addr, zero, 16) || !memcmp(a->addr, lo6, 16) || a->addr[0] == 0xff;
}

void pl_addr_copy_out(const struct sockaddr_storage *src, socklen_t slen,
		      struct sockaddr *dst, socklen_t *dlen)
{
	if (!dst || !dlen)
		return;
	memcpy(dst, src, *dlen < slen ? *dlen : slen);
	*dlen = slen;
}
