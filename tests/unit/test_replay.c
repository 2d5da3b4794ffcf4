/*
 * cassette unit tests: parsing (errors name file and line), matching in
 * order with ids mapped and params compared canonically, events released
 * where they happened, the recorded clock, divergence messages, and a
 * record → save → replay round trip over an in-memory "browser".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cassette.h"
#include "log.h"
#include "test.h"

#define HEADER "{\"cassette\":1,\"action\":\"validate\",\"epoch_ms\":1700000000000}\n"

static struct cdp_transport *open_text(const char *text, char *err, size_t n)
{
	return cdp_replay_open_mem(text, strlen(text), "t.jsonl", err, n);
}

static struct cdp *replay_of(const char *text)
{
	char err[512];
	struct cdp_transport *t = open_text(text, err, sizeof(err));
	if (!t)
		fprintf(stderr, "    %s\n", err);
	return t ? cdp_new(t) : NULL;
}

/* ---- parsing */

static void test_parse_errors_name_file_and_line(void)
{
	char err[512];

	ASSERT(!open_text("{\"hello\":1}\n", err, sizeof(err)));
	ASSERT_STR_CONTAINS(err, "t.jsonl:1: not a cassette");
	ASSERT(!open_text("", err, sizeof(err)));
	ASSERT_STR_CONTAINS(err, "t.jsonl: empty cassette");
	ASSERT(!open_text("{\"cassette\":9}\n", err, sizeof(err)));
	ASSERT_STR_CONTAINS(err, "cassette version 9");
	ASSERT(!open_text(HEADER "\n{\"t\":1,\"dir\":\"send\",\"id\":1}\n", err, sizeof(err)));
	ASSERT_STR_CONTAINS(err, "t.jsonl:3: send record lacks \"method\"");
	ASSERT(!open_text(HEADER "{\"t\":1,\"dir\":\"send\",\"method\":\"X\"}\n", err, sizeof(err)));
	ASSERT_STR_CONTAINS(err, "t.jsonl:2: record lacks a numeric \"id\"");
	ASSERT(!open_text(HEADER "{\"t\":1,\"dir\":\"sideways\"}\n", err, sizeof(err)));
	ASSERT_STR_CONTAINS(err, "unknown record direction \"sideways\"");
	ASSERT(!open_text(HEADER "{\"dir\":\"event\",\"method\":\"X\"}\n", err, sizeof(err)));
	ASSERT_STR_CONTAINS(err, "lacks a time");
	ASSERT(!open_text(HEADER "{\"t\":1,\"dir\":\"recv\",\"id\":1,\n", err, sizeof(err)));
	ASSERT_STR_CONTAINS(err, "t.jsonl:2: not a JSON object");
	ASSERT(!open_text(HEADER "{\"t\":1,\"dir\":\"send\",\"id\":1,\"method\":\"X\","
			  "\"params\":[1]}\n", err, sizeof(err)));
	ASSERT_STR_CONTAINS(err, "\"params\" must be an object");
}

static void test_parse_header_outcome_comments_blank_lines(void)
{
	char err[512];
	struct cdp_transport *t = open_text(
		"# a comment\n\n" HEADER
		"{\"t\":0,\"dir\":\"send\",\"id\":1,\"method\":\"A\"}\r\n"
		"{\"t\":5,\"dir\":\"end\",\"outcome\":{\"exit\":0}}", err, sizeof(err));
	int done, total;

	ASSERT(t != NULL);
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(cdp_replay_header(t),
							       "action")), "validate");
	ASSERT_INT_EQ(cJSON_GetObjectItem(cdp_replay_outcome(t), "exit")->valueint, 0);
	cdp_replay_counts(t, &done, &total);
	ASSERT_INT_EQ(done, 0);
	ASSERT_INT_EQ(total, 1);
	t->ops->free(t);
}

/* ---- matching */

