/*
 * log: leveled, timestamped, one-line log records on stderr, and the
 * registry of secret values that every writer (logger, JSON output,
 * cassettes, artifacts) passes its bytes through before they leave us.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "textbuf.h"

static enum log_level current_level = LOG_WARN;
static enum log_format current_format = LOG_FORMAT_TEXT;
static const char *component = "agent";	/* a string literal: never freed */
static const char *text_prefix;		/* "prog: msg" lines instead of stamped ones */
static char **secrets;
static char **labels;		/* per secret: its placeholder name, or NULL */
static size_t nsecrets;

void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return current_level; }
void log_set_format(enum log_format format) { current_format = format; }
enum log_format log_get_format(void) { return current_format; }
void log_set_component(const char *name) { component = name; }
void log_set_text_prefix(const char *prog) { text_prefix = prog; }

int log_parse_format(const char *name)
{
	if (!strcmp(name, "text"))
		return LOG_FORMAT_TEXT;
	if (!strcmp(name, "json"))
		return LOG_FORMAT_JSON;
	return -1;
}

/* The jobs this process knows about, so that a JSON record of "job X: …"
 * carries X's app, action and attempt as fields.  A worker holds a few
 * dozen at most: a list is enough. */
struct log_job {
	char *id, *app, *action;
	int attempt;
	struct log_job *next;
};
static struct log_job *jobs;
static struct log_job *current_job;	/* a job child's own job */

static struct log_job *job_find(const char *id, size_t n)
{
	for (struct log_job *j = jobs; j; j = j->next)
		if (strlen(j->id) == n && !memcmp(j->id, id, n))
			return j;
	return NULL;
}

void log_job_note(const char *id, const char *app, const char *action, int attempt)
{
	struct log_job *j;

	if (!id)
		return;
	j = job_find(id, strlen(id));
	if (!j) {
		j = calloc(1, sizeof(*j));
		if (!j || !(j->id = strdup(id))) {
			free(j);
			return;
		}
		j->next = jobs;
		jobs = j;
	}
	free(j->app);
	free(j->action);
	j->app = app ? strdup(app) : NULL;
	j->action = action ? strdup(action) : NULL;
	j->attempt = attempt;
}

void log_job_forget(const char *id)
{
	struct log_job **pp = &jobs;

	while (id && *pp && strcmp((*pp)->id, id))
		pp = &(*pp)->next;
	if (!id || !*pp)
		return;
	struct log_job *j = *pp;
	*pp = j->next;
	if (current_job == j)
		current_job = NULL;
	free(j->id);
	free(j->app);
	free(j->action);
	free(j);
}

void log_job_current(const char *id)
{
	current_job = id ? job_find(id, strlen(id)) : NULL;
}

int log_parse_level(const char *name)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return (int)i;
	return -1;
}

void secret_register(const char *value)
{
	secret_register_as(value, NULL);
}

void secret_register_as(const char *value, const char *label)
{
	char **grown;
	char own[128];
	size_t n = value ? strlen(value) : 0;

	if (!value || n < 4)
		return;
	for (size_t i = 0; i < nsecrets; i++)
		if (!strcmp(secrets[i], value))
			return;
	/* A replayed cassette hands out placeholders as values: each one
	 * stands for itself, so what the script sends matches the recording. */
	if (n > 11 && n - 11 < sizeof(own) && !strncmp(value, "{{secret:", 9) &&
	    !strcmp(value + n - 2, "}}")) {
		snprintf(own, sizeof(own), "%.*s", (int)(n - 11), value + 9);
		label = own;
	}
	grown = realloc(secrets, (nsecrets + 1) * sizeof(*secrets));
	if (!grown)
		return;
	secrets = grown;
	grown = realloc(labels, (nsecrets + 1) * sizeof(*labels));
	if (!grown)
		return;
	labels = grown;
	secrets[nsecrets] = strdup(value);
	labels[nsecrets] = label ? strdup(label) : NULL;
	if (secrets[nsecrets])
		nsecrets++;
}

