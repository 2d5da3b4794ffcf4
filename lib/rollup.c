/* rollup: a parent job's status from its children's. */
#include <string.h>

#include "rollup.h"

const char *rollup_status(const char *const *children, size_t n)
{
	size_t queued = 0, done = 0;
	int failed = 0, retrying = 0, running = 0;

	for (size_t i = 0; i < n; i++) {
		const char *s = children[i] ? children[i] : "queued";
		if (!strcmp(s, "failed"))
			failed = 1;
		else if (!strcmp(s, "retrying"))
			retrying = 1;
		else if (!strcmp(s, "running"))
			running = 1;
		else if (!strcmp(s, "completed"))
			done++;
		else
			queued++;
	}
	if (failed)
		return "not completed";
	if (retrying)
		return "retrying";
	if (running)
		return "running";
	if (n && done == n)
		return "completed";
	/* some finished, some wait: the parent is under way */
	return done ? "running" : "queued";
}