static const char SESSION_CASSETTE[] = HEADER
	"{\"t\":10,\"dir\":\"send\",\"id\":41,\"method\":\"Target.attachToTarget\","
	"\"params\":{\"targetId\":\"T1\",\"flatten\":true}}\n"
	"{\"t\":12,\"dir\":\"event\",\"method\":\"Target.attachedToTarget\","
	"\"params\":{\"sessionId\":\"S1\"}}\n"
	"{\"t\":13,\"dir\":\"recv\",\"id\":41,\"result\":{\"sessionId\":\"S1\"}}\n"
	"{\"t\":20,\"dir\":\"send\",\"id\":42,\"sessionId\":\"S1\",\"method\":\"Page.navigate\","
	"\"params\":{\"url\":\"http://x/\"}}\n"
	"{\"t\":25,\"dir\":\"recv\",\"id\":42,\"sessionId\":\"S1\",\"result\":{\"loaderId\":\"L\"}}\n"
	"{\"t\":300,\"dir\":\"event\",\"sessionId\":\"S1\",\"method\":\"Page.lifecycleEvent\","
	"\"params\":{\"name\":\"load\"}}\n"
	"{\"t\":310,\"dir\":\"send\",\"id\":43,\"sessionId\":\"S1\",\"method\":\"Page.close\"}\n"
	"{\"t\":311,\"dir\":\"recv\",\"id\":43,\"sessionId\":\"S1\",\"error\":{\"code\":-32000,"
	"\"message\":\"nope\"}}\n";

static void test_replays_in_order_with_ids_mapped(void)
{
	struct cdp *c = replay_of(SESSION_CASSETTE);
	struct cdp_error err;
	cJSON *res = NULL, *ev = NULL;

	ASSERT(c != NULL);
	ASSERT_INT_EQ(cdp_now(c), 0);
	ASSERT_INT_EQ(cdp_epoch_ms(c), 1700000000000LL);
	/* params in another key order still match; our id is 1, not 41 */
	ASSERT_INT_EQ(cdp_call(c, NULL, "Target.attachToTarget",
			       cJSON_Parse("{\"flatten\":true,\"targetId\":\"T1\"}"), 1000,
			       &res, &err), 0);
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(res, "sessionId")), "S1");
	cJSON_Delete(res);
	ASSERT_INT_EQ(cdp_now(c), 13);
	/* the event recorded before the reply is queued */
	ASSERT_INT_EQ(cdp_wait_event(c, NULL, "Target.attachedToTarget", 0, &ev, &err), 1);
	cJSON_Delete(ev);
	ASSERT_INT_EQ(cdp_call(c, "S1", "Page.navigate", cJSON_Parse("{\"url\":\"http://x/\"}"),
			       1000, &res, &err), 0);
	cJSON_Delete(res);
	/* a wait shorter than the gap to the next event times out on the
	 * recorded clock, then a longer one gets it at its recorded time */
	ASSERT_INT_EQ(cdp_wait_event(c, "S1", "Page.lifecycleEvent", 100, &ev, &err), 0);
	ASSERT_INT_EQ(cdp_now(c), 125);
	ASSERT_INT_EQ(cdp_wait_event(c, "S1", "Page.lifecycleEvent", 5000, &ev, &err), 1);
	ASSERT_INT_EQ(cdp_now(c), 300);
	cJSON_Delete(ev);
	/* a recorded protocol error replays as one */
	ASSERT_INT_EQ(cdp_call(c, "S1", "Page.close", NULL, 1000, &res, &err), -1);
	ASSERT_INT_EQ(err.kind, CDP_ERR_PROTOCOL);
	ASSERT_STR_CONTAINS(err.message, "Page.close: nope");
	ASSERT_INT_EQ(cdp_replay_finish(c->tr, err.message, sizeof(err.message)), 0);
	cdp_free(c);
}

static void test_wrong_params_diverge_with_both_sides(void)
{
	struct cdp *c = replay_of(SESSION_CASSETTE);
	struct cdp_error err;
	cJSON *res = NULL;
	const char *full;

	ASSERT_INT_EQ(cdp_call(c, NULL, "Target.attachToTarget",
			       cJSON_Parse("{\"targetId\":\"T2\",\"flatten\":true}"), 1000,
			       &res, &err), -1);
	ASSERT_INT_EQ(err.kind, CDP_ERR_REPLAY);
	ASSERT_STR_CONTAINS(err.message, "replay diverged at command 1 of 3 (t.jsonl:2");
	ASSERT_STR_CONTAINS(err.message, "params.targetId = \"T2\", recorded \"T1\"");
	full = cdp_replay_divergence(c->tr);
	ASSERT_STR_CONTAINS(full, "cassette expects: Target.attachToTarget {\"targetId\":\"T1\"");
	ASSERT_STR_CONTAINS(full, "script sent:      Target.attachToTarget {\"targetId\":\"T2\"");
	/* nothing answers after a divergence */
	ASSERT_INT_EQ(cdp_call(c, NULL, "Target.attachToTarget",
			       cJSON_Parse("{\"targetId\":\"T1\",\"flatten\":true}"), 1000,
			       &res, &err), -1);
	ASSERT_INT_EQ(cdp_replay_finish(c->tr, err.message, sizeof(err.message)), -1);
	cdp_free(c);
}

