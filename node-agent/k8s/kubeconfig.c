/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client configuration: a kubeconfig file (YAML, parsed with libyaml's
 * document loader) or the in-cluster service account.
 *
 * Only the fixed shape of a kubeconfig is walked (root -> lists -> entries
 * -> scalars), never the tree generically, so YAML aliases (even
 * self-referencing ones) cannot make the walk loop or blow up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "hlk8s_private.h"

#define KUBECONFIG_MAX (4u << 20) /* a kubeconfig bigger than this is not one */
#define SA_DIR_DEFAULT "/var/run/secrets/kubernetes.io/serviceaccount"

struct kc {
	yaml_document_t doc;
	const char *basedir;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct kc *k, const char *fmt, ...)
{
	va_list ap;

	if (k->errlen) {
		va_start(ap, fmt);
		vsnprintf(k->err, k->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static yaml_node_t *node(struct kc *k, int id)
{
	return yaml_document_get_node(&k->doc, id);
}

/* Scalar value of @n as a NUL-free C string, or NULL. */
static const char *scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	/* libyaml NUL-terminates scalars; an embedded NUL would truncate silently. */
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* Value of key @key in mapping @map, or NULL. */
static yaml_node_t *map_get(struct kc *k, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const char *s = scalar(node(k, p->key));

		if (s && !strcmp(s, key))
			return node(k, p->value);
	}
	return NULL;
}

static const char *map_str(struct kc *k, const yaml_node_t *map, const char *key)
{
	return scalar(map_get(k, map, key));
}

/* In list @list, the entry whose "name" is @name; returns its @field mapping. */
static yaml_node_t *named(struct kc *k, const char *list, const char *field, const char *name)
{
	yaml_node_t *root = yaml_document_get_root_node(&k->doc);
	yaml_node_t *seq = map_get(k, root, list);

	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *e = node(k, *it);
		const char *n = map_str(k, e, "name");

		if (n && !strcmp(n, name)) {
			yaml_node_t *v = map_get(k, e, field);

			/* "user: {}" and a bare "user:" (null) both mean "nothing set". */
			return v ? v : e;
		}
	}
	return NULL;
}

static int dup_str(struct kc *k, const char *s, char **out)
{
	(void)k;
	*out = NULL;
	if (!s || !*s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* asprintf that returns NULL on failure (asprintf leaves the pointer undefined). */
__attribute__((format(printf, 1, 2)))
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

/* A file path field, made absolute against the kubeconfig's directory. */
static int dup_path(struct kc *k, const char *s, char **out)
{
	*out = NULL;
	if (!s || !*s)
		return 0;
	if (s[0] == '/' || !k->basedir)
		return dup_str(k, s, out);
	*out = xasprintf("%s/%s", k->basedir, s);
	return *out ? 0 : -ENOMEM;
}

static int dup_blob(struct kc *k, const char *s, const char *what, struct hlk8s__blob *out)
{
	int r;

	if (!s || !*s)
		return 0;
	r = hlk8s__b64_decode(s, strlen(s), out);
	if (r == -EINVAL)
		return fail(k, "kubeconfig: %s is not valid base64", what);
	return r;
}

static bool yaml_true(const char *s)
{
	return s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"));
}

static int read_cluster(struct kc *k, const yaml_node_t *cl, const char *name,
			struct hlk8s__config *cfg)
{
	const char *server = map_str(k, cl, "server");
	size_t n;
	int r;

	if (!server || (strncmp(server, "https://", 8) && strncmp(server, "http://", 7)))
		return fail(k, "kubeconfig: cluster \"%s\" has no http(s) server", name);
	r = dup_str(k, server, &cfg->server);
	if (r)
		return r;
	n = strlen(cfg->server);
	while (n > 0 && cfg->server[n - 1] == '/')
		cfg->server[--n] = '\0';
	cfg->insecure = yaml_true(map_str(k, cl, "insecure-skip-tls-verify"));
	r = dup_path(k, map_str(k, cl, "certificate-authority"), &cfg->ca_file);
	if (!r)
		r = dup_blob(k, map_str(k, cl, "certificate-authority-data"),
			     "certificate-authority-data", &cfg->ca);
	if (!r)
		r = dup_str(k, map_str(k, cl, "tls-server-name"), &cfg->tls_server_name);
	return r;
}

static int read_user(struct kc *k, const yaml_node_t *u, const char *name,
		     struct hlk8s__config *cfg)
{
	int r;

	if (map_get(k, u, "exec"))
		return fail(k, "kubeconfig: user \"%s\" uses an exec credential plugin, which "
			    "hostlane does not support; use a token, tokenFile or client "
			    "certificate", name);
	if (map_get(k, u, "auth-provider"))
		return fail(k, "kubeconfig: user \"%s\" uses an auth-provider plugin, which "
			    "hostlane does not support; use a token, tokenFile or client "
			    "certificate", name);
	if (map_get(k, u, "username") || map_get(k, u, "password"))
		return fail(k, "kubeconfig: user \"%s\": basic authentication is not supported",
			    name);
	r = dup_str(k, map_str(k, u, "token"), &cfg->token);
	if (!r)
		r = dup_path(k, map_str(k, u, "tokenFile"), &cfg->token_file);
	if (!r)
		r = dup_path(k, map_str(k, u, "client-certificate"), &cfg->cert_file);
	if (!r)
		r = dup_blob(k, map_str(k, u, "client-certificate-data"),
			     "client-certificate-data", &cfg->cert);
	if (!r)
		r = dup_path(k, map_str(k, u, "client-key"), &cfg->key_file);
	if (!r)
		r = dup_blob(k, map_str(k, u, "client-key-data"), "client-key-data", &cfg->key);
	if (r)
		return r;
	if (!(cfg->cert_file || cfg->cert.data) != !(cfg->key_file || cfg->key.data))
		return fail(k, "kubeconfig: user \"%s\" has a client certificate without a key "
			    "or a key without a certificate", name);
	return 0;
}

static int read_doc(struct kc *k, struct hlk8s__config *cfg)
{
	yaml_node_t *root = yaml_document_get_root_node(&k->doc);
	yaml_node_t *ctx, *cl, *u;
	const char *cur, *cname, *uname;
	int r;

	if (!root || root->type != YAML_MAPPING_NODE)
		return fail(k, "kubeconfig: not a YAML mapping");
	cur = map_str(k, root, "current-context");
	if (!cur || !*cur)
		return fail(k, "kubeconfig: current-context is not set");
	ctx = named(k, "contexts", "context", cur);
	if (!ctx)
		return fail(k, "kubeconfig: context \"%s\" not found", cur);
	cname = map_str(k, ctx, "cluster");
	uname = map_str(k, ctx, "user");
	if (!cname)
		return fail(k, "kubeconfig: context \"%s\" names no cluster", cur);
	cl = named(k, "clusters", "cluster", cname);
	if (!cl)
		return fail(k, "kubeconfig: cluster \"%s\" not found", cname);
	r = read_cluster(k, cl, cname, cfg);
	if (r || !uname || !*uname)
		return r; /* no user: anonymous */
	u = named(k, "users", "user", uname);
	if (!u)
		return fail(k, "kubeconfig: user \"%s\" not found", uname);
	return read_user(k, u, uname, cfg);
}

int hlk8s__kubeconfig_parse(const char *buf, size_t len, const char *basedir,
			    struct hlk8s__config *cfg, char *err, size_t errlen)
{
	struct kc k = { .basedir = basedir, .err = err, .errlen = errlen };
	yaml_parser_t p;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	if (errlen)
		err[0] = '\0';
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &k.doc)) {
		r = p.error == YAML_MEMORY_ERROR ? -ENOMEM :
		    fail(&k, "kubeconfig: YAML error: %s at line %zu",
			 p.problem ? p.problem : "?", p.problem_mark.line + 1);
		yaml_parser_delete(&p);
		return r;
	}
	r = read_doc(&k, cfg);
	yaml_document_delete(&k.doc);
	yaml_parser_delete(&p);
	if (r)
		hlk8s__config_clear(cfg);
	return r;
}

int hlk8s__slurp(const char *path, size_t max, char **out, size_t *outlen)
{
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;

	*out = NULL;
	if (fd < 0)
		return -errno;
	buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t k = read(fd, buf + n, max + 1 - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || (n += (size_t)k) > max)
			break;
	}
	close(fd);
	if (n > max) {
		free(buf);
		return -EFBIG;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;
}

int hlk8s__kubeconfig_load(const char *path, struct hlk8s__config *cfg,
			   char *err, size_t errlen)
{
	char *buf, *dir, *slash;
	size_t len;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	r = hlk8s__slurp(path, KUBECONFIG_MAX, &buf, &len);
	if (r) {
		snprintf(err, errlen, "kubeconfig %s: %s", path, strerror(-r));
		return r == -ENOENT || r == -ENOMEM ? r : r == -EFBIG ? -EINVAL : -EIO;
	}
	dir = strdup(path);
	if (!dir) {
		free(buf);
		return -ENOMEM;
	}
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	r = hlk8s__kubeconfig_parse(buf, len, slash ? dir : ".", cfg, err, errlen);
	free(dir);
	free(buf);
	return r;
}

int hlk8s__incluster_load(const char *sa_dir, struct hlk8s__config *cfg,
			  char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	bool v6;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	if (!sa_dir)
		sa_dir = SA_DIR_DEFAULT;
	if (!host || !*host || !port || !*port) {
		snprintf(err, errlen, "no kubeconfig given and not in a cluster "
			 "(KUBERNETES_SERVICE_HOST/PORT unset)");
		return -ENOENT;
	}
	v6 = strchr(host, ':') != NULL;
	cfg->server = xasprintf(v6 ? "https://[%s]:%s" : "https://%s:%s", host, port);
	cfg->token_file = xasprintf("%s/token", sa_dir);
	cfg->ca_file = xasprintf("%s/ca.crt", sa_dir);
	if (!cfg->server || !cfg->token_file || !cfg->ca_file) {
		r = -ENOMEM;
		goto fail;
	}
	/* A token that is not there yet is waited for (the client reads it
	 * again before every request); one we may not read is a bad setup. */
	if (access(cfg->token_file, R_OK) < 0 && errno != ENOENT) {
		r = -EACCES;
		snprintf(err, errlen, "service account token %s: %s", cfg->token_file,
			 strerror(errno));
		goto fail;
	}
	return 0;
fail:
	hlk8s__config_clear(cfg);
	return r;
}

void hlk8s__config_clear(struct hlk8s__config *cfg)
{
	free(cfg->server);
	free(cfg->ca_file);
	free(cfg->ca.data);
	free(cfg->cert_file);
	free(cfg->cert.data);
	free(cfg->key_file);
	free(cfg->key.data);
	free(cfg->token);
	free(cfg->token_file);
	free(cfg->tls_server_name);
	memset(cfg, 0, sizeof(*cfg));
}

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int hlk8s__b64_decode(const char *in, size_t inlen, struct hlk8s__blob *out)
{
	uint32_t acc = 0;
	size_t n = 0, bits = 0, pad = 0;
	unsigned char *o = malloc(inlen / 4 * 3 + 3);

	out->data = NULL;
	out->len = 0;
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		int v;

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		v = b64_val(c);
		if (v < 0 || pad)
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be the zero padding of a 2- or 3-char group. */
	if (pad > 2 || bits >= 6 || acc != 0 || n == 0)
		goto bad;
	out->data = o;
	out->len = n;
	return 0;
bad:
	free(o);
	return -EINVAL;
}
