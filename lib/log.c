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

static enum log_level current_level = LOG_WARN;
static char **secrets;
static char **labels;		/* per secret: its placeholder name, or NULL */
static size_t nsecrets;

void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return current_level; }

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

	if (level == LOG_INFO && current_level < LOG_INFO)
		current_level = LOG_INFO;
	log_msg(level, "%s", msg);
	current_level = saved;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *tags[] = { "error", "warn", "info", "debug" };
	char *raw = NULL, line[8192];
	char *clean;
	size_t n = 0, clen;
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int rn;

	if (level > current_level)
		return;
	/* Format whole, redact, then cut: a cut through a secret would
	 * leave its first bytes behind. */
	va_start(ap, fmt);
	rn = vasprintf(&raw, fmt, ap);
	va_end(ap);
	if (rn < 0)
		return;
	clean = secret_redact(raw, (size_t)rn, &clen);
	free(raw);
	if (!clean)
		return;
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

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%d] %s\n",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, tags[level],
		(int)getpid(), line);
}
