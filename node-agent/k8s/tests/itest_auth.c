/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlk8s-itest scenarios about credentials: rotated service-account tokens
 * (ahead of time and after a 401), client certificates (the driver is
 * hlk8s_itest.c).
 */
#include "hlk8s_itest.h"

static int mk_sa_version(const char *sa, const char *ver, const char *token)
{
	char p[700], t[800];

	snprintf(p, sizeof(p), "%s/%s", sa, ver);
	if (mkdir(p, 0755) && errno != EEXIST)
		return -1;
	snprintf(t, sizeof(t), "%s/token", p);
	if (write_file(t, token))
		return -1;
	snprintf(t, sizeof(t), "%s/ca.crt", p);
	return symlink(ca, t) && errno != EEXIST ? -1 : 0;
}

/* Atomically points sa/..data at @ver, as the kubelet's atomic writer does. */
static int swap_data(const char *sa, const char *ver)
{
	char tmp[700], dst[700];

	snprintf(tmp, sizeof(tmp), "%s/..data_tmp", sa);
	snprintf(dst, sizeof(dst), "%s/..data", sa);
	unlink(tmp);
	if (symlink(ver, tmp))
		return -1;
	return rename(tmp, dst);
}

static struct hlk8s_client *incluster_client(const char *sa)
{
	char port[16];
	struct hlk8s_opts o = { .sa_dir = sa, .node_name = node, .log = logfn };
	struct hlk8s_client *c;

	snprintf(port, sizeof(port), "%d", api_port);
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", port, 1);
	c = hlk8s_client_new(&o);
	if (!c)
		fprintf(stderr, "in-cluster client: %s\n", strerror(errno));
	return c;
}

/* Projected service-account volume: token -> ..data/token, ..data -> ..<ts>. */
int sc_rotate(void)
{
	const char *sa = path_of("sa");
	char lnk[700];
	struct hlk8s_client *c;
	struct watcher w;
	uint64_t conns;

	CHECK(!mkdir(sa, 0755) || errno == EEXIST, "mkdir");
	CHECK(!mk_sa_version(sa, "..2024_05_01_10_00_00.1", "bound-token-old\n") &&
	      !swap_data(sa, "..2024_05_01_10_00_00.1"), "sa v1");
	snprintf(lnk, sizeof(lnk), "%s/token", sa);
	CHECK(!symlink("..data/token", lnk) || errno == EEXIST, "token link");
	snprintf(lnk, sizeof(lnk), "%s/ca.crt", sa);
	CHECK(!symlink("..data/ca.crt", lnk) || errno == EEXIST, "ca link");
	CHECK(!write_file(server_token, "bound-token-old\n"), "server token");
	CHECK(!pod("ns1", "a", node, "shm") && !pod("ns2", "far", "other-node", "vf"), "pods");

	c = incluster_client(sa);
	CHECK(c, "client");
	CHECK(!watch_start(&w, c), "start");
	CHECK(WAIT_FOR(c, st.cached_pods == 1), "listed with the old token");
	CHECK(!strcmp(ann(c, "ns2", "far", HLK8S_ANN_FASTPATH), "vf"), "GET with the old token");

	/* Rotation: the server accepts only the new token from now on. */
	CHECK(!mk_sa_version(sa, "..2024_05_01_11_00_00.2", "bound-token-new\n") &&
	      !swap_data(sa, "..2024_05_01_11_00_00.2"), "sa v2");
	CHECK(!write_file(server_token, "bound-token-new\n"), "server token");
	CHECK(!strcmp(ann(c, "ns2", "far", HLK8S_ANN_FASTPATH), "vf"), "GET after rotation: %s",
	      ann(c, "ns2", "far", HLK8S_ANN_FASTPATH));
	CHECK(stats(c).token_reloads == 1, "token_reloads %lu",
	      (unsigned long)stats(c).token_reloads);
	/* A new watch connection (after a drop) authenticates with the new token. */
	conns = stats(c).watch_connects;
	CHECK(!ctl_ok("/drop", "{}"), "drop");
	CHECK(WAIT_FOR(c, st.watch_connects > conns), "watch reconnected");
	CHECK(!pod("ns1", "late", node, "vhost-user"), "pod");
	CHECK(!wait_ann(c, "ns1", "late", "vhost-user"), "watch works with the new token");
	CHECK(log_num("unauthorized") == 0, "server refused %ld requests", log_num("unauthorized"));
	CHECK(stats(c).get_errors == 0 && stats(c).token_reloads == 1, "errors");
	CHECK(watch_stop(&w) == 0, "stop");
	hlk8s_client_free(c);
	return 0;
}