void secret_clear_all(void)
{
	for (size_t i = 0; i < nsecrets; i++) {
		memset(secrets[i], 0, strlen(secrets[i]));
		free(secrets[i]);
		free(labels[i]);
	}
	free(secrets);
	free(labels);
	secrets = NULL;
	labels = NULL;
	nsecrets = 0;
}

/* v as it reads inside a JSON string; 0 if it does not fit in cap. */
static size_t json_escaped(const char *v, size_t n, char *out, size_t cap)
{
	size_t k = 0;

	for (size_t j = 0; j < n; j++) {
		unsigned char c = (unsigned char)v[j];
		int e;
		const char *short_esc = c == '\b' ? "b" : c == '\f' ? "f" : c == '\n' ? "n" :
					c == '\r' ? "r" : c == '\t' ? "t" : NULL;
		if (c == '"' || c == '\\')
			e = snprintf(out + k, cap - k, "\\%c", c);
		else if (short_esc)	/* as cJSON writes them */
			e = snprintf(out + k, cap - k, "\\%s", short_esc);
		else if (c < 0x20)
			e = snprintf(out + k, cap - k, "\\u%04x", c);
		else
			e = snprintf(out + k, cap - k, "%c", c);
		if (e < 0 || (size_t)e >= cap - k)
			return 0;
		k += (size_t)e;
	}
	return k;
}

/* Length of the registered secret that starts at s, or 0: as is, or
 * JSON-escaped once (a JSON line) or twice (a CDP frame kept as a string
 * inside cdp-frames.json) when it holds a quote, backslash or control.
 * *which (when given) is the secret's index. */
static size_t secret_match(const char *s, size_t left, size_t *which)
{
	for (size_t i = 0; i < nsecrets; i++) {
		const char *v = secrets[i];
		size_t n = strlen(v), n1, n2;
		char e1[2048], e2[4096];
		int special = 0;

		if (which)
			*which = i;
		if (n <= left && !memcmp(s, v, n))
			return n;
		for (size_t j = 0; j < n && !special; j++)
			special = v[j] == '"' || v[j] == '\\' || (unsigned char)v[j] < 0x20;
		if (!special)
			continue;
		n1 = json_escaped(v, n, e1, sizeof(e1));
		if (n1 && n1 <= left && !memcmp(s, e1, n1))
			return n1;
		n2 = n1 ? json_escaped(e1, n1, e2, sizeof(e2)) : 0;
		if (n2 && n2 <= left && !memcmp(s, e2, n2))
			return n2;
	}
	return 0;
}

int secret_present(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (secret_match(s + i, len - i, NULL))
			return 1;
	return 0;
}

/* Copy s with every secret replaced: by "[redacted]", or by a stable
 * placeholder ("{{secret:<label>}}") that a replay can match. */
static char *rewrite_secrets(const char *s, size_t len, size_t *out_len,
			     int placeholders)
{
	size_t cap = len + 64, n = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		char mark[160] = "[redacted]";
		size_t which = 0;
		size_t hit = nsecrets ? secret_match(s + i, len - i, &which) : 0;
		const char *piece = s + i;
		size_t plen = 1;

		if (hit) {
			if (placeholders && labels[which])
				snprintf(mark, sizeof(mark), "{{secret:%.100s}}", labels[which]);
			else if (placeholders)
				snprintf(mark, sizeof(mark), "{{secret:%zu}}", which + 1);
			piece = mark;
			plen = strlen(mark);
		}
		if (n + plen + 1 > cap) {
			char *grown;
			cap = (cap + plen) * 2;
			grown = realloc(out, cap);
			if (!grown) {
				free(out);
				return NULL;
			}
			out = grown;
		}
		memcpy(out + n, piece, plen);
		n += plen;
		i += hit ? hit : 1;
	}
	out[n] = '\0';
	if (out_len)
		*out_len = n;
	return out;
}

