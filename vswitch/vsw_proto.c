/* SPDX-License-Identifier: Apache-2.0 */
/* The control protocol: parsing and formatting (see vsw_proto.h). Parsers
 * take (ptr, len) without assuming NUL termination: their input comes from a
 * socket. */
#include "vsw_proto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 16

struct tok {
	const char *p;
	size_t n;
};

static int tokenize(const char *line, size_t len, struct tok *t, size_t cap)
{
	size_t i = 0, n = 0;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len >= VSW_LINE_MAX)
		return -EINVAL;
	while (i < len) {
		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		if (n == cap)
			return -EINVAL;
		t[n].p = line + i;
		while (i < len && line[i] != ' ') {
			unsigned char c = (unsigned char)line[i];
			if (c < 0x21 || c > 0x7e)
				return -EINVAL;
			i++;
		}
		t[n].n = (size_t)(line + i - t[n].p);
		n++;
	}
	return (int)n;
}

static int tok_is(const struct tok *t, const char *s)
{
	return t->n == strlen(s) && memcmp(t->p, s, t->n) == 0;
}

static int tok_copy(const struct tok *t, char *dst, size_t cap)
{
	if (t->n >= cap)
		return -EINVAL;
	memcpy(dst, t->p, t->n);
	dst[t->n] = '\0';
	return 0;
}

int vsw_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= HL_VSW_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

int vsw_path_ok(const char *path)
{
	size_t n = strlen(path);

	if (n < 2 || n >= HL_VSW_PATH_MAX || path[0] != '/')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c < 0x21 || c > 0x7e)
			return 0;
	}
	return 1;
}

static int parse_mode(const struct tok *t, enum hl_vsw_mode *mode)
{
	if (tok_is(t, "client"))
		*mode = HL_VSW_SWITCH_CLIENT;
	else if (tok_is(t, "server"))
		*mode = HL_VSW_SWITCH_SERVER;
	else
		return -EINVAL;
	return 0;
}

