/*
 * cdp_replay: the replaying transport — no browser.  Each command the job
 * sends must be the cassette's next recorded command (same session, method
 * and canonical params); its recorded reply comes back under the new id,
 * and recorded events are released where they happened.  Time is the
 * recording's: it moves to each frame's timestamp as the frame is used, and
 * forward by the whole timeout when a wait has nothing recorded to end it;
 * the script's own clock reads get the values noted in the recording.
 * docs/replay.md has the rules and their reasons.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cassette.h"
#include "log.h"

#define CASSETTE_MAX_BYTES (256u << 20)

/* A 1×1 PNG: what a replayed screenshot shows. */
static const char STAND_IN_PNG[] =
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

enum rp_dir { RP_SEND, RP_RECV, RP_EVENT, RP_CLOSE, RP_RAW, RP_CLOCK, RP_DATA };

struct rp_rec {
	enum rp_dir dir;
	int line;
	int64_t t;
	int id;
	int send_of;			/* RP_RECV: index of its command, or -1 */
	int actual_id;			/* RP_SEND: the id the job used, or -1 */
	int used;			/* RP_DATA: handed out already */
	const char *session;		/* "" = browser; points into body */
	const char *method;
	cJSON *rec;			/* the whole record */
};

struct rp_transport {
	struct cdp_transport base;
	char name[512];
	struct rp_rec *recs;
	size_t n, pos;
	size_t *released;		/* incoming records passed by a send */
	size_t rel_head, rel_n;
	int64_t cur, epoch0;
	cJSON *header, *outcome;
	int nsends, sends_done;
	char *divergence;
};

static const struct cdp_transport_ops rp_ops;

int cdp_is_replayer(const struct cdp_transport *t)
{
	return t && t->ops == &rp_ops;
}

static const char *str_or(const cJSON *o, const char *k, const char *dflt)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
	return s ? s : dflt;
}

/* "Input.insertText {"text":"…"}" (short) */
static void describe(const char *method, const cJSON *params, char *buf, size_t n)
{
	char *p = params ? cJSON_PrintUnformatted(params) : NULL;
	if (p && strlen(p) > 160)
		snprintf(buf, n, "%s %.160s…", method, p);
	else
		snprintf(buf, n, "%s %s", method, p ? p : "{}");
	free(p);
}

static void set_divergence(struct rp_transport *t, const char *text)
{
	if (t->divergence)
		return;
	t->divergence = strdup(text);
}

/* Fill err (one line) and the full report; returns DIVERGED. */
static int diverge(struct rp_transport *t, const struct rp_rec *want,
		   const char *method, const char *session, const cJSON *params,
		   char *err, size_t errlen)
{
	char exp[400], got[400], full[4400], line[1000], where[700];
	struct cassette_diff d;

	describe(method, params, got, sizeof(got));
	if (!want) {
		snprintf(err, errlen, "replay diverged after command %d of %d (%s): the "
			 "script sent %s, but the cassette has no more commands",
			 t->sends_done, t->nsends, t->name, got);
		snprintf(full, sizeof(full), "replay diverged: the cassette %s has no "
			 "more commands (all %d replayed)\n  script sent: %s\n",
			 t->name, t->nsends, got);
		set_divergence(t, full);
		return CDP_TRANSPORT_DIVERGED;
	}
	describe(want->method, cJSON_GetObjectItem(want->rec, "params"), exp, sizeof(exp));
	snprintf(where, sizeof(where), "command %d of %d (%s:%d, %.3f s into the recording)",
		 t->sends_done + 1, t->nsends, t->name, want->line, (double)want->t / 1000.0);
	if (strcmp(want->method, method)) {
		snprintf(line, sizeof(line), "the script sent %s but the cassette expects %s",
			 method, want->method);
	} else if (strcmp(want->session, session)) {
		snprintf(line, sizeof(line), "%s went to session \"%s\", recorded on \"%s\"",
			 method, session, want->session);
	} else if (cassette_diff(cJSON_GetObjectItem(want->rec, "params"), params, &d)) {
		snprintf(line, sizeof(line), "%s with params.%s = %s, recorded %s", method,
			 d.path, d.actual, d.expected);
	} else {
		snprintf(line, sizeof(line), "%s differs", method);
	}
	snprintf(err, errlen, "replay diverged at %s: %s", where, line);
	snprintf(full, sizeof(full), "replay diverged at %s\n  cassette expects: %s%s%s\n"
		 "  script sent:      %s%s%s\n  %s\n", where, exp,
		 want->session[0] ? " on session " : "", want->session, got,
		 session[0] ? " on session " : "", session, line);
	set_divergence(t, full);
	return CDP_TRANSPORT_DIVERGED;
}

