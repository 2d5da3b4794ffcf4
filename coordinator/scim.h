#ifndef IDLCM_COORD_SCIM_H
#define IDLCM_COORD_SCIM_H
/*
 * The coordinator's face to identity providers: first-class integrations
 * (integrations.c), the SCIM 2.0 server per integration (scim.c routes,
 * scim_users.c, scim_groups.c) and the jobs SCIM changes turn into
 * (scim_jobs.c).  Shared declarations of those files.
 */
#include <stddef.h>
#include <cjson/cJSON.h>

#include "coordinator.h"
#include "scim_filter.h"

struct httpd_req;

#define SCIM_URN_USER "urn:ietf:params:scim:schemas:core:2.0:User"
#define SCIM_URN_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"
#define SCIM_URN_ENTERPRISE "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define SCIM_URN_IDLCM "urn:idlcm:params:scim:schemas:extension:provisioning:2.0:User"
#define SCIM_URN_ERROR "urn:ietf:params:scim:api:messages:2.0:Error"
#define SCIM_URN_LIST "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define SCIM_URN_PATCH "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define SCIM_MAX_COUNT 200

/* An error to answer with: HTTP status, RFC 7644 scimType (may be NULL)
 * and a precise detail. */
struct scim_err {
	int status;
	const char *type;
	char detail[400];
};
int scim_fail(struct scim_err *e, int status, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* One request against one integration. */
struct scim_ctx {
	struct coord *c;
	struct httpd_req *req;
	const char *integ;
	char app[80];
	char deactivate_mode[16];
	char base[300];		/* "http://host/scim/v2/<integ>" for meta.location */
};

/* scim.c */
int scim_routes(struct coord *c);
int scim_reply(struct httpd_req *req, int status, const cJSON *body);
int scim_reply_err(struct httpd_req *req, const struct scim_err *e);
cJSON *scim_parse_body(struct httpd_req *req, struct scim_err *e);
void scim_new_id(char out[37]);
int scim_paging(struct httpd_req *req, int *start, int *count, struct scim_err *e);
cJSON *scim_list(int total, int start, cJSON *resources);
void scim_meta(cJSON *o, const char *type, const char *location, int64_t created,
	       int64_t updated, int version);
int scim_name_is(const char *a, const char *b);

/* A listing's bind arguments: the integration, then one per filter term.
 * The store binds one per letter of its fmt; SCIM_ARGS passes every slot
 * and scim_args_fmt makes the fmt ("t" per slot in use) and clears the
 * unused slots. */
#define SCIM_ARGS_MAX (1 + SCIM_FILTER_MAX_TERMS)
#define SCIM_ARGS(a) (a)[0], (a)[1], (a)[2], (a)[3], (a)[4], (a)[5], (a)[6], (a)[7], (a)[8]
_Static_assert(SCIM_ARGS_MAX == 9, "SCIM_ARGS names every slot");
void scim_args_fmt(char fmt[SCIM_ARGS_MAX + 1], const char *args[SCIM_ARGS_MAX], int nargs);

/* scim_users.c */
int scim_users(struct scim_ctx *x, const char *rest);
/* The job-facing view of a user (email, username, roles, attributes,
 * active, upstream_id), or NULL when there is no such user. */
cJSON *scim_user_view(struct scim_ctx *x, const char *id);
/* Recompute every user of the integration (after a role mapping change)
 * and queue an update for those whose view changed. */
int scim_resync_all(struct coord *c, const char *integ);
/* Plan the jobs a membership change means for user id. */
int scim_user_regroup(struct scim_ctx *x, const char *id);
const cJSON *scim_patch_ops(const cJSON *body);
int scim_check_patch_body(const cJSON *body, struct scim_err *e);

/* scim_groups.c */
int scim_groups(struct scim_ctx *x, const char *rest);

/* scim_jobs.c: turn a user's view before and after a change into a job
 * (invite, update, remove or none), keep the users table in step.
 * before or after NULL: created or deleted.  0 or -1. */
int scim_jobs_plan(struct scim_ctx *x, const cJSON *before, const cJSON *after, int deleted);
/* The users table key for a view: email, else username (as the worker
 * reports it). */
const char *scim_user_key(const cJSON *view);

/* integrations.c */
int integ_routes(struct coord *c);
int integ_cli(int argc, char **argv);
/* 1 when token is the integration's SCIM token (constant time). */
int integ_token_ok(struct coord *c, const char *integ, const char *token);
/* Adds the first-class fields (scim_url, deactivate_mode, role_mapping,
 * default_roles) to an integration's JSON. */
void integ_describe_into(struct coord *c, const char *id, cJSON *out);
/* The roles that the groups named in group_names (array of strings) map
 * to, plus the default roles when nothing maps; a new sorted array. */
cJSON *integ_roles_for(struct coord *c, const char *integ, const cJSON *group_names,
		       const cJSON *direct_roles);
#endif
