/*
 * cdp_record: the recording transport — it passes every frame through to
 * the live one and keeps a copy, timed on the live clock, to save as a
 * cassette.  Also the rules both recorder and replayer apply to frames
 * (secret placeholders, elision) and the comparisons replay reports with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cassette.h"
#include "log.h"

/* ---- canonical form */

static uint32_t fnv1a(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* Folders of this run (the run folder, the files folder) as they appear
 * in commands (a download folder, an upload's path): "{{run}}/…", so a
 * recording replays from any folder on any machine. */
#define MAX_ALIASES 8
static struct { char *prefix, *name; } aliases[MAX_ALIASES];
static int naliases;

void cassette_path_alias(const char *prefix, const char *name)
{
	if (!prefix || !*prefix || !strcmp(prefix, "/"))
		return;
	for (int i = 0; i < naliases; i++)
		if (!strcmp(aliases[i].prefix, prefix)) {
			free(aliases[i].name);
			aliases[i].name = strdup(name);
			return;
		}
	if (naliases == MAX_ALIASES)
		return;
	aliases[naliases].prefix = strdup(prefix);
	aliases[naliases].name = strdup(name);
	if (aliases[naliases].prefix && aliases[naliases].name)
		naliases++;
}

/* The longest registered folder that s is in, replaced by its name. */
static char *alias_path(const char *s)
{
	int best = -1;
	size_t bl = 0;
	char *out;

	for (int i = 0; i < naliases; i++) {
		size_t pl = strlen(aliases[i].prefix);
		if (pl > bl && !strncmp(s, aliases[i].prefix, pl) &&
		    (s[pl] == '/' || !s[pl]))
			best = i, bl = pl;
	}
	if (best < 0)
		return NULL;
	out = malloc(strlen(aliases[best].name) + strlen(s + bl) + 5);
	if (out)
		sprintf(out, "{{%s}}%s", aliases[best].name, s + bl);
	return out;
}

static void canonical_string(cJSON *item, int sent, int keep)
{
	size_t n = 0;
	char *clean = secret_placeholder(item->valuestring, strlen(item->valuestring), &n);
	char mark[96], *aliased;

	if (!clean)
		return;
	if (clean[0] == '/' && (aliased = alias_path(clean))) {
		free(clean);
		clean = aliased;
		n = strlen(clean);
	}
	if (keep) {
		/* kept whole: a response body the script reads */
	} else if (sent && n > CASSETTE_BIG_SEND) {
		snprintf(mark, sizeof(mark), "{{elided: %zu bytes, fnv1a %08x}}", n,
			 fnv1a(clean, n));
		free(clean);
		clean = strdup(mark);
	} else if (!sent && n > CASSETTE_BIG_RECV) {
		snprintf(mark, sizeof(mark), "{{elided: %zu bytes}}", n);
		free(clean);
		clean = strdup(mark);
	}
	if (clean && strcmp(clean, item->valuestring))
		cJSON_SetValuestring(item, clean);
	free(clean);
}

static void canonical(cJSON *tree, int sent, int keep)
{
	cJSON *c;

	if (!tree)
		return;
	if (cJSON_IsString(tree) && tree->valuestring) {
		canonical_string(tree, sent, keep);
		return;
	}
	for (c = tree->child; c; c = c->next)
		canonical(c, sent, keep);
}

void cassette_canonical(cJSON *tree, int sent)
{
	canonical(tree, sent, 0);
}

/* ---- differences */

/* A short, one-line excerpt of v; for strings, around offset at. */
static void excerpt(const cJSON *v, size_t at, char *buf, size_t n)
{
	char *text;

	if (!v) {
		snprintf(buf, n, "(absent)");
		return;
	}
	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		size_t len = strlen(s), from = at > 40 ? at - 40 : 0;
		size_t take = len - from < 100 ? len - from : 100;
		snprintf(buf, n, "\"%s%.*s%s\"", from ? "…" : "", (int)take, s + from,
			 from + take < len ? "…" : "");
		return;
	}
	text = cJSON_PrintUnformatted(v);
	if (!text) {
		snprintf(buf, n, "?");
		return;
	}
	if (strlen(text) > 120)
		snprintf(buf, n, "%.120s…", text);
	else
		snprintf(buf, n, "%s", text);
	free(text);
}

static int diff_at(const cJSON *a, const cJSON *b, char *path, size_t plen,
		   struct cassette_diff *d)
{
	size_t used = strlen(path);

	/* An empty Lua table is {} or [] depending on who encoded it. */
	if (a && b && (cJSON_IsArray(a) || cJSON_IsObject(a)) &&
	    (cJSON_IsArray(b) || cJSON_IsObject(b)) && !a->child && !b->child)
		return 0;
	if (!a || !b || (a->type & 0xff) != (b->type & 0xff)) {
		snprintf(d->path, sizeof(d->path), "%s", path);
		excerpt(a, 0, d->expected, sizeof(d->expected));
		excerpt(b, 0, d->actual, sizeof(d->actual));
		return 1;
	}
	if (cJSON_IsString(a)) {
		size_t i = 0;
		if (!strcmp(a->valuestring, b->valuestring))
			return 0;
		while (a->valuestring[i] && a->valuestring[i] == b->valuestring[i])
			i++;
		snprintf(d->path, sizeof(d->path), "%s", path);
		excerpt(a, i, d->expected, sizeof(d->expected));
		excerpt(b, i, d->actual, sizeof(d->actual));
		return 1;
	}
	if (cJSON_IsObject(a)) {
		const cJSON *c;
		for (c = a->child; c; c = c->next) {
			snprintf(path + used, plen - used, "%s%s", used ? "." : "", c->string);
			if (diff_at(c, cJSON_GetObjectItemCaseSensitive(b, c->string),
				    path, plen, d))
				return 1;
		}
		for (c = b->child; c; c = c->next) {
			if (cJSON_GetObjectItemCaseSensitive(a, c->string))
				continue;
			snprintf(path + used, plen - used, "%s%s", used ? "." : "", c->string);
			return diff_at(NULL, c, path, plen, d);
		}
		path[used] = '\0';
		return 0;
	}
	if (cJSON_IsArray(a)) {
		int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);
		for (int i = 0; i < na || i < nb; i++) {
			snprintf(path + used, plen - used, "[%d]", i);
			if (diff_at(cJSON_GetArrayItem(a, i), cJSON_GetArrayItem(b, i),
				    path, plen, d))
				return 1;
		}
		path[used] = '\0';
		return 0;
	}
	if (cJSON_Compare(a, b, 1))
		return 0;
	snprintf(d->path, sizeof(d->path), "%s", path);
	excerpt(a, 0, d->expected, sizeof(d->expected));
	excerpt(b, 0, d->actual, sizeof(d->actual));
	return 1;
}

