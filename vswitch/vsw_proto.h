/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The switch's control protocol, shared by the switch (requests) and the
 * client (replies). Private to vswitch/.
 *
 * One request per line, '\n'-terminated, at most VSW_LINE_MAX bytes:
 *   ping | info | add-port NAME PATH [client|server] | del-port NAME | list | macs
 * The reply is zero or more data lines, then "ok" or "err ERRNO TEXT":
 *   info pid=P start=T ctl=PATH
 *   port name=N path=P mode=client|server state=up|down rx_packets=.. ...
 *   mac 02:00:00:00:00:01 port=N age_ms=12
 */
#ifndef VSW_PROTO_H
#define VSW_PROTO_H

#include <stddef.h>
#include "vsw_client.h"

#define VSW_LINE_MAX 512

enum vsw_op { VSW_OP_PING, VSW_OP_ADD, VSW_OP_DEL, VSW_OP_LIST, VSW_OP_MACS, VSW_OP_INFO };

struct vsw_req {
	enum vsw_op op;
	char name[HL_VSW_NAME_MAX];
	char path[HL_VSW_PATH_MAX];
	enum hl_vsw_mode mode;
};

/* 1 if @name is a valid port name: 1..31 of [A-Za-z0-9_.-]. */
int vsw_name_ok(const char *name);
/* 1 if @path is absolute, < 108 bytes, printable, no spaces. */
int vsw_path_ok(const char *path);

/* Parse one request line (no '\n' needed). Return 0 or -EINVAL. */
int vsw_proto_parse_req(const char *line, size_t len, struct vsw_req *req);
/* Format @req as a line with '\n'. Return its length or -EINVAL/-ENOBUFS. */
int vsw_proto_format_req(const struct vsw_req *req, char *buf, size_t len);

/* Reply lines. Status: returns 1 and sets *err (0 or -errno) for a final
 * line, 0 for a data line, -EPROTO for a malformed final line. */
int vsw_proto_parse_status(const char *line, size_t len, int *err);
int vsw_proto_parse_port(const char *line, size_t len,
			 struct hl_vsw_port_stats *out);
int vsw_proto_parse_mac(const char *line, size_t len, struct hl_vsw_mac *out);
/* "info pid=P start=T ctl=PATH" (peer_pid is not on the wire: left 0). */
int vsw_proto_parse_info(const char *line, size_t len, struct hl_vsw_info *out);
int vsw_proto_format_port(const struct hl_vsw_port_stats *p, char *buf,
			  size_t len);
int vsw_proto_format_mac(const struct hl_vsw_mac *m, char *buf, size_t len);
int vsw_proto_format_info(const struct hl_vsw_info *i, char *buf, size_t len);

#endif
