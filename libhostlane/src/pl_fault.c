/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SIGBUS containment in the preloaded process. A peer pod holds the memfd
 * of every region we share with it open for writing (both sides write the
 * rings), so it can punch a hole in it; our next access then faults a page
 * in from this pod's hugetlb allowance, which is 0 for a pod that asked for
 * no hugepages: SIGBUS, and the application would die of its peer. Before
 * the layer maps a region it makes sure the kernel holds its handler for
 * SIGBUS (pl_signal.c): a fault in a region mapping is contained
 * (shmq_fault_contain(): the page replaced, the connections in it broken,
 * docs/security.md); any other goes to the application's own handler, or
 * kills as it would have.
 *
 * The application may install its own SIGBUS handler before or after (redis
 * does): sigaction() and signal() are the layer's, which keep the
 * application's action as the one to pass on to and the layer's handler in
 * the kernel. One installed behind the layer's back (a raw system call)
 * replaces the containment until the layer maps its next region.
 */
#include "pl_private.h"
#include "shmq.h"

void pl_fault_guard(void)
{
	pl_sig_guard_bus();
}

struct shmq_region *pl_region_map(int fd)
{
	pl_fault_guard();
	return shmq_region_map(fd);
}

void pl_fault_atfork_child(void)
{
	pl_sig_atfork_child();
}