int vsw_proto_parse_req(const char *line, size_t len, struct vsw_req *req)
{
	struct tok t[MAX_TOKENS];
	int n = tokenize(line, len, t, MAX_TOKENS);

	memset(req, 0, sizeof(*req));
	if (n < 1)
		return -EINVAL;
	if (tok_is(&t[0], "ping") && n == 1) {
		req->op = VSW_OP_PING;
	} else if (tok_is(&t[0], "info") && n == 1) {
		req->op = VSW_OP_INFO;
	} else if (tok_is(&t[0], "list") && n == 1) {
		req->op = VSW_OP_LIST;
	} else if (tok_is(&t[0], "macs") && n == 1) {
		req->op = VSW_OP_MACS;
	} else if (tok_is(&t[0], "del-port") && n == 2) {
		req->op = VSW_OP_DEL;
		if (tok_copy(&t[1], req->name, sizeof(req->name)) < 0)
			return -EINVAL;
	} else if (tok_is(&t[0], "add-port") && (n == 3 || n == 4)) {
		req->op = VSW_OP_ADD;
		if (tok_copy(&t[1], req->name, sizeof(req->name)) < 0 ||
		    tok_copy(&t[2], req->path, sizeof(req->path)) < 0)
			return -EINVAL;
		if (!vsw_path_ok(req->path))
			return -EINVAL;
		if (n == 4 && parse_mode(&t[3], &req->mode) < 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if ((req->op == VSW_OP_ADD || req->op == VSW_OP_DEL) &&
	    !vsw_name_ok(req->name))
		return -EINVAL;
	return 0;
}

static const char *mode_word(enum hl_vsw_mode m)
{
	return m == HL_VSW_SWITCH_SERVER ? "server" : "client";
}

static int fmt_result(int n, size_t len)
{
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len)
		return -ENOBUFS;
	return n;
}

int vsw_proto_format_req(const struct vsw_req *req, char *buf, size_t len)
{
	int n;

	switch (req->op) {
	case VSW_OP_PING: n = snprintf(buf, len, "ping\n"); break;
	case VSW_OP_INFO: n = snprintf(buf, len, "info\n"); break;
	case VSW_OP_LIST: n = snprintf(buf, len, "list\n"); break;
	case VSW_OP_MACS: n = snprintf(buf, len, "macs\n"); break;
	case VSW_OP_DEL:
		if (!vsw_name_ok(req->name))
			return -EINVAL;
		n = snprintf(buf, len, "del-port %s\n", req->name);
		break;
	case VSW_OP_ADD:
		if (!vsw_name_ok(req->name) || !vsw_path_ok(req->path))
			return -EINVAL;
		n = snprintf(buf, len, "add-port %s %s %s\n", req->name,
			     req->path, mode_word(req->mode));
		break;
	default:
		return -EINVAL;
	}
	return fmt_result(n, len);
}

int vsw_proto_parse_status(const char *line, size_t len, int *err)
{
	struct tok t[MAX_TOKENS];
	int n = tokenize(line, len, t, MAX_TOKENS);
	char num[8];
	char *end;
	long e;

	if (n < 1)
		return -EPROTO;
	if (tok_is(&t[0], "ok")) {
		*err = 0;
		return 1;
	}
	if (!tok_is(&t[0], "err"))
		return 0;
	if (n < 2 || tok_copy(&t[1], num, sizeof(num)) < 0)
		return -EPROTO;
	errno = 0;
	e = strtol(num, &end, 10);
	if (*end || errno || e <= 0 || e > 4095)
		return -EPROTO;
	*err = (int)-e;
	return 1;
}

static int parse_u64(const struct tok *t, size_t off, uint64_t *v)
{
	char num[24];
	char *end;
	struct tok rest = { t->p + off, t->n - off };

	if (rest.n == 0 || tok_copy(&rest, num, sizeof(num)) < 0 ||
	    num[0] < '0' || num[0] > '9')
		return -EPROTO;
	errno = 0;
	*v = strtoull(num, &end, 10);
	return (*end || errno) ? -EPROTO : 0;
}

/* Finds "key=" at the start of token @t; returns the offset of the value. */
static size_t key_off(const struct tok *t, const char *key)
{
	size_t k = strlen(key);

	if (t->n > k && memcmp(t->p, key, k) == 0 && t->p[k] == '=')
		return k + 1;
	return 0;
}

static int port_field(const struct tok *t, struct hl_vsw_port_stats *p)
{
	static const struct {
		const char *key;
		size_t off;
	} nums[] = {
		{ "rx_packets", offsetof(struct hl_vsw_port_stats, rx_packets) },
		{ "rx_bytes", offsetof(struct hl_vsw_port_stats, rx_bytes) },
		{ "tx_packets", offsetof(struct hl_vsw_port_stats, tx_packets) },
		{ "tx_bytes", offsetof(struct hl_vsw_port_stats, tx_bytes) },
		{ "rx_drops", offsetof(struct hl_vsw_port_stats, rx_drops) },
		{ "tx_drops", offsetof(struct hl_vsw_port_stats, tx_drops) },
	};
	size_t o;

	if ((o = key_off(t, "name"))) {
		struct tok v = { t->p + o, t->n - o };
		return tok_copy(&v, p->name, sizeof(p->name)) ? -EPROTO : 0;
	}
	if ((o = key_off(t, "path"))) {
		struct tok v = { t->p + o, t->n - o };
		return tok_copy(&v, p->path, sizeof(p->path)) ? -EPROTO : 0;
	}
	if ((o = key_off(t, "mode"))) {
		struct tok v = { t->p + o, t->n - o };
		return parse_mode(&v, &p->mode) ? -EPROTO : 0;
	}
	if ((o = key_off(t, "state"))) {
		struct tok v = { t->p + o, t->n - o };
		if (tok_is(&v, "up"))
			p->up = 1;
		else if (tok_is(&v, "down"))
			p->up = 0;
		else
			return -EPROTO;
		return 0;
	}
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if ((o = key_off(t, nums[i].key)))
			return parse_u64(t, o, (uint64_t *)((char *)p + nums[i].off));
	}
	return 0; /* unknown keys are for newer switches: ignore */
}

int vsw_proto_parse_port(const char *line, size_t len,
			 struct hl_vsw_port_stats *out)
{
	struct tok t[MAX_TOKENS];
	int n = tokenize(line, len, t, MAX_TOKENS);

