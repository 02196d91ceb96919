/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The checker of policy kinds the agent does not enforce (netpol_unknown.h,
 * docs/kubernetes.md "NetworkPolicy"). Discovery and lists, not watches:
 * the kinds come and go with the engines installed, and what matters of
 * their objects is only which namespaces hold some, so a check every
 * unknownPoliciesCheckSeconds (30 s by default) is enough to know, and
 * the objects are never decoded (node-agent/netpol/discovery.c reads
 * names and namespaces only).
 */
#include "netpol_unknown.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "agent.h"
#include "hlk8s.h"
#include "hlnp.h"

#define BODY_MAX (16u << 20)
#define MAX_KINDS 32
#define MAX_PAGES 200
#define RETRY_S 1     /* before the first answer: retried this often */

struct kind_seen {
	char name[400];               /* "globalnetworkpolicies.crd.projectcalico.org" */
	char gv[320];
	bool namespaced;
	size_t objects;
	char note[160];               /* why it covers every pod, if it does */
};

/* One check's finding. */
struct finding {
	bool all;
	char **ns;
	size_t n_ns;
	struct kind_seen kinds[MAX_KINDS];
	size_t n_kinds;
};

struct np_unknown {
	struct hlk8s_client *c;
	struct hlnp_store *store;
	bool ignore;
	long period_s;
	void (*notify)(void *arg);
	void *arg;
	int stop_fd;
	pthread_t tid;
	bool running;

	pthread_mutex_t lock;         /* what follows */
	bool answered;
	struct finding f;             /* of the last answered check */
	uint64_t checks, failures;
	int64_t last_check;
	char last_error[200];
};

static void finding_clear(struct finding *f)
{
	hlnp_strv_free(f->ns, f->n_ns);
	memset(f, 0, sizeof(*f));
}

