/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlinject.h — puts the LD_PRELOAD layer into pods that ask for the shm
 * fast path (libhlinject.a). One mutation, two users: the admission
 * webhook (hostlane-webhook) answers an AdmissionReview with the JSONPatch
 * of it, `hostlanectl inject` writes the mutated manifests.
 *
 * A pod is injected when its annotation hostlane.io/fastpath is "shm":
 *   * a volume "hostlane-lib" (emptyDir) and, first among the init
 *     containers, "hostlane-init" from the hostlane image, which lays the
 *     library out in it (hl_inject_libdir());
 *   * in every other container and init container: the volume mounted
 *     read-only at the mount path, and LD_PRELOAD with
 *     "<mount>/$LIB/libhostlane.so" appended to what it holds (never
 *     replacing it). glibc's loader expands $LIB to its own library
 *     directory name, musl's takes it literally: the one path loads the
 *     variant built for the program's libc (docs/kubernetes.md);
 *   * the pod's hugepage quota as a request of the node resource
 *     (hostlane.io/shm by default) on hostlane-init, so that the scheduler
 *     counts it;
 *   * with a network named (opts.network, the "secondary" install mode),
 *     that NetworkAttachmentDefinition in the pod's Multus annotation
 *     k8s.v1.cni.cncf.io/networks, beside the networks it names already.
 * Containers named in the annotation hostlane.io/inject-exclude
 * ("name,name") are left alone. Every step looks first whether it is done
 * already: a pod injected before (by the webhook, by hostlanectl, by hand)
 * gets no change, and a container added since gets its part.
 *
 * Conventions: int functions return 0 or -errno; no global state; every
 * function is safe to call from several threads on different objects.
 */
#ifndef HOSTLANE_INJECT_H
#define HOSTLANE_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define HL_INJECT_ANNOTATION      "hostlane.io/fastpath"
#define HL_INJECT_QUOTA_ANNOTATION "hostlane.io/hugepages"
#define HL_INJECT_EXCLUDE_ANNOTATION "hostlane.io/inject-exclude"
#define HL_INJECT_VOLUME          "hostlane-lib"
#define HL_INJECT_INIT            "hostlane-init"
#define HL_INJECT_MOUNT           "/opt/hostlane"
#define HL_INJECT_LIBNAME         "libhostlane.so"
#define HL_INJECT_RESOURCE        "hostlane.io/shm"
/* The directory name musl's loader reads for "$LIB" (it does not expand it). */
#define HL_INJECT_MUSL_DIR        "$LIB"

/* A namespace's default quota (the agent's hugepages.namespaceQuota). */
struct hl_inject_nsquota {
	const char *ns;
	uint64_t bytes;
};

/* What the mutation puts in. Zeroed fields take the defaults above. */
struct hl_inject_opts {
	const char *image;         /* hostlane image of hostlane-init (required) */
	const char *pull_policy;   /* imagePullPolicy of hostlane-init, NULL: none set */
	const char *mount;         /* mount path (HL_INJECT_MOUNT) */
	const char *resource;      /* node resource to request, "" for none */
	uint64_t default_quota;    /* bytes requested without the quota annotation */
	const struct hl_inject_nsquota *ns_quota;  /* per-namespace defaults over it */
	size_t n_ns_quota;
	uint64_t max_quota;        /* a larger annotation is an error; 0: no bound */
	const char *network;       /* "[namespace/]name" of the NetworkAttachmentDefinition
				    * to attach to (Multus), NULL or "": none */
};

/* What one mutation did, for warnings and messages. */
#define HL_INJECT_MSG 512
struct hl_inject_report {
	bool selected;             /* the object holds a pod asking for shm */
	unsigned changed;          /* steps done (0: already injected, or not selected) */
	unsigned containers;       /* containers that have the layer (now or before) */
	char warnings[4][HL_INJECT_MSG];   /* containers left out, and why */
	unsigned n_warnings;
};

/**
 * hl_inject_pod() - inject one pod (a Pod's, or a workload template's,
 * metadata and spec).
 * @meta:   the pod's metadata object (may be NULL: no annotation, nothing to do).
 * @spec:   the pod's spec object, changed in place.
 * @base:   JSON pointer of @spec in the document the patch applies to, e.g.
 *          "/spec" for a Pod, "/spec/template/spec" for a Deployment.
 * @o:      what to put in.
 * @patch:  a cJSON array the JSONPatch operations (RFC 6902) are appended
 *          to, in the order they apply; NULL: none recorded.
 * @rep:    filled in (zeroed first).
 *
 * Return: 0 (also when the pod does not ask for shm, or is injected
 * already), -EINVAL when the pod asks for shm but its spec is not a pod
 * spec's shape (containers not an array of objects, ...) or its quota
 * annotation is not a quantity or above @o->max_quota (rep->warnings[0]
 * says which), -ENOMEM. On an error @spec may be half changed.
 */
