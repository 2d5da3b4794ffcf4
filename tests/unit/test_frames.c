/*
 * Frames from other sites at the cdp layer: children a session auto-attaches
 * are set up and resumed from inside the receive loop, their own children
 * too; and the guard's sessions on such frames fail what the page's guard
 * fails.  Over an in-memory transport that plays the browser's part.
 */
#include <stdlib.h>
#include <string.h>

#include "cdp.h"
#include "confine.h"
#include "fake_cdp.h"
#include "test.h"

/* Every command succeeds. */
static struct cdp *fake_cdp(struct fake **fp)
{
	struct fake *f = fake_new();
	f->auto_reply = 1;
	*fp = f;
	return cdp_new(&f->base);
}

/* "method@session" of sent message i */
static const char *sent(struct fake *f, int i, char *buf, size_t n)
{
	cJSON *m = i < f->nsent ? cJSON_Parse(f->sent[i]) : NULL;
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(m, "sessionId"));
	snprintf(buf, n, "%s@%s", m ? cJSON_GetStringValue(cJSON_GetObjectItem(m, "method")) : "(none)",
		 s ? s : "");
	cJSON_Delete(m);
	return buf;
}

#define ATTACH(parent, child, waiting) \
	"{\"method\":\"Target.attachedToTarget\",\"sessionId\":\"" parent "\",\"params\":{" \
	"\"sessionId\":\"" child "\",\"targetInfo\":{\"targetId\":\"T" child "\",\"type\":\"iframe\"}," \
	"\"waitingForDebugger\":" waiting "}}"

static void test_auto_attached_children_are_set_up_then_resumed(void)
{
	struct fake *f;
	struct cdp *c = fake_cdp(&f);
	struct cdp_error err;
	cJSON *setup = cJSON_Parse("[{\"method\":\"Fetch.enable\",\"params\":{\"patterns\":[]}}]");
	char b[128];
	int n;

	ASSERT_INT_EQ(cdp_auto_attach(c, "P", setup, &err), 0);
	cJSON_Delete(setup);	/* copied */
	ASSERT_STR_EQ(sent(f, 0, b, sizeof(b)), "Target.setAutoAttach@P");
	ASSERT_STR_CONTAINS(f->sent[0], "\"waitForDebuggerOnStart\":true");
	ASSERT_STR_CONTAINS(f->sent[0], "\"flatten\":true");

	/* a frame from another site starts paused: set up, attach its own, resume */
	say(f, ATTACH("P", "C1", "true"));
	ASSERT_INT_EQ(cdp_pump(c, 10, &err), 0);
	ASSERT_INT_EQ(f->nsent, 4);
	ASSERT_STR_EQ(sent(f, 1, b, sizeof(b)), "Fetch.enable@C1");
	ASSERT_STR_EQ(sent(f, 2, b, sizeof(b)), "Target.setAutoAttach@C1");
	ASSERT_STR_EQ(sent(f, 3, b, sizeof(b)), "Runtime.runIfWaitingForDebugger@C1");

	/* its frame from yet another site: the same, on the grandchild */
	say(f, ATTACH("C1", "C2", "true"));
	ASSERT_INT_EQ(cdp_pump(c, 10, &err), 0);
	ASSERT_INT_EQ(f->nsent, 7);
	ASSERT_STR_EQ(sent(f, 4, b, sizeof(b)), "Fetch.enable@C2");
	ASSERT_STR_EQ(sent(f, 6, b, sizeof(b)), "Runtime.runIfWaitingForDebugger@C2");

	/* not paused: set up, not resumed */
	say(f, ATTACH("P", "C3", "false"));
	ASSERT_INT_EQ(cdp_pump(c, 10, &err), 0);
	ASSERT_INT_EQ(f->nsent, 9);
	ASSERT_STR_EQ(sent(f, 8, b, sizeof(b)), "Target.setAutoAttach@C3");

	/* a session nobody asked to auto-attach for: left alone */
	say(f, ATTACH("Q", "C4", "true"));
	ASSERT_INT_EQ(cdp_pump(c, 10, &err), 0);
	ASSERT_INT_EQ(f->nsent, 9);

	/* a detached child is forgotten: what it would attach is not ours */
	say(f, "{\"method\":\"Target.detachedFromTarget\",\"sessionId\":\"P\",\"params\":{\"sessionId\":\"C1\"}}");
	say(f, ATTACH("C1", "C5", "true"));
	ASSERT_INT_EQ(cdp_pump(c, 10, &err), 0);
	n = f->nsent;
	ASSERT_INT_EQ(n, 9);
	/* the event still reaches the page's queue, for the page API */
	{
		cJSON *ev = NULL;
		ASSERT_INT_EQ(cdp_wait_event(c, "P", "Target.attachedToTarget", 0, &ev, &err), 1);
		ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "params"),
								   "sessionId")), "C1");
		cJSON_Delete(ev);
	}
	cdp_free(c);
}

