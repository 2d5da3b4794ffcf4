/*
 * cdp: ids, routing and waiting over a transport.  Everything is blocking
 * and single-threaded: a caller waits for one thing (a reply, an event, a
 * pause) and every message that arrives meanwhile is routed — replies by
 * id, events to their session's queue, crash notices to their session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdp.h"
#include "log.h"

struct cdp_event {
	struct cdp_event *next;
	char *method;
	cJSON *msg;			/* the whole event message */
};

struct cdp_session {
	struct cdp_session *next;
	char *id;
	struct cdp_event *head, *tail;
	size_t count;
	char dead[256];			/* why the session is gone, or "" */
};

struct cdp_autoreply {
	struct cdp_autoreply *next;
	char *session, *on, *method;
	cJSON *params;
};

struct cdp_attacher {
	struct cdp_attacher *next;
	char *session;
	char *root;			/* the session that called cdp_auto_attach */
	cJSON *setup;			/* [{method, params}] for each child */
};

int64_t cdp_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *cdp_err_kind_name(enum cdp_err_kind k)
{
	switch (k) {
	case CDP_OK: return "ok";
	case CDP_ERR_PROTOCOL: return "protocol";
	case CDP_ERR_TIMEOUT: return "timeout";
	case CDP_ERR_CLOSED: return "closed";
	case CDP_ERR_DEADLINE: return "deadline";
	case CDP_ERR_USAGE: return "usage";
	case CDP_ERR_REPLAY: return "replay";
	}
	return "unknown";
}