static int rp_send(struct cdp_transport *base, const char *msg, size_t len,
		   char *err, size_t errlen)
{
	struct rp_transport *t = (struct rp_transport *)base;
	cJSON *m = cJSON_ParseWithLength(msg, len);
	cJSON *params, *id;
	const char *method, *session;
	size_t j;
	int rc;

	if (t->divergence) {
		snprintf(err, errlen, "replay already diverged (%s)", t->name);
		cJSON_Delete(m);
		return CDP_TRANSPORT_DIVERGED;
	}
	if (!m) {
		snprintf(err, errlen, "replay: the job sent a message that is not JSON");
		return -1;
	}
	method = str_or(m, "method", "");
	session = str_or(m, "sessionId", "");
	id = cJSON_GetObjectItem(m, "id");
	params = cJSON_GetObjectItem(m, "params");
	cassette_canonical(params, 1);

	for (j = t->pos; j < t->n && t->recs[j].dir != RP_SEND; j++)
		;
	if (j == t->n) {
		rc = diverge(t, NULL, method, session, params, err, errlen);
		cJSON_Delete(m);
		return rc;
	}
	{
		struct rp_rec *want = &t->recs[j];
		const cJSON *wp = cJSON_GetObjectItem(want->rec, "params");
		cJSON *empty = NULL;
		int same;

		if (!wp)
			wp = empty = cJSON_CreateObject();
		same = !strcmp(want->method, method) && !strcmp(want->session, session) &&
		       cJSON_Compare(wp, params ? params : wp, 1);
		cJSON_Delete(empty);
		if (!same) {
			rc = diverge(t, want, method, session, params, err, errlen);
			cJSON_Delete(m);
			return rc;
		}
		/* Frames the recording had read before this command come next
		 * (clock reads the script did not make are passed over). */
		for (size_t k = t->pos; k < j; k++)
			if (t->recs[k].dir != RP_CLOCK && t->recs[k].dir != RP_DATA)
				t->released[(t->rel_head + t->rel_n++) % t->n] = k;
		want->actual_id = cJSON_IsNumber(id) ? id->valueint : -1;
		if (want->t > t->cur)
			t->cur = want->t;
		t->pos = j + 1;
		t->sends_done++;
	}
	cJSON_Delete(m);
	return 0;
}

/* The frame as the job would have received it. */
static char *render(struct rp_transport *t, const struct rp_rec *r, size_t *len)
{
	cJSON *m;
	char *text;

	if (r->dir == RP_RAW) {
		text = strdup(str_or(r->rec, "text", ""));
		*len = text ? strlen(text) : 0;
		return text;
	}
	m = cJSON_CreateObject();
	if (r->dir == RP_RECV) {
		int id = r->send_of >= 0 ? t->recs[r->send_of].actual_id : -1;
		cJSON *res = cJSON_GetObjectItem(r->rec, "result");
		cJSON_AddNumberToObject(m, "id", id);
		if (res) {
			cJSON *copy = cJSON_Duplicate(res, 1);
			cJSON *data = cJSON_GetObjectItem(copy, "data");
			if (cJSON_IsString(data) &&
			    !strncmp(data->valuestring, "{{elided:", 9) &&
			    strstr(data->valuestring, "PNG"))
				cJSON_SetValuestring(data, STAND_IN_PNG);
			cJSON_AddItemToObject(m, "result", copy);
		}
		if (cJSON_GetObjectItem(r->rec, "error"))
			cJSON_AddItemToObject(m, "error", cJSON_Duplicate(
				cJSON_GetObjectItem(r->rec, "error"), 1));
	} else {
		cJSON_AddStringToObject(m, "method", r->method);
		cJSON_AddItemToObject(m, "params", cJSON_Duplicate(
			cJSON_GetObjectItem(r->rec, "params"), 1));
	}
	if (r->session[0])
		cJSON_AddStringToObject(m, "sessionId", r->session);
	text = cJSON_PrintUnformatted(m);
	cJSON_Delete(m);
	*len = text ? strlen(text) : 0;
	return text;
}

