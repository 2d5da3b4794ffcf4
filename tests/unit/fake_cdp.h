/*
 * An in-memory CDP transport that plays the browser's part, for unit tests
 * of the cdp layer and what sits on it: the test queues what the "browser"
 * says (fake_say), reads what was sent (f->sent), and time passes only when
 * a receive finds nothing.  Header-only: each test links it alone.
 */
#ifndef IDLCM_FAKE_CDP_H
#define IDLCM_FAKE_CDP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdp.h"

struct fake {
	struct cdp_transport base;
	char *inbox[64];
	int in_head, in_tail;
	char *sent[64];
	int nsent;
	int64_t now;
	int closed;
	/* When set, every command succeeds: {"id":…,"result":{"echo":method}}. */
	int auto_reply;
};

static int fake_send(struct cdp_transport *t, const char *msg, size_t len,
		     char *err, size_t errlen)
{
	struct fake *f = (struct fake *)t;
	if (f->closed) {
		snprintf(err, errlen, "closed");
		return -1;
	}
	f->sent[f->nsent++] = strndup(msg, len);
	if (f->auto_reply) {
		cJSON *m = cJSON_ParseWithLength(msg, len);
		char buf[256];
		snprintf(buf, sizeof(buf), "{\"id\":%d,\"result\":{\"echo\":\"%s\"}}",
			 cJSON_GetObjectItem(m, "id")->valueint,
			 cJSON_GetObjectItem(m, "method")->valuestring);
		f->inbox[f->in_tail++] = strdup(buf);
		cJSON_Delete(m);
	}
	return 0;
}

static int fake_recv(struct cdp_transport *t, char **msg, size_t *len,
		     int timeout_ms, char *err, size_t errlen)
{
	struct fake *f = (struct fake *)t;
	if (f->in_head < f->in_tail) {
		*msg = f->inbox[f->in_head++];
		*len = strlen(*msg);
		return 1;
	}
	if (f->closed) {
		snprintf(err, errlen, "socket closed");
		return -1;
	}
	f->now += timeout_ms;	/* nothing comes: time passes */
	return 0;
}

static int64_t fake_now(struct cdp_transport *t) { return ((struct fake *)t)->now; }

static void fake_free(struct cdp_transport *t)
{
	struct fake *f = (struct fake *)t;
	for (int i = f->in_head; i < f->in_tail; i++)
		free(f->inbox[i]);
	for (int i = 0; i < f->nsent; i++)
		free(f->sent[i]);
	free(f);
}

static const struct cdp_transport_ops fake_ops = {
	"fake", fake_send, fake_recv, fake_now, fake_free, NULL, NULL, NULL
};

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof(*f));
	f->base.ops = &fake_ops;
	f->now = 1000;
	return f;
}

/* The browser says json (queued for the next receive). */
static void say(struct fake *f, const char *json) { f->inbox[f->in_tail++] = strdup(json); }

#endif