static void set_err(struct cdp_error *err, enum cdp_err_kind kind,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#include <stdarg.h>
static void set_err(struct cdp_error *err, enum cdp_err_kind kind,
		    const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return;
	err->kind = kind;
	err->code = 0;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* ---- message reassembly */

void cdp_msgbuf_init(struct cdp_msgbuf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

int cdp_msgbuf_append(struct cdp_msgbuf *b, const void *data, size_t len)
{
	if (b->overflow) {
		b->seen += len;
		return -1;
	}
	if (b->len + len > b->limit) {
		/* keep the head: a reply's id is in it, so its command can fail
		 * at once instead of waiting out its timeout */
		const char *src = b->len ? b->data : data;
		size_t have = b->len ? b->len : len;
		b->head_len = have < sizeof(b->head) - 1 ? have : sizeof(b->head) - 1;
		memcpy(b->head, src, b->head_len);
		b->head[b->head_len] = '\0';
		b->seen = b->len + len;
		b->overflow = 1;
		free(b->data);
		b->data = NULL;
		b->len = b->cap = 0;
		return -1;
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *grown;
		while (cap < b->len + len + 1)
			cap *= 2;
		grown = realloc(b->data, cap);
		if (!grown)
			return -1;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

char *cdp_msgbuf_take(struct cdp_msgbuf *b, size_t *len)
{
	char *out = b->overflow ? NULL : b->data;

	if (!b->overflow && !b->len) {	/* an empty message is still a message */
		out = calloc(1, 1);
		free(b->data);
	}
	if (len)
		*len = out ? b->len : 0;
	b->data = NULL;
	b->len = b->cap = 0;
	b->overflow = 0;
	b->head_len = b->seen = 0;
	return out;
}

char *cdp_msgbuf_oversize_reply(const struct cdp_msgbuf *b)
{
	const char *p = b->overflow ? strstr(b->head, "\"id\":") : NULL;
	char *end, *out;
	long id;

	if (!p || p - b->head > 2)	/* a reply opens with its id; events have none */
		return NULL;
	id = strtol(p + 5, &end, 10);
	if (end == p + 5 || id < 0)
		return NULL;
	out = malloc(300);
	if (out)
		snprintf(out, 300, "{\"id\":%ld,\"error\":{\"code\":-32099,\"message\":"
			 "\"the reply is larger than the cap of %zu bytes (%zu bytes or more; "
			 "IDLCM_CDP_MAX_MESSAGE raises the cap)\"}}", id, b->limit, b->seen);
	return out;
}

int cdp_msgbuf_frame(struct cdp_msgbuf *b, const void *data, size_t len,
		     int final, char **msg, size_t *msglen)
{
	int nomem = 0;

	*msg = NULL;
	if (cdp_msgbuf_append(b, data, len) < 0 && !b->overflow) {
		/* a truncated message must not pass for a whole one */
		nomem = 1;
		b->overflow = 2;
		free(b->data);
		b->data = NULL;
		b->len = b->cap = 0;
	}
	if (!final)
		return 0;
	nomem = nomem || b->overflow == 2;
	free(b->dropped_reply);
	b->dropped_reply = b->overflow == 1 ? cdp_msgbuf_oversize_reply(b) : NULL;
	*msg = cdp_msgbuf_take(b, msglen);
	if (*msg)
		return 1;
	return nomem ? -2 : -1;
}

void cdp_msgbuf_release(struct cdp_msgbuf *b)
{
	free(b->data);
	free(b->dropped_reply);
	memset(b, 0, sizeof(*b));
}

/* ---- sessions and events */

static struct cdp_session *session_get(struct cdp *c, const char *id, int create)
{
	struct cdp_session *s;

	if (!id)
		id = "";
	for (s = c->sessions; s; s = s->next)
		if (!strcmp(s->id, id))
			return s;
	if (!create)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = strdup(id);
	if (!s->id) {
		free(s);
		return NULL;
	}
	s->next = c->sessions;
	c->sessions = s;
	return s;
}

static void event_free(struct cdp_event *e)
{
	free(e->method);
	cJSON_Delete(e->msg);
	free(e);
}

static void session_mark_dead(struct cdp *c, const char *id, const char *why)
{
	struct cdp_session *s = session_get(c, id, 1);
	if (s && !s->dead[0])
		snprintf(s->dead, sizeof(s->dead), "%s", why);
}

struct cdp *cdp_new(struct cdp_transport *tr)
{
	struct cdp *c = calloc(1, sizeof(*c));
	if (!c) {
		tr->ops->free(tr);
		return NULL;
	}
	c->tr = tr;
	c->next_id = 1;
	c->max_events = 5000;
	return c;
}

void cdp_free(struct cdp *c)
{
	if (!c)
		return;
	while (c->sessions) {
		struct cdp_session *s = c->sessions;
		c->sessions = s->next;
		while (s->head) {
			struct cdp_event *e = s->head;
			s->head = e->next;
			event_free(e);
		}
		free(s->id);
		free(s);
	}
	while (c->autoreplies) {
		struct cdp_autoreply *a = c->autoreplies;
		c->autoreplies = a->next;
		free(a->session);
		free(a->on);
		free(a->method);
		cJSON_Delete(a->params);
		free(a);
	}
	while (c->attachers) {
		struct cdp_attacher *a = c->attachers;
		c->attachers = a->next;
		free(a->session);
		free(a->root);
		cJSON_Delete(a->setup);
		free(a);
	}
	for (int i = 0; i < CDP_FRAME_RING; i++)
		free(c->ring[i]);
	free(c->confine);
	if (c->tr)
		c->tr->ops->free(c->tr);
	free(c);
}

int64_t cdp_now(struct cdp *c)
{
	return c->tr->ops->now_ms(c->tr);
}

int64_t cdp_script_now(struct cdp *c)
{
	if (c->tr->ops->script_now_ms)
		return c->tr->ops->script_now_ms(c->tr);
	return c->tr->ops->now_ms(c->tr);
}

char *cdp_host_data(struct cdp *c, const char *name, const char *data, size_t len,
		    size_t *outlen)
{
	char *copy;

	if (c->tr->ops->host_data)
		return c->tr->ops->host_data(c->tr, name, data, len, outlen);
	if (!data || !(copy = malloc(len + 1)))
		return NULL;
	memcpy(copy, data, len);
	copy[len] = '\0';
	*outlen = len;
	return copy;
}

int64_t cdp_epoch_ms(struct cdp *c)
{
	struct timespec ts;

	if (c && c->tr->ops->epoch_ms)
		return c->tr->ops->epoch_ms(c->tr);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ring_push(struct cdp *c, char dir, const char *msg, size_t len)
{
	char *copy = malloc(len + 3);
	if (!copy)
		return;
	copy[0] = dir;
	copy[1] = ' ';
	memcpy(copy + 2, msg, len);
	copy[len + 2] = '\0';
	free(c->ring[c->ring_next]);
	c->ring[c->ring_next] = copy;
	c->ring_next = (c->ring_next + 1) % CDP_FRAME_RING;
}

cJSON *cdp_recent_frames(struct cdp *c)
{
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; arr && i < CDP_FRAME_RING; i++) {
		char *f = c->ring[(c->ring_next + i) % CDP_FRAME_RING];
		if (f)
			cJSON_AddItemToArray(arr, cJSON_CreateString(f));
	}
	return arr;
}

/* Debug log of a frame, cut to 300 bytes only after redaction: a cut
 * through a secret would leave its first bytes in the log. */
static void log_frame(char dir, const char *text)
{
	char *clean;

	if (log_get_level() < LOG_DEBUG)
		return;
	clean = secret_redact(text, strlen(text), NULL);
	log_debug("cdp %c %.300s", dir, clean ? clean : "(out of memory)");
	free(clean);
}

static int send_message(struct cdp *c, const char *session, int id,
			const char *method, cJSON *params,
			struct cdp_error *err)
{
	cJSON *msg = cJSON_CreateObject();
	char *text;
	char terr[512] = "";
	int rc;

	if (!msg) {
		cJSON_Delete(params);
		set_err(err, CDP_ERR_USAGE, "out of memory");
		return -1;
	}
	cJSON_AddNumberToObject(msg, "id", id);
	cJSON_AddStringToObject(msg, "method", method);
	cJSON_AddItemToObject(msg, "params", params ? params : cJSON_CreateObject());
	if (session && *session)
		cJSON_AddStringToObject(msg, "sessionId", session);
	text = cJSON_PrintUnformatted(msg);
	cJSON_Delete(msg);
	if (!text) {
		set_err(err, CDP_ERR_USAGE, "cannot encode %s", method);
		return -1;
	}
	ring_push(c, '>', text, strlen(text));
	log_frame('>', text);
	rc = c->tr->ops->send(c->tr, text, strlen(text), terr, sizeof(terr));
	free(text);
	if (rc) {
		c->closed = 1;
		snprintf(c->close_reason, sizeof(c->close_reason), "%.200s", terr);
		if (rc == CDP_TRANSPORT_DIVERGED)
			set_err(err, CDP_ERR_REPLAY, "%s", terr);
		else
			set_err(err, CDP_ERR_CLOSED, "browser connection lost: %s", terr);
		return -1;
	}
	return 0;
}

static void run_autoreplies(struct cdp *c, const char *session, const char *method)
{
	for (struct cdp_autoreply *a = c->autoreplies; a; a = a->next) {
		if (strcmp(a->on, method) || strcmp(a->session, session))
			continue;
		send_message(c, session, c->next_id++, a->method,
			     cJSON_Duplicate(a->params, 1), NULL);
	}
}

/* ---- auto-attached children (out-of-process frames, workers) */

static struct cdp_attacher *attacher_get(struct cdp *c, const char *session)
{
	for (struct cdp_attacher *a = c->attachers; a; a = a->next)
		if (!strcmp(a->session, session))
			return a;
	return NULL;
}

static struct cdp_attacher *attacher_add(struct cdp *c, const char *session,
					 const char *root, const cJSON *setup)
{
	struct cdp_attacher *a = attacher_get(c, session);

	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a || !(a->session = strdup(session)) || !(a->root = strdup(root))) {
			if (a)
				free(a->session);
			free(a);
			return NULL;
		}
		a->next = c->attachers;
		c->attachers = a;
	}
	cJSON_Delete(a->setup);
	a->setup = setup ? cJSON_Duplicate(setup, 1) : cJSON_CreateArray();
	return a;
}

static void attacher_drop(struct cdp *c, const char *session)
{
	for (struct cdp_attacher **pp = &c->attachers, *a; (a = *pp); pp = &a->next)
		if (!strcmp(a->session, session)) {
			*pp = a->next;
			free(a->session);
			free(a->root);
			cJSON_Delete(a->setup);
			free(a);
			return;
		}
}

static cJSON *auto_attach_params(void)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddBoolToObject(p, "autoAttach", 1);
	cJSON_AddBoolToObject(p, "waitForDebuggerOnStart", 1);
	cJSON_AddBoolToObject(p, "flatten", 1);
	return p;
}

/* A child attached to a session that asked for it: set it up before it
 * runs a line of its own (a guard's Fetch patterns must be in place before
 * the frame's first request), let it attach its own children, resume it.
 * Sent without waiting, in order on the child's session; the replies are
 * nobody's (route drops them). */
static void attach_child(struct cdp *c, const char *session, cJSON *params)
{
	struct cdp_attacher *parent = attacher_get(c, session), *child;
	const char *sid = cJSON_GetStringValue(cJSON_GetObjectItem(params, "sessionId"));
	cJSON *step;

	if (!parent || !sid || !*sid ||
	    !(child = attacher_add(c, sid, parent->root, parent->setup)))
		return;
	/* A native dialog in the frame blocks it like one in the page: the
	 * frame answers as its parent does (rules are added at the head, so
	 * this walk never meets the copies). */
	for (struct cdp_autoreply *a = c->autoreplies; a; a = a->next)
		if (!strcmp(a->session, session))
			cdp_autoreply(c, sid, a->on, a->method, cJSON_Duplicate(a->params, 1));
	cJSON_ArrayForEach(step, child->setup) {
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(step, "method"));
		cJSON *p = cJSON_GetObjectItem(step, "params");
		if (m)
			send_message(c, sid, c->next_id++, m,
				     p ? cJSON_Duplicate(p, 1) : NULL, NULL);
	}
	send_message(c, sid, c->next_id++, "Target.setAutoAttach", auto_attach_params(), NULL);
	if (cJSON_IsTrue(cJSON_GetObjectItem(params, "waitingForDebugger")))
		send_message(c, sid, c->next_id++, "Runtime.runIfWaitingForDebugger", NULL, NULL);
}

int cdp_auto_attach(struct cdp *c, const char *session, const cJSON *setup,
		    struct cdp_error *err)
{
	cJSON *res = NULL;

	if (!session || !*session) {
		set_err(err, CDP_ERR_USAGE, "auto-attach needs a page session");
		return -1;
	}
	if (!attacher_add(c, session, session, setup)) {
		set_err(err, CDP_ERR_USAGE, "out of memory");
		return -1;
	}
	if (cdp_call(c, session, "Target.setAutoAttach", auto_attach_params(), 10000,
		     &res, err))
		return -1;
	cJSON_Delete(res);
	return 0;
}

int cdp_auto_attach_add_step(struct cdp *c, const char *session, const char *method,
			     const cJSON *params)
{
	struct cdp_attacher *me = attacher_get(c, session);
	char *root;
	int n = 0;

	if (!me || !method)
		return -1;
	root = strdup(me->root);
	if (!root)
		return -1;
	/* the whole tree: the page and every frame attached below it so far
	 * (each keeps its own copy of the steps for its future children) */
	for (struct cdp_attacher *a = c->attachers; a; a = a->next) {
		cJSON *step;
		if (strcmp(a->root, root))
			continue;
		step = cJSON_CreateObject();
		cJSON_AddStringToObject(step, "method", method);
		if (params)
			cJSON_AddItemToObject(step, "params", cJSON_Duplicate(params, 1));
		cJSON_AddItemToArray(a->setup, step);
		n++;
	}
	free(root);
	return n ? 0 : -1;
}

/* Browser-level notices that a page session is gone. */
static void note_lifecycle(struct cdp *c, const char *session,
			   const char *method, cJSON *params)
{
	if (!strcmp(method, "Inspector.targetCrashed")) {
		session_mark_dead(c, session, "page crashed");
	} else if (!strcmp(method, "Inspector.detached")) {
		cJSON *r = cJSON_GetObjectItem(params, "reason");
		char why[200];
		snprintf(why, sizeof(why), "page detached (%s)",
			 cJSON_IsString(r) ? r->valuestring : "unknown reason");
		session_mark_dead(c, session, why);
	} else if (!strcmp(method, "Target.detachedFromTarget")) {
		cJSON *sid = cJSON_GetObjectItem(params, "sessionId");
		if (cJSON_IsString(sid)) {
			session_mark_dead(c, sid->valuestring,
					  "page closed (detached from target)");
			attacher_drop(c, sid->valuestring);
		}
	}
}

/* Route one incoming message.  Returns the reply when its id is `want`. */
static cJSON *route(struct cdp *c, char *text, size_t len, int want)
{
	cJSON *msg = cJSON_ParseWithLength(text, len);
	cJSON *id, *method, *sid;
	const char *session;

	ring_push(c, '<', text, len);
	/* Before the frame is logged: credentials the page's requests carry
	 * become secrets, so no log, evidence or cassette shows them. */
	if (msg)
		cdp_scrub_network(cJSON_GetStringValue(cJSON_GetObjectItem(msg, "method")),
				  cJSON_GetObjectItem(msg, "params"));
	log_frame('<', text);
	if (!msg) {
		log_warn("cdp: dropped a message that is not JSON (%zu bytes)", len);
		return NULL;
	}
	id = cJSON_GetObjectItem(msg, "id");
	method = cJSON_GetObjectItem(msg, "method");
	sid = cJSON_GetObjectItem(msg, "sessionId");
	session = cJSON_IsString(sid) ? sid->valuestring : "";

	if (cJSON_IsNumber(id)) {
		if (id->valueint == want)
			return msg;
		/* A late reply to a command that timed out, or to an
		 * async command: nobody waits for it. */
		cJSON_Delete(msg);
		return NULL;
	}
	if (cJSON_IsString(method)) {
		struct cdp_session *s = session_get(c, session, 1);
		struct cdp_event *e;

		if (!strcmp(method->valuestring, "Target.attachedToTarget"))
			attach_child(c, session, cJSON_GetObjectItem(msg, "params"));
		note_lifecycle(c, session, method->valuestring,
			       cJSON_GetObjectItem(msg, "params"));
		/* The job's guard acts on its events at once, inside this
		 * loop, and keeps them (and other jobs' targets) from the
		 * script's queues. */
		if (c->on_event && c->on_event(c, session, method->valuestring,
					       cJSON_GetObjectItem(msg, "params"))) {
			cJSON_Delete(msg);
			return NULL;
		}
		run_autoreplies(c, session, method->valuestring);
		if (!s || !(e = calloc(1, sizeof(*e)))) {
			cJSON_Delete(msg);
			return NULL;
		}
		e->method = strdup(method->valuestring);
		e->msg = msg;
		if (s->tail)
			s->tail->next = e;
		else
			s->head = e;
		s->tail = e;
		if (++s->count > c->max_events) {
			struct cdp_event *old = s->head;
			s->head = old->next;
			event_free(old);
			s->count--;
		}
		return NULL;
	}
	cJSON_Delete(msg);
	return NULL;
}

/* How long the next receive may wait, honouring the job deadline.
 * -1 with err when the deadline has passed. */
static int wait_budget(struct cdp *c, int64_t until, int *ms,
		       struct cdp_error *err)
{
	int64_t now = cdp_now(c);
	int64_t left = until - now;

	if (c->deadline_ms && now >= c->deadline_ms) {
		set_err(err, CDP_ERR_DEADLINE, "job deadline reached");
		return -1;
	}
	if (c->deadline_ms && c->deadline_ms - now < left)
		left = c->deadline_ms - now;
	*ms = left < 0 ? 0 : (int)left;
	return 0;
}

/* Receive and route one message, waiting at most ms.  Returns the reply to
 * `want` when it came, sets *got when anything came, -1 on close. */
static int pump_once(struct cdp *c, int ms, int want, cJSON **reply,
		     struct cdp_error *err)
{
	char *text = NULL;
	size_t len = 0;
	char terr[256] = "";
	int rc;

	if (c->closed) {
		set_err(err, CDP_ERR_CLOSED, "browser connection lost: %s",
			c->close_reason);
		return -1;
	}
	rc = c->tr->ops->recv(c->tr, &text, &len, ms, terr, sizeof(terr));
	if (rc < 0) {
		c->closed = 1;
		snprintf(c->close_reason, sizeof(c->close_reason), "%.200s",
			 terr[0] ? terr : "connection closed");
		set_err(err, CDP_ERR_CLOSED, "browser connection lost: %s",
			c->close_reason);
		return -1;
	}
	if (rc > 0) {
		cJSON *r;
		c->last_rx_ms = cdp_wall_ms();
		c->unresponsive = 0;
		r = route(c, text, len, want);
		free(text);
		if (r && reply)
			*reply = r;
		else
			cJSON_Delete(r);
	}
	return rc;
}

static const char *session_dead(struct cdp *c, const char *session)
{
	struct cdp_session *s;
	if (!session || !*session)
		return NULL;
	s = session_get(c, session, 0);
	return s && s->dead[0] ? s->dead : NULL;
}

int cdp_send_async(struct cdp *c, const char *session, const char *method,
		   cJSON *params, struct cdp_error *err)
{
	if (c->closed) {
		cJSON_Delete(params);
		set_err(err, CDP_ERR_CLOSED, "browser connection lost: %s",
			c->close_reason);
		return -1;
	}
	return send_message(c, session, c->next_id++, method, params, err);
}

#define CDP_UNRESPONSIVE_PROBE_MS 1000

int cdp_call(struct cdp *c, const char *session, const char *method,
	     cJSON *params, int timeout_ms, cJSON **result,
	     struct cdp_error *err)
{
	int id = c->next_id++;
	int64_t until = cdp_now(c) + (timeout_ms > 0 ? timeout_ms : 30000);
	int64_t sent_ms = cdp_wall_ms();
	int probing = c->unresponsive &&
		      until - cdp_now(c) > CDP_UNRESPONSIVE_PROBE_MS;
	const char *dead;
	cJSON *reply = NULL, *e;

	*result = NULL;
	if (!method || !*method) {
		cJSON_Delete(params);
		set_err(err, CDP_ERR_USAGE, "empty method name");
		return -1;
	}
	if ((dead = session_dead(c, session))) {
		cJSON_Delete(params);
		set_err(err, CDP_ERR_CLOSED, "%s", dead);
		return -1;
	}
	if (c->closed) {
		cJSON_Delete(params);
		set_err(err, CDP_ERR_CLOSED, "browser connection lost: %s",
			c->close_reason);
		return -1;
	}
	if (send_message(c, session, id, method, params, err))
		return -1;
	c->round_trips++;
	while (!reply) {
		int ms;
		if (wait_budget(c, probing ? sent_ms - cdp_wall_ms() + cdp_now(c) +
				CDP_UNRESPONSIVE_PROBE_MS : until, &ms, err))
			return -1;
		if (probing && !c->unresponsive) {	/* it spoke again */
			probing = 0;
			continue;
		}
		if (ms == 0) {
			if (c->unresponsive || c->last_rx_ms < sent_ms) {
				c->unresponsive = 1;
				set_err(err, CDP_ERR_TIMEOUT,
					"the browser stopped answering: %s got no reply within "
					"%d ms and nothing else came from the browser either "
					"(is it stopped or hung?)", method,
					probing ? CDP_UNRESPONSIVE_PROBE_MS : timeout_ms);
			} else {
				set_err(err, CDP_ERR_TIMEOUT,
					"%s got no reply within %d ms", method,
					timeout_ms);
			}
			return -1;
		}
		if (pump_once(c, ms, id, &reply, err) < 0)
			return -1;
		if (!reply && (dead = session_dead(c, session))) {
			set_err(err, CDP_ERR_CLOSED, "%s", dead);
			return -1;
		}
	}
	e = cJSON_GetObjectItem(reply, "error");
	if (e) {
		cJSON *code = cJSON_GetObjectItem(e, "code");
		cJSON *msg = cJSON_GetObjectItem(e, "message");
		cJSON *data = cJSON_GetObjectItem(e, "data");
		set_err(err, CDP_ERR_PROTOCOL, "%s: %s%s%s", method,
			cJSON_IsString(msg) ? msg->valuestring : "error",
			cJSON_IsString(data) ? " — " : "",
			cJSON_IsString(data) ? data->valuestring : "");
		if (err)
			err->code = cJSON_IsNumber(code) ? code->valueint : 0;
		cJSON_Delete(reply);
		return -1;
	}
	*result = cJSON_DetachItemFromObject(reply, "result");
	if (!*result)
		*result = cJSON_CreateObject();
	cJSON_Delete(reply);
	return 0;
}

/* "Network.*" matches every event of a domain: the page API follows a
 * response through several events and must take them in arrival order. */
static int method_matches(const char *have, const char *want)
{
	size_t n = strlen(want);

	if (n > 2 && want[n - 1] == '*' && want[n - 2] == '.')
		return !strncmp(have, want, n - 1);
	return !strcmp(have, want);
}

static cJSON *take_event(struct cdp *c, const char *session, const char *method)
{
	struct cdp_session *s = session_get(c, session, 0);
	struct cdp_event *e, *prev = NULL;
	cJSON *msg;

	if (!s)
		return NULL;
	for (e = s->head; e; prev = e, e = e->next) {
		if (method && !method_matches(e->method, method))
			continue;
		if (prev)
			prev->next = e->next;
		else
			s->head = e->next;
		if (s->tail == e)
			s->tail = prev;
		s->count--;
		msg = e->msg;
		e->msg = NULL;
		event_free(e);
		return msg;
	}
	return NULL;
}

int cdp_wait_event(struct cdp *c, const char *session, const char *method,
		   int timeout_ms, cJSON **event, struct cdp_error *err)
{
	int64_t until = cdp_now(c) + (timeout_ms > 0 ? timeout_ms : 0);
	const char *dead;

	*event = NULL;
	for (;;) {
		int ms;
		if ((*event = take_event(c, session, method)))
			return 1;
		if ((dead = session_dead(c, session))) {
			set_err(err, CDP_ERR_CLOSED, "%s", dead);
			return -1;
		}
		if (wait_budget(c, until, &ms, err))
			return -1;
		if (ms == 0)
			return 0;
		if (pump_once(c, ms, -1, NULL, err) < 0)
			return -1;
	}
}

int cdp_pump(struct cdp *c, int ms, struct cdp_error *err)
{
	int64_t until = cdp_now(c) + ms;
	for (;;) {
		int left;
		if (wait_budget(c, until, &left, err))
			return -1;
		if (left == 0)
			return 0;
		if (pump_once(c, left, -1, NULL, err) < 0)
			return -1;
	}
}

void cdp_drop_events(struct cdp *c, const char *session, const char *method)
{
	cJSON *m;
	while ((m = take_event(c, session, method)))
		cJSON_Delete(m);
}

int cdp_autoreply(struct cdp *c, const char *session, const char *on,
		  const char *method, cJSON *params)
{
	struct cdp_autoreply **pp = &c->autoreplies, *a;

	if (!session)
		session = "";
	while ((a = *pp)) {
		if (!strcmp(a->session, session) && !strcmp(a->on, on)) {
			*pp = a->next;
			free(a->session);
			free(a->on);
			free(a->method);
			cJSON_Delete(a->params);
			free(a);
			continue;
		}
		pp = &a->next;
	}
	if (!params || !method)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -1;
	a->session = strdup(session);
	a->on = strdup(on);
	a->method = strdup(method);
	a->params = params;
	a->next = c->autoreplies;
	c->autoreplies = a;
	return 0;
}
