/* SPDX-License-Identifier: Apache-2.0 */
/* The API connection's health: what the informers last found (state, last
 * sync; the client's is the worst of them) and the last failed request of
 * any kind (its text and time). */
#include "client_private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

void hlk8s__note_error(struct hlk8s_client *c, const char *fmt, ...)
{
	char msg[sizeof(c->health.last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&c->lock);
	snprintf(c->health.last_error, sizeof(c->health.last_error), "%s", msg);
	c->health.last_error_time = (int64_t)time(NULL);
	pthread_mutex_unlock(&c->lock);
}

void hlk8s__note_sync(struct hlk8s_informer *inf, int err)
{
	pthread_mutex_lock(&inf->c->lock);
	if (!err) {
		inf->state = HLK8S_STATE_SYNCED;
		inf->last_sync = (int64_t)time(NULL);
	} else {
		inf->state = err == -EACCES ? HLK8S_STATE_UNAUTHORIZED : HLK8S_STATE_RETRYING;
	}
	pthread_mutex_unlock(&inf->c->lock);
}

/* How bad a state is, to report the worst informer's. */
static int badness(enum hlk8s_state s)
{
	switch (s) {
	case HLK8S_STATE_SYNCED: return 0;
	case HLK8S_STATE_STARTING: return 1;
	case HLK8S_STATE_RETRYING: return 2;
	case HLK8S_STATE_UNAUTHORIZED: return 3;
	}
	return 3;
}

void hlk8s_get_health(struct hlk8s_client *c, struct hlk8s_health *out)
{
	bool first = true;

	pthread_mutex_lock(&c->lock);
	*out = c->health;
	/* In step only as far as the informer that is least so. */
	for (const struct hlk8s_informer *i = c->informers; i; i = i->next) {
		if (first || badness(i->state) > badness(out->state))
			out->state = i->state;
		if (first || i->last_sync < out->last_sync)
			out->last_sync = i->last_sync;
		first = false;
	}
	pthread_mutex_unlock(&c->lock);
}

const char *hlk8s_state_name(enum hlk8s_state s)
{
	switch (s) {
	case HLK8S_STATE_STARTING: return "starting";
	case HLK8S_STATE_SYNCED: return "synced";
	case HLK8S_STATE_RETRYING: return "retrying";
	case HLK8S_STATE_UNAUTHORIZED: return "unauthorized";
	}
	return "unknown";
}