static int rp_recv(struct cdp_transport *base, char **msg, size_t *len,
		   int timeout_ms, char *err, size_t errlen)
{
	struct rp_transport *t = (struct rp_transport *)base;
	struct rp_rec *r;
	size_t j;

	if (timeout_ms < 0)
		timeout_ms = 0;
	if (t->rel_n) {
		r = &t->recs[t->released[t->rel_head]];
		t->rel_head = (t->rel_head + 1) % t->n;
		t->rel_n--;
		*msg = render(t, r, len);
		return *msg ? 1 : -1;
	}
	/* Clock reads come before the next frame: when the frame is due
	 * within this wait, they were reads the script no longer makes. */
	j = t->pos;
	while (j < t->n && (t->recs[j].dir == RP_CLOCK || t->recs[j].dir == RP_DATA))
		j++;
	if (j >= t->n || t->recs[j].dir == RP_SEND ||
	    t->recs[j].t > t->cur + timeout_ms) {
		/* The recording did something else next (or nothing yet): this
		 * wait times out. */
		t->cur += timeout_ms;
		return 0;
	}
	for (; t->pos < j; t->pos++)
		if (t->recs[t->pos].dir == RP_CLOCK && t->recs[t->pos].t > t->cur)
			t->cur = t->recs[t->pos].t;
	r = &t->recs[t->pos];
	t->pos++;
	if (r->t > t->cur)
		t->cur = r->t;
	if (r->dir == RP_CLOSE) {
		snprintf(err, errlen, "%s (recorded)", str_or(r->rec, "reason", "closed"));
		return -1;
	}
	*msg = render(t, r, len);
	return *msg ? 1 : -1;
}

static int64_t rp_now(struct cdp_transport *base)
{
	return ((struct rp_transport *)base)->cur;
}

/* The script reads the clock: the value it read in the recording when the
 * cassette has that read next, else the replay's time. */
static int64_t rp_script_now(struct cdp_transport *base)
{
	struct rp_transport *t = (struct rp_transport *)base;

	while (t->pos < t->n && t->recs[t->pos].dir == RP_DATA)
		t->pos++;	/* found by name when asked for (rp_host_data) */
	if (t->pos < t->n && t->recs[t->pos].dir == RP_CLOCK) {
		if (t->recs[t->pos].t > t->cur)
			t->cur = t->recs[t->pos].t;
		t->pos++;
	}
	return t->cur;
}

static int64_t rp_epoch(struct cdp_transport *base)
{
	struct rp_transport *t = (struct rp_transport *)base;
	return t->epoch0 + t->cur;
}

static void rp_free(struct cdp_transport *base)
{
	struct rp_transport *t = (struct rp_transport *)base;
	for (size_t i = 0; i < t->n; i++)
		cJSON_Delete(t->recs[i].rec);
	free(t->recs);
	free(t->released);
	cJSON_Delete(t->header);
	cJSON_Delete(t->outcome);
	free(t->divergence);
	free(t);
}

/* The recorded copy of a file the job read: the first one by that name
 * not handed out yet. */
static char *rp_host_data(struct cdp_transport *base, const char *name, const char *data,
			  size_t len, size_t *outlen)
{
	struct rp_transport *t = (struct rp_transport *)base;
	(void)data;
	(void)len;

	for (size_t i = 0; i < t->n; i++) {
		struct rp_rec *r = &t->recs[i];
		const char *text;
		if (r->dir != RP_DATA || r->used || strcmp(str_or(r->rec, "name", ""), name))
			continue;
		text = str_or(r->rec, "text", "");
		r->used = 1;
		*outlen = strlen(text);
		return strdup(text);
	}
	return NULL;
}

static const struct cdp_transport_ops rp_ops = {
	"replay", rp_send, rp_recv, rp_now, rp_free, rp_epoch, rp_script_now, rp_host_data
};

static int parse_error(struct rp_transport *t, int line, char *err, size_t errlen,
		       const char *what)
{
	snprintf(err, errlen, "%s:%d: %s", t->name, line, what);
	return -1;
}

