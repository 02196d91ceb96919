/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the switch's control protocol: the request parser
 * (input from any local client) and the reply parsers (input from the switch
 * process, as the agent reads it), plus the two texts the supervisor reads
 * before it adopts a switch: a /proc/PID/stat line (its command name is the
 * process's to choose) and the pid file. A parsed request must re-format
 * and re-parse to the same request; so must a parsed info reply. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vsw_pidfile.h"
#include "vsw_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct vsw_req r, r2;
	struct hl_vsw_port_stats p;
	struct hl_vsw_mac m;
	struct hl_vsw_info in, in2;
	char buf[VSW_LINE_MAX], state;
	uint64_t start;
	pid_t pid;
	int err, n;

	if (vsw_proto_parse_req(line, size, &r) == 0) {
		n = vsw_proto_format_req(&r, buf, sizeof(buf));
		if (n < 0 || vsw_proto_parse_req(buf, (size_t)n, &r2) != 0 ||
		    memcmp(&r, &r2, sizeof(r)) != 0)
			abort();
	}
	vsw_proto_parse_status(line, size, &err);
	if (vsw_proto_parse_port(line, size, &p) == 0 &&
	    (memchr(p.name, 0, sizeof(p.name)) == NULL ||
	     memchr(p.path, 0, sizeof(p.path)) == NULL))
		abort();
	if (vsw_proto_parse_mac(line, size, &m) == 0 &&
	    memchr(m.port, 0, sizeof(m.port)) == NULL)
		abort();
	if (vsw_proto_parse_info(line, size, &in) == 0) {
		if (in.pid <= 0 || memchr(in.ctl, 0, sizeof(in.ctl)) == NULL)
			abort();
		/* A ctl the formatter refuses (not a usable path) is fine to
		 * parse; anything it formats must come back the same. */
		n = vsw_proto_format_info(&in, buf, sizeof(buf));
		if (n >= 0 && (vsw_proto_parse_info(buf, (size_t)n, &in2) != 0 ||
			       memcmp(&in, &in2, sizeof(in)) != 0))
			abort();
	}
	vsw_stat_parse(line, size, &state, &start);
	if (vsw_pidfile_parse(line, size, &pid, &start) == 0 && pid <= 0)
		abort();
	return 0;
}
