/*
 * cdp unit tests: fragment reassembly, and routing of replies and events
 * over an in-memory transport that plays the browser's part.
 */
#include <stdlib.h>
#include <string.h>

#include "cdp.h"
#include "fake_cdp.h"
#include "test.h"

/* ---- tests */

static void test_msgbuf_reassembles_fragments(void)
{
	struct cdp_msgbuf b;
	size_t n;
	char *m;

	cdp_msgbuf_init(&b, 64);
	ASSERT_INT_EQ(cdp_msgbuf_append(&b, "{\"id\":", 6), 0);
	ASSERT_INT_EQ(cdp_msgbuf_append(&b, "1,\"result\"", 10), 0);
	ASSERT_INT_EQ(cdp_msgbuf_append(&b, ":{}}", 4), 0);
	m = cdp_msgbuf_take(&b, &n);
	ASSERT_STR_EQ(m, "{\"id\":1,\"result\":{}}");
	ASSERT_INT_EQ(n, 20);
	free(m);
	/* the buffer is ready for the next message */
	ASSERT_INT_EQ(cdp_msgbuf_append(&b, "{}", 2), 0);
	m = cdp_msgbuf_take(&b, &n);
	ASSERT_STR_EQ(m, "{}");
	free(m);
	cdp_msgbuf_release(&b);
}

static void test_msgbuf_caps_and_recovers(void)
{
	struct cdp_msgbuf b;
	char big[40];
	char *m;

	memset(big, 'x', sizeof(big));
	cdp_msgbuf_init(&b, 64);
	ASSERT_INT_EQ(cdp_msgbuf_append(&b, big, 40), 0);
	ASSERT_INT_EQ(cdp_msgbuf_append(&b, big, 40), -1);	/* 80 > 64 */
	ASSERT_INT_EQ(cdp_msgbuf_append(&b, big, 1), -1);	/* stays dropped */
	ASSERT(cdp_msgbuf_take(&b, NULL) == NULL);
	ASSERT_INT_EQ(cdp_msgbuf_append(&b, "ok", 2), 0);	/* next one fine */
	m = cdp_msgbuf_take(&b, NULL);
	ASSERT_STR_EQ(m, "ok");
	free(m);
	/* an empty message is a message */
	m = cdp_msgbuf_take(&b, NULL);
	ASSERT(m != NULL);
	ASSERT_STR_EQ(m, "");
	free(m);
	cdp_msgbuf_release(&b);
}

static void test_reply_routed_by_id_events_by_session(void)
{
	struct fake *f = fake_new();
	struct cdp *c = cdp_new(&f->base);
	struct cdp_error err;
	cJSON *res = NULL, *ev = NULL;

	/* Before our reply: a late reply to an old command, an event for
	 * session A, an event for the browser, then ours (id 1). */
	say(f, "{\"id\":99,\"result\":{\"stale\":true}}");
	say(f, "{\"method\":\"Page.loadEventFired\",\"params\":{\"t\":1},\"sessionId\":\"A\"}");
	say(f, "{\"method\":\"Target.targetCreated\",\"params\":{\"t\":2}}");
	say(f, "{\"id\":1,\"result\":{\"value\":42},\"sessionId\":\"A\"}");
	ASSERT_INT_EQ(cdp_call(c, "A", "Runtime.evaluate", NULL, 1000, &res, &err), 0);
	ASSERT_INT_EQ(cJSON_GetObjectItem(res, "value")->valueint, 42);
	cJSON_Delete(res);
	ASSERT_STR_CONTAINS(f->sent[0], "\"sessionId\":\"A\"");
	ASSERT_STR_CONTAINS(f->sent[0], "\"id\":1");

	/* session B has nothing; A has its event; the browser has its own */
	ASSERT_INT_EQ(cdp_wait_event(c, "B", "Page.loadEventFired", 10, &ev, &err), 0);
	ASSERT_INT_EQ(cdp_wait_event(c, "A", "Page.loadEventFired", 10, &ev, &err), 1);
	ASSERT_INT_EQ(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "params"), "t")->valueint, 1);
	cJSON_Delete(ev);
	ASSERT_INT_EQ(cdp_wait_event(c, NULL, NULL, 10, &ev, &err), 1);
	ASSERT_STR_EQ(cJSON_GetObjectItem(ev, "method")->valuestring, "Target.targetCreated");
	cJSON_Delete(ev);
	cdp_free(c);
}