/* One record line → t->recs[t->n]. */
static int parse_record(struct rp_transport *t, cJSON *r, int line,
			char *err, size_t errlen)
{
	struct rp_rec *x = &t->recs[t->n];
	const char *dir = cJSON_GetStringValue(cJSON_GetObjectItem(r, "dir"));
	cJSON *tm = cJSON_GetObjectItem(r, "t");
	cJSON *id = cJSON_GetObjectItem(r, "id");
	cJSON *sess = cJSON_GetObjectItem(r, "sessionId");

	if (!dir)
		return parse_error(t, line, err, errlen, "record lacks \"dir\"");
	if (!cJSON_IsNumber(tm) || !(tm->valuedouble >= 0 && tm->valuedouble < 1e12))
		return parse_error(t, line, err, errlen, "record lacks a time \"t\" (ms)");
	if (!strcmp(dir, "end")) {
		cJSON_Delete(t->outcome);
		t->outcome = cJSON_DetachItemFromObject(r, "outcome");
		cJSON_Delete(r);
		return 0;
	}
	memset(x, 0, sizeof(*x));
	x->line = line;
	x->t = (int64_t)tm->valuedouble;
	x->send_of = -1;
	x->actual_id = -1;
	x->rec = r;
	x->session = sess ? cJSON_GetStringValue(sess) : "";
	if (!x->session)
		return parse_error(t, line, err, errlen, "\"sessionId\" must be a string");
	x->method = cJSON_GetStringValue(cJSON_GetObjectItem(r, "method"));
	if (!strcmp(dir, "send") || !strcmp(dir, "recv")) {
		x->dir = dir[0] == 's' ? RP_SEND : RP_RECV;
		if (!cJSON_IsNumber(id))
			return parse_error(t, line, err, errlen, "record lacks a numeric \"id\"");
		x->id = id->valueint;
		if (x->dir == RP_SEND && !x->method)
			return parse_error(t, line, err, errlen, "send record lacks \"method\"");
		if (x->dir == RP_SEND) {
			cJSON *p = cJSON_GetObjectItem(r, "params");
			if (p && !cJSON_IsObject(p))
				return parse_error(t, line, err, errlen,
						   "\"params\" must be an object");
			t->nsends++;
		} else {
			for (size_t k = t->n; k-- > 0;)
				if (t->recs[k].dir == RP_SEND && t->recs[k].id == x->id) {
					x->send_of = (int)k;
					break;
				}
		}
	} else if (!strcmp(dir, "event")) {
		x->dir = RP_EVENT;
		if (!x->method)
			return parse_error(t, line, err, errlen, "event record lacks \"method\"");
	} else if (!strcmp(dir, "close")) {
		x->dir = RP_CLOSE;
	} else if (!strcmp(dir, "raw")) {
		x->dir = RP_RAW;
	} else if (!strcmp(dir, "clock")) {
		x->dir = RP_CLOCK;
	} else if (!strcmp(dir, "data")) {
		x->dir = RP_DATA;
		if (!cJSON_IsString(cJSON_GetObjectItem(r, "name")) ||
		    !cJSON_IsString(cJSON_GetObjectItem(r, "text")))
			return parse_error(t, line, err, errlen,
					   "data record lacks \"name\" or \"text\"");
	} else {
		char msg[160];
		snprintf(msg, sizeof(msg), "unknown record direction \"%.40s\"", dir);
		return parse_error(t, line, err, errlen, msg);
	}
	if (!x->method)
		x->method = "";
	t->n++;
	return 0;
}