int hl_inject_pod(struct cJSON *meta, struct cJSON *spec, const char *base,
		  const struct hl_inject_opts *o, struct cJSON *patch, struct hl_inject_report *rep);

/**
 * hl_inject_object() - inject every pod an object holds: a Pod, the
 * template of a Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or
 * ReplicationController, a CronJob's job template, each item of a List.
 * Other kinds are left as they are.
 * @obj:    the object, changed in place.
 * @o:      what to put in.
 * @rep:    summed over its pods (zeroed first).
 *
 * Return: 0, -EINVAL (a pod asking for shm whose spec has no pod spec's
 * shape; rep->warnings[0] says where), -ENOMEM.
 */
int hl_inject_object(struct cJSON *obj, const struct hl_inject_opts *o, struct hl_inject_report *rep);

/**
 * hl_inject_review() - the admission webhook's answer to one request body.
 * @body, @len: the HTTP request body (untrusted: any bytes).
 * @o:          what to put in.
 * @out:        the response body (malloc'd, NUL-terminated), on 0 and on
 *              -EINVAL alike; free() it.
 * @status:     the HTTP status to send: 200 with an AdmissionReview
 *              (allowed, with the base64 JSONPatch when something changed,
 *              or denied with a reason for a pod whose hostlane annotations
 *              are invalid), 400 with {"error": "..."} for a body that is
 *              not an AdmissionReview of admission.k8s.io/v1 or v1beta1
 *              with a request uid.
 *
 * A request for anything but a Pod CREATE is allowed unchanged.
 * Return: 0, -EINVAL (the 400 case), -ENOMEM (no body made).
 */
int hl_inject_review(const char *body, size_t len, const struct hl_inject_opts *o,
		     char **out, int *status);

/* ---- manifests (manifest.c) -------------------------------------------- */

enum hl_manifest_format { HL_MANIFEST_YAML, HL_MANIFEST_JSON };

/* Bounds of what a manifest may hold (a hostile file must not exhaust memory). */
#define HL_MANIFEST_MAX_BYTES  (16u << 20)
#define HL_MANIFEST_MAX_NODES  (1u << 20)   /* after aliases are expanded */
#define HL_MANIFEST_MAX_DEPTH  128

/**
 * hl_manifest_read() - parse a stream of Kubernetes objects.
 * @text, @len: YAML (one or more documents, `---` between them) or JSON
 *              (one or more values one after the other); JSON when the
 *              first non-blank character is '{' or '['.
 * @docs:       out: a new cJSON array, one item per non-empty document,
 *              each a cJSON tree with YAML's scalars resolved as
 *              Kubernetes reads them (YAML 1.1: yes/no/on/off are
 *              booleans, 0x1f an integer, ...); aliases and merge keys
 *              expanded. JSON numbers are cJSON's doubles (an integer
 *              above 2^53 loses digits); YAML keeps such an integer's digits.
 * @fmt:        out: the format read.
 * @err:        a message on failure (line and column for YAML).
 *
 * Return: 0, -EINVAL (syntax, an alias to nothing, a scalar tag it does not
 * know, a mapping key that is not a scalar), -E2BIG (over the bounds
 * above), -ENOMEM.
 */
int hl_manifest_read(const char *text, size_t len, struct cJSON **docs,
		     enum hl_manifest_format *fmt, char *err, size_t errlen);

/**
 * hl_manifest_write() - the documents as a YAML stream (`---` between
 * them) or as JSON values one a line group.
 * @docs: an array as hl_manifest_read() makes.
 * @fmt:  the format.
 * @out:  the text (malloc'd, NUL-terminated).
 *
 * Strings that YAML would read as something else ("true", "8080", "null",
 * "") are quoted; multi-line strings are written as literal blocks.
 * Return: 0, -EINVAL (a number that is not finite), -ENOMEM.
 */
int hl_manifest_write(const struct cJSON *docs, enum hl_manifest_format fmt, char **out);

/* ---- the library directory (libdir.c) ---------------------------------- */

/**
 * hl_inject_libdir() - lay the layer out in @dir (the pod's emptyDir) so
 * that LD_PRELOAD=<dir>/$LIB/libhostlane.so loads the right variant:
 * @glibc copied to <dir>/glibc/, linked from every directory name glibc's
 * loaders use for $LIB (lib, lib64, lib/<multiarch> for x86_64, aarch64,
 * i386), and @musl copied to "<dir>/$LIB/" (musl reads the name as it is).
 * Copies are written to a temporary name and renamed (a container never
 * sees half a library).
 * @musl: may be NULL (no musl variant: musl programs then run without the
 *        layer, over the kernel).
 *
 * Return: 0 or -errno of the file operations (-ENOENT when @glibc is
 * missing).
 */
int hl_inject_libdir(const char *dir, const char *glibc, const char *musl);

#endif /* HOSTLANE_INJECT_H */
