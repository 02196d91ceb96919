/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostlanectl inject: the admission webhook's mutation for clusters
 * without the webhook (as istioctl kube-inject): manifests in (YAML or
 * JSON, several documents), the same manifests out with every pod that
 * asks for shm given the LD_PRELOAD layer. hostlanectl install-lib: what
 * the injected init container runs.
 */
#include "ctl.h"
#include "hlinject.h"
#include "hl_util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0, r;
	char *b = malloc(cap);

	while (b && (r = fread(b + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (n > HL_MANIFEST_MAX_BYTES)
			break;
		if (n + 1 == cap) {
			char *nb = realloc(b, cap *= 2);

			if (!nb) {
				free(b);
				return NULL;
			}
			b = nb;
		}
	}
	if (b && ferror(f)) {
		free(b);
		return NULL;
	}
	if (b)
		b[n] = '\0';
	*len = n;
	return b;
}

static void inject_usage(FILE *f)
{
	fprintf(f, "usage: hostlanectl inject -f FILE|- [options]\n"
		   "  -f FILE              manifests to read (YAML or JSON, several documents; - for stdin)\n"
		   "  -o yaml|json         output format (default: the input's)\n"
		   "  --image REF          hostlane image of the init container (default %s)\n"
		   "  --pull-policy P      its imagePullPolicy\n"
		   "  --mount PATH         where containers see the library (%s)\n"
		   "  --resource NAME      node resource the quota is requested as (%s; \"\" for none)\n"
		   "  --default-quota Q    quota without the hostlane.io/hugepages annotation (64Mi)\n"
		   "  --max-quota Q        a larger annotation is an error (256Mi; 0: no bound)\n"
		   "  --network [NS/]NAME  also name this NetworkAttachmentDefinition in the pods'\n"
		   "                       k8s.v1.cni.cncf.io/networks (install mode secondary)\n"
		   "Pods annotated hostlane.io/fastpath: shm (Pods, and the pod templates of\n"
		   "Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs) get the\n"
		   "layer; everything else is written as it was. Exit: 0, 1 a pod's hostlane\n"
		   "annotations are invalid, 2 usage or unreadable input.\n",
		HL_CTL_DEFAULT_IMAGE, HL_INJECT_MOUNT, HL_INJECT_RESOURCE);
}

struct inject_args {
	const char *file, *out;
	struct hl_inject_opts o;
};

static int inject_args(int argc, char **argv, struct inject_args *a)
{
	static const struct option lo[] = {
		{ "filename", required_argument, NULL, 'f' }, { "output", required_argument, NULL, 'o' },
		{ "image", required_argument, NULL, 'i' }, { "pull-policy", required_argument, NULL, 'p' },
		{ "mount", required_argument, NULL, 'm' }, { "resource", required_argument, NULL, 'r' },
		{ "default-quota", required_argument, NULL, 'd' }, { "max-quota", required_argument, NULL, 'x' },
		{ "network", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	int ch;

	a->o = (struct hl_inject_opts){ .image = HL_CTL_DEFAULT_IMAGE, .default_quota = 64ull << 20,
					.max_quota = 256ull << 20 };
	/* argv[-1] is the command's own name: getopt's argv[0]. */
	optind = 0;
	while ((ch = getopt_long(argc + 1, argv - 1, "f:o:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'f': a->file = optarg; break;
		case 'o': a->out = optarg; break;
		case 'i': a->o.image = optarg; break;
		case 'p': a->o.pull_policy = optarg; break;
		case 'm': a->o.mount = optarg; break;
		case 'r': a->o.resource = optarg; break;
		case 'n': a->o.network = optarg; break;
		case 'd':
			if (hl_quantity_parse(optarg, &a->o.default_quota) < 0)
				return -EINVAL;
			break;
		case 'x':
			if (hl_quantity_parse(optarg, &a->o.max_quota) < 0)
				return -EINVAL;
			break;
		case 'h': inject_usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (optind != argc + 1 || !a->file || (a->out && strcmp(a->out, "yaml") && strcmp(a->out, "json")))
		return -EINVAL;
	return 0;
}

int ctl_inject(struct ctl *c, int argc, char **argv)
{
	struct inject_args a = { 0 };
	enum hl_manifest_format fmt;
	struct hl_inject_report rep;
	char err[256], *text, *out = NULL;
	cJSON *docs = NULL, *d;
	size_t len = 0;
	FILE *f;
	int rc = 0;

	(void)c;
	if (inject_args(argc, argv, &a) < 0) {
		inject_usage(stderr);
		return 2;
	}
	f = strcmp(a.file, "-") ? fopen(a.file, "r") : stdin;
	if (!f) {
		fprintf(stderr, "hostlanectl: %s: %s\n", a.file, strerror(errno));
		return 2;
	}
	text = read_all(f, &len);
	if (f != stdin)
		fclose(f);
	if (!text || hl_manifest_read(text, len, &docs, &fmt, err, sizeof(err)) < 0) {
		fprintf(stderr, "hostlanectl: %s: %s\n", a.file, text ? err : "cannot read it");
		free(text);
		return 2;
	}
	free(text);
	cJSON_ArrayForEach(d, docs) {
		int r = hl_inject_object(d, &a.o, &rep);

		for (unsigned i = 0; i < rep.n_warnings; i++)
			fprintf(stderr, "hostlanectl: %s: %s\n", r < 0 && i == 0 ? "error" : "warning",
				rep.warnings[i]);
		if (r == -ENOMEM) {
			fprintf(stderr, "hostlanectl: out of memory\n");
			rc = 2;
			goto out;
		}
		if (r < 0)
			rc = 1;
	}
	if (rc)
		goto out;
	if (a.out)
		fmt = strcmp(a.out, "json") ? HL_MANIFEST_YAML : HL_MANIFEST_JSON;
	if (hl_manifest_write(docs, fmt, &out) < 0) {
		fprintf(stderr, "hostlanectl: cannot write the manifests\n");
		rc = 2;
		goto out;
	}
	fputs(out, stdout);
	rc = fflush(stdout) == 0 ? 0 : 2;
out:
	free(out);
	cJSON_Delete(docs);
	return rc;
}

int ctl_install_lib(struct ctl *c, int argc, char **argv)
{
	const char *from = "/usr/lib/hostlane";
	char glibc[4096], musl[4096];
	int rc;

	(void)c;
	if (argc == 3 && strcmp(argv[0], "--from") == 0) {
		from = argv[1];
		argv += 2;
		argc -= 2;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: hostlanectl install-lib [--from DIR] DEST\n"
				"  lays DIR/libhostlane.so (glibc) and DIR/musl/libhostlane.so out in DEST\n"
				"  for LD_PRELOAD=DEST/$LIB/libhostlane.so (docs/kubernetes.md)\n");
		return 2;
	}
	snprintf(glibc, sizeof(glibc), "%s/%s", from, HL_INJECT_LIBNAME);
	snprintf(musl, sizeof(musl), "%s/musl/%s", from, HL_INJECT_LIBNAME);
	rc = hl_inject_libdir(argv[0], glibc, access(musl, R_OK) == 0 ? musl : NULL);
	if (rc < 0) {
		fprintf(stderr, "hostlanectl: install-lib %s: %s\n", argv[0], strerror(-rc));
		return 1;
	}
	printf("hostlanectl: the layer is in %s (LD_PRELOAD=%s/$LIB/%s)%s\n", argv[0], argv[0],
	       HL_INJECT_LIBNAME, access(musl, R_OK) == 0 ? "" : "; no musl variant");
	return 0;
}
