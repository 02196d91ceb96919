/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the manifest reader (hostlanectl inject reads any
 * file it is given): read, inject every object, write YAML and read it
 * back: what was written must read back as the same objects. Injection is
 * idempotent: a second pass over objects that took the first one whole
 * changes nothing (the webhook is called again under reinvocationPolicy
 * IfNeeded, and hostlanectl inject may be run over its own output).
 */
#include <assert.h>
#include <stdbool.h>
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
	cJSON *docs, *again, *d, *twice;
	char err[256], *out;
	bool whole = true;
	int rc = 0;

	if (hl_manifest_read((const char *)data, size, &docs, &fmt, err, sizeof(err)) < 0)
		return 0;
	cJSON_ArrayForEach(d, docs) {
		rc = hl_inject_object(d, &o, &rep);
		if (rc == -ENOMEM)
			goto done;
		whole = whole && rc == 0;
	}
	twice = whole ? cJSON_Duplicate(docs, 1) : NULL;
	if (twice) {
		cJSON_ArrayForEach(d, twice) {
			rc = hl_inject_object(d, &o, &rep);
			if (rc == -ENOMEM)
				break;
			assert(rc == 0 && rep.changed == 0);
		}
		assert(rc == -ENOMEM || cJSON_Compare(docs, twice, 1));
		cJSON_Delete(twice);
	}
	if (hl_manifest_write(docs, HL_MANIFEST_YAML, &out) == 0) {
		rc = hl_manifest_read(out, strlen(out), &again, &fmt2, err, sizeof(err));
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
