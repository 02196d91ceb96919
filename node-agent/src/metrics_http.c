/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny HTTP/1.1 server on the agent's loop: GET /metrics, /healthz,
 * /readyz; one request per connection, bounded connections, each closed
 * after its answer or after an idle timeout. Idle clients cannot starve
 * the probes: a request that is there when the connection is accepted is
 * answered at once, without taking a slot, and a new connection that finds
 * every slot taken closes the oldest one.
 */
#include "daemon.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_CONNS 32
#define REQ_MAX 4096
#define IDLE_MS 2000
#define PAUSE_MS 250  /* out of fds: accept again after this */

struct conn {
	struct hl_metrics_srv *srv;
	int fd;
	int64_t timer;
	uint64_t seq;            /* accept order: the oldest goes first */
	size_t len;
	char req[REQ_MAX];
};

struct hl_metrics_srv {
	struct agent *a;
	int fd;
	unsigned n_conns;
	uint64_t seq;
	int64_t resume;          /* timer of an accept paused for fds, or 0 */
	struct conn *conns[MAX_CONNS];
};

static void conn_close(struct conn *c)
{
	struct hl_metrics_srv *s = c->srv;

	hl_loop_del(s->a->loop, c->fd);
	if (c->timer > 0)
		hl_timer_cancel(s->a->loop, c->timer);
	close(c->fd);
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (s->conns[i] == c)
			s->conns[i] = NULL;
	s->n_conns--;
	free(c);
}

static void respond(struct conn *c, int status, const char *ctype, const char *body)
{
	char head[256];
	const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" :
			     status == 405 ? "Method Not Allowed" : status == 503 ? "Service Unavailable" :
			     "Bad Request";
	size_t blen = strlen(body);
	int hl = snprintf(head, sizeof(head),
			  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			  status, reason, ctype, blen);
	struct iovec iov[2] = { { head, (size_t)hl }, { (void *)body, blen } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	/* A fresh socket's send buffer takes the whole answer; if not, drop it. */
	if (sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		hl_log(HL_LOG_DEBUG, "metrics: send: %s", strerror(errno));
}

static void route(struct conn *c)
{
	struct agent *a = c->srv->a;
	char method[8], path[256];
	char *text;

	if (sscanf(c->req, "%7s %255s", method, path) != 2) {
		respond(c, 400, "text/plain", "bad request\n");
		return;
	}
	path[strcspn(path, "?")] = '\0';
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		respond(c, 405, "text/plain", "only GET\n");
	} else if (strcmp(path, "/metrics") == 0) {
		text = hl_metrics_text(a);
		respond(c, text ? 200 : 503, "text/plain; version=0.0.4; charset=utf-8", text ? text : "out of memory\n");
		free(text);
	} else if (strcmp(path, "/healthz") == 0) {
		respond(c, 200, "text/plain", "ok\n");
	} else if (strcmp(path, "/readyz") == 0) {
		bool ready = atomic_load(&a->ready);

		respond(c, ready ? 200 : 503, "text/plain", ready ? "ready\n" : "not ready\n");
	} else {
		respond(c, 404, "text/plain", "not found (try /metrics, /healthz, /readyz)\n");
	}
}

/* Reads what is there. Returns true when @c is done (answered, or gone). */
static bool conn_read(struct conn *c)
{
	ssize_t n = recv(c->fd, c->req + c->len, sizeof(c->req) - 1 - c->len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n <= 0)
		return true;
	c->len += (size_t)n;
	c->req[c->len] = '\0';
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
		route(c);
	else if (c->len < sizeof(c->req) - 1)
		return false;
	else
		respond(c, 400, "text/plain", "request too large\n");
	return true;
}

static void on_conn(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;

	(void)loop; (void)fd; (void)events;
	if (conn_read(c))
		conn_close(c);
}

static void on_idle(struct hl_loop *loop, void *arg)
{
	struct conn *c = arg;

	(void)loop;
	c->timer = 0;
	conn_close(c);
}

/* A free slot, made by closing the oldest connection if need be. */
static unsigned slot_take(struct hl_metrics_srv *s)
{
	unsigned slot = 0, old = 0;

	while (slot < MAX_CONNS && s->conns[slot])
		slot++;
	if (slot < MAX_CONNS)
		return slot;
	for (unsigned i = 1; i < MAX_CONNS; i++)
		if (s->conns[i]->seq < s->conns[old]->seq)
			old = i;
	conn_close(s->conns[old]);
	return old;
}

static void on_resume(struct hl_loop *loop, void *arg)
{
	struct hl_metrics_srv *s = arg;

	s->resume = 0;
	hl_loop_mod(loop, s->fd, EPOLLIN);
}

static void on_accept(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct hl_metrics_srv *s = arg;
	struct conn *c;
	int cfd;

	(void)events;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		unsigned slot;

		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			continue;
		}
		c->srv = s;
		c->fd = cfd;
		c->seq = ++s->seq;
		/* A probe's request is usually here already. */
		if (conn_read(c)) {
			close(cfd);
			free(c);
			continue;
		}
		slot = slot_take(s);
		if (hl_loop_add(loop, cfd, EPOLLIN, on_conn, c) < 0) {
			free(c);
			close(cfd);
			continue;
		}
		s->conns[slot] = c;
		s->n_conns++;
		c->timer = hl_timer_add(loop, IDLE_MS, on_idle, c);
	}
	if (errno == EMFILE || errno == ENFILE) {
		/* Out of fds: level-triggered, the backlog would wake us
		 * at once again. Pause, look again later. */
		hl_log(HL_LOG_WARN, "metrics: accept: %s; pausing %d ms", strerror(errno), PAUSE_MS);
		if (!s->resume && hl_loop_mod(loop, fd, 0) == 0)
			s->resume = hl_timer_add(loop, PAUSE_MS, on_resume, s);
	}
}

static int parse_addr(const char *addr, struct addrinfo **res)
{
	char host[128];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	size_t hl;

	if (!colon || !colon[1])
		return -EINVAL;
	hl = (size_t)(colon - addr);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 1 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	return getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, res) == 0 ? 0 : -EINVAL;
}

int hl_metrics_listen(struct agent *a, const char *addr)
{
	struct hl_metrics_srv *s;
	struct addrinfo *ai;
	int fd, rc, one = 1;

	rc = parse_addr(addr, &ai);
	if (rc < 0)
		return rc;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return rc;
	}
	freeaddrinfo(ai);
	s = calloc(1, sizeof(*s));
	if (!s || (rc = hl_loop_add(a->loop, fd, EPOLLIN, on_accept, s)) < 0) {
		free(s);
		close(fd);
		return s ? rc : -ENOMEM;
	}
	s->a = a;
	s->fd = fd;
	a->msrv = s;
	return 0;
}

void hl_metrics_close(struct agent *a)
{
	struct hl_metrics_srv *s = a->msrv;

	if (!s)
		return;
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (s->conns[i])
			conn_close(s->conns[i]);
	if (s->resume > 0)
		hl_timer_cancel(a->loop, s->resume);
	hl_loop_del(a->loop, s->fd);
	close(s->fd);
	free(s);
	a->msrv = NULL;
}