char *secret_redact(const char *s, size_t len, size_t *out_len)
{
	return rewrite_secrets(s, len, out_len, 0);
}

char *secret_placeholder(const char *s, size_t len, size_t *out_len)
{
	return rewrite_secrets(s, len, out_len, 1);
}

#define LOG_CUT_ROOM 48	/* for the " … [N more bytes cut]" marker */

/* A script's print() and log.info() are for its author, who expects to
 * see them: shown at the default level (warn) too.  log.debug still
 * needs --log-level debug. */
void log_script(enum log_level level, const char *msg)
{
	enum log_level saved = current_level;
	static const char *const from_script[] = { "source", "script", NULL };

	if (level == LOG_INFO && current_level < LOG_INFO)
		current_level = LOG_INFO;
	log_msg_kv(level, from_script, "%s", msg);
	current_level = saved;
}

/* ---------------------------------------------------------- JSON records */

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 :
		   s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : 0;

	if (!n || n > left)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;	/* overlong, surrogate, past U+10FFFF */
	return n;
}

/* s as a JSON string: quotes, backslashes and controls escaped, bytes
 * that are not UTF-8 (a page's Latin-1, a cut) as U+FFFD, so that every
 * record parses whatever the message held. */
static void jb_quoted(struct textbuf *b, const char *s, size_t len)
{
	textbuf_put(b, "\"", 1);
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		char e[8];
		size_t u;

		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			textbuf_put(b, e, 2);
		} else if (c == '\n') {
			textbuf_put(b, "\\n", 2);
		} else if (c == '\t') {
			textbuf_put(b, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(e, sizeof(e), "\\u%04x", c);
			textbuf_put(b, e, 6);
		} else if (c < 0x80) {
			textbuf_put(b, s + i, 1);
		} else if ((u = utf8_len((const unsigned char *)s + i, len - i))) {
			textbuf_put(b, s + i, u);
			i += u;
			continue;
		} else {
			textbuf_put(b, "\\ufffd", 6);
		}
		i++;
	}
	textbuf_put(b, "\"", 1);
}

/* ,"key":"value" with the value redacted like the message. */
static void jb_field(struct textbuf *b, const char *key, const char *value)
{
	size_t n;
	char *clean;

	if (!value)
		return;
	clean = secret_redact(value, strlen(value), &n);
	if (!clean)
		return;
	textbuf_put(b, ",", 1);
	jb_quoted(b, key, strlen(key));
	textbuf_put(b, ":", 1);
	jb_quoted(b, clean, n);
	free(clean);
}

static void jb_job(struct textbuf *b, const struct log_job *j)
{
	char num[24];

	jb_field(b, "app", j->app);
	jb_field(b, "action", j->action);
	if (j->attempt > 0) {
		snprintf(num, sizeof(num), ",\"attempt\":%d", j->attempt);
		textbuf_str(b, num);
	}
}

/* The job a message names: "job ID: …" or "job ID attempt N: …", as the
 * worker and the coordinator write them. */
static const char *msg_job(const char *msg, size_t *n)
{
	const char *p = msg + 4, *q;

	if (strncmp(msg, "job ", 4))
		return NULL;
	for (q = p; *q && *q != ':' && *q != ' '; q++)
		;
	if (q == p || (*q != ':' && strncmp(q, " attempt ", 9)))
		return NULL;
	*n = (size_t)(q - p);
	return p;
}

/* One JSON object per line: ts, level, component, pid, msg, then what
 * the message is about (job, app, action, attempt) and the caller's own
 * fields.  msg is redacted already; kv values are redacted here. */
