/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the switch's control protocol: the request parser
 * (input from any local client) and the reply parsers (input from the switch
 * process, as the agent reads it). A parsed request must re-format and
 * re-parse to the same request. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vsw_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct vsw_req r, r2;
	struct hl_vsw_port_stats p;
	struct hl_vsw_mac m;
	char buf[VSW_LINE_MAX];
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
	return 0;
}
