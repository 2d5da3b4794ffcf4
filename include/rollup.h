#ifndef IDLCM_ROLLUP_H
#define IDLCM_ROLLUP_H
/*
 * rollup: a parent job's status from its children's (DOMAIN.md): not
 * completed if any failed, retrying if any retries, running if any runs
 * (or some finished and some wait), queued if none started, completed only
 * when all succeeded.
 */
#include <stddef.h>

/* Child statuses: "queued", "running", "retrying", "completed", "failed".
 * Returns "not completed", "retrying", "running", "queued" or "completed"
 * ("queued" for no children). */
const char *rollup_status(const char *const *children, size_t n);
#endif
