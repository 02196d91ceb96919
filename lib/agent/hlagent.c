/* SPDX-License-Identifier: Apache-2.0 */
#include "hlagent.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short ev, long deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };

	for (;;) {
		long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/*
 * A full listen backlog makes a non-blocking unix connect fail with EAGAIN
 * and poll() cannot wait for room, so retry with a short sleep: that is the
 * agent's back-pressure (bounded in-flight requests), not an error.
 */
static int connect_agent(const char *path, long deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		err = errno;
		if (err == EINTR)
			continue;
		if (err != EAGAIN || now_ms() >= deadline)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
	close(fd);
	return err == EAGAIN ? -ETIMEDOUT : -err;
}

static int parse_reply(char *buf, size_t n, struct hlagent_reply *out)
{
	cJSON *root = cJSON_ParseWithLength(buf, n), *v;
	int rc = -EPROTO;

	if (!root)
		return -EPROTO;
	v = cJSON_GetObjectItemCaseSensitive(root, "hostlane");
	if (!cJSON_IsNumber(v) || v->valueint != HLAGENT_PROTO_VERSION)
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(root, "ok");
	if (!cJSON_IsBool(v))
		goto out;
	out->ok = cJSON_IsTrue(v);
	if (!out->ok) {
		v = cJSON_GetObjectItemCaseSensitive(root, "code");
		out->code = cJSON_IsNumber(v) ? v->valueint : HLAGENT_CNI_PROTOCOL;
		v = cJSON_GetObjectItemCaseSensitive(root, "msg");
		snprintf(out->msg, sizeof(out->msg), "%s", cJSON_IsString(v) ? v->valuestring : "agent error");
		v = cJSON_GetObjectItemCaseSensitive(root, "details");
		snprintf(out->details, sizeof(out->details), "%s", cJSON_IsString(v) ? v->valuestring : "");
	}
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

int hlagent_call(const char *socket_path, const void *req, size_t len, long timeout_ms,
		 struct hlagent_reply *out)
{
	long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 30000);
	char *buf = NULL;
	ssize_t n;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	fd = connect_agent(socket_path ? socket_path : HLAGENT_DEFAULT_SOCKET, deadline);
	if (fd < 0)
		return fd;
	for (;;) {
		if (send(fd, req, len, MSG_NOSIGNAL) >= 0)
			break;
		if (errno == EAGAIN && (rc = wait_fd(fd, POLLOUT, deadline)) == 0)
			continue;
		rc = errno == EAGAIN ? rc : -errno;
		goto out;
	}
	buf = malloc(HLAGENT_MAX_REPLY + 1);
	rc = -ENOMEM;
	if (!buf)
		goto out;
	for (;;) {
		if ((rc = wait_fd(fd, POLLIN, deadline)) < 0)
			goto out;
		n = recv(fd, buf, HLAGENT_MAX_REPLY, MSG_TRUNC);
		if (n >= 0 || (errno != EAGAIN && errno != EINTR))
			break;
	}
	/* 0 bytes: the agent closed without answering (crashed or shut down). */
	rc = n < 0 ? -errno : n == 0 ? -ECONNRESET : n > HLAGENT_MAX_REPLY ? -EPROTO : 0;
	if (rc < 0)
		goto out;
	buf[n] = '\0';
	rc = parse_reply(buf, (size_t)n, out);
	if (rc == 0) {
		out->json = buf;
		buf = NULL;
	}
out:
	free(buf);
	close(fd);
	return rc;
}

static int add_str(cJSON *o, const char *k, const char *v)
{
	if (!v || !*v)
		return 0;
	return cJSON_AddStringToObject(o, k, v) ? 0 : -ENOMEM;
}

static int add_attachment(cJSON *root, const struct hlagent_attachment *a)
{
	cJSON *pod, *ips, *fp;
	int rc = 0;

	if (!a->network || !a->container_id || !a->ifname)
		return -EINVAL;
	rc |= add_str(root, "network", a->network);
	rc |= add_str(root, "containerID", a->container_id);
	rc |= add_str(root, "ifname", a->ifname);
	rc |= add_str(root, "netns", a->netns);
	if ((a->k8s_namespace && *a->k8s_namespace) || (a->k8s_name && *a->k8s_name)) {
		pod = cJSON_AddObjectToObject(root, "pod");
		if (!pod)
			return -ENOMEM;
		rc |= add_str(pod, "namespace", a->k8s_namespace);
		rc |= add_str(pod, "name", a->k8s_name);
		rc |= add_str(pod, "uid", a->k8s_uid);
	}
	ips = cJSON_AddArrayToObject(root, "ips");
	for (size_t i = 0; ips && i < a->n_ips; i++) {
		cJSON *s = cJSON_CreateString(a->ips[i]);

		if (!s || !cJSON_AddItemToArray(ips, s))
			rc = -ENOMEM;
	}
	fp = cJSON_AddObjectToObject(root, "fastpath");
	if (!ips || !fp)
		return -ENOMEM;
	rc |= add_str(fp, "cniArgs", a->fastpath_args);
	rc |= add_str(fp, "config", a->fastpath_config);
	return rc ? -ENOMEM : 0;
}

static int add_valid(cJSON *root, const struct hlagent_valid *v, size_t n)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "valid");

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(arr, o))
			return -ENOMEM;
		if (add_str(o, "containerID", v[i].container_id) || add_str(o, "ifname", v[i].ifname))
			return -ENOMEM;
	}
	return 0;
}

