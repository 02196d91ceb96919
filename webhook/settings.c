/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The quota part of the agent's config file, read by the webhook so that
 * the node resource a pod requests is the quota the agent will reserve for
 * it: hugepages.defaultQuota, hugepages.maxQuota (a larger annotation is
 * refused at admission instead of failing at ADD) and
 * hugepages.namespaceQuota (a namespace's default). The agent validates
 * the whole file; here the other keys are ignored.
 */
#include "webhook.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hl_util.h"

static int quantity(const cJSON *v, const char *what, uint64_t *out, char *err, size_t errlen)
{
	char num[32];
	const char *s = num;

	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e18)
		snprintf(num, sizeof(num), "%.0f", v->valuedouble);
	else if (cJSON_IsString(v))
		s = v->valuestring;
	else
		s = NULL;
	if (!s || hl_quantity_parse(s, out) < 0) {
		snprintf(err, errlen, "%s: not a quantity of bytes", what);
		return -EINVAL;
	}
	return 0;
}

static int apply(struct wh_settings *s, const cJSON *hp, char *err, size_t errlen)
{
	const cJSON *v, *ns = cJSON_GetObjectItemCaseSensitive(hp, "namespaceQuota");
	size_t n = 0;

	if ((v = cJSON_GetObjectItemCaseSensitive(hp, "defaultQuota")) &&
	    quantity(v, "hugepages.defaultQuota", &s->o.default_quota, err, errlen) < 0)
		return -EINVAL;
	if ((v = cJSON_GetObjectItemCaseSensitive(hp, "maxQuota")) &&
	    quantity(v, "hugepages.maxQuota", &s->o.max_quota, err, errlen) < 0)
		return -EINVAL;
	if (ns && !cJSON_IsObject(ns)) {
		snprintf(err, errlen, "hugepages.namespaceQuota must be an object {\"namespace\": \"64Mi\"}");
		return -EINVAL;
	}
	cJSON_ArrayForEach(v, ns) {
		char what[128];

		if (n == WH_NS_MAX || strlen(v->string) >= sizeof(s->ns_names[0])) {
			snprintf(err, errlen, "hugepages.namespaceQuota: more than %d namespaces, or a name "
				 "over 63 bytes", WH_NS_MAX);
			return -EINVAL;
		}
		snprintf(what, sizeof(what), "hugepages.namespaceQuota.%.64s", v->string);
		if (quantity(v, what, &s->ns[n].bytes, err, errlen) < 0)
			return -EINVAL;
		snprintf(s->ns_names[n], sizeof(s->ns_names[n]), "%s", v->string);
		s->ns[n].ns = s->ns_names[n];
		n++;
	}
	s->o.ns_quota = s->ns;
	s->o.n_ns_quota = n;
	return 0;
}

int wh_settings_load_quota(struct wh_settings *s, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
	char *buf = NULL;
	struct stat st;
	cJSON *o;
	ssize_t n;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || st.st_size > (1 << 20) || !(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		snprintf(err, errlen, "%s: not a readable file under 1 MiB", path);
		return -EINVAL;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	o = n >= 0 ? cJSON_ParseWithLength(buf, (size_t)n) : NULL;
	free(buf);
	if (!o || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		snprintf(err, errlen, "%s: not a JSON object", path);
		return -EINVAL;
	}
	rc = apply(s, cJSON_GetObjectItemCaseSensitive(o, "hugepages"), err, errlen);
	cJSON_Delete(o);
	if (rc == 0 && s->o.max_quota && s->o.default_quota > s->o.max_quota) {
		snprintf(err, errlen, "hugepages.defaultQuota is above hugepages.maxQuota");
		rc = -EINVAL;
	}
	return rc;
}
