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

/* Keys of j and of every object inside it, "kind" first, then in byte
 * order: Lua tables have no order (and hash differently each run), so
 * without this two runs of one job print different bytes. */
static int key_before(const cJSON *a, const cJSON *b)
{
	int ak = !strcmp(a->string, "kind"), bk = !strcmp(b->string, "kind");
	if (ak != bk)
		return ak;
	return strcmp(a->string, b->string) < 0;
}

static void sort_keys(cJSON *j)
{
	cJSON *sorted = NULL, *next;

	for (cJSON *c = j ? j->child : NULL; c; c = c->next)
		sort_keys(c);
	if (!cJSON_IsObject(j))
		return;
	/* insertion sort of the child list (small objects; stable) */
	for (cJSON *c = j->child; c; c = next) {
		cJSON **at = &sorted, *prev = NULL;
		next = c->next;
		while (*at && !key_before(c, *at)) {
			prev = *at;
			at = &(*at)->next;
		}
		c->next = *at;
		c->prev = prev;
		if (*at)
			(*at)->prev = c;
		*at = c;
	}
	j->child = sorted;
	if (sorted) {	/* cJSON keeps the last item in the head's prev */
		cJSON *last = sorted;
		while (last->next)
			last = last->next;
		sorted->prev = last;
	}
}

void out_json_line(FILE *f, const cJSON *j)
{
	cJSON *copy = cJSON_Duplicate(j, 1);
	char *s;

	sort_keys(copy);
	s = cJSON_PrintUnformatted(copy ? copy : j);
	cJSON_Delete(copy);
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

	if (!strcmp(kind, "state") && cJSON_IsTrue(cJSON_GetObjectItem(ev, "sync"))) {
		return;	/* a sync's per-user states: its table shows them */
	} else if (!strcmp(kind, "state")) {
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

/* ---- the reconciled users table (sync): the seeds' Users tab */

enum { SC_USER, SC_USERNAME, SC_ROLES, SC_EXPECTED, SC_ENT, SC_LAST, SC_LOGIN, SC_ACTIVE,
       SC_UPSTREAM, SC_APPID, SC_STATE, SC_DRIFT, NSCOL };
static const char *sync_cols[NSCOL] = {
	"USER", "USERNAME IN APP", "APP ACCESS", "EXPECTED ACCESS", "ENTITLEMENTS", "LAST USED",
	"LOGIN METHOD", "ACTIVE", "UPSTREAM ID", "APP ID", "STATE", "DRIFT"
};

static void join_strings(const cJSON *arr, char *buf, size_t n)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, arr) {
		size_t len = strlen(buf);
		snprintf(buf + len, n - len, "%s%s", len ? "," : "",
			 cJSON_GetStringValue(v) ? v->valuestring : "?");
	}
}

