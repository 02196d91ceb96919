/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the admission webhook's request handling: any body
 * gets an answer (400 with an error, or an AdmissionReview), never a crash;
 * the answer is JSON; an allowed answer with a patch carries it in base64.
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
	static const struct hl_inject_opts o = {
		.image = "localhost/hostlane:0.4.0", .default_quota = 64u << 20, .max_quota = 256u << 20,
	};
	char *out = NULL;
	int status = 0, rc = hl_inject_review((const char *)data, size, &o, &out, &status);
	cJSON *ans;

	if (rc == -ENOMEM)
		return 0;
	assert(out);
	assert((rc == 0 && status == 200) || (rc == -EINVAL && status == 400));
	ans = cJSON_Parse(out);
	assert(ans);
	if (rc == 0) {
		cJSON *r = cJSON_GetObjectItemCaseSensitive(ans, "response");
		cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "patch");

		assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r, "uid")));
		assert(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(r, "allowed")));
		assert(!p || (cJSON_IsString(p) && strspn(p->valuestring,
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == strlen(p->valuestring)));
	}
	cJSON_Delete(ans);
	free(out);
	return 0;
}