/*
 * The token changes without the file looking changed (same inode, size and
 * mtime): only the 401 tells. The client must re-read and retry.
 */
int sc_rotate401(void)
{
	const char *tf = path_of("client-token");
	struct hlk8s_client *c;
	struct stat st;
	struct timespec ts[2];
	int fd;

	CHECK(!set_tokens("token-AAAA\n"), "tokens");
	CHECK(!pod("ns2", "far", "other-node", "vf"), "pod");
	c = kc_client(kubeconfig("kc-401.yaml", api_port, token_user()), 0, 2000);
	CHECK(c, "client");
	CHECK(!strcmp(ann(c, "ns2", "far", HLK8S_ANN_FASTPATH), "vf"), "before");
	CHECK(!stat(tf, &st), "stat");
	CHECK(!write_file(server_token, "token-BBBB\n"), "server");
	fd = open(tf, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "token-BBBB\n", 11, 0) == 11, "rewrite in place");
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	CHECK(!futimens(fd, ts) && !close(fd), "restore mtime");
	CHECK(!strcmp(ann(c, "ns2", "far", HLK8S_ANN_FASTPATH), "vf"), "after: %s",
	      ann(c, "ns2", "far", HLK8S_ANN_FASTPATH));
	CHECK(stats(c).token_reloads == 1 && stats(c).get_errors == 0, "reloads %lu",
	      (unsigned long)stats(c).token_reloads);
	CHECK(log_num("unauthorized") == 1, "one 401, got %ld", log_num("unauthorized"));
	hlk8s_client_free(c);
	return 0;
}

/* Client certificate and key from -data blobs (kubeconfig written by the script). */
int sc_mtls(void)
{
	struct hlk8s_client *c;
	char buf[32];

	CHECK(!set_tokens("tok-mtls-001\n"), "tokens");
	CHECK(!pod("ns1", "a", node, "shm"), "pod");
	c = kc_client(path_of("kc-mtls.yaml"), 0, 2000);
	CHECK(c, "client");
	CHECK(!strcmp(ann(c, "ns1", "a", HLK8S_ANN_FASTPATH), "shm"), "cert auth: %s",
	      ann(c, "ns1", "a", HLK8S_ANN_FASTPATH));
	hlk8s_client_free(c);
	/* No credentials at all: 401 -> -EACCES, counted as an error. */
	c = kc_client(kubeconfig("kc-anon.yaml", api_port, "    {}\n"), 0, 2000);
	CHECK(c, "anon client");
	CHECK(hlk8s_pod_annotation(c, "ns1", "a", HLK8S_ANN_FASTPATH, buf, sizeof(buf)) == -EACCES,
	      "anonymous is refused");
	CHECK(stats(c).get_errors == 1, "error counted");
	hlk8s_client_free(c);
	/* A CA that did not sign the server: TLS fails, -EIO, never a wrong answer. */
	c = kc_client(path_of("kc-badca.yaml"), 0, 2000);
	CHECK(c, "bad-ca client");
	CHECK(hlk8s_pod_annotation(c, "ns1", "a", HLK8S_ANN_FASTPATH, buf, sizeof(buf)) == -EIO,
	      "unverified server is refused");
	hlk8s_client_free(c);
	return 0;
}