static void sync_cell(const cJSON *u, int col, char *buf, size_t n)
{
	const cJSON *v;
	buf[0] = '\0';
	switch (col) {
	case SC_USER: snprintf(buf, n, "%s", str(u, "matched")); break;
	case SC_USERNAME:
		if (!strcmp(str(u, "state"), "deleted"))
			snprintf(buf, n, "-");	/* not in the app */
		else
			snprintf(buf, n, "%s", *str(u, "username") ? str(u, "username") :
				 str(u, "email"));
		break;
	case SC_ROLES: join_strings(cJSON_GetObjectItem(u, "roles"), buf, n); break;
	case SC_EXPECTED:
		if (cJSON_IsArray(cJSON_GetObjectItem(u, "expected_roles")))
			join_strings(cJSON_GetObjectItem(u, "expected_roles"), buf, n);
		else
			snprintf(buf, n, "-");
		break;
	case SC_DRIFT:
		v = cJSON_GetObjectItem(u, "drift");
		snprintf(buf, n, "%s", cJSON_IsBool(v) ? (cJSON_IsTrue(v) ? "yes" : "no") : "-");
		break;
	case SC_ENT:
		v = cJSON_GetObjectItem(u, "entitlements");
		if (cJSON_IsNumber(v))
			snprintf(buf, n, "%d", v->valueint);
		else if (cJSON_IsArray(v) && cJSON_GetArraySize(v)) {
			snprintf(buf, n, "%d: ", cJSON_GetArraySize(v));
			join_strings(v, buf + strlen(buf), n - strlen(buf));
		} else
			snprintf(buf, n, "0");
		break;
	case SC_LAST: snprintf(buf, n, "%s", *str(u, "last_used") ? str(u, "last_used") : "-"); break;
	case SC_LOGIN:
		if (!strcmp(str(u, "login_method"), "sso") && *str(u, "sso_label"))
			snprintf(buf, n, "sso (%s)", str(u, "sso_label"));
		else
			snprintf(buf, n, "%s", *str(u, "login_method") ? str(u, "login_method") : "-");
		break;
	case SC_ACTIVE:
		v = cJSON_GetObjectItem(u, "active");
		snprintf(buf, n, "%s", cJSON_IsBool(v) ? (cJSON_IsTrue(v) ? "yes" : "no") : "-");
		break;
	case SC_UPSTREAM: snprintf(buf, n, "%s", *str(u, "upstream_id") ? str(u, "upstream_id") : "-"); break;
	case SC_APPID: snprintf(buf, n, "%s", *str(u, "app_id") ? str(u, "app_id") : "-"); break;
	case SC_STATE: snprintf(buf, n, "%s", str(u, "state")); break;
	}
}

void out_sync_table(FILE *f, const cJSON *users, const cJSON *summary)
{
	size_t width[NSCOL];
	const cJSON *u;
	char buf[512], line[4096];
	int n = 0, drift_cols = 0;

	/* Expected roles and drift: only when the IdP's users carry roles. */
	cJSON_ArrayForEach(u, users)
		if (cJSON_GetObjectItem(u, "expected_roles"))
			drift_cols = 1;
	for (int c = 0; c < NSCOL; c++)
		width[c] = strlen(sync_cols[c]);
	cJSON_ArrayForEach(u, users) {
		n++;
		for (int c = 0; c < NSCOL; c++) {
			sync_cell(u, c, buf, sizeof(buf));
			if (strlen(buf) > width[c])
				width[c] = strlen(buf) > 40 ? 40 : strlen(buf);
		}
	}
	for (int row = -1; row < n; row++) {
		line[0] = '\0';
		u = row < 0 ? NULL : cJSON_GetArrayItem(users, row);
		for (int c = 0; c < NSCOL; c++) {
			if (!drift_cols && (c == SC_EXPECTED || c == SC_DRIFT))
				continue;
			if (u)
				sync_cell(u, c, buf, sizeof(buf));
			snprintf(line + strlen(line), sizeof(line) - strlen(line), "%-*.*s  ",
				 (int)width[c], (int)width[c], u ? buf : sync_cols[c]);
		}
		while (strlen(line) && line[strlen(line) - 1] == ' ')
			line[strlen(line) - 1] = '\0';
		strcat(line, "\n");
		put_redacted(f, line);
	}
	if (cJSON_IsObject(summary) && cJSON_GetObjectItem(summary, "matched"))
		fprintf(f, "(%d app users: %d matched, %d unmatched, %d exempted; %d deleted)\n",
			cJSON_GetObjectItem(summary, "app_users")->valueint,
			cJSON_GetObjectItem(summary, "matched")->valueint,
			cJSON_GetObjectItem(summary, "unmatched")->valueint,
			cJSON_GetObjectItem(summary, "exempted")->valueint,
			cJSON_GetObjectItem(summary, "deleted")->valueint);
	if (drift_cols && cJSON_IsNumber(cJSON_GetObjectItem(summary, "drifted")))
		fprintf(f, "(%d matched user%s with other roles than expected)\n",
			cJSON_GetObjectItem(summary, "drifted")->valueint,
			cJSON_GetObjectItem(summary, "drifted")->valueint == 1 ? "" : "s");
	if (!cJSON_IsObject(summary) || !cJSON_GetObjectItem(summary, "matched"))
		fprintf(f, "(%d user%s)\n", n, n == 1 ? "" : "s");
	fflush(f);
}
