/*
 * scim_filter: SCIM list filters and PATCH paths as the identity providers
 * send them, parsed into flat structs that the routes turn into SQL and
 * JSON edits.  Pure text in, struct out: unit-tested on its own.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "scim_filter.h"

#define CORE_USER_URN "urn:ietf:params:scim:schemas:core:2.0:User:"
#define CORE_GROUP_URN "urn:ietf:params:scim:schemas:core:2.0:Group:"

struct cur {
	const char *s;
	size_t i;
	char *err;
	size_t errlen;
};

static int fail(struct cur *c, const char *what)
{
	snprintf(c->err, c->errlen, "%s at byte %zu", what, c->i + 1);
	return -1;
}

/* Outside quoted strings '+' is a space that form encoding left behind
 * (Entra sends filter=userName+eq+"x"); it is never filter syntax. */
static void skip_ws(struct cur *c)
{
	while (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '+')
		c->i++;
}

static int is_name_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '-' || ch == '$';
}

/* A bare word: an operator or "and". */
static size_t word(struct cur *c, char *out, size_t n)
{
	size_t k = 0;
	while (is_name_char(c->s[c->i]) && k + 1 < n)
		out[k++] = c->s[c->i++];
	out[k] = '\0';
	return k;
}

/* A JSON string (RFC 7644 §3.4.2.2 compValue); \uXXXX below 0x80 only. */
static int quoted(struct cur *c, char *out, size_t n)
{
	size_t k = 0;

	if (c->s[c->i] != '"') {
		if (!strncasecmp(c->s + c->i, "true", 4) || !strncasecmp(c->s + c->i, "false", 5) ||
		    !strncasecmp(c->s + c->i, "null", 4) || isdigit((unsigned char)c->s[c->i]))
			return fail(c, "this attribute compares with a quoted string, not a bare value");
		return fail(c, "expected a quoted string");
	}
	c->i++;
	for (;;) {
		char ch = c->s[c->i];
		if (!ch)
			return fail(c, "unterminated string");
		c->i++;
		if (ch == '"')
			break;
		if (ch == '\\') {
			char e = c->s[c->i++];
			switch (e) {
			case '"': case '\\': case '/': ch = e; break;
			case 'n': ch = '\n'; break;
			case 't': ch = '\t'; break;
			case 'u': {
				unsigned v = 0;
				for (int d = 0; d < 4; d++) {
					char h = c->s[c->i++];
					if (!isxdigit((unsigned char)h))
						return fail(c, "bad \\u escape");
					v = v * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' :
								 (tolower((unsigned char)h) - 'a' + 10));
				}
				if (!v || v > 0x7f)
					return fail(c, "only ASCII \\u escapes are supported");
				ch = (char)v;
				break;
			}
			default:
				c->i--;
				return fail(c, "bad escape in string");
			}
		}
		if (k + 1 >= n)
			return fail(c, "string too long");
		out[k++] = ch;
	}
	out[k] = '\0';
	return 0;
}

/* Reads an attribute path up to whitespace; value filters in brackets may
 * hold spaces and quoted strings. */
static int attr_path(struct cur *c, char *out, size_t n)
{
	size_t k = 0;
	int depth = 0, inq = 0, esc = 0;

	while (c->s[c->i]) {
		char ch = c->s[c->i];
		if (!inq && !depth && (ch == ' ' || ch == '\t' || ch == '+' || ch == '(' || ch == ')'))
			break;
		/* inside a string a backslash escapes the next character, so
		 * "a\\" ends at its quote (the byte before it is no guide) */
		if (inq && esc)
			esc = 0;
		else if (inq && ch == '\\')
			esc = 1;
		else if (ch == '"')
			inq = !inq;
		else if (!inq && ch == '[')
			depth++;
		else if (!inq && ch == ']')
			depth--;
		if (k + 1 >= n)
			return fail(c, "attribute path too long");
		out[k++] = ch;
		c->i++;
	}
	out[k] = '\0';
	if (!k)
		return fail(c, "expected an attribute name");
	if (depth || inq)
		return fail(c, "unbalanced [ or \" in attribute path");
	return 0;
}

