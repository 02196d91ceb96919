/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the persisted slot record decoder (a damaged state file must be
 * refused, never misread), and encode(decode(x)) must decode to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vf_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vf_rec r, back;
	char *json;

	if (hl_vfi_rec_decode((const char *)data, size, &r))
		return 0;
	json = hl_vfi_rec_encode("0000:00:00.0", &r);
	if (!json)
		return 0;
	if (hl_vfi_rec_decode(json, strlen(json), &back) || back.state != r.state ||
	    back.gen != r.gen || strcmp(back.owner, r.owner) || back.has_orig != r.has_orig ||
	    strcmp(back.netns, r.netns) || back.has_pf_orig != r.has_pf_orig)
		abort();
	free(json);
	return 0;
}
