/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhostUser.backend "external": a hostlane-vswitch the agent did not start,
 * e.g. in a container of its own in the DaemonSet's pod, so that its polling
 * core and its hugepages are requested and accounted apart from the
 * agent's. The agent reaches it on its control socket (vhostUser.switchSocket,
 * default <runDir>/vswitch.sock) for each port it adds or deletes.
 *
 * A switch that restarted has forgotten its ports. The switch makes its
 * control socket anew when it starts, so the agent looks at that socket's
 * identity (inode and change time: a file system may reuse the inode
 * number at once) every VSW_EXT_TICK_MS: a new one means a new switch, and every
 * vhost-user pod's port is added to it again (what the supervisor does for a
 * switch it restarts itself). Runs on the loop thread, with a short bound on
 * each control request; vsw_lock serialises it with ADD and DEL.
 */
#include "daemon.h"
#include "vsw_client.h"
#include "vsw_external.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define VSW_EXT_TICK_MS 1000
#define VSW_EXT_CTL_MS  2000 /* bound of one control request */

static int ext_call(struct agent *a, int add, const char *port, const char *sock)
{
	struct hl_vsw_client *c = hl_vsw_client_open(a->cfg.vhost.switch_socket, VSW_EXT_CTL_MS);
	int rc;

	if (!c)
		return -errno;
	if (!add) {
		rc = hl_vsw_del_port(c, port);
	} else {
		rc = hl_vsw_add_port(c, port, sock, HL_VSW_SWITCH_CLIENT);
		if (rc == -EEXIST) {
			/* Left by an ADD that died before persisting: take it over. */
			hl_vsw_del_port(c, port);
			rc = hl_vsw_add_port(c, port, sock, HL_VSW_SWITCH_CLIENT);
		}
	}
	hl_vsw_client_close(c);
	return rc;
}

int hl_vsw_ext_port(struct agent *a, int add, const struct hl_pod *p)
{
	return ext_call(a, add, p->port, p->sock_path);
}

/* A port to put back: copied out of the pod table, which is not held
 * while we talk to the switch. */
struct ext_port {
	char port[sizeof(((struct hl_pod *)0)->port)];
	char sock[sizeof(((struct hl_pod *)0)->sock_path)];
};

static size_t vhost_ports(struct agent *a, struct ext_port **out)
{
	size_t n = 0;

	pthread_mutex_lock(&a->lock);
	*out = calloc(a->n_pods ? a->n_pods : 1, sizeof(**out));
	for (size_t i = 0; *out && i < a->n_pods; i++) {
		const struct hl_pod *p = a->pods[i];

		if (p->fastpath != HL_FP_VHOST_USER || !p->port[0])
			continue;
		snprintf((*out)[n].port, sizeof((*out)[n].port), "%s", p->port);
		snprintf((*out)[n].sock, sizeof((*out)[n].sock), "%s", p->sock_path);
		n++;
	}
	pthread_mutex_unlock(&a->lock);
	return n;
}

/* The switch is (again) there: give it every vhost-user pod's port. */
static void ext_resync(struct agent *a)
{
	struct ext_port *ports = NULL;
	size_t n = vhost_ports(a, &ports), done = 0;

	for (size_t i = 0; i < n; i++) {
		int rc = ext_call(a, 1, ports[i].port, ports[i].sock);

		if (rc < 0)
			hl_log(HL_LOG_ERROR, "vswitch (external): cannot re-create port %s: %s",
			       ports[i].port, strerror(-rc));
		else
			done++;
	}
	free(ports);
	a->vsw_ext_resyncs++;
	hl_log(HL_LOG_INFO, "vswitch (external) at %s: %zu of %zu pod ports registered",
	       a->cfg.vhost.switch_socket, done, n);
}

static void ext_tick(struct hl_loop *loop, void *arg)
{
	struct agent *a = arg;
	struct stat st;

	pthread_mutex_lock(&a->vsw_lock);
	if (stat(a->cfg.vhost.switch_socket, &st) < 0) {
		if (a->vsw_ext_ino)
			hl_log(HL_LOG_WARN, "vswitch (external): %s is gone; waiting for the switch",
			       a->cfg.vhost.switch_socket);
		a->vsw_ext_ino = 0;
	} else if (st.st_ino != a->vsw_ext_ino || st.st_dev != a->vsw_ext_dev ||
		   st.st_ctim.tv_sec != a->vsw_ext_ctime.tv_sec ||
		   st.st_ctim.tv_nsec != a->vsw_ext_ctime.tv_nsec) {
		/* Registered only once the switch answers: a socket file left
		 * by a dead switch is retried on the next tick. */
		struct hl_vsw_client *c = hl_vsw_client_open(a->cfg.vhost.switch_socket, VSW_EXT_CTL_MS);

		if (c && hl_vsw_ping(c) == 0) {
			a->vsw_ext_ino = st.st_ino;
			a->vsw_ext_dev = st.st_dev;
			a->vsw_ext_ctime = st.st_ctim;
			hl_vsw_client_close(c);
			ext_resync(a);
		} else {
			hl_vsw_client_close(c);
		}
	}
	pthread_mutex_unlock(&a->vsw_lock);
	a->vsw_ext_timer = hl_timer_add(loop, VSW_EXT_TICK_MS, ext_tick, a);
}

int hl_vsw_ext_start(struct agent *a)
{
	struct hl_vhost_cfg *v = &a->cfg.vhost;

	if (!v->switch_socket[0] &&
	    snprintf(v->switch_socket, sizeof(v->switch_socket), "%s/vswitch.sock",
		     a->cfg.run_dir) >= (int)sizeof(v->switch_socket))
		return -ENAMETOOLONG;
	a->vsw_ext_ino = 0;
	hl_log(HL_LOG_INFO, "vswitch (external): control socket %s", v->switch_socket);
	/* The first look at once: ports of restored pods go in without delay. */
	ext_tick(a->loop, a);
	return a->vsw_ext_timer < 0 ? (int)a->vsw_ext_timer : 0;
}

void hl_vsw_ext_stop(struct agent *a)
{
	if (a->vsw_ext_timer > 0)
		hl_timer_cancel(a->loop, a->vsw_ext_timer);
	a->vsw_ext_timer = 0;
}

void hl_vsw_ext_status(struct agent *a, cJSON *d)
{
	pthread_mutex_lock(&a->vsw_lock);
	cJSON_AddStringToObject(d, "switchSocket", a->cfg.vhost.switch_socket);
	cJSON_AddBoolToObject(d, "switchUp", a->vsw_ext_ino != 0);
	cJSON_AddNumberToObject(d, "switchResyncs", (double)a->vsw_ext_resyncs);
	pthread_mutex_unlock(&a->vsw_lock);
}
