/* SPDX-License-Identifier: Apache-2.0 */
/* Delegation to other CNI plugins (IPAM) by exec, as the spec describes:
 * same environment, config on stdin, result or error JSON on stdout, stderr
 * passed through. */
#include "cni.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define EXEC_TIMEOUT_MS 60000
#define OUT_MAX (4 << 20)

int cni_find_plugin(const char *cni_path, const char *type, char *out, size_t n)
{
	const char *p = cni_path;

	if (!type || !*type || strchr(type, '/'))
		return -EINVAL;
	while (p && *p) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct stat st;

		if (len && snprintf(out, n, "%.*s/%s", (int)len, p, type) < (int)n &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
		p = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

/* environ with CNI_COMMAND=@cmd and the overrides applied. */
static char **build_env(const char *cmd, const char *const *set, char *cmdvar, size_t cn)
{
	size_t n = 0, k = 0, ns = 0;
	char **env;

	while (environ[n])
		n++;
	while (set && set[ns])
		ns++;
	env = calloc(n + ns + 2, sizeof(*env));
	if (!env)
		return NULL;
	snprintf(cmdvar, cn, "CNI_COMMAND=%s", cmd);
	env[k++] = cmdvar;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t kl = eq ? (size_t)(eq - environ[i]) + 1 : 0;
		bool over = strncmp(environ[i], "CNI_COMMAND=", 12) == 0;

		for (size_t j = 0; j < ns && !over && kl; j++)
			over = strncmp(environ[i], set[j], kl) == 0;
		if (!over)
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < ns; j++) {
		const char *eq = strchr(set[j], '=');

		if (eq && eq[1]) /* "K=" only removes K */
			env[k++] = (char *)set[j];
	}
	return env;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Feeds stdin and drains stdout together so neither side can block the
 * other; returns 0, -ETIMEDOUT, or -errno. */
static int pump(struct cni_proc *io, long deadline)
{
	while (io->out_fd >= 0) {
		struct pollfd p[2] = { { io->out_fd, POLLIN, 0 }, { io->in_fd, POLLOUT, 0 } };
		long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(p, io->in_fd >= 0 ? 2 : 1, (int)left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		if (io->in_fd >= 0 && p[1].revents) {
			ssize_t w = write(io->in_fd, io->in + io->in_off, io->in_len - io->in_off);

			if (w > 0)
				io->in_off += (size_t)w;
			if (w < 0 || io->in_off == io->in_len) {
				close(io->in_fd); /* EPIPE: the plugin did not want it all */
				io->in_fd = -1;
			}
		}
		if (p[0].revents) {
			ssize_t rd;

			if (io->out_cap - io->out_len < 4096) {
				char *nb;

				if (io->out_cap >= OUT_MAX)
					return -EFBIG;
				nb = realloc(io->out, io->out_cap * 2);
				if (!nb)
					return -ENOMEM;
				io->out = nb;
				io->out_cap *= 2;
			}
			rd = read(io->out_fd, io->out + io->out_len, io->out_cap - io->out_len - 1);
			if (rd > 0) {
				io->out_len += (size_t)rd;
			} else if (rd == 0 || errno != EINTR) {
				close(io->out_fd);
				io->out_fd = -1;
			}
		}
	}
	io->out[io->out_len] = '\0';
	return 0;
}

static int spawn(const char *path, char **env, int pin[2], int pout[2], pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { (char *)path, NULL };
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	rc = posix_spawn(pid, path, &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

/* The delegate's failure as ours: its own error JSON when it printed one. */
static int child_error(const char *path, const char *out, int status, struct cni_err *e)
{
	cJSON *o = cJSON_Parse(out);
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "msg");
	const cJSON *det = cJSON_GetObjectItemCaseSensitive(o, "details");

	if (cJSON_IsNumber(code) && code->valueint > 0) {
		cni_err_set(e, code->valueint, cJSON_IsString(msg) ? msg->valuestring : "delegate failed",
			    "%s", cJSON_IsString(det) ? det->valuestring : "");
	} else {
		cni_err_set(e, CNI_ERR_INTERNAL, "delegated plugin failed",
			    "%s exited with status %d", path,
			    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
	cJSON_Delete(o);
	return -1;
}

static void proc_close(struct cni_proc *p)
{
	if (p->in_fd >= 0)
		close(p->in_fd);
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->in_fd = p->out_fd = -1;
}

int cni_exec_start(struct cni_proc *p, const char *path, const char *cmd,
		   const char *const *envset, const char *in, struct cni_err *e)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, rc = -ENOMEM;
	char cmdvar[32], **env;

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->in_fd = p->out_fd = -1;
	snprintf(p->path, sizeof(p->path), "%s", path);
	snprintf(p->cmd, sizeof(p->cmd), "%s", cmd);
	p->in = strdup(in ? in : "");
	p->out = malloc(p->out_cap = 16384);
	env = build_env(cmd, envset, cmdvar, sizeof(cmdvar));
	if (!env || !p->in || !p->out)
		goto fail;
	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = spawn(path, env, pin, pout, &p->pid);
	close(pin[0]);
	close(pout[1]);
	pin[0] = pout[1] = -1;
	p->in_fd = pin[1];
	p->out_fd = pout[0];
	if (rc < 0)
		goto fail;
	free(env);
	p->in_len = strlen(p->in);
	p->deadline = now_ms() + EXEC_TIMEOUT_MS;
	/* A plugin closing stdin early must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
	}
	proc_close(p);
	free(env);
	free(p->in);
	free(p->out);
	p->in = p->out = NULL;
	p->pid = -1;
	return cni_err_set(e, CNI_ERR_INTERNAL, "cannot run delegated plugin", "%s: %s", path,
			   strerror(-rc));
}

int cni_exec_wait(struct cni_proc *p, char **out, struct cni_err *e)
{
	int status = 0, rc;

	*out = NULL;
	if (p->pid < 0)
		return cni_err_set(e, CNI_ERR_INTERNAL, "delegated plugin not running", "%s", p->path);
	rc = pump(p, p->deadline);
	proc_close(p);
	if (rc == -ETIMEDOUT)
		kill(p->pid, SIGKILL); /* our own child, by pid */
	while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
		;
	p->pid = -1;
	free(p->in);
	p->in = NULL;
	if (rc == -ETIMEDOUT)
		cni_err_set(e, CNI_ERR_TRY_AGAIN, "delegated plugin timed out",
			    "%s %s did not finish in %d s", p->path, p->cmd, EXEC_TIMEOUT_MS / 1000);
	else if (rc < 0)
		cni_err_set(e, CNI_ERR_INTERNAL, "delegated plugin failed", "%s: %s", p->path,
			    strerror(-rc));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = child_error(p->path, p->out, status, e);
	if (rc < 0) {
		free(p->out);
		p->out = NULL;
		return -1;
	}
	*out = p->out;
	p->out = NULL;
	return 0;
}

int cni_exec(const char *path, const char *cmd, const char *const *envset, const char *in,
	     char **out, struct cni_err *e)
{
	struct cni_proc p;

	*out = NULL;
	if (cni_exec_start(&p, path, cmd, envset, in, e) < 0)
		return -1;
	return cni_exec_wait(&p, out, e);
}

static int ipam_version(struct cni_ipam *ip, int want, struct cni_err *e)
{
	char *out = NULL;
	cJSON *o;
	int v;

	if (cni_exec(ip->path, "VERSION", NULL, "{\"cniVersion\":\"" CNI_VERSION_LATEST "\"}",
		     &out, e) < 0)
		return -1;
	o = cJSON_Parse(out);
	free(out);
	v = cni_version_negotiate(want, cJSON_GetObjectItemCaseSensitive(o, "supportedVersions"));
	ip->supports_110 = cni_version_negotiate(CNI_V110,
			cJSON_GetObjectItemCaseSensitive(o, "supportedVersions")) == CNI_V110;
	cJSON_Delete(o);
	ip->knows_version = true;
	if (v < 0)
		return cni_err_set(e, CNI_ERR_INCOMPAT, "incompatible CNI versions",
				   "IPAM plugin %s shares no version <= the config's with hostlane",
				   ip->path);
	ip->version = v;
	return 0;
}

int cni_ipam_prepare(const struct cni_conf *c, const struct cni_env *env, bool ask_version,
		     struct cni_ipam *ip, struct cni_err *e)
{
	memset(ip, 0, sizeof(*ip));
	if (!c->ipam_type)
		return cni_err_set(e, CNI_ERR_CONFIG, "invalid network configuration",
				   "ipam.type: is required in standalone mode");
	if (cni_find_plugin(env->path, c->ipam_type, ip->path, sizeof(ip->path)) < 0)
		return cni_err_set(e, CNI_ERR_CONFIG, "invalid network configuration",
				   "ipam.type: plugin '%s' not found on CNI_PATH %s", c->ipam_type,
				   env->path);
	ip->version = c->version;
	/* Up to 1.0.0 every maintained IPAM plugin speaks the config's version;
	 * only 1.1.0 needs asking (Debian's host-local stops at 1.0.0). */
	if (ask_version || c->version > CNI_V100)
		return ipam_version(ip, c->version, e);
	return 0;
}

int cni_ipam_start(const struct cni_conf *c, const struct cni_ipam *ip, const char *cmd,
		   const char *const *envset, struct cni_proc *p, struct cni_err *e)
{
	char *in = cni_conf_ipam_stdin(c, ip->version);
	int rc;

	if (!in)
		return cni_err_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	rc = cni_exec_start(p, ip->path, cmd, envset, in, e);
	free(in);
	return rc;
}

int cni_ipam_wait(struct cni_proc *p, struct cni_result *res, struct cni_err *e)
{
	char *out = NULL;
	cJSON *o;
	int rc = cni_exec_wait(p, &out, e);

	if (rc < 0 || !res) {
		free(out);
		return rc;
	}
	o = cJSON_Parse(out);
	free(out);
	if (!o)
		return cni_err_set(e, CNI_ERR_DECODE, "failed to decode IPAM result",
				   "%s printed no JSON result", p->path);
	rc = cni_result_parse(o, res, "IPAM result", e);
	cJSON_Delete(o);
	return rc;
}

int cni_ipam_run(const struct cni_conf *c, const struct cni_ipam *ip, const char *cmd,
		 const char *const *envset, struct cni_result *res, struct cni_err *e)
{
	struct cni_proc p;

	if (cni_ipam_start(c, ip, cmd, envset, &p, e) < 0)
		return -1;
	return cni_ipam_wait(&p, res, e);
}