int cassette_diff(const cJSON *expected, const cJSON *actual,
		  struct cassette_diff *d)
{
	char path[200] = "";
	memset(d, 0, sizeof(*d));
	return diff_at(expected, actual, path, sizeof(path), d);
}

/* ---- outcomes */

cJSON *cassette_outcome(int exit, const cJSON *result, const char *error_class,
			const char *error)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *v;

	cJSON_AddNumberToObject(o, "exit", exit);
	if ((v = cJSON_GetObjectItem(result, "state")) && cJSON_IsString(v))
		cJSON_AddStringToObject(o, "state", v->valuestring);
	if (exit && error_class && *error_class)
		cJSON_AddStringToObject(o, "error_class", error_class);
	if (exit && error && *error)
		cJSON_AddStringToObject(o, "error", error);
	if ((v = cJSON_GetObjectItem(result, "users")))
		cJSON_AddItemToObject(o, "users", cJSON_Duplicate(v, 1));
	cassette_canonical(o, 0);
	return o;
}

int cassette_outcome_compare(const cJSON *recorded, const cJSON *actual,
			     char *why, size_t whylen)
{
	static const char *keys[] = { "exit", "state", "error_class", "users", NULL };
	struct cassette_diff d;

	for (int i = 0; keys[i]; i++) {
		const cJSON *a = cJSON_GetObjectItem(recorded, keys[i]);
		const cJSON *b = cJSON_GetObjectItem(actual, keys[i]);
		if (!a && !b)
			continue;
		if (cassette_diff(a, b, &d)) {
			snprintf(why, whylen, "%s%s%s: recorded %s, replayed %s", keys[i],
				 d.path[0] && d.path[0] != '[' ? "." : "", d.path,
				 d.expected, d.actual);
			return -1;
		}
	}
	return 0;
}

/* ---- the recorder */

struct rec_transport {
	struct cdp_transport base;
	struct cdp_transport *inner;
	int64_t t0, epoch0;
	cJSON *frames;			/* array of records, secrets still in clear */
	int *shots;			/* ids of Page.captureScreenshot commands */
	size_t nshots, capshots;
	int *bodies;			/* ids of Network.getResponseBody commands */
	size_t nbodies, capbodies;
};

/* Remember id in a growing list (best effort: a failed grow forgets). */
static void note_id(int **list, size_t *n, size_t *cap, int id)
{
	if (*n == *cap) {
		size_t grow = *cap ? *cap * 2 : 8;
		int *grown = realloc(*list, grow * sizeof(*grown));
		if (!grown)
			return;
		*list = grown;
		*cap = grow;
	}
	(*list)[(*n)++] = id;
}

static int has_id(const int *list, size_t n, int id)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == id)
			return 1;
	return 0;
}

static const struct cdp_transport_ops rec_ops;