static void test_wrong_method_and_session_diverge(void)
{
	struct cdp *c = replay_of(SESSION_CASSETTE);
	struct cdp_error err;
	cJSON *res = NULL;

	ASSERT_INT_EQ(cdp_call(c, NULL, "Target.createTarget", NULL, 1000, &res, &err), -1);
	ASSERT_STR_CONTAINS(err.message, "the script sent Target.createTarget but the "
			    "cassette expects Target.attachToTarget");
	cdp_free(c);

	c = replay_of(SESSION_CASSETTE);
	ASSERT_INT_EQ(cdp_call(c, "S9", "Target.attachToTarget",
			       cJSON_Parse("{\"targetId\":\"T1\",\"flatten\":true}"), 1000,
			       &res, &err), -1);
	ASSERT_STR_CONTAINS(err.message, "went to session \"S9\", recorded on \"\"");
	cdp_free(c);
}

static void test_running_past_the_end_and_stopping_early(void)
{
	struct cdp *c = replay_of(HEADER "{\"t\":1,\"dir\":\"send\",\"id\":1,\"method\":\"A\"}\n"
				  "{\"t\":2,\"dir\":\"recv\",\"id\":1,\"result\":{}}\n"
				  "{\"t\":3,\"dir\":\"send\",\"id\":2,\"method\":\"B\"}\n");
	struct cdp_error err;
	char why[1024];
	cJSON *res = NULL;

	ASSERT_INT_EQ(cdp_call(c, NULL, "A", NULL, 1000, &res, &err), 0);
	cJSON_Delete(res);
	ASSERT_INT_EQ(cdp_replay_finish(c->tr, why, sizeof(why)), -1);
	ASSERT_STR_CONTAINS(why, "the job ended after 1 of 2 recorded commands");
	ASSERT_STR_CONTAINS(why, "cassette expects next: B {} (t.jsonl:4)");
	cdp_free(c);

	c = replay_of(HEADER "{\"t\":1,\"dir\":\"send\",\"id\":1,\"method\":\"A\"}\n"
		      "{\"t\":2,\"dir\":\"recv\",\"id\":1,\"result\":{}}\n");
	ASSERT_INT_EQ(cdp_call(c, NULL, "A", NULL, 1000, &res, &err), 0);
	cJSON_Delete(res);
	ASSERT_INT_EQ(cdp_call(c, NULL, "C", NULL, 1000, &res, &err), -1);
	ASSERT_STR_CONTAINS(err.message, "the script sent C {}, but the cassette has no "
			    "more commands");
	cdp_free(c);
}

static void test_unanswered_command_times_out_on_recorded_clock(void)
{
	struct cdp *c = replay_of(HEADER "{\"t\":1,\"dir\":\"send\",\"id\":1,\"method\":\"A\"}\n");
	struct cdp_error err;
	cJSON *res = NULL;

	ASSERT_INT_EQ(cdp_call(c, NULL, "A", NULL, 700, &res, &err), -1);
	ASSERT_INT_EQ(err.kind, CDP_ERR_TIMEOUT);
	ASSERT_INT_EQ(cdp_now(c), 700);	/* the call began at 0 */
	cdp_free(c);
}

