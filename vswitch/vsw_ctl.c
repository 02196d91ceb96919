/* SPDX-License-Identifier: Apache-2.0 */
#include "vsw_ctl.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CLIENTS 16

struct vsw_out {
	char *p;
	size_t len, cap;
	int oom;
};

struct client {
	int fd;
	size_t have;
	char buf[VSW_LINE_MAX];
};

struct vsw_ctl {
	int lfd, stopfd;
	char path[HL_VSW_PATH_MAX];
	vsw_ctl_handler handler;
	void *arg;
	pthread_t thread;
	struct client cl[MAX_CLIENTS];
};

int vsw_out_line(struct vsw_out *o, const char *line)
{
	size_t l = strlen(line);

	if (o->len + l > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		char *np;
		while (cap < o->len + l)
			cap *= 2;
		np = realloc(o->p, cap);
		if (!np) {
			o->oom = 1;
			return -ENOMEM;
		}
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, line, l);
	o->len += l;
	return 0;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int serve_line(struct vsw_ctl *c, int fd, const char *line, size_t len)
{
	struct vsw_out o = { 0 };
	struct vsw_req req;
	char tail[64];
	int rc;

	rc = vsw_proto_parse_req(line, len, &req);
	if (rc == 0)
		rc = c->handler(c->arg, &req, &o);
	if (rc == 0 && o.oom)
		rc = -ENOMEM;
	if (rc < 0) {
		o.len = 0; /* an error reply carries no data lines */
		snprintf(tail, sizeof(tail), "err %d %s\n", -rc, strerror(-rc));
	} else {
		snprintf(tail, sizeof(tail), "ok\n");
	}
	rc = vsw_out_line(&o, tail);
	if (rc == 0)
		rc = send_all(fd, o.p, o.len);
	free(o.p);
	return rc;
}

static void drop_client(struct client *k)
{
	close(k->fd);
	k->fd = -1;
	k->have = 0;
}

/* Reads what the client sent and serves each complete line. */
static void client_input(struct vsw_ctl *c, struct client *k)
{
	ssize_t n = recv(k->fd, k->buf + k->have, sizeof(k->buf) - k->have,
			 MSG_DONTWAIT);
	char *nl;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		drop_client(k);
		return;
	}
	k->have += (size_t)n;
	while ((nl = memchr(k->buf, '\n', k->have))) {
		size_t l = (size_t)(nl - k->buf);
		if (serve_line(c, k->fd, k->buf, l) < 0) {
			drop_client(k);
			return;
		}
		memmove(k->buf, nl + 1, k->have - l - 1);
		k->have -= l + 1;
	}
	if (k->have == sizeof(k->buf)) /* a line too long: protocol error */
		drop_client(k);
}

static void accept_client(struct vsw_ctl *c)
{
	struct timeval tv = { .tv_sec = 2 };
	int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	/* A client that stops reading must not stall the control thread. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (c->cl[i].fd < 0) {
			c->cl[i].fd = fd;
			c->cl[i].have = 0;
			return;
		}
	}
	close(fd);
}

static void *ctl_thread(void *arg)
{
	struct vsw_ctl *c = arg;

	for (;;) {
		struct pollfd p[MAX_CLIENTS + 2];
		int map[MAX_CLIENTS + 2];
		nfds_t n = 0;

		p[n] = (struct pollfd){ .fd = c->stopfd, .events = POLLIN };
		map[n++] = -2;
		p[n] = (struct pollfd){ .fd = c->lfd, .events = POLLIN };
		map[n++] = -1;
		for (int i = 0; i < MAX_CLIENTS; i++) {
			if (c->cl[i].fd >= 0) {
				p[n] = (struct pollfd){ .fd = c->cl[i].fd,
							.events = POLLIN };
				map[n++] = i;
			}
		}
		if (poll(p, n, -1) < 0)
			continue;
		if (p[0].revents)
			break;
		for (nfds_t i = 1; i < n; i++) {
			if (!p[i].revents)
				continue;
			if (map[i] == -1)
				accept_client(c);
			else
				client_input(c, &c->cl[map[i]]);
		}
	}
	return NULL;
}

static int bind_socket(struct vsw_ctl *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		return -errno;
	/* A socket left by a killed switch: replace it (only a socket). */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(c->lfd, 16) < 0)
		return -errno;
	return 0;
}

struct vsw_ctl *vsw_ctl_start(const char *path, vsw_ctl_handler h, void *arg)
{
	struct vsw_ctl *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return NULL;
	c->lfd = c->stopfd = -1;
	c->handler = h;
	c->arg = arg;
	for (int i = 0; i < MAX_CLIENTS; i++)
		c->cl[i].fd = -1;
	rc = bind_socket(c, path);
	if (rc < 0)
		goto fail;
	memcpy(c->path, path, strlen(path) + 1);
	c->stopfd = eventfd(0, EFD_CLOEXEC);
	if (c->stopfd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = -pthread_create(&c->thread, NULL, ctl_thread, c);
	if (rc < 0)
		goto fail;
	return c;
fail:
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->stopfd >= 0)
		close(c->stopfd);
	free(c);
	errno = -rc;
	return NULL;
}

void vsw_ctl_stop(struct vsw_ctl *c)
{
	uint64_t one = 1;

	if (!c)
		return;
	if (write(c->stopfd, &one, sizeof(one)) < 0)
		perror("vsw_ctl_stop");
	pthread_join(c->thread, NULL);
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (c->cl[i].fd >= 0)
			close(c->cl[i].fd);
	}
	close(c->lfd);
	close(c->stopfd);
	unlink(c->path);
	free(c);
}