static void test_protocol_error_and_timeout(void)
{
	struct fake *f = fake_new();
	struct cdp *c = cdp_new(&f->base);
	struct cdp_error err;
	cJSON *res = NULL;

	say(f, "{\"id\":1,\"error\":{\"code\":-32601,\"message\":\"'Nope.nope' wasn't found\"}}");
	ASSERT_INT_EQ(cdp_call(c, NULL, "Nope.nope", NULL, 1000, &res, &err), -1);
	ASSERT_INT_EQ(err.kind, CDP_ERR_PROTOCOL);
	ASSERT_INT_EQ(err.code, -32601);
	ASSERT_STR_CONTAINS(err.message, "Nope.nope: 'Nope.nope' wasn't found");

	ASSERT_INT_EQ(cdp_call(c, NULL, "Page.navigate", NULL, 250, &res, &err), -1);
	ASSERT_INT_EQ(err.kind, CDP_ERR_TIMEOUT);
	ASSERT_STR_EQ(err.message, "Page.navigate got no reply within 250 ms");
	/* its late reply is dropped, the next command gets its own */
	say(f, "{\"id\":2,\"result\":{\"late\":true}}");
	say(f, "{\"id\":3,\"result\":{\"mine\":true}}");
	ASSERT_INT_EQ(cdp_call(c, NULL, "Page.enable", NULL, 1000, &res, &err), 0);
	ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(res, "mine")));
	cJSON_Delete(res);
	cdp_free(c);
}

static void test_deadline_and_close(void)
{
	struct fake *f = fake_new();
	struct cdp *c = cdp_new(&f->base);
	struct cdp_error err;
	cJSON *res = NULL;

	c->deadline_ms = f->now + 100;
	ASSERT_INT_EQ(cdp_call(c, NULL, "Page.enable", NULL, 5000, &res, &err), -1);
	ASSERT_INT_EQ(err.kind, CDP_ERR_DEADLINE);
	c->deadline_ms = 0;
	f->closed = 1;
	ASSERT_INT_EQ(cdp_call(c, NULL, "Page.enable", NULL, 5000, &res, &err), -1);
	ASSERT_INT_EQ(err.kind, CDP_ERR_CLOSED);
	ASSERT_STR_CONTAINS(err.message, "browser connection lost");
	cdp_free(c);
}

static void test_crashed_session_fails_fast(void)
{
	struct fake *f = fake_new();
	struct cdp *c = cdp_new(&f->base);
	struct cdp_error err;
	cJSON *res = NULL, *ev = NULL;

	say(f, "{\"method\":\"Inspector.targetCrashed\",\"params\":{},\"sessionId\":\"P\"}");
	ASSERT_INT_EQ(cdp_call(c, "P", "Runtime.evaluate", NULL, 5000, &res, &err), -1);
	ASSERT_INT_EQ(err.kind, CDP_ERR_CLOSED);
	ASSERT_STR_EQ(err.message, "page crashed");
	ASSERT_INT_EQ(cdp_wait_event(c, "P", "Page.loadEventFired", 5000, &ev, &err), -1);
	ASSERT_STR_EQ(err.message, "page crashed");

	say(f, "{\"method\":\"Target.detachedFromTarget\",\"params\":{\"sessionId\":\"Q\"}}");
	ASSERT_INT_EQ(cdp_pump(c, 5, &err), 0);
	ASSERT_INT_EQ(cdp_call(c, "Q", "Page.enable", NULL, 5000, &res, &err), -1);
	ASSERT_STR_CONTAINS(err.message, "page closed");
	cdp_free(c);
}