static void test_script_clock_reads_replay_as_recorded(void)
{
	struct cdp *c = replay_of(HEADER
		"{\"t\":1,\"dir\":\"send\",\"id\":1,\"method\":\"A\"}\n"
		"{\"t\":40,\"dir\":\"recv\",\"id\":1,\"result\":{}}\n"
		"{\"t\":41,\"dir\":\"clock\"}\n"
		"{\"t\":43,\"dir\":\"clock\"}\n"
		"{\"t\":43,\"dir\":\"send\",\"id\":2,\"method\":\"B\"}\n"
		"{\"t\":50,\"dir\":\"clock\"}\n"
		"{\"t\":60,\"dir\":\"recv\",\"id\":2,\"result\":{}}\n");
	struct cdp_error err;
	cJSON *res = NULL;

	ASSERT_INT_EQ(cdp_call(c, NULL, "A", NULL, 1000, &res, &err), 0);
	cJSON_Delete(res);
	ASSERT_INT_EQ(cdp_now(c), 40);
	/* the script's reads get the recorded values, in order */
	ASSERT_INT_EQ(cdp_script_now(c), 41);
	ASSERT_INT_EQ(cdp_script_now(c), 43);
	/* one read more than recorded: the replay's own time */
	ASSERT_INT_EQ(cdp_script_now(c), 43);
	/* a read the script no longer makes is passed over */
	ASSERT_INT_EQ(cdp_call(c, NULL, "B", NULL, 1000, &res, &err), 0);
	cJSON_Delete(res);
	ASSERT_INT_EQ(cdp_now(c), 60);
	ASSERT_INT_EQ(cdp_replay_finish(c->tr, err.message, sizeof(err.message)), 0);
	cdp_free(c);
}

static void test_secrets_match_their_placeholders(void)
{
	struct cdp *c = replay_of(HEADER
		"{\"t\":1,\"dir\":\"send\",\"id\":1,\"method\":\"Input.insertText\","
		"\"params\":{\"text\":\"{{secret:account.password}}\"}}\n"
		"{\"t\":2,\"dir\":\"recv\",\"id\":1,\"result\":{}}\n"
		"{\"t\":3,\"dir\":\"send\",\"id\":2,\"method\":\"Runtime.evaluate\","
		"\"params\":{\"expression\":\"f({\\\"value\\\":\\\"{{secret:account.password}}\\\"})\"}}\n"
		"{\"t\":4,\"dir\":\"recv\",\"id\":2,\"result\":{}}\n");
	struct cdp_error err;
	cJSON *res = NULL;

	secret_register_as("pa\"ss-w0rd", "account.password");
	ASSERT_INT_EQ(cdp_call(c, NULL, "Input.insertText",
			       cJSON_Parse("{\"text\":\"pa\\\"ss-w0rd\"}"), 1000, &res, &err), 0);
	cJSON_Delete(res);
	/* inside a JSON string inside JavaScript: escaped, still found */
	ASSERT_INT_EQ(cdp_call(c, NULL, "Runtime.evaluate",
			       cJSON_Parse("{\"expression\":\"f({\\\"value\\\":\\\"pa\\\\\\\"ss-w0rd\\\"})\"}"),
			       1000, &res, &err), 0);
	cJSON_Delete(res);
	secret_clear_all();
	cdp_free(c);
}

static void test_placeholder_values_stand_for_themselves(void)
{
	size_t n;
	char *s;

	secret_register("{{secret:3}}");
	secret_register("hunter22");
	s = secret_placeholder("a {{secret:3}} b hunter22", 25, &n);
	ASSERT_STR_EQ(s, "a {{secret:3}} b {{secret:2}}");
	free(s);
	secret_clear_all();
}

/* ---- canonical form and differences */

static void test_big_sent_strings_are_hashed(void)
{
	char *big = malloc(CASSETTE_BIG_SEND + 100);
	cJSON *a, *b;

	memset(big, 'x', CASSETTE_BIG_SEND + 99);
	big[CASSETTE_BIG_SEND + 99] = '\0';
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "expression", big);
	b = cJSON_Duplicate(a, 1);
	cassette_canonical(a, 1);
	ASSERT_STR_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(a, "expression")),
			    "{{elided: 4195 bytes, fnv1a ");
	big[7] = 'y';
	cJSON_SetValuestring(cJSON_GetObjectItem(b, "expression"), big);
	cassette_canonical(b, 1);
	ASSERT(!cJSON_Compare(a, b, 1));	/* a changed helper is a change */
	cJSON_Delete(a);
	cJSON_Delete(b);
	free(big);
}