static int send_json(const char *socket_path, cJSON *root, long timeout_ms, struct hlagent_reply *out)
{
	char *txt = cJSON_PrintUnformatted(root);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!txt)
		return -ENOMEM;
	rc = hlagent_call(socket_path, txt, strlen(txt), timeout_ms, out);
	free(txt);
	return rc;
}

static cJSON *new_request(const char *op)
{
	cJSON *root = cJSON_CreateObject();

	if (root && (!cJSON_AddNumberToObject(root, "hostlane", HLAGENT_PROTO_VERSION) ||
		     !cJSON_AddStringToObject(root, "op", op))) {
		cJSON_Delete(root);
		root = NULL;
	}
	return root;
}

int hlagent_request(const char *socket_path, const char *op, const struct hlagent_attachment *a,
		    const struct hlagent_valid *valid, size_t n_valid, long timeout_ms,
		    struct hlagent_reply *out)
{
	bool status = op && strcmp(op, "STATUS") == 0, gc = op && strcmp(op, "GC") == 0;
	cJSON *root;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!op || (!status && !gc && strcmp(op, "ADD") && strcmp(op, "DEL") && strcmp(op, "CHECK")))
		return -EINVAL;
	if (!status && !a)
		return -EINVAL;
	root = new_request(op);
	if (!root)
		return -ENOMEM;
	if (gc)
		rc = add_str(root, "network", a->network) ? -ENOMEM : add_valid(root, valid, n_valid);
	else if (!status)
		rc = add_attachment(root, a);
	if (rc == 0)
		rc = send_json(socket_path, root, timeout_ms, out);
	cJSON_Delete(root);
	return rc;
}

int hlagent_simple(const char *socket_path, const char *op, const char *key, const char *value,
		   long offset, long timeout_ms, struct hlagent_reply *out)
{
	cJSON *root = new_request(op);
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!root)
		return -ENOMEM;
	if (key && value && !cJSON_AddStringToObject(root, key, value))
		rc = -ENOMEM;
	if (offset >= 0 && !cJSON_AddNumberToObject(root, "offset", (double)offset))
		rc = -ENOMEM;
	if (rc == 0)
		rc = send_json(socket_path, root, timeout_ms, out);
	cJSON_Delete(root);
	return rc;
}

void hlagent_reply_free(struct hlagent_reply *r)
{
	if (!r)
		return;
	free(r->json);
	r->json = NULL;
}

int hlagent_cni_code(int err, const char *op)
{
	if (op && strcmp(op, "STATUS") == 0)
		return HLAGENT_CNI_NOT_READY;
	if (err == -EPROTO || err == -EMSGSIZE || err == -EINVAL)
		return HLAGENT_CNI_PROTOCOL;
	return HLAGENT_CNI_TRY_AGAIN;
}

const char *hlagent_strerror(int err, const char *socket_path, char *buf, size_t len)
{
	const char *path = socket_path ? socket_path : HLAGENT_DEFAULT_SOCKET;

	switch (err) {
	case -ENOENT:
	case -ECONNREFUSED:
		snprintf(buf, len, "hostlane agent is not running (no listener on %s)", path);
		break;
	case -ETIMEDOUT:
		snprintf(buf, len, "hostlane agent at %s did not answer in time", path);
		break;
	case -ECONNRESET:
	case -EPIPE:
		snprintf(buf, len, "hostlane agent at %s closed the connection without answering", path);
		break;
	case -EPROTO:
		snprintf(buf, len, "hostlane agent at %s sent an invalid reply", path);
		break;
	default:
		snprintf(buf, len, "cannot talk to hostlane agent at %s: %s", path, strerror(-err));
	}
	return buf;
}