static bool finding_same(const struct finding *a, const struct finding *b)
{
	if (a->all != b->all || a->n_ns != b->n_ns || a->n_kinds != b->n_kinds)
		return false;
	for (size_t i = 0; i < a->n_ns; i++)
		if (strcmp(a->ns[i], b->ns[i]))
			return false;
	for (size_t i = 0; i < a->n_kinds; i++)
		if (strcmp(a->kinds[i].name, b->kinds[i].name) || a->kinds[i].objects != b->kinds[i].objects)
			return false;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists one kind: its objects counted, their namespaces added. */
static int list_kind(struct np_unknown *u, struct finding *f, struct kind_seen *k)
{
	char path[1024], cont[512] = "";
	int rc = 0;

	for (int page = 0; page < MAX_PAGES; page++) {
		char *body;
		size_t len;
		const char *res = strchr(k->name, '.');

		snprintf(path, sizeof(path), "/apis/%s/%.*s?limit=500%s%s", k->gv, (int)(res - k->name),
			 k->name, cont[0] ? "&continue=" : "", cont);
		rc = hlk8s_get_raw(u->c, path, BODY_MAX, &body, &len);
		if (rc == -EACCES) {
			/* Not allowed to look (RBAC): whatever they say may
			 * cover any pod. */
			snprintf(k->note, sizeof(k->note), "cannot be listed (forbidden)");
			f->all = true;
			return 0;
		}
		if (rc)
			return rc;
		rc = hlnp_disc_list(body, len, k->namespaced, &f->ns, &f->n_ns, &k->objects, cont,
				    sizeof(cont));
		free(body);
		if (rc == -ENOMEM)
			return rc;
		if (rc) {
			snprintf(k->note, sizeof(k->note), "list not understood (%s)", strerror(-rc));
			f->all = true;
			return 0;
		}
		if (!cont[0])
			break;
	}
	if (!k->namespaced && k->objects) {
		snprintf(k->note, sizeof(k->note), "cluster-wide");
		f->all = true;
	}
	return 0;
}

/* The kinds groupVersion @gv serves, each listed once across versions. */
static int check_gv(struct np_unknown *u, struct finding *f, const char *gv)
{
	struct hlnp_disc_res *r = NULL;
	size_t n = 0, len;
	char path[400], *body;
	int rc;

	snprintf(path, sizeof(path), "/apis/%s", gv);
	rc = hlk8s_get_raw(u->c, path, BODY_MAX, &body, &len);
	if (rc == -ENOENT)
		return 0;  /* gone since /apis answered */
	if (rc)
		return rc;
	rc = hlnp_disc_resources(body, len, gv, &r, &n);
	free(body);
	for (size_t i = 0; !rc && i < n; i++) {
		struct kind_seen *k;
		const char *slash = strchr(gv, '/');
		char name[400];
		bool dup = false;

		snprintf(name, sizeof(name), "%s.%.*s", r[i].resource, (int)(slash - gv), gv);
		for (size_t j = 0; j < f->n_kinds; j++)
			dup = dup || !strcmp(f->kinds[j].name, name);
		if (dup || f->n_kinds >= MAX_KINDS)
			continue;
		k = &f->kinds[f->n_kinds++];
		memset(k, 0, sizeof(*k));
		snprintf(k->name, sizeof(k->name), "%s", name);
		snprintf(k->gv, sizeof(k->gv), "%s", gv);
		k->namespaced = r[i].namespaced;
		rc = list_kind(u, f, k);
		if (rc == -ENOENT) {
			f->n_kinds--;  /* the kind went away meanwhile */
			rc = 0;
		}
	}
	free(r);
	return rc;
}

static int check(struct np_unknown *u, struct finding *f)
{
	char *body, **gv = NULL;
	size_t len, n_gv = 0;
	int rc = hlk8s_get_raw(u->c, "/apis", BODY_MAX, &body, &len);

	if (rc)
		return rc;
	rc = hlnp_disc_groups(body, len, &gv, &n_gv);
	free(body);
	for (size_t i = 0; !rc && i < n_gv; i++)
		rc = check_gv(u, f, gv[i]);
	hlnp_strv_free(gv, n_gv);
	if (!rc && f->n_ns)
		qsort(f->ns, f->n_ns, sizeof(*f->ns), cmp_str);
	return rc;
}

static void log_finding(const struct np_unknown *u, const struct finding *f)
{
	char list[1024] = "", nss[512] = "";
	size_t off = 0;

	for (size_t i = 0; i < f->n_kinds && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s (%zu%s%s)", i ? ", " : "",
					f->kinds[i].name, f->kinds[i].objects,
					f->kinds[i].note[0] ? ", " : "", f->kinds[i].note);
	off = 0;
	for (size_t i = 0; i < f->n_ns && off < sizeof(nss); i++)
		off += (size_t)snprintf(nss + off, sizeof(nss) - off, "%s%s", i ? ", " : "", f->ns[i]);
	if (!f->all && !f->n_ns) {
		hl_log(HL_LOG_INFO, "networkpolicy: no objects of policy kinds the agent does not enforce%s%s",
		       f->n_kinds ? "; served: " : "", list);
		return;
	}
	if (u->ignore)
		hl_log(HL_LOG_WARN, "networkpolicy: IGNORED (unknownPolicies \"ignore\"): policies the agent "
		       "does not enforce exist: %s; fast-path connections bypass them", list);
	else
		hl_log(HL_LOG_WARN, "networkpolicy: policies the agent does not enforce exist: %s; %s%s get "
		       "no fast path (the kernel path carries them)", list,
		       f->all ? "all pods" : "the pods of namespaces ", f->all ? "" : nss);
}

static void run_check(struct np_unknown *u)
{
	struct finding f = { 0 };
	bool first, changed;
	int rc = check(u, &f);

	pthread_mutex_lock(&u->lock);
	u->checks++;
	u->last_check = (int64_t)time(NULL);
	if (rc) {
		u->failures++;
		snprintf(u->last_error, sizeof(u->last_error), "%s", strerror(-rc));
		pthread_mutex_unlock(&u->lock);
		hl_log(HL_LOG_WARN, "networkpolicy: looking for policy kinds the agent does not enforce: %s%s",
		       strerror(-rc), u->answered ? " (the last finding stays in force)"
		       : " (no fast path until answered)");
		finding_clear(&f);
		return;
	}
	u->last_error[0] = 0;
	first = !u->answered;
	changed = first || !finding_same(&u->f, &f);
	pthread_mutex_unlock(&u->lock);
	if (!changed) {
		finding_clear(&f);
		return;
	}
	/* The store first, then "answered": the table built after the
	 * notification has it. On ENOMEM the old finding stays and the next
	 * check tries again. */
	if (!u->ignore && hlnp_store_set_unknown(u->store, f.all, f.ns, f.n_ns)) {
		finding_clear(&f);
		return;
	}
	log_finding(u, &f);
	pthread_mutex_lock(&u->lock);
	finding_clear(&u->f);
	u->f = f;
	u->answered = true;
	pthread_mutex_unlock(&u->lock);
	u->notify(u->arg);
}

static void *main_fn(void *arg)
{
	struct np_unknown *u = arg;

	for (;;) {
		struct pollfd p = { .fd = u->stop_fd, .events = POLLIN };
		bool answered;

		run_check(u);
		pthread_mutex_lock(&u->lock);
		answered = u->answered;
		pthread_mutex_unlock(&u->lock);
		if (poll(&p, 1, (int)((answered ? u->period_s : RETRY_S) * 1000)) != 0)
			break;
	}
	return NULL;
}

struct np_unknown *np_unknown_new(struct hlk8s_client *c, struct hlnp_store *s, bool ignore,
				  long period_s, void (*notify)(void *arg), void *arg)
{
	struct np_unknown *u = calloc(1, sizeof(*u));

	if (!u) {
		errno = ENOMEM;
		return NULL;
	}
	u->c = c;
	u->store = s;
	u->ignore = ignore;
	u->period_s = period_s > 0 ? period_s : 30;
	u->notify = notify;
	u->arg = arg;
	u->stop_fd = -1;
	pthread_mutex_init(&u->lock, NULL);
	return u;
}

int np_unknown_start(struct np_unknown *u, int stop_fd)
{
	u->stop_fd = stop_fd;
	if (pthread_create(&u->tid, NULL, main_fn, u))
		return -ENOMEM;
	u->running = true;
	return 0;
}

void np_unknown_free(struct np_unknown *u)
{
	if (!u)
		return;
	if (u->running)
		pthread_join(u->tid, NULL);
	finding_clear(&u->f);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

bool np_unknown_answered(struct np_unknown *u)
{
	bool a;

	pthread_mutex_lock(&u->lock);
	a = u->answered;
	pthread_mutex_unlock(&u->lock);
	return a;
}

static const char *scope_of(const struct np_unknown *u)
{
	return !u->answered ? "unknown" : u->f.all ? "all" : u->f.n_ns ? "namespaces" : "none";
}

void np_unknown_status(struct np_unknown *u, cJSON *o)
{
	cJSON *k = cJSON_AddObjectToObject(o, "unknownPolicies"), *a, *ns;

	if (!k)
		return;
	pthread_mutex_lock(&u->lock);
	cJSON_AddStringToObject(k, "mode", u->ignore ? "ignore" : "kernel");
	cJSON_AddStringToObject(k, "scope", scope_of(u));
	cJSON_AddBoolToObject(k, "applied", !u->ignore);
	ns = cJSON_AddArrayToObject(k, "namespaces");
	for (size_t i = 0; ns && i < u->f.n_ns; i++)
		cJSON_AddItemToArray(ns, cJSON_CreateString(u->f.ns[i]));
	a = cJSON_AddArrayToObject(k, "kinds");
	for (size_t i = 0; a && i < u->f.n_kinds; i++) {
		cJSON *e = cJSON_CreateObject();

		if (!e || !cJSON_AddItemToArray(a, e)) {
			cJSON_Delete(e);
			break;
		}
		cJSON_AddStringToObject(e, "resource", u->f.kinds[i].name);
		cJSON_AddStringToObject(e, "groupVersion", u->f.kinds[i].gv);
		cJSON_AddBoolToObject(e, "namespaced", u->f.kinds[i].namespaced);
		cJSON_AddNumberToObject(e, "objects", (double)u->f.kinds[i].objects);
		cJSON_AddStringToObject(e, "note", u->f.kinds[i].note);
	}
	cJSON_AddNumberToObject(k, "checks", (double)u->checks);
	cJSON_AddNumberToObject(k, "failures", (double)u->failures);
	cJSON_AddNumberToObject(k, "lastCheck", (double)u->last_check);
	cJSON_AddStringToObject(k, "lastError", u->last_error);
	pthread_mutex_unlock(&u->lock);
}

char *np_unknown_metrics(struct np_unknown *u)
{
	static const char *const scopes[] = { "unknown", "none", "namespaces", "all" };
	char *s = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&s, &len);

	if (!m)
		return NULL;
	pthread_mutex_lock(&u->lock);
	fprintf(m, "# HELP hostlane_agent_netpol_unknown_scope Pods that policies of kinds the agent does not "
		"enforce may cover (unknown: not answered yet).\n"
		"# TYPE hostlane_agent_netpol_unknown_scope gauge\n");
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++)
		fprintf(m, "hostlane_agent_netpol_unknown_scope{scope=\"%s\",mode=\"%s\"} %d\n", scopes[i],
			u->ignore ? "ignore" : "kernel", !strcmp(scopes[i], scope_of(u)));
	fprintf(m, "# HELP hostlane_agent_netpol_unknown_namespaces Namespaces holding such policies.\n"
		"# TYPE hostlane_agent_netpol_unknown_namespaces gauge\n"
		"hostlane_agent_netpol_unknown_namespaces %zu\n"
		"# HELP hostlane_agent_netpol_unknown_objects Objects of each such policy kind the API server serves.\n"
		"# TYPE hostlane_agent_netpol_unknown_objects gauge\n", u->f.n_ns);
	for (size_t i = 0; i < u->f.n_kinds; i++)
		fprintf(m, "hostlane_agent_netpol_unknown_objects{resource=\"%s\"} %zu\n", u->f.kinds[i].name,
			u->f.kinds[i].objects);
	fprintf(m, "# HELP hostlane_agent_netpol_unknown_check_failures_total Checks the API server did not answer.\n"
		"# TYPE hostlane_agent_netpol_unknown_check_failures_total counter\n"
		"hostlane_agent_netpol_unknown_check_failures_total %llu\n", (unsigned long long)u->failures);
	pthread_mutex_unlock(&u->lock);
	if (fclose(m)) {
		free(s);
		return NULL;
	}
	return s;
}