static void test_diff_paths(void)
{
	struct cassette_diff d;
	cJSON *a = cJSON_Parse("{\"x\":{\"y\":[1,{\"z\":\"hello world\"}]},\"k\":1}");
	cJSON *b = cJSON_Parse("{\"k\":1,\"x\":{\"y\":[1,{\"z\":\"hello there\"}]}}");
	cJSON *c = cJSON_Parse("{\"k\":1}");

	ASSERT_INT_EQ(cassette_diff(a, a, &d), 0);
	ASSERT_INT_EQ(cassette_diff(a, b, &d), 1);
	ASSERT_STR_EQ(d.path, "x.y[1].z");
	ASSERT_STR_EQ(d.expected, "\"hello world\"");
	ASSERT_STR_EQ(d.actual, "\"hello there\"");
	ASSERT_INT_EQ(cassette_diff(a, c, &d), 1);
	ASSERT_STR_EQ(d.path, "x");
	ASSERT_STR_EQ(d.actual, "(absent)");
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
}

static void test_outcome_compare(void)
{
	cJSON *rec = cJSON_Parse("{\"exit\":0,\"users\":[{\"email\":\"a\",\"roles\":[\"x\"],"
				 "\"entitlements\":{}}]}");
	cJSON *same = cJSON_Parse("{\"exit\":0,\"users\":[{\"entitlements\":[],\"email\":\"a\","
				  "\"roles\":[\"x\"]}],\"error\":\"ignored\"}");
	cJSON *other = cJSON_Parse("{\"exit\":0,\"users\":[{\"email\":\"a\",\"roles\":[\"y\"]}]}");
	char why[512];

	ASSERT_INT_EQ(cassette_outcome_compare(rec, same, why, sizeof(why)), 0);
	ASSERT_INT_EQ(cassette_outcome_compare(rec, other, why, sizeof(why)), -1);
	ASSERT_STR_EQ(why, "users[0].roles[0]: recorded \"x\", replayed \"y\"");
	cJSON_Delete(rec);
	cJSON_Delete(same);
	cJSON_Delete(other);
}

/* ---- record, save, replay */

struct browser_fake {
	struct cdp_transport base;
	char *inbox[16];
	int head, tail;
	int64_t now;
};

static int bf_send(struct cdp_transport *t, const char *msg, size_t len, char *err,
		   size_t errlen)
{
	struct browser_fake *f = (struct browser_fake *)t;
	cJSON *m = cJSON_ParseWithLength(msg, len);
	const char *method = cJSON_GetStringValue(cJSON_GetObjectItem(m, "method"));
	char buf[512];
	(void)err; (void)errlen;

	if (!strcmp(method, "Page.captureScreenshot"))
		snprintf(buf, sizeof(buf), "{\"id\":%d,\"result\":{\"data\":\"iVBORw0KGgoAAAA"
			 "NSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAA"
			 "AABJRU5ErkJggg==\"}}", cJSON_GetObjectItem(m, "id")->valueint);
	else
		snprintf(buf, sizeof(buf), "{\"id\":%d,\"result\":{\"echo\":\"%s\"}}",
			 cJSON_GetObjectItem(m, "id")->valueint, method);
	f->inbox[f->tail++] = strdup("{\"method\":\"Page.loadEventFired\",\"params\":{}}");
	f->inbox[f->tail++] = strdup(buf);
	f->now += 7;
	cJSON_Delete(m);
	return 0;
}

static int bf_recv(struct cdp_transport *t, char **msg, size_t *len, int timeout_ms,
		   char *err, size_t errlen)
{
	struct browser_fake *f = (struct browser_fake *)t;
	(void)err; (void)errlen;
	if (f->head == f->tail) {
		f->now += timeout_ms;
		return 0;
	}
	*msg = f->inbox[f->head++];
	*len = strlen(*msg);
	f->now += 1;
	return 1;
}

static int64_t bf_now(struct cdp_transport *t) { return ((struct browser_fake *)t)->now; }

static void bf_free(struct cdp_transport *t)
{
	struct browser_fake *f = (struct browser_fake *)t;
	while (f->head < f->tail)
		free(f->inbox[f->head++]);
	free(f);
}

static const struct cdp_transport_ops bf_ops = {
	"fake-browser", bf_send, bf_recv, bf_now, bf_free, NULL, NULL, NULL
};

