/*
 * Fuzz target: a cassette file (a file in tests/fixtures/cassettes/, or one a
 * person edited by hand).  It is parsed, and when it parses, a job-like
 * sequence of calls, waits and pauses is replayed against it and the
 * replay is finished; nothing may crash, leak or loop.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cassette.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *methods[] = { "Target.createBrowserContext", "Target.createTarget",
		"Target.attachToTarget", "Page.enable", "Runtime.evaluate", NULL };
	char err[1024];
	struct cdp_transport *t = cdp_replay_open_mem((const char *)data, size, "fuzz",
						      err, sizeof(err));
	struct cdp_error e;
	struct cdp *c;
	cJSON *res = NULL, *ev = NULL;

	if (!t)
		return 0;
	c = cdp_new(t);
	for (int i = 0; methods[i]; i++) {
		if (!cdp_call(c, i > 2 ? "S" : NULL, methods[i], cJSON_CreateObject(), 100,
			      &res, &e))
			cJSON_Delete(res);
		res = NULL;
		if (cdp_wait_event(c, "S", NULL, 30, &ev, &e) > 0)
			cJSON_Delete(ev);
		ev = NULL;
		cdp_pump(c, 10, &e);
	}
	cdp_replay_finish(c->tr, err, sizeof(err));
	cdp_free(c);
	return 0;
}
