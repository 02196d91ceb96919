/* SPDX-License-Identifier: Apache-2.0 */
/* hlvf's netlink handles: libhlnl sockets bound to the netns a VF or its
 * PF is in (the host's or a pod's), one per operation since the pool is
 * used from several threads and a handle is not thread safe. */
#include <errno.h>
#include <stdlib.h>

#include "vf_private.h"

struct hlnl *hl_vfi_nl_open(int nsfd)
{
	struct hlnl *nl = hlnl_open_ns(nsfd);

	/* The agent runs on: a thread left in a pod's netns would act on the
	 * wrong namespace from now on, so stop rather than go on. */
	if (!nl && errno == ENOTRECOVERABLE)
		abort();
	return nl;
}
