/* SPDX-License-Identifier: Apache-2.0 */
/* Control client of hostlane-vswitch: one request line, reply lines up to
 * "ok"/"err". */
#include "vsw_client.h"
#include "vsw_proto.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

struct hl_vsw_client {
	int fd;
	int timeout_ms;
	size_t have;              /* bytes buffered in buf */
	char buf[VSW_LINE_MAX * 4];
};

EXPORT struct hl_vsw_client *hl_vsw_client_open(const char *ctl_path,
						 int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct hl_vsw_client *c;
	int err;

	if (!ctl_path) {
		errno = EINVAL;
		return NULL;
	}
	if (strlen(ctl_path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(sa.sun_path, ctl_path, strlen(ctl_path) + 1);
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	return c;
fail:
	err = errno;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	errno = err;
	return NULL;
}

EXPORT void hl_vsw_client_close(struct hl_vsw_client *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

static int wait_fd(int fd, short ev, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static int send_all(struct hl_vsw_client *c, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			int rc;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			rc = wait_fd(c->fd, POLLOUT, c->timeout_ms);
			if (rc < 0)
				return rc;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Next reply line into @line (NUL-terminated, without '\n'). */
static int read_line(struct hl_vsw_client *c, char *line, size_t cap)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->have);
		ssize_t n;
		int rc;

		if (nl) {
			size_t l = (size_t)(nl - c->buf);
			if (l >= cap)
				return -EPROTO;
			memcpy(line, c->buf, l);
			line[l] = '\0';
			memmove(c->buf, nl + 1, c->have - l - 1);
			c->have -= l + 1;
			return (int)l;
		}
		if (c->have == sizeof(c->buf))
			return -EPROTO;
		rc = wait_fd(c->fd, POLLIN, c->timeout_ms);
		if (rc < 0)
			return rc;
		n = recv(c->fd, c->buf + c->have, sizeof(c->buf) - c->have,
			 MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		c->have += (size_t)n;
	}
}

/* Sends @req; calls @data for each data line; returns the final status. */
static int transact(struct hl_vsw_client *c, const struct vsw_req *req,
		    int (*data)(void *arg, const char *line, size_t len),
		    void *arg)
{
	char line[VSW_LINE_MAX];
	int n, rc, err = 0, data_err = 0;

	if (!c)
		return -EINVAL;
	n = vsw_proto_format_req(req, line, sizeof(line));
	if (n < 0)
		return n;
	rc = send_all(c, line, (size_t)n);
	if (rc < 0)
		return rc;
	for (;;) {
		n = read_line(c, line, sizeof(line));
		if (n < 0)
			return n;
		rc = vsw_proto_parse_status(line, (size_t)n, &err);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return err ? err : data_err;
		if (!data)
			return -EPROTO;
		rc = data(arg, line, (size_t)n);
		if (rc < 0 && !data_err)
			data_err = rc; /* keep reading to stay in sync */
	}
}

EXPORT int hl_vsw_ping(struct hl_vsw_client *c)
{
	struct vsw_req r = { .op = VSW_OP_PING };

	return transact(c, &r, NULL, NULL);
}

struct info_reply {
	struct hl_vsw_info *out;
	int lines;
};

static int info_line(void *arg, const char *line, size_t len)
{
	struct info_reply *k = arg;

	if (k->lines++)
		return -EPROTO;  /* exactly one */
	return vsw_proto_parse_info(line, len, k->out);
}

EXPORT int hl_vsw_get_info(struct hl_vsw_client *c, struct hl_vsw_info *out)
{
	struct vsw_req r = { .op = VSW_OP_INFO };
	struct info_reply k = { out, 0 };
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int rc;

	if (!c || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	rc = transact(c, &r, info_line, &k);
	if (rc == 0 && k.lines != 1)
		rc = -EPROTO;
	if (rc < 0)
		return rc;
	/* The kernel's word: who called listen() on the socket we reached. */
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0)
		return -errno;
	out->peer_pid = cred.pid;
	return 0;
}

static int copy_str(char *dst, size_t cap, const char *s)
{
	if (!s || strlen(s) >= cap)
		return -EINVAL;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

EXPORT int hl_vsw_add_port(struct hl_vsw_client *c, const char *name,
			   const char *path, enum hl_vsw_mode mode)
{
	struct vsw_req r = { .op = VSW_OP_ADD, .mode = mode };

	if (copy_str(r.name, sizeof(r.name), name) ||
	    copy_str(r.path, sizeof(r.path), path) ||
	    (mode != HL_VSW_SWITCH_CLIENT && mode != HL_VSW_SWITCH_SERVER))
		return -EINVAL;
	return transact(c, &r, NULL, NULL);
}

EXPORT int hl_vsw_del_port(struct hl_vsw_client *c, const char *name)
{
	struct vsw_req r = { .op = VSW_OP_DEL };

	if (copy_str(r.name, sizeof(r.name), name))
		return -EINVAL;
	return transact(c, &r, NULL, NULL);
}

struct collect {
	void *out;
	size_t cap, n, size;
	int (*parse)(const char *line, size_t len, void *dst);
};

static int collect_line(void *arg, const char *line, size_t len)
{
	struct collect *k = arg;
	int rc = 0;

	if (k->n < k->cap)
		rc = k->parse(line, len, (char *)k->out + k->n * k->size);
	k->n++;
	return rc;
}

static int parse_port(const char *line, size_t len, void *dst)
{
	return vsw_proto_parse_port(line, len, dst);
}

static int parse_mac(const char *line, size_t len, void *dst)
{
	return vsw_proto_parse_mac(line, len, dst);
}

static int list(struct hl_vsw_client *c, enum vsw_op op, struct collect *k,
		size_t *n)
{
	struct vsw_req r = { .op = op };
	int rc;

	if (!n || (!k->out && k->cap))
		return -EINVAL;
	rc = transact(c, &r, collect_line, k);
	*n = k->n;
	if (rc == 0 && k->n > k->cap)
		rc = -ENOBUFS;
	return rc;
}

EXPORT int hl_vsw_list_ports(struct hl_vsw_client *c,
			     struct hl_vsw_port_stats *out, size_t cap,
			     size_t *n)
{
	struct collect k = { out, cap, 0, sizeof(*out), parse_port };

	return list(c, VSW_OP_LIST, &k, n);
}

EXPORT int hl_vsw_list_macs(struct hl_vsw_client *c, struct hl_vsw_mac *out,
			    size_t cap, size_t *n)
{
	struct collect k = { out, cap, 0, sizeof(*out), parse_mac };

	return list(c, VSW_OP_MACS, &k, n);
}