/* The same three calls, against whatever transport c has. */
static void three_calls(struct cdp *c, char *out, size_t n)
{
	struct cdp_error err;
	cJSON *res = NULL, *ev = NULL;
	char *text;

	out[0] = '\0';
	ASSERT_INT_EQ(cdp_call(c, NULL, "Input.insertText",
			       cJSON_Parse("{\"text\":\"s3cret-pw\"}"), 1000, &res, &err), 0);
	text = cJSON_PrintUnformatted(res);
	snprintf(out + strlen(out), n - strlen(out), "%s|", text);
	free(text);
	cJSON_Delete(res);
	ASSERT_INT_EQ(cdp_wait_event(c, NULL, "Page.loadEventFired", 10, &ev, &err), 1);
	cJSON_Delete(ev);
	ASSERT_INT_EQ(cdp_call(c, "S", "Page.captureScreenshot", NULL, 1000, &res, &err), 0);
	snprintf(out + strlen(out), n - strlen(out), "%.12s|",
		 cJSON_GetStringValue(cJSON_GetObjectItem(res, "data")));
	cJSON_Delete(res);
	ASSERT_INT_EQ(cdp_pump(c, 50, &err), 0);
	snprintf(out + strlen(out), n - strlen(out), "now>=%d|",
		 cdp_now(c) >= 50 ? 1 : 0);
	/* the script's clock reads: the same numbers live and replayed */
	snprintf(out + strlen(out), n - strlen(out), "%lld",
		 (long long)cdp_script_now(c) % 100000);
}

static void test_record_then_replay(void)
{
	struct browser_fake *f = calloc(1, sizeof(*f));
	struct cdp_transport *rec;
	struct cdp *c;
	char path[] = "/tmp/idlcm-test-cassette-XXXXXX";
	char live[512], replayed[512], err[512], buf[8192];
	cJSON *header = cJSON_Parse("{\"action\":\"validate\",\"account\":{\"password\":"
				    "\"s3cret-pw\"}}");
	cJSON *outcome = cJSON_Parse("{\"exit\":0}");
	FILE *fp;
	size_t n;
	int fd = mkstemp(path);

	ASSERT(fd >= 0);
	close(fd);
	secret_register_as("s3cret-pw", "account.password");
	f->base.ops = &bf_ops;
	rec = cdp_record_wrap(&f->base);
	ASSERT(cdp_is_recorder(rec));
	c = cdp_new(rec);
	three_calls(c, live, sizeof(live));
	ASSERT_INT_EQ(cdp_record_save(c->tr, path, header, outcome, err, sizeof(err)), 0);
	cdp_free(c);

	fp = fopen(path, "r");
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	ASSERT(!strstr(buf, "s3cret-pw"));
	ASSERT_STR_CONTAINS(buf, "\"text\":\"{{secret:account.password}}\"");
	ASSERT_STR_CONTAINS(buf, "\"password\":\"{{secret:account.password}}\"");
	ASSERT_STR_CONTAINS(buf, "{{elided: 96 bytes of PNG}}");
	ASSERT_STR_CONTAINS(buf, "\"dir\":\"end\",\"outcome\":{\"exit\":0}");

	c = cdp_new(cdp_replay_open(path, err, sizeof(err)));
	ASSERT(c && c->tr);
	three_calls(c, replayed, sizeof(replayed));
	ASSERT_STR_EQ(replayed, live);
	ASSERT_INT_EQ(cdp_replay_finish(c->tr, err, sizeof(err)), 0);
	cdp_free(c);
	unlink(path);
	cJSON_Delete(header);
	cJSON_Delete(outcome);
	secret_clear_all();
}

int main(void)
{
	TEST_RUN(test_parse_errors_name_file_and_line);
	TEST_RUN(test_parse_header_outcome_comments_blank_lines);
	TEST_RUN(test_replays_in_order_with_ids_mapped);
	TEST_RUN(test_wrong_params_diverge_with_both_sides);
	TEST_RUN(test_wrong_method_and_session_diverge);
	TEST_RUN(test_running_past_the_end_and_stopping_early);
	TEST_RUN(test_unanswered_command_times_out_on_recorded_clock);
	TEST_RUN(test_script_clock_reads_replay_as_recorded);
	TEST_RUN(test_secrets_match_their_placeholders);
	TEST_RUN(test_placeholder_values_stand_for_themselves);
	TEST_RUN(test_big_sent_strings_are_hashed);
	TEST_RUN(test_diff_paths);
	TEST_RUN(test_outcome_compare);
	TEST_RUN(test_record_then_replay);
	return TEST_REPORT();
}
