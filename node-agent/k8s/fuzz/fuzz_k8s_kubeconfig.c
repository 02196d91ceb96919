/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness: the kubeconfig YAML parser (and its base64 decoder). */
#include <stdint.h>
#include <stdlib.h>

#include "hlk8s_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hlk8s__config cfg;
	struct hlk8s__blob b;
	char err[256];

	if (!hlk8s__kubeconfig_parse((const char *)data, size, "/base", &cfg, err, sizeof(err)))
		hlk8s__config_clear(&cfg);
	if (!hlk8s__b64_decode((const char *)data, size, &b))
		free(b.data);
	return 0;
}