struct cdp_transport *cdp_replay_open_mem(const char *text, size_t len,
					  const char *name, char *err,
					  size_t errlen)
{
	struct rp_transport *t = calloc(1, sizeof(*t));
	size_t cap = 0, lines = 0;
	const char *p = text, *end = text + len;
	int line = 0;

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->base.ops = &rp_ops;
	snprintf(t->name, sizeof(t->name), "%s", name ? name : "cassette");
	for (const char *q = text; q < end; q++)
		lines += *q == '\n';
	cap = lines + 1;
	t->recs = calloc(cap, sizeof(*t->recs));
	if (!t->recs)
		goto oom;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *parse_end = NULL;
		cJSON *r;

		line++;
		while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0 || p[0] == '#') {
			if (!nl)
				break;
			p = nl + 1;
			continue;
		}
		r = cJSON_ParseWithLengthOpts(p, n, &parse_end, 0);
		if (!r || !cJSON_IsObject(r)) {
			char msg[120];
			cJSON_Delete(r);
			snprintf(msg, sizeof(msg), "not a JSON object (near byte %d)",
				 parse_end ? (int)(parse_end - p) + 1 : 1);
			parse_error(t, line, err, errlen, msg);
			goto fail;
		}
		if (!t->header) {
			cJSON *v = cJSON_GetObjectItem(r, "cassette");
			if (!cJSON_IsNumber(v)) {
				cJSON_Delete(r);
				parse_error(t, line, err, errlen,
					    "not a cassette (the first line must be its header "
					    "{\"cassette\":1,…})");
				goto fail;
			}
			if (v->valueint != CASSETTE_VERSION) {
				char msg[120];
				snprintf(msg, sizeof(msg), "cassette version %d; this agent "
					 "reads version %d", v->valueint, CASSETTE_VERSION);
				cJSON_Delete(r);
				parse_error(t, line, err, errlen, msg);
				goto fail;
			}
			t->header = r;
			v = cJSON_GetObjectItem(r, "epoch_ms");
			t->epoch0 = cJSON_IsNumber(v) && v->valuedouble >= 0 &&
				    v->valuedouble < 1e15 ? (int64_t)v->valuedouble : 0;
		} else if (t->n >= cap) {
			cJSON_Delete(r);
			goto oom;
		} else if (parse_record(t, r, line, err, errlen)) {
			if (t->n < cap && t->recs[t->n].rec == r)
				t->recs[t->n].rec = NULL;
			cJSON_Delete(r);
			goto fail;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	if (!t->header) {
		snprintf(err, errlen, "%s: empty cassette", t->name);
		goto fail;
	}
	t->released = calloc(t->n ? t->n : 1, sizeof(*t->released));
	if (!t->released)
		goto oom;
	return &t->base;
oom:
	snprintf(err, errlen, "%s: out of memory", t->name);
fail:
	rp_free(&t->base);
	return NULL;
}

struct cdp_transport *cdp_replay_open(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct cdp_transport *t;
	char *buf;
	size_t n;

	if (!f) {
		snprintf(err, errlen, "cannot open cassette %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(CASSETTE_MAX_BYTES + 1);
	n = buf ? fread(buf, 1, CASSETTE_MAX_BYTES + 1, f) : 0;
	fclose(f);
	if (!buf || n > CASSETTE_MAX_BYTES) {
		snprintf(err, errlen, "cassette %s is larger than %u MiB", path,
			 CASSETTE_MAX_BYTES >> 20);
		free(buf);
		return NULL;
	}
	t = cdp_replay_open_mem(buf, n, path, err, errlen);
	free(buf);
	return t;
}

const cJSON *cdp_replay_header(const struct cdp_transport *base)
{
	return cdp_is_replayer(base) ? ((const struct rp_transport *)base)->header : NULL;
}

const cJSON *cdp_replay_outcome(const struct cdp_transport *base)
{
	return cdp_is_replayer(base) ? ((const struct rp_transport *)base)->outcome : NULL;
}

const char *cdp_replay_divergence(const struct cdp_transport *base)
{
	return cdp_is_replayer(base) ? ((const struct rp_transport *)base)->divergence
				     : NULL;
}

void cdp_replay_counts(const struct cdp_transport *base, int *done, int *total)
{
	const struct rp_transport *t = (const struct rp_transport *)base;
	*done = cdp_is_replayer(base) ? t->sends_done : 0;
	*total = cdp_is_replayer(base) ? t->nsends : 0;
}

int cdp_replay_finish(struct cdp_transport *base, char *err, size_t errlen)
{
	struct rp_transport *t = (struct rp_transport *)base;
	char full[1200], next[400];

	if (!cdp_is_replayer(base))
		return 0;
	if (t->divergence) {
		snprintf(err, errlen, "%s", t->divergence);
		return -1;
	}
	for (size_t j = t->pos; j < t->n; j++) {
		if (t->recs[j].dir != RP_SEND)
			continue;
		describe(t->recs[j].method, cJSON_GetObjectItem(t->recs[j].rec, "params"),
			 next, sizeof(next));
		snprintf(full, sizeof(full), "replay diverged: the job ended after %d of "
			 "%d recorded commands\n  cassette expects next: %s (%s:%d)\n",
			 t->sends_done, t->nsends, next, t->name, t->recs[j].line);
		set_divergence(t, full);
		snprintf(err, errlen, "%s", full);
		return -1;
	}
	return 0;
}
