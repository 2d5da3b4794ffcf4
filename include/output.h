#ifndef IDLCM_OUTPUT_H
#define IDLCM_OUTPUT_H
/*
 * output: what people and programs read — state transitions as lines, JSON
 * lines, the users table.  Everything written here passes the redactor.
 */
#include <stdio.h>
#include <cjson/cJSON.h>

/* One JSON object per line, secrets redacted. */
void out_json_line(FILE *, const cJSON *);
/* A job event as a line a person reads. */
void out_event_human(FILE *, const cJSON *ev);
/* Users (as list_users returns them) as an aligned table. */
void out_users_table(FILE *, const cJSON *users);
/* A sync's reconciled users (matched user, username in app, access,
 * entitlements, last used, login method, active, upstream id, app id,
 * state) and the reconciliation's summary line. */
void out_sync_table(FILE *, const cJSON *users, const cJSON *summary);
/* Older display names of states, as the seeds' Users tab shows them. */
const char *out_state_label(const char *state);
#endif