int cdp_is_recorder(const struct cdp_transport *t)
{
	return t && t->ops == &rec_ops;
}

static int64_t rec_now(struct cdp_transport *base)
{
	struct rec_transport *t = (struct rec_transport *)base;
	return t->inner->ops->now_ms(t->inner);
}

static cJSON *record_new(struct rec_transport *t, const char *dir)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "t", (double)(rec_now(&t->base) - t->t0));
	cJSON_AddStringToObject(r, "dir", dir);
	cJSON_AddItemToArray(t->frames, r);
	return r;
}

static void move_item(cJSON *to, cJSON *from, const char *key)
{
	cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(from, key);
	if (v)
		cJSON_AddItemToObject(to, key, v);
}

/* page:request's fetch marks its Runtime.evaluate with this object group:
 * its reply carries a response body, kept whole like getResponseBody's. */
static int is_body_eval(const char *method, const cJSON *params)
{
	const char *g = cJSON_GetStringValue(cJSON_GetObjectItem(params, "objectGroup"));
	return !strcmp(method, "Runtime.evaluate") && g && !strcmp(g, CASSETTE_BODY_GROUP);
}

static int rec_send(struct cdp_transport *base, const char *msg, size_t len,
		    char *err, size_t errlen)
{
	struct rec_transport *t = (struct rec_transport *)base;
	cJSON *m = cJSON_ParseWithLength(msg, len);
	cJSON *r, *id, *method;

	if (m) {
		r = record_new(t, "send");
		id = cJSON_GetObjectItem(m, "id");
		method = cJSON_GetObjectItem(m, "method");
		move_item(r, m, "id");
		move_item(r, m, "sessionId");
		move_item(r, m, "method");
		move_item(r, m, "params");
		if (cJSON_IsString(method) && cJSON_IsNumber(id) &&
		    !strcmp(method->valuestring, "Page.captureScreenshot"))
			note_id(&t->shots, &t->nshots, &t->capshots, id->valueint);
		/* A response body is what the script reads: replay gives it
		 * whole, however big (see write_line). */
		if (cJSON_IsString(method) && cJSON_IsNumber(id) &&
		    (!strcmp(method->valuestring, "Network.getResponseBody") ||
		     is_body_eval(method->valuestring, cJSON_GetObjectItem(r, "params"))))
			note_id(&t->bodies, &t->nbodies, &t->capbodies, id->valueint);
		cJSON_Delete(m);
	}
	return t->inner->ops->send(t->inner, msg, len, err, errlen);
}

static int is_shot(struct rec_transport *t, int id)
{
	return has_id(t->shots, t->nshots, id);
}

static int rec_recv(struct cdp_transport *base, char **msg, size_t *len,
		    int timeout_ms, char *err, size_t errlen)
{
	struct rec_transport *t = (struct rec_transport *)base;
	int rc = t->inner->ops->recv(t->inner, msg, len, timeout_ms, err, errlen);
	cJSON *m, *r, *id;

	if (rc < 0) {
		r = record_new(t, "close");
		cJSON_AddStringToObject(r, "reason", err && *err ? err : "connection closed");
		return rc;
	}
	if (rc == 0)
		return rc;
	m = cJSON_ParseWithLength(*msg, *len);
	if (!m) {
		r = record_new(t, "raw");
		cJSON_AddStringToObject(r, "text", *msg);
		return rc;
	}
	id = cJSON_GetObjectItem(m, "id");
	r = record_new(t, cJSON_IsNumber(id) ? "recv" : "event");
	move_item(r, m, "id");
	move_item(r, m, "sessionId");
	move_item(r, m, "method");
	move_item(r, m, "params");
	move_item(r, m, "result");
	move_item(r, m, "error");
	/* A screenshot is megabytes of noise in a cassette; replay answers
	 * with a tiny stand-in PNG. */
	if (cJSON_IsNumber(id) && is_shot(t, id->valueint)) {
		cJSON *data = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "data");
		if (cJSON_IsString(data)) {
			char mark[64];
			snprintf(mark, sizeof(mark), "{{elided: %zu bytes of PNG}}",
				 strlen(data->valuestring));
			cJSON_SetValuestring(data, mark);
		}
	}
	cJSON_Delete(m);
	return rc;
}

static void rec_free(struct cdp_transport *base)
{
	struct rec_transport *t = (struct rec_transport *)base;
	t->inner->ops->free(t->inner);
	cJSON_Delete(t->frames);
	free(t->shots);
	free(t->bodies);
	free(t);
}

/* A clock read by the script: noted, so a replay reads the same value. */
static int64_t rec_script_now(struct cdp_transport *base)
{
	struct rec_transport *t = (struct rec_transport *)base;
	int64_t now = rec_now(base);
	cJSON *r = cJSON_CreateObject();

	cJSON_AddNumberToObject(r, "t", (double)(now - t->t0));
	cJSON_AddStringToObject(r, "dir", "clock");
	cJSON_AddItemToArray(t->frames, r);
	return now;
}