	memset(out, 0, sizeof(*out));
	if (n < 2 || !tok_is(&t[0], "port"))
		return -EPROTO;
	for (int i = 1; i < n; i++) {
		int rc = port_field(&t[i], out);
		if (rc < 0)
			return rc;
	}
	return out->name[0] ? 0 : -EPROTO;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_macaddr(const struct tok *t, uint8_t a[6])
{
	if (t->n != 17)
		return -EPROTO;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(t->p[3 * i]), lo = hexval(t->p[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && t->p[3 * i + 2] != ':'))
			return -EPROTO;
		a[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int vsw_proto_parse_mac(const char *line, size_t len, struct hl_vsw_mac *out)
{
	struct tok t[MAX_TOKENS];
	int n = tokenize(line, len, t, MAX_TOKENS);
	size_t o;

	memset(out, 0, sizeof(*out));
	if (n < 3 || !tok_is(&t[0], "mac") || parse_macaddr(&t[1], out->addr))
		return -EPROTO;
	for (int i = 2; i < n; i++) {
		if ((o = key_off(&t[i], "port"))) {
			struct tok v = { t[i].p + o, t[i].n - o };
			if (tok_copy(&v, out->port, sizeof(out->port)))
				return -EPROTO;
		} else if ((o = key_off(&t[i], "age_ms"))) {
			if (parse_u64(&t[i], o, &out->age_ms))
				return -EPROTO;
		}
	}
	return out->port[0] ? 0 : -EPROTO;
}

int vsw_proto_format_port(const struct hl_vsw_port_stats *p, char *buf,
			  size_t len)
{
	int n = snprintf(buf, len,
			 "port name=%s path=%s mode=%s state=%s rx_packets=%" PRIu64
			 " rx_bytes=%" PRIu64 " tx_packets=%" PRIu64
			 " tx_bytes=%" PRIu64 " rx_drops=%" PRIu64
			 " tx_drops=%" PRIu64 "\n",
			 p->name, p->path, mode_word(p->mode),
			 p->up ? "up" : "down", p->rx_packets, p->rx_bytes,
			 p->tx_packets, p->tx_bytes, p->rx_drops, p->tx_drops);
	return fmt_result(n, len);
}

int vsw_proto_format_mac(const struct hl_vsw_mac *m, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "mac %02x:%02x:%02x:%02x:%02x:%02x port=%s age_ms=%" PRIu64
			 "\n",
			 m->addr[0], m->addr[1], m->addr[2], m->addr[3],
			 m->addr[4], m->addr[5], m->port, m->age_ms);
	return fmt_result(n, len);
}

int vsw_proto_parse_info(const char *line, size_t len, struct hl_vsw_info *out)
{
	struct tok t[MAX_TOKENS];
	int n = tokenize(line, len, t, MAX_TOKENS);
	uint64_t pid = 0;
	unsigned seen = 0;
	size_t o;

	memset(out, 0, sizeof(*out));
	if (n < 2 || !tok_is(&t[0], "info"))
		return -EPROTO;
	/* An identity is unambiguous: each key at most once. */
	for (int i = 1; i < n; i++) {
		if ((o = key_off(&t[i], "pid"))) {
			if ((seen & 1) || parse_u64(&t[i], o, &pid) || pid == 0 || pid > INT32_MAX)
				return -EPROTO;
			seen |= 1;
		} else if ((o = key_off(&t[i], "start"))) {
			if ((seen & 2) || parse_u64(&t[i], o, &out->start_time))
				return -EPROTO;
			seen |= 2;
		} else if ((o = key_off(&t[i], "ctl"))) {
			struct tok v = { t[i].p + o, t[i].n - o };
			if ((seen & 4) || tok_copy(&v, out->ctl, sizeof(out->ctl)))
				return -EPROTO;
			seen |= 4;
		}
	}
	out->pid = (pid_t)pid;
	return out->pid && out->ctl[0] ? 0 : -EPROTO;
}

int vsw_proto_format_info(const struct hl_vsw_info *i, char *buf, size_t len)
{
	int n;

	if (i->pid <= 0 || !vsw_path_ok(i->ctl))
		return -EINVAL;
	n = snprintf(buf, len, "info pid=%d start=%" PRIu64 " ctl=%s\n", (int)i->pid,
		     i->start_time, i->ctl);
	return fmt_result(n, len);
}