static void test_autoreply_answers_dialogs(void)
{
	struct fake *f = fake_new();
	struct cdp *c = cdp_new(&f->base);
	struct cdp_error err;
	cJSON *p = cJSON_CreateObject();

	cJSON_AddBoolToObject(p, "accept", 1);
	cdp_autoreply(c, "S", "Page.javascriptDialogOpening", "Page.handleJavaScriptDialog", p);
	say(f, "{\"method\":\"Page.javascriptDialogOpening\",\"params\":{\"type\":\"confirm\"},\"sessionId\":\"S\"}");
	ASSERT_INT_EQ(cdp_pump(c, 5, &err), 0);
	ASSERT_INT_EQ(f->nsent, 1);
	ASSERT_STR_CONTAINS(f->sent[0], "\"method\":\"Page.handleJavaScriptDialog\"");
	ASSERT_STR_CONTAINS(f->sent[0], "\"accept\":true");
	ASSERT_STR_CONTAINS(f->sent[0], "\"sessionId\":\"S\"");
	/* another session's dialog is not ours to answer */
	say(f, "{\"method\":\"Page.javascriptDialogOpening\",\"params\":{},\"sessionId\":\"T\"}");
	ASSERT_INT_EQ(cdp_pump(c, 5, &err), 0);
	ASSERT_INT_EQ(f->nsent, 1);
	cdp_free(c);
}

static void test_event_queue_is_capped(void)
{
	struct fake *f = fake_new();
	struct cdp *c = cdp_new(&f->base);
	struct cdp_error err;
	cJSON *ev = NULL;

	c->max_events = 3;
	for (int i = 0; i < 5; i++) {
		char buf[128];
		snprintf(buf, sizeof(buf), "{\"method\":\"E\",\"params\":{\"n\":%d}}", i);
		say(f, buf);
	}
	ASSERT_INT_EQ(cdp_pump(c, 5, &err), 0);
	ASSERT_INT_EQ(cdp_wait_event(c, NULL, "E", 0, &ev, &err), 1);
	/* the two oldest were dropped */
	ASSERT_INT_EQ(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "params"), "n")->valueint, 2);
	cJSON_Delete(ev);
	cdp_free(c);
}

static void test_recent_frames_ring(void)
{
	struct fake *f = fake_new();
	struct cdp *c = cdp_new(&f->base);
	struct cdp_error err;
	cJSON *res, *frames;

	f->auto_reply = 1;
	for (int i = 0; i < 30; i++) {
		ASSERT_INT_EQ(cdp_call(c, NULL, "Runtime.evaluate", NULL, 100, &res, &err), 0);
		cJSON_Delete(res);
	}
	frames = cdp_recent_frames(c);
	ASSERT_INT_EQ(cJSON_GetArraySize(frames), CDP_FRAME_RING);
	ASSERT_STR_CONTAINS(cJSON_GetArrayItem(frames, CDP_FRAME_RING - 1)->valuestring, "< {\"id\":30");
	ASSERT_STR_CONTAINS(cJSON_GetArrayItem(frames, CDP_FRAME_RING - 2)->valuestring, "> {\"id\":30");
	cJSON_Delete(frames);
	cdp_free(c);
}

int main(void)
{
	TEST_RUN(test_msgbuf_reassembles_fragments);
	TEST_RUN(test_msgbuf_caps_and_recovers);
	TEST_RUN(test_reply_routed_by_id_events_by_session);
	TEST_RUN(test_protocol_error_and_timeout);
	TEST_RUN(test_deadline_and_close);
	TEST_RUN(test_crashed_session_fails_fast);
	TEST_RUN(test_autoreply_answers_dialogs);
	TEST_RUN(test_event_queue_is_capped);
	TEST_RUN(test_recent_frames_ring);
	return TEST_REPORT();
}