const char *scim_fattr_name(enum scim_fattr a)
{
	switch (a) {
	case SCIM_F_ID: return "id";
	case SCIM_F_USERNAME: return "userName";
	case SCIM_F_EXTERNAL_ID: return "externalId";
	case SCIM_F_EMAIL: return "emails.value";
	case SCIM_F_WORK_EMAIL: return "emails[type eq \"work\"].value";
	case SCIM_F_DISPLAY_NAME: return "displayName";
	case SCIM_F_MEMBER: return "members.value";
	}
	return "?";
}

static const char *strip_core_urn(const char *a)
{
	if (!strncasecmp(a, CORE_USER_URN, strlen(CORE_USER_URN)))
		return a + strlen(CORE_USER_URN);
	if (!strncasecmp(a, CORE_GROUP_URN, strlen(CORE_GROUP_URN)))
		return a + strlen(CORE_GROUP_URN);
	return a;
}

/* The attribute a filter term names, from its path text. */
static int term_attr(struct cur *c, const char *path, struct scim_term *t, int *complete)
{
	static const struct { const char *name; enum scim_fattr a; } simple[] = {
		{ "id", SCIM_F_ID }, { "userName", SCIM_F_USERNAME },
		{ "externalId", SCIM_F_EXTERNAL_ID }, { "emails.value", SCIM_F_EMAIL },
		{ "emails", SCIM_F_EMAIL }, { "displayName", SCIM_F_DISPLAY_NAME },
		{ "members.value", SCIM_F_MEMBER }, { "members", SCIM_F_MEMBER },
	};
	struct scim_path p;
	char perr[200];

	*complete = 0;
	path = strip_core_urn(path);
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (!strcasecmp(path, simple[i].name)) {
			t->attr = simple[i].a;
			return 0;
		}
	if (strchr(path, '[') && !scim_path_parse(path, &p, perr, sizeof(perr))) {
		if (!strcasecmp(p.attr, "emails") && !strcasecmp(p.fattr, "type") &&
		    !strcasecmp(p.fvalue, "work") && !strcasecmp(p.sub, "value")) {
			t->attr = SCIM_F_WORK_EMAIL;
			return 0;
		}
		/* members[value eq "id"] is a whole term: no "eq" after it */
		if (!strcasecmp(p.attr, "members") && !strcasecmp(p.fattr, "value") && !p.sub[0]) {
			t->attr = SCIM_F_MEMBER;
			snprintf(t->value, sizeof(t->value), "%s", p.fvalue);
			*complete = 1;
			return 0;
		}
	}
	snprintf(c->err, c->errlen, "filtering on \"%s\" is not supported (supported: id, "
		 "userName, externalId, emails.value, emails[type eq \"work\"].value, "
		 "displayName, members.value)", path);
	return -1;
}

int scim_filter_parse(const char *text, struct scim_filter *f, char *err, size_t errlen)
{
	struct cur c = { text ? text : "", 0, err, errlen };
	/* a members[value eq "…"] term: a whole value, every byte escaped */
	char path[2 * SCIM_VALUE_MAX + 200], op[16];

	memset(f, 0, sizeof(*f));
	for (;;) {
		struct scim_term *t;
		int complete;

		skip_ws(&c);
		if (c.s[c.i] == '(' || !strncasecmp(c.s + c.i, "not", 3))
			return fail(&c, "parentheses and \"not\" are not supported (only \"and\" of "
				    "\"eq\" terms)");
		if (f->n == SCIM_FILTER_MAX_TERMS)
			return fail(&c, "too many terms (at most 8)");
		t = &f->term[f->n];
		if (attr_path(&c, path, sizeof(path)))
			return -1;
		if (term_attr(&c, path, t, &complete))
			return -1;
		skip_ws(&c);
		if (!complete) {
			size_t at = c.i;
			if (!word(&c, op, sizeof(op))) {
				c.i = at;
				return fail(&c, "expected an operator after the attribute");
			}
			if (strcasecmp(op, "eq")) {
				c.i = at;
				snprintf(err, errlen, "operator \"%s\" is not supported (only \"eq\") "
					 "at byte %zu", op, at + 1);
				return -1;
			}
			skip_ws(&c);
			if (quoted(&c, t->value, sizeof(t->value)))
				return -1;
		}
		f->n++;
		skip_ws(&c);
		if (!c.s[c.i])
			return 0;
		{
			size_t at = c.i;
			char w[16];
			if (!word(&c, w, sizeof(w)) || strcasecmp(w, "and")) {
				c.i = at;
				if (!strcasecmp(w, "or"))
					return fail(&c, "\"or\" is not supported (only \"and\")");
				return fail(&c, "expected \"and\" or the end of the filter");
			}
		}
	}
}

