#ifndef IDLCM_SCIM_FILTER_H
#define IDLCM_SCIM_FILTER_H
/*
 * scim_filter: the parts of SCIM 2.0 (RFC 7644) that read text an identity
 * provider sends — list filters, PATCH paths and the loose booleans Entra
 * sends ("False") — as small structs, with no database and no HTTP.
 */
#include <stddef.h>

#define SCIM_FILTER_MAX_TERMS 8
#define SCIM_VALUE_MAX 512

/* What a filter term compares.  Only these are indexed (and supported). */
enum scim_fattr {
	SCIM_F_ID = 1,
	SCIM_F_USERNAME,	/* userName: case-insensitive (RFC 7643 §4.1.1) */
	SCIM_F_EXTERNAL_ID,	/* externalId: case-exact */
	SCIM_F_EMAIL,		/* emails.value (any type) */
	SCIM_F_WORK_EMAIL,	/* emails[type eq "work"].value */
	SCIM_F_DISPLAY_NAME,	/* displayName (groups) */
	SCIM_F_MEMBER,		/* members.value / members[value eq "x"] (groups) */
};

struct scim_term {
	enum scim_fattr attr;
	char value[SCIM_VALUE_MAX];
};

/* A conjunction: term[0] and term[1] and … */
struct scim_filter {
	int n;
	struct scim_term term[SCIM_FILTER_MAX_TERMS];
};

/*
 * Parses `userName eq "a"`, `externalId eq "x" and emails[type eq "work"].value
 * eq "a@b"`, … into f.  Attribute names and operators compare
 * case-insensitively, as RFC 7644 §3.4.2.2 says.  0, or -1 with a message
 * in err that names the problem and where ("at byte 12").
 */
int scim_filter_parse(const char *text, struct scim_filter *f, char *err, size_t errlen);
/* The canonical name of an attribute ("userName"), for messages. */
const char *scim_fattr_name(enum scim_fattr a);

/*
 * A PATCH path (RFC 7644 §3.5.2): [urn ":"] attr ["[" fattr "eq" value "]"]
 * ["." sub].  `emails[type eq "work"].value` gives attr "emails", fattr
 * "type", fvalue "work", sub "value";
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`
 * gives urn "…:User", attr "department".
 */
struct scim_path {
	char urn[128];		/* "" for the core schema */
	char attr[64];
	char sub[64];		/* "" when none */
	int has_filter;
	char fattr[64];
	char fvalue[SCIM_VALUE_MAX];
};

int scim_path_parse(const char *text, struct scim_path *p, char *err, size_t errlen);

/* PATCH operation names compare case-insensitively ("Replace" from Entra). */
enum scim_op { SCIM_OP_ADD = 1, SCIM_OP_REMOVE, SCIM_OP_REPLACE };
/* 0 when op is not one of add, remove, replace. */
enum scim_op scim_op_parse(const char *op);

/* "true"/"True"/"TRUE" → 1, "false"/"False" → 0, anything else → -1. */
int scim_bool_text(const char *s);
#endif