static int64_t rec_epoch(struct cdp_transport *base)
{
	struct rec_transport *t = (struct rec_transport *)base;
	struct timespec ts;

	if (t->inner->ops->epoch_ms)
		return t->inner->ops->epoch_ms(t->inner);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A file the job read (a download): kept in the cassette as a "data"
 * record, which the replayer hands back in its place. */
static char *rec_host_data(struct cdp_transport *base, const char *name, const char *data,
			   size_t len, size_t *outlen)
{
	struct rec_transport *t = (struct rec_transport *)base;
	cJSON *r;
	char *copy;

	if (!data || !(copy = malloc(len + 1)))
		return NULL;
	memcpy(copy, data, len);
	copy[len] = '\0';
	*outlen = len;
	r = record_new(t, "data");
	cJSON_AddStringToObject(r, "name", name);
	cJSON_AddStringToObject(r, "text", copy);	/* text files: stops at a NUL */
	return copy;
}

static const struct cdp_transport_ops rec_ops = {
	"record", rec_send, rec_recv, rec_now, rec_free, rec_epoch, rec_script_now,
	rec_host_data
};

struct cdp_transport *cdp_record_wrap(struct cdp_transport *inner)
{
	struct rec_transport *t = calloc(1, sizeof(*t));

	if (!t || !(t->frames = cJSON_CreateArray())) {
		free(t);
		inner->ops->free(inner);
		return NULL;
	}
	t->base.ops = &rec_ops;
	t->inner = inner;
	t->t0 = inner->ops->now_ms(inner);
	t->epoch0 = rec_epoch(&t->base);
	return &t->base;
}

/* One record as a line, through the canonical rules (keep: no string is
 * elided; secrets still become placeholders). */
static int write_line(FILE *f, cJSON *r, int sent, int keep)
{
	char *text;
	int rc;

	canonical(r, sent, keep);
	text = cJSON_PrintUnformatted(r);
	if (!text)
		return -1;
	/* Anything that slipped past the tree walk still never leaves. */
	if (secret_present(text, strlen(text))) {
		char *clean = secret_placeholder(text, strlen(text), NULL);
		free(text);
		text = clean;
		if (!text)
			return -1;
	}
	rc = fprintf(f, "%s\n", text) < 0 ? -1 : 0;
	free(text);
	return rc;
}

int cdp_record_save(struct cdp_transport *base, const char *path,
		    const cJSON *header, const cJSON *outcome,
		    char *err, size_t errlen)
{
	struct rec_transport *t = (struct rec_transport *)base;
	char tmp[4200], when[32];
	cJSON *h, *r;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;
	int rc = 0;

	if (!cdp_is_recorder(base)) {
		snprintf(err, errlen, "not a recording transport");
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "cannot write %s: %m", tmp);
		return -1;
	}
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	h = cJSON_CreateObject();
	cJSON_AddNumberToObject(h, "cassette", CASSETTE_VERSION);
	for (const cJSON *c = header ? header->child : NULL; c; c = c->next)
		cJSON_AddItemToObject(h, c->string, cJSON_Duplicate(c, 1));
	cJSON_AddStringToObject(h, "recorded", when);
	cJSON_AddNumberToObject(h, "epoch_ms", (double)t->epoch0);
	cJSON_AddNumberToObject(h, "frames", cJSON_GetArraySize(t->frames));
	rc |= write_line(f, h, 0, 0);
	cJSON_Delete(h);
	cJSON_ArrayForEach(r, t->frames) {
		const char *dir = cJSON_GetStringValue(cJSON_GetObjectItem(r, "dir"));
		cJSON *id = cJSON_GetObjectItem(r, "id");
		int keep = dir && (!strcmp(dir, "data") ||
				   (!strcmp(dir, "recv") && cJSON_IsNumber(id) &&
				    has_id(t->bodies, t->nbodies, id->valueint)));
		rc |= write_line(f, r, dir && !strcmp(dir, "send"), keep);
	}
	r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "t", (double)(rec_now(base) - t->t0));
	cJSON_AddStringToObject(r, "dir", "end");
	if (outcome)
		cJSON_AddItemToObject(r, "outcome", cJSON_Duplicate(outcome, 1));
	rc |= write_line(f, r, 0, 0);
	cJSON_Delete(r);
	if (fclose(f) || rc) {
		snprintf(err, errlen, "cannot write %s", tmp);
		remove(tmp);
		return -1;
	}
	if (rename(tmp, path)) {
		snprintf(err, errlen, "cannot rename %s to %s: %m", tmp, path);
		remove(tmp);
		return -1;
	}
	return 0;
}
