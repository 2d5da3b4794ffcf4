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
	char **grown;

	if (!value || strlen(value) < 4)
		return;
	for (size_t i = 0; i < nsecrets; i++)
		if (!strcmp(secrets[i], value))
			return;
	grown = realloc(secrets, (nsecrets + 1) * sizeof(*secrets));
	if (!grown)
		return;
	secrets = grown;
	secrets[nsecrets] = strdup(value);
	if (secrets[nsecrets])
		nsecrets++;
}

void secret_clear_all(void)
{
	for (size_t i = 0; i < nsecrets; i++) {
		memset(secrets[i], 0, strlen(secrets[i]));
		free(secrets[i]);
	}
	free(secrets);
	secrets = NULL;
	nsecrets = 0;
}

/* Length of the registered secret that starts at s, or 0. */
static size_t secret_at(const char *s, size_t left)
{
	for (size_t i = 0; i < nsecrets; i++) {
		size_t n = strlen(secrets[i]);
		if (n <= left && !memcmp(s, secrets[i], n))
			return n;
	}
	return 0;
}

int secret_present(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (secret_at(s + i, len - i))
			return 1;
	return 0;
}

char *secret_redact(const char *s, size_t len, size_t *out_len)
{
	static const char mark[] = "[redacted]";
	size_t cap = len + 1, n = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t hit = nsecrets ? secret_at(s + i, len - i) : 0;
		const char *piece = hit ? mark : s + i;
		size_t plen = hit ? sizeof(mark) - 1 : 1;

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

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *tags[] = { "error", "warn", "info", "debug" };
	char raw[4096], line[8192];
	char *clean;
	size_t n = 0, clen;
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (level > current_level)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);

	clean = secret_redact(raw, strlen(raw), &clen);
	if (!clean)
		return;
	/* Escape control bytes so one record stays one line. */
	for (size_t i = 0; i < clen && n + 5 < sizeof(line); i++) {
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
	free(clean);

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%d] %s\n",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, tags[level],
		(int)getpid(), line);
}
