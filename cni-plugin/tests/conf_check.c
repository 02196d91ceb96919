/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostlane-conf-check FILE...: reads each network config (a .conf: one
 * plugin; a conflist: "plugins") and parses every "hostlane" entry with the
 * plugin's own parser for ADD, as the runtime would hand it over (the
 * list's name and cniVersion injected into the entry, as libcni does).
 * Prints "ok FILE[#i]" or "error FILE[#i]: code msg: details"; exits 1 if
 * any entry is refused or a file has no hostlane entry. Used by
 * test/integration/k8s-manifests.sh on the NetworkAttachmentDefinitions'
 * spec.config and the installer's configs.
 */
#include "../src/cni.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0) {
		long n = ftell(f);

		if (n >= 0 && n < (1 << 20) && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
			*len = fread(buf, 1, (size_t)n, f);
			buf[*len] = '\0';
		}
	}
	fclose(f);
	return buf;
}

static int check_one(const char *what, const cJSON *entry)
{
	char *s = cJSON_PrintUnformatted(entry);
	struct cni_conf c;
	struct cni_err e;
	int rc;

	if (!s)
		return -1;
	rc = cni_conf_parse(s, strlen(s), CNI_CMD_ADD, &c, &e);
	if (rc == 0)
		printf("ok %s\n", what);
	else
		printf("error %s: %d %s: %s\n", what, e.code, e.msg, e.details);
	cni_conf_free(&c);
	free(s);
	return rc;
}

static int check_file(const char *path)
{
	size_t len = 0;
	char *buf = slurp(path, &len), what[512];
	cJSON *root = buf ? cJSON_ParseWithLength(buf, len) : NULL;
	const cJSON *plugins = cJSON_GetObjectItemCaseSensitive(root, "plugins"), *p;
	int bad = 0, seen = 0, i = 0;

	free(buf);
	if (!cJSON_IsObject(root)) {
		printf("error %s: not a JSON object\n", path);
		cJSON_Delete(root);
		return 1;
	}
	if (!plugins) {
		seen = 1;
		bad = check_one(path, root) < 0;
	}
	cJSON_ArrayForEach(p, plugins) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "type");
		cJSON *entry;

		i++;
		if (!cJSON_IsString(t) || strcmp(t->valuestring, "hostlane"))
			continue;
		seen++;
		entry = cJSON_Duplicate(p, 1);
		if (!entry)
			return 1;
		/* libcni: the list's name and version go into each plugin's config. */
		cJSON_DeleteItemFromObjectCaseSensitive(entry, "name");
		cJSON_DeleteItemFromObjectCaseSensitive(entry, "cniVersion");
		cJSON_AddItemToObject(entry, "name",
				      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(root, "name"), 1));
		cJSON_AddItemToObject(entry, "cniVersion",
				      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(root, "cniVersion"), 1));
		snprintf(what, sizeof(what), "%s#%d", path, i);
		bad += check_one(what, entry) < 0;
		cJSON_Delete(entry);
	}
	if (!seen) {
		printf("error %s: no hostlane entry\n", path);
		bad++;
	}
	cJSON_Delete(root);
	return bad != 0;
}

int main(int argc, char **argv)
{
	int bad = 0;

	cni_log_setup(NULL, CNI_LOG_ERROR);
	for (int i = 1; i < argc; i++)
		bad += check_file(argv[i]);
	return bad ? 1 : 0;
}
