/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SIGBUS containment in the preloaded process. A peer pod holds the memfd
 * of every region we share with it open for writing (both sides write the
 * rings), so it can punch a hole in it; our next access then faults a page
 * in from this pod's hugetlb allowance, which is 0 for a pod that asked for
 * no hugepages: SIGBUS, and the application would die of its peer. Before
 * the layer maps a region it makes sure its handler is installed: a fault
 * in a region mapping is contained (shmq_fault_contain(): the page
 * replaced, the connections in it broken, docs/security.md); any other
 * goes to the application's own handler, or kills as it would have.
 *
 * The application may install its own SIGBUS handler at start (redis
 * does); ours goes in front of it at the next region mapped and passes on
 * what is not ours. One the application installs later replaces ours until
 * the layer maps its next region.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "pl_private.h"
#include "shmq.h"

static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction app_bus;  /* what the application had installed */

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	if (shmq_fault_contain(si->si_addr) > 0)
		return;
	if (app_bus.sa_flags & SA_SIGINFO) {
		if (app_bus.sa_sigaction) {
			app_bus.sa_sigaction(sig, si, uc);
			return;
		}
	} else if (app_bus.sa_handler != SIG_DFL && app_bus.sa_handler != SIG_IGN) {
		app_bus.sa_handler(sig);
		return;
	}
	/* The default: the access faults again and the process dies of it. */
	signal(SIGBUS, SIG_DFL);
}

void pl_fault_guard(void)
{
	struct sigaction cur, ours;

	if (sigaction(SIGBUS, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
	    cur.sa_sigaction == on_sigbus)
		return;
	pthread_mutex_lock(&guard_lock);
	if (sigaction(SIGBUS, NULL, &cur) == 0 &&
	    !((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigbus)) {
		app_bus = cur;
		memset(&ours, 0, sizeof(ours));
		ours.sa_sigaction = on_sigbus;
		ours.sa_mask = cur.sa_mask;
		ours.sa_flags = SA_SIGINFO | SA_NODEFER | (cur.sa_flags & (SA_ONSTACK | SA_RESTART));
		sigaction(SIGBUS, &ours, NULL);
	}
	pthread_mutex_unlock(&guard_lock);
}

struct shmq_region *pl_region_map(int fd)
{
	pl_fault_guard();
	return shmq_region_map(fd);
}

void pl_fault_atfork_child(void)
{
	pthread_mutex_init(&guard_lock, NULL);
}