int scim_path_parse(const char *text, struct scim_path *p, char *err, size_t errlen)
{
	const char *s = text ? text : "", *rest, *br, *dot;
	size_t n;

	memset(p, 0, sizeof(*p));
	while (*s == ' ')
		s++;
	if (!*s) {
		snprintf(err, errlen, "empty path");
		return -1;
	}
	rest = s;
	if (!strncasecmp(s, "urn:", 4)) {
		/* the schema URN runs up to the last ':' before any '[' */
		const char *end = strchr(s, '['), *colon = NULL;
		for (const char *q = s; *q && (!end || q < end); q++)
			if (*q == ':')
				colon = q;
		n = (size_t)(colon - s);
		if (n >= sizeof(p->urn)) {
			snprintf(err, errlen, "schema URN too long in path \"%s\"", s);
			return -1;
		}
		memcpy(p->urn, s, n);
		p->urn[n] = '\0';
		rest = colon + 1;
		/* the core schema's URN adds nothing */
		if (!strcasecmp(p->urn, "urn:ietf:params:scim:schemas:core:2.0:User") ||
		    !strcasecmp(p->urn, "urn:ietf:params:scim:schemas:core:2.0:Group"))
			p->urn[0] = '\0';
	}
	br = strchr(rest, '[');
	dot = strchr(rest, '.');
	n = br ? (size_t)(br - rest) : dot ? (size_t)(dot - rest) : strlen(rest);
	if (!n || n >= sizeof(p->attr)) {
		snprintf(err, errlen, "bad attribute name in path \"%s\"", s);
		return -1;
	}
	memcpy(p->attr, rest, n);
	p->attr[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!is_name_char(p->attr[i])) {
			snprintf(err, errlen, "bad attribute name \"%s\" in path \"%s\"", p->attr, s);
			return -1;
		}
	rest += n;
	if (*rest == '[') {
		struct cur c = { rest + 1, 0, err, errlen };
		char op[16];
		size_t at;

		skip_ws(&c);
		at = c.i;
		if (!word(&c, p->fattr, sizeof(p->fattr))) {
			snprintf(err, errlen, "expected an attribute inside [ ] in path \"%s\"", s);
			return -1;
		}
		skip_ws(&c);
		if (!word(&c, op, sizeof(op)) || strcasecmp(op, "eq")) {
			snprintf(err, errlen, "only [%s eq \"value\"] filters are supported in path "
				 "\"%s\"", p->fattr, s);
			return -1;
		}
		(void)at;
		skip_ws(&c);
		if (quoted(&c, p->fvalue, sizeof(p->fvalue))) {
			char inner[200];
			snprintf(inner, sizeof(inner), "%s", err);
			snprintf(err, errlen, "in path \"%s\": %s", s, inner);
			return -1;
		}
		skip_ws(&c);
		if (c.s[c.i] != ']') {
			snprintf(err, errlen, "expected ] in path \"%s\" (only one eq term inside "
				 "brackets is supported)", s);
			return -1;
		}
		p->has_filter = 1;
		rest = c.s + c.i + 1;
	}
	if (*rest == '.') {
		rest++;
		n = strlen(rest);
		if (!n || n >= sizeof(p->sub)) {
			snprintf(err, errlen, "bad sub-attribute in path \"%s\"", s);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			if (!is_name_char(rest[i])) {
				snprintf(err, errlen, "bad sub-attribute \"%s\" in path \"%s\"", rest, s);
				return -1;
			}
		memcpy(p->sub, rest, n + 1);
		rest += n;
	}
	if (*rest) {
		snprintf(err, errlen, "unexpected \"%s\" in path \"%s\"", rest, s);
		return -1;
	}
	return 0;
}

enum scim_op scim_op_parse(const char *op)
{
	if (!op)
		return 0;
	if (!strcasecmp(op, "add"))
		return SCIM_OP_ADD;
	if (!strcasecmp(op, "remove"))
		return SCIM_OP_REMOVE;
	if (!strcasecmp(op, "replace"))
		return SCIM_OP_REPLACE;
	return 0;
}

int scim_bool_text(const char *s)
{
	if (!s)
		return -1;
	if (!strcasecmp(s, "true"))
		return 1;
	if (!strcasecmp(s, "false"))
		return 0;
	return -1;
}
