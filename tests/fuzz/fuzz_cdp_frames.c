/*
 * Fuzz target: whatever a browser (or something pretending to be one) sends
 * down the DevTools socket.  The input is split at newlines into messages
 * that a transport delivers to cdp while it waits for a reply, an event and
 * a pause; nothing may crash, leak or loop.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct feed {
	struct cdp_transport base;
	const uint8_t *data;
	size_t size, pos;
	int64_t now;
};

static int feed_send(struct cdp_transport *t, const char *m, size_t n, char *e, size_t el)
{
	(void)t; (void)m; (void)n; (void)e; (void)el;
	return 0;
}

static int feed_recv(struct cdp_transport *t, char **msg, size_t *len, int ms,
		     char *err, size_t errlen)
{
	struct feed *f = (struct feed *)t;
	const uint8_t *start, *nl;
	size_t n;

	if (f->pos >= f->size) {
		f->now += ms;
		return 0;
	}
	start = f->data + f->pos;
	nl = memchr(start, '\n', f->size - f->pos);
	n = nl ? (size_t)(nl - start) : f->size - f->pos;
	f->pos += n + 1;
	if (n == 1 && start[0] == 'X') {	/* a closed socket */
		snprintf(err, errlen, "closed");
		return -1;
	}
	*msg = malloc(n + 1);
	memcpy(*msg, start, n);
	(*msg)[n] = '\0';
	*len = n;
	f->now += 1;
	return 1;
}

static int64_t feed_now(struct cdp_transport *t) { return ((struct feed *)t)->now; }
static void feed_free(struct cdp_transport *t) { free(t); }

static const struct cdp_transport_ops feed_ops = {
	.name = "fuzz", .send = feed_send, .recv = feed_recv,
	.now_ms = feed_now, .free = feed_free,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed *f = calloc(1, sizeof(*f));
	struct cdp *c;
	struct cdp_error err;
	cJSON *res = NULL, *ev = NULL, *frames;

	f->base.ops = &feed_ops;
	f->data = data;
	f->size = size;
	c = cdp_new(&f->base);
	c->max_events = 8;
	cdp_autoreply(c, "S", "Page.javascriptDialogOpening", "Page.handleJavaScriptDialog",
		      cJSON_CreateObject());
	if (!cdp_call(c, "S", "Runtime.evaluate", NULL, 50, &res, &err))
		cJSON_Delete(res);
	if (cdp_wait_event(c, "S", "Page.lifecycleEvent", 50, &ev, &err) > 0)
		cJSON_Delete(ev);
	if (!cdp_call(c, NULL, "Target.createTarget", NULL, 50, &res, &err))
		cJSON_Delete(res);
	cdp_pump(c, 20, &err);
	cdp_drop_events(c, NULL, NULL);
	frames = cdp_recent_frames(c);
	cJSON_Delete(frames);
	cdp_free(c);
	return 0;
}
