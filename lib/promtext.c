/* promtext: a Prometheus text-format answer in memory (include/promtext.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "promtext.h"

void prom_printf(struct prom_buf *b, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (b->oom)
		return;
	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || b->n + (size_t)len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *s;
		while (len >= 0 && b->n + (size_t)len + 1 > cap)
			cap *= 2;
		if (len < 0 || !(s = realloc(b->s, cap))) {
			b->oom = 1;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n += (size_t)len;
}

/* Label values are outside text (app names from whoever queued a job,
 * endpoints an operator typed): escaped, or a quote would end the value. */
void prom_label(struct prom_buf *b, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\')
			prom_printf(b, "\\\\");
		else if (*v == '"')
			prom_printf(b, "\\\"");
		else if (*v == '\n')
			prom_printf(b, "\\n");
		else
			prom_printf(b, "%c", *v);
	}
}

void prom_head(struct prom_buf *b, const char *name, const char *type, const char *help)
{
	prom_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}
