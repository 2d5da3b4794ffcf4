#ifndef IDLCM_PROMTEXT_H
#define IDLCM_PROMTEXT_H
/*
 * promtext: building a Prometheus text-format (0.0.4) answer in memory —
 * the one writer behind the coordinator's and the worker's GET /metrics.
 */
#include <stddef.h>

struct prom_buf {
	char *s;		/* NUL-terminated; free() it */
	size_t n, cap;
	int oom;		/* an allocation failed: the answer is incomplete */
};

void prom_printf(struct prom_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A label value escaped as the format wants: backslash, quote, newline. */
void prom_label(struct prom_buf *b, const char *v);
/* The # HELP and # TYPE lines of a metric family. */
void prom_head(struct prom_buf *b, const char *name, const char *type, const char *help);

#endif