static void write_json(enum log_level level, const char *ts, const char *msg, size_t mlen,
		       const char *const *kv)
{
	static const char *tags[] = { "error", "warn", "info", "debug" };
	struct textbuf b = { 0 };
	const struct log_job *j = current_job;
	const char *id;
	size_t idn = 0;
	char num[32];

	textbuf_str(&b, "{\"ts\":\"");
	textbuf_str(&b, ts);
	textbuf_str(&b, "\",\"level\":\"");
	textbuf_str(&b, tags[level]);
	textbuf_str(&b, "\",\"component\":");
	jb_quoted(&b, component, strlen(component));
	snprintf(num, sizeof(num), ",\"pid\":%d", (int)getpid());
	textbuf_str(&b, num);
	textbuf_str(&b, ",\"msg\":");
	jb_quoted(&b, msg, mlen);
	if ((id = msg_job(msg, &idn))) {
		textbuf_str(&b, ",\"job\":");
		jb_quoted(&b, id, idn);
		j = job_find(id, idn);
		if (j)
			jb_job(&b, j);
	} else if (j) {
		jb_field(&b, "job", j->id);
		jb_job(&b, j);
	}
	for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
		jb_field(&b, kv[i], kv[i + 1]);
	textbuf_put(&b, "}\n", 2);
	if (!b.oom)	/* one write per record: parent and children share stderr */
		fwrite(b.p, 1, b.len, stderr);
	free(b.p);
}

static void log_record(enum log_level level, const char *const *kv, const char *fmt,
		       va_list ap)
{
	static const char *tags[] = { "error", "warn", "info", "debug" };
	char *raw = NULL, line[8192], ts_text[80];
	char *clean;
	size_t n = 0, clen;
	struct timespec ts;
	struct tm tm;
	int rn;

	if (level > current_level)
		return;
	/* Format whole, redact, then cut: a cut through a secret would
	 * leave its first bytes behind. */
	rn = vasprintf(&raw, fmt, ap);
	if (rn < 0)
		return;
	clean = secret_redact(raw, (size_t)rn, &clen);
	free(raw);
	if (!clean)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(ts_text, sizeof(ts_text), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, ts.tv_nsec / 1000000);
	if (current_format == LOG_FORMAT_JSON) {
		if (clen > sizeof(line)) {	/* the same cap as a text record */
			n = sizeof(line) - LOG_CUT_ROOM;
			memcpy(line, clean, n);
			snprintf(line + n, sizeof(line) - n, " … [%zu more bytes cut]",
				 clen - n);
			write_json(level, ts_text, line, strlen(line), kv);
		} else {
			write_json(level, ts_text, clean, clen, kv);
		}
		free(clean);
		return;
	}
	/* Escape control bytes so one record stays one line.  A record over
	 * the cap ends with a marker saying how much was cut. */
	size_t i;
	for (i = 0; i < clen && n + 5 < sizeof(line) - LOG_CUT_ROOM; i++) {
		unsigned char c = (unsigned char)clean[i];
		if (c == '\n') {
			line[n++] = '\\';
			line[n++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			n += (size_t)snprintf(line + n, sizeof(line) - n, "\\x%02x", c);
		} else {
			line[n++] = (char)c;
		}
	}
	line[n] = '\0';
	if (i < clen)
		snprintf(line + n, sizeof(line) - n, " … [%zu more bytes cut]", clen - i);
	free(clean);

	if (text_prefix)
		fprintf(stderr, "%s: %s%s\n", text_prefix,
			level == LOG_WARN ? "warning: " : "", line);
	else
		fprintf(stderr, "%s %-5s [%d] %s\n", ts_text, tags[level], (int)getpid(), line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_record(level, NULL, fmt, ap);
	va_end(ap);
}

void log_msg_kv(enum log_level level, const char *const *kv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_record(level, kv, fmt, ap);
	va_end(ap);
}

/* libwebsockets' own lines (lws_set_log_level's emitter): through us, so
 * that they are records of the chosen format too.  1 is LLL_ERR, 2
 * LLL_WARN; the rest are debug. */
void log_lws_line(int level, const char *line)
{
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	log_msg(level == 1 ? LOG_ERROR : level == 2 ? LOG_WARN : LOG_DEBUG,
		"libwebsockets: %.*s", (int)n, line);
}
