#ifndef IDLCM_COORD_ARTIFACTS_H
#define IDLCM_COORD_ARTIFACTS_H
/* artifacts: a job's failure evidence uploaded by its worker (artifacts.c). */
#include <stddef.h>
#include <cjson/cJSON.h>

#include "coordinator.h"

#define ARTIFACT_MAX_BYTES (5 << 20)	/* per file */
#define ARTIFACT_MAX_FILES 8		/* per attempt */
#define ARTIFACT_NAME_MAX 100

struct httpd_req;

/* 0 when name is a plain file name of [A-Za-z0-9._-] not starting with
 * '.'; else -1 and why names the problem. */
int coord_artifact_name_check(const char *name, char *why, size_t n);
/* PUT /v1/jobs/{id}/artifacts/{name} (the caller checked the token). */
int coord_artifact_put(struct coord *, struct httpd_req *, const char *id, const char *name);
/* The names stored for the job's latest attempt that uploaded any. */
cJSON *coord_artifact_names(struct coord *, const char *id);
/* The newest stored bytes of the job's artifact: 0 (*data malloc'd),
 * 1 when there is none, -1 on a store error. */
int coord_artifact_get(struct coord *, const char *id, const char *name,
		       unsigned char **data, size_t *len, char *type, size_t typelen);
#endif
