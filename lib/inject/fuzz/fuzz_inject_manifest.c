/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the manifest reader (hostlanectl inject reads any
 * file it is given): read, inject every object, write YAML and read it
 * back: what was written must read back as the same objects.
 */
#include <assert.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlinject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct hl_inject_opts o = { .image = "localhost/hostlane:0.4.0" };
	enum hl_manifest_format fmt, fmt2;
	struct hl_inject_report rep;
	cJSON *docs, *again, *d;
	char err[256], *out;

	if (hl_manifest_read((const char *)data, size, &docs, &fmt, err, sizeof(err)) < 0)
		return 0;
	cJSON_ArrayForEach(d, docs)
		if (hl_inject_object(d, &o, &rep) == -ENOMEM)
			goto done;
	if (hl_manifest_write(docs, HL_MANIFEST_YAML, &out) == 0) {
		int rc = hl_manifest_read(out, strlen(out), &again, &fmt2, err, sizeof(err));

		assert(rc == 0 || rc == -ENOMEM || rc == -E2BIG);
		assert(rc < 0 || cJSON_Compare(docs, again, 1));
		cJSON_Delete(again);
		free(out);
	}
	if (hl_manifest_write(docs, HL_MANIFEST_JSON, &out) == 0)
		free(out);
done:
	cJSON_Delete(docs);
	return 0;
}
