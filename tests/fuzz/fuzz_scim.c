/*
 * Fuzz target: the SCIM text an identity provider sends
 * (coordinator/scim_filter.c): list filters, PATCH paths, operation names
 * and loose booleans.  The input is one string (NUL-terminated copy).
 * Properties: a parse either succeeds with a well-formed struct (1 to 8
 * terms, known attributes, every string terminated within its buffer) or
 * fails with a message that says where; parsing is deterministic; what
 * parsed, written back in canonical form (escaped values, the bracket and
 * dotted forms of a member term), parses to the same struct; operation
 * names and booleans agree with a case-insensitive compare.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim_filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Field by field: a buffer may hold stale bytes after its terminator
 * (the core schema's URN is cleared by its first byte). */
static int same_filter(const struct scim_filter *a, const struct scim_filter *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (a->term[i].attr != b->term[i].attr || strcmp(a->term[i].value, b->term[i].value))
			return 0;
	return 1;
}

static int same_path(const struct scim_path *a, const struct scim_path *b)
{
	return !strcmp(a->urn, b->urn) && !strcmp(a->attr, b->attr) && !strcmp(a->sub, b->sub) &&
	       a->has_filter == b->has_filter && !strcmp(a->fattr, b->fattr) &&
	       !strcmp(a->fvalue, b->fvalue);
}

static void terminated(const char *s, size_t cap)
{
	if (!memchr(s, '\0', cap))
		abort();
}

/* A JSON-ish string the parser reads back as v: only " and \ escaped. */
static size_t put_quoted(char *out, size_t at, const char *v)
{
	out[at++] = '"';
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			out[at++] = '\\';
		out[at++] = *v;
	}
	out[at++] = '"';
	return at;
}

static void check_filter(const char *text)
{
	static struct scim_filter f, g, h;
	static char canon[SCIM_FILTER_MAX_TERMS * (2 * SCIM_VALUE_MAX + 64) + 1];
	char err[300] = "", err2[300];
	size_t at = 0;

	if (scim_filter_parse(text, &f, err, sizeof(err))) {
		if (!err[0] || !memchr(err, '\0', sizeof(err)))
			abort();
		/* deterministic, and it says the same thing twice */
		if (!scim_filter_parse(text, &h, err2, sizeof(err2)) || strcmp(err, err2))
			abort();
		return;
	}
	if (f.n < 1 || f.n > SCIM_FILTER_MAX_TERMS)
		abort();
	for (int i = 0; i < f.n; i++) {
		const struct scim_term *t = &f.term[i];
		const char *name = scim_fattr_name(t->attr);
		terminated(t->value, sizeof(t->value));
		if (t->attr < SCIM_F_ID || t->attr > SCIM_F_MEMBER || !name || !*name)
			abort();
		if (i)
			at += (size_t)sprintf(canon + at, " and ");
		switch (t->attr) {
		case SCIM_F_WORK_EMAIL:
			at += (size_t)sprintf(canon + at, "emails[type eq \"work\"].value eq ");
			at = put_quoted(canon, at, t->value);
			break;
		case SCIM_F_MEMBER:
			/* both spellings of a member term: brackets on odd terms */
			if (i % 2) {
				at += (size_t)sprintf(canon + at, "members[value eq ");
				at = put_quoted(canon, at, t->value);
				canon[at++] = ']';
				break;
			}
			at += (size_t)sprintf(canon + at, "members.value eq ");
			at = put_quoted(canon, at, t->value);
			break;
		case SCIM_F_EMAIL:
			at += (size_t)sprintf(canon + at, "emails.value eq ");
			at = put_quoted(canon, at, t->value);
			break;
		default:
			at += (size_t)sprintf(canon + at, "%s eq ", name);
			at = put_quoted(canon, at, t->value);
		}
	}
	canon[at] = '\0';
	if (scim_filter_parse(text, &h, err, sizeof(err)) || !same_filter(&f, &h))
		abort();
	if (scim_filter_parse(canon, &g, err, sizeof(err))) {
		fprintf(stderr, "canonical filter refused: %s\n  %s\n", err, canon);
		abort();
	}
	if (!same_filter(&f, &g))
		abort();
}

static void check_path(const char *text)
{
	static struct scim_path p, q, r;
	static char canon[sizeof(p.urn) + sizeof(p.attr) + sizeof(p.sub) + sizeof(p.fattr) +
			  2 * SCIM_VALUE_MAX + 32];
	char err[300] = "";
	size_t at = 0;

	if (scim_path_parse(text, &p, err, sizeof(err))) {
		if (!err[0] || !memchr(err, '\0', sizeof(err)))
			abort();
		return;
	}
	terminated(p.urn, sizeof(p.urn));
	terminated(p.attr, sizeof(p.attr));
	terminated(p.sub, sizeof(p.sub));
	terminated(p.fattr, sizeof(p.fattr));
	terminated(p.fvalue, sizeof(p.fvalue));
	if (!p.attr[0] || (p.has_filter && !p.fattr[0]) || (!p.has_filter && (p.fattr[0] || p.fvalue[0])))
		abort();
	if (p.urn[0])
		at += (size_t)sprintf(canon + at, "%s:", p.urn);
	at += (size_t)sprintf(canon + at, "%s", p.attr);
	if (p.has_filter) {
		at += (size_t)sprintf(canon + at, "[%s eq ", p.fattr);
		at = put_quoted(canon, at, p.fvalue);
		canon[at++] = ']';
	}
	if (p.sub[0])
		at += (size_t)sprintf(canon + at, ".%s", p.sub);
	canon[at] = '\0';
	if (scim_path_parse(text, &r, err, sizeof(err)) || !same_path(&p, &r))
		abort();
	if (scim_path_parse(canon, &q, err, sizeof(err))) {
		fprintf(stderr, "canonical path refused: %s\n  %s\n", err, canon);
		abort();
	}
	if (!same_path(&p, &q))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	enum scim_op op;
	int b;

	if (size > 8192)
		return 0;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	check_filter(text);
	check_path(text);
	op = scim_op_parse(text);
	if ((op == SCIM_OP_ADD) != !strcasecmp(text, "add") ||
	    (op == SCIM_OP_REMOVE) != !strcasecmp(text, "remove") ||
	    (op == SCIM_OP_REPLACE) != !strcasecmp(text, "replace"))
		abort();
	b = scim_bool_text(text);
	if ((b == 1) != !strcasecmp(text, "true") || (b == 0) != !strcasecmp(text, "false"))
		abort();
	free(text);
	return 0;
}