static void test_guard_sessions_on_frames_fail_what_the_guard_fails(void)
{
	struct fake *f;
	struct cdp *c = fake_cdp(&f);
	struct confine *k = calloc(1, sizeof(*k));
	cJSON *p;
	char b[128];

	snprintf(k->context_id, sizeof(k->context_id), "CTX");
	snprintf(k->guard_session, sizeof(k->guard_session), "G");
	c->confine = k;
	c->on_event = confine_event;

	/* the guard's session on a frame from another site is the guard's */
	p = cJSON_Parse("{\"sessionId\":\"GF\",\"targetInfo\":{\"type\":\"iframe\","
			"\"browserContextId\":\"CTX\"}}");
	ASSERT_INT_EQ(confine_event(c, "G", "Target.attachedToTarget", p), 1);
	cJSON_Delete(p);
	/* and not the script's */
	ASSERT_INT_EQ(k->nsessions, 0);

	/* a request the guard's patterns caught in that frame: failed there */
	p = cJSON_Parse("{\"requestId\":\"r1\",\"request\":{\"url\":\"http://127.0.0.1:9222/json/list\"}}");
	ASSERT_INT_EQ(confine_event(c, "GF", "Fetch.requestPaused", p), 1);
	cJSON_Delete(p);
	ASSERT_STR_EQ(sent(f, 0, b, sizeof(b)), "Fetch.failRequest@GF");
	ASSERT_STR_CONTAINS(f->sent[0], "\"requestId\":\"r1\"");
	ASSERT_STR_CONTAINS(k->breach, "tried to load http://127.0.0.1:9222/json/list");

	/* once the frame is gone, its session is nobody's */
	p = cJSON_Parse("{\"sessionId\":\"GF\"}");
	ASSERT_INT_EQ(confine_event(c, "G", "Target.detachedFromTarget", p), 1);
	cJSON_Delete(p);
	ASSERT_INT_EQ(k->nguard_frames, 0);
	cdp_free(c);
}

/* A step added to a page's tree reaches the frames that attach from then
 * on, below the page and below frames already there; another tree (the
 * guard's) is untouched, and a session that attaches nothing refuses. */
static void test_added_step_reaches_later_frames_of_the_tree_only(void)
{
	struct fake *f;
	struct cdp *c = fake_cdp(&f);
	struct cdp_error err;
	char b[128];

	ASSERT_INT_EQ(cdp_auto_attach(c, "P", NULL, &err), 0);
	ASSERT_INT_EQ(cdp_auto_attach(c, "G", NULL, &err), 0);
	say(f, ATTACH("P", "C1", "true"));
	ASSERT_INT_EQ(cdp_pump(c, 10, &err), 0);
	ASSERT_INT_EQ(f->nsent, 4);	/* two setAutoAttach, C1's setAutoAttach and resume */

	ASSERT_INT_EQ(cdp_auto_attach_add_step(c, "P", "Network.enable", NULL), 0);
	ASSERT_INT_EQ(cdp_auto_attach_add_step(c, "NOBODY", "Network.enable", NULL), -1);
	/* a new frame of the page, and a new frame of the frame: Network first */
	say(f, ATTACH("P", "C2", "true"));
	say(f, ATTACH("C1", "C3", "true"));
	ASSERT_INT_EQ(cdp_pump(c, 10, &err), 0);
	ASSERT_INT_EQ(f->nsent, 10);
	ASSERT_STR_EQ(sent(f, 4, b, sizeof(b)), "Network.enable@C2");
	ASSERT_STR_EQ(sent(f, 6, b, sizeof(b)), "Runtime.runIfWaitingForDebugger@C2");
	ASSERT_STR_EQ(sent(f, 7, b, sizeof(b)), "Network.enable@C3");
	/* the guard's frames: as before */
	say(f, ATTACH("G", "C4", "true"));
	ASSERT_INT_EQ(cdp_pump(c, 10, &err), 0);
	ASSERT_INT_EQ(f->nsent, 12);
	ASSERT_STR_EQ(sent(f, 10, b, sizeof(b)), "Target.setAutoAttach@C4");
	cdp_free(c);
}

int main(void)
{
	TEST_RUN(test_auto_attached_children_are_set_up_then_resumed);
	TEST_RUN(test_guard_sessions_on_frames_fail_what_the_guard_fails);
	TEST_RUN(test_added_step_reaches_later_frames_of_the_tree_only);
	return TEST_REPORT();
}
