/*
 * output: the agent's voice on stdout.  Lines for people say who moved
 * from which state to which; JSON lines carry the same events whole.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "output.h"

static void put_redacted(FILE *f, const char *s)
{
	size_t n;
	char *clean = secret_redact(s, strlen(s), &n);
	if (clean) {
		fwrite(clean, 1, n, f);
		free(clean);
	}
}

void out_json_line(FILE *f, const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	if (!s)
		return;
	put_redacted(f, s);
	fputc('\n', f);
	fflush(f);
	free(s);
}

static const char *str(const cJSON *o, const char *k)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
	return v ? v : "";
}

static const struct { const char *state, *label; } labels[] = {
	{ "provisioning_awaiting", "inviting (queued)" },
	{ "inviting", "inviting" },
	{ "invite_failed", "invite failed" },
	{ "invite_expired", "invite expired" },
	{ "pending_user_claim", "pending user claim" },
	{ "pending_user_login", "pending user login" },
	{ "onboarded", "onboarded" },
	{ "update_awaiting", "awaiting update" },
	{ "updating", "awaiting update" },
	{ "update_failed", "update failed" },
	{ "delete_awaiting", "removing (queued)" },
	{ "removing", "removing" },
	{ "delete_failed", "removed failed" },
	{ "deleted", "removed" },
	{ "unmatched", "unmatched user" },
	{ "exempted", "exempted" },
	{ "sync_failed", "sync failed" },
};

const char *out_state_label(const char *state)
{
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (!strcmp(labels[i].state, state))
			return labels[i].label;
	return state;
}

void out_event_human(FILE *f, const cJSON *ev)
{
	const char *kind = str(ev, "kind");
	char line[2048];

	if (!strcmp(kind, "state")) {
		const char *detail = str(ev, "detail");
		snprintf(line, sizeof(line), "%s  %s → %s%s%s%s\n", str(ev, "user"),
			 str(ev, "from"), str(ev, "state"), *detail ? " (" : "",
			 detail, *detail ? ")" : "");
	} else if (!strcmp(kind, "progress")) {
		snprintf(line, sizeof(line), "  … %s\n", str(ev, "detail"));
	} else if (!strcmp(kind, "status")) {
		const char *detail = str(ev, "detail");
		snprintf(line, sizeof(line), "status: %s%s%s\n", str(ev, "status"),
			 *detail ? " — " : "", detail);
	} else {
		return;
	}
	put_redacted(f, line);
	fflush(f);
}

/* ---- users table */

enum { COL_EMAIL, COL_USERNAME, COL_ROLES, COL_STATE, COL_LOGIN, COL_LAST, COL_ACTIVE, NCOL };
static const char *col_names[NCOL] = {
	"EMAIL", "USERNAME", "ROLES", "STATE", "LOGIN METHOD", "LAST USED", "ACTIVE"
};

static void cell(const cJSON *u, int col, char *buf, size_t n)
{
	const cJSON *v;
	buf[0] = '\0';
	switch (col) {
	case COL_EMAIL: snprintf(buf, n, "%s", str(u, "email")); break;
	case COL_USERNAME: snprintf(buf, n, "%s", str(u, "username")); break;
	case COL_ROLES:
		cJSON_ArrayForEach(v, cJSON_GetObjectItem(u, "roles")) {
			size_t len = strlen(buf);
			snprintf(buf + len, n - len, "%s%s", len ? "," : "",
				 cJSON_GetStringValue(v) ? v->valuestring : "?");
		}
		break;
	case COL_STATE: snprintf(buf, n, "%s", str(u, "state")); break;
	case COL_LOGIN:
		snprintf(buf, n, "%s", str(u, "login_method"));
		if (*str(u, "sso_label"))
			snprintf(buf + strlen(buf), n - strlen(buf), " (%s)", str(u, "sso_label"));
		break;
	case COL_LAST: snprintf(buf, n, "%s", *str(u, "last_used") ? str(u, "last_used") : "-"); break;
	case COL_ACTIVE:
		v = cJSON_GetObjectItem(u, "active");
		snprintf(buf, n, "%s", cJSON_IsBool(v) ? (cJSON_IsTrue(v) ? "yes" : "no") : "-");
		break;
	}
}

void out_users_table(FILE *f, const cJSON *users)
{
	size_t width[NCOL];
	const cJSON *u;
	char buf[512], line[4096];
	int n = 0;

	for (int c = 0; c < NCOL; c++)
		width[c] = strlen(col_names[c]);
	cJSON_ArrayForEach(u, users) {
		n++;
		for (int c = 0; c < NCOL; c++) {
			cell(u, c, buf, sizeof(buf));
			if (strlen(buf) > width[c])
				width[c] = strlen(buf) > 40 ? 40 : strlen(buf);
		}
	}
	line[0] = '\0';
	for (int c = 0; c < NCOL; c++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%-*s  ",
			 (int)width[c], col_names[c]);
	while (strlen(line) && line[strlen(line) - 1] == ' ')
		line[strlen(line) - 1] = '\0';
	fprintf(f, "%s\n", line);
	cJSON_ArrayForEach(u, users) {
		line[0] = '\0';
		for (int c = 0; c < NCOL; c++) {
			cell(u, c, buf, sizeof(buf));
			snprintf(line + strlen(line), sizeof(line) - strlen(line), "%-*.*s  ",
				 (int)width[c], (int)width[c], buf);
		}
		while (strlen(line) && line[strlen(line) - 1] == ' ')
			line[strlen(line) - 1] = '\0';
		strcat(line, "\n");
		put_redacted(f, line);
	}
	fprintf(f, "(%d user%s)\n", n, n == 1 ? "" : "s");
	fflush(f);
}
