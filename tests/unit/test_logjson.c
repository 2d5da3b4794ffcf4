/* --log-format json: every record one JSON object on one line, whatever
 * the message holds, with the job's fields and every secret redacted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "test.h"

static char captured[1 << 17];

/* Run fn with stderr sent to a file; the file's text into captured. */
static const char *capture(void (*fn)(void))
{
	char path[] = "/tmp/idlcm-logjson-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;
	size_t n;

	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	n = fread(captured, 1, sizeof(captured) - 1, f);
	captured[n] = '\0';
	fclose(f);
	unlink(path);
	return captured;
}

/* Line i (from 0) of captured, parsed; fails the test when it does not
 * parse or is not an object. */
static cJSON *record(int i)
{
	char *line = captured, *end;
	cJSON *j;

	for (; i > 0 && line; i--)
		line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL;
	ASSERT(line && *line);
	end = strchr(line, '\n');
	ASSERT(end);
	j = cJSON_ParseWithLength(line, (size_t)(end - line));
	ASSERT(cJSON_IsObject(j));
	return j;
}

static int lines(void)
{
	int n = 0;
	for (const char *p = captured; (p = strchr(p, '\n')); p++)
		n++;
	return n;
}

static const char *str(const cJSON *j, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, k));
}

static void hostile_messages(void)
{
	log_info("quote \" backslash \\ newline\nand tab\t and bell \a");
	log_warn("latin-1 caf\xe9, cut utf-8 \xe2\x82, overlong \xc0\xaf, fine \xe2\x82\xac");
	log_error("the password is pw\"with-quote!");
}

static void test_every_record_parses(void)
{
	log_set_format(LOG_FORMAT_JSON);
	log_set_level(LOG_DEBUG);
	log_set_component("worker");
	secret_register("pw\"with-quote!");
	capture(hostile_messages);
	ASSERT_INT_EQ(lines(), 3);
	cJSON *a = record(0), *b = record(1), *c = record(2);
	ASSERT_STR_EQ(str(a, "msg"), "quote \" backslash \\ newline\nand tab\t and bell \a");
	ASSERT_STR_EQ(str(a, "level"), "info");
	ASSERT_STR_EQ(str(a, "component"), "worker");
	ASSERT(strlen(str(a, "ts")) == strlen("2026-11-29T19:00:00.000Z"));
	ASSERT(cJSON_IsNumber(cJSON_GetObjectItem(a, "pid")));
	/* bytes that are not UTF-8 become U+FFFD; valid ones stay */
	ASSERT_STR_CONTAINS(str(b, "msg"), "caf\xef\xbf\xbd,");
	ASSERT_STR_CONTAINS(str(b, "msg"), "fine \xe2\x82\xac");
	ASSERT_STR_EQ(str(b, "level"), "warn");
	ASSERT_STR_EQ(str(c, "msg"), "the password is [redacted]");
	ASSERT(!strstr(captured, "with-quote"));
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	secret_clear_all();
}

static void job_messages(void)
{
	log_job_note("j-42", "acme", "invite", 3);
	log_info("job j-42: claimed (invite ada@example.com, attempt 3)");
	log_warn("job j-42 attempt 3: claimed twice; ignored");
	log_info("job j-7: not one we know");
	log_info("prewarm: nothing about a job");
	log_job_current("j-42");
	log_script(LOG_INFO, "from the script");
	log_job_current(NULL);
	log_job_forget("j-42");
	log_info("job j-42: gone");
}

static void test_job_fields(void)
{
	cJSON *r;

	log_set_format(LOG_FORMAT_JSON);
	log_set_level(LOG_INFO);
	capture(job_messages);
	ASSERT_INT_EQ(lines(), 6);
	for (int i = 0; i < 2; i++) {
		r = record(i);
		ASSERT_STR_EQ(str(r, "job"), "j-42");
		ASSERT_STR_EQ(str(r, "app"), "acme");
		ASSERT_STR_EQ(str(r, "action"), "invite");
		ASSERT_INT_EQ(cJSON_GetObjectItem(r, "attempt")->valueint, 3);
		cJSON_Delete(r);
	}
	r = record(2);
	ASSERT_STR_EQ(str(r, "job"), "j-7");
	ASSERT(!cJSON_GetObjectItem(r, "app"));
	cJSON_Delete(r);
	r = record(3);
	ASSERT(!cJSON_GetObjectItem(r, "job"));
	cJSON_Delete(r);
	r = record(4);	/* a job child's records all carry its job */
	ASSERT_STR_EQ(str(r, "job"), "j-42");
	ASSERT_STR_EQ(str(r, "app"), "acme");
	ASSERT_STR_EQ(str(r, "source"), "script");
	cJSON_Delete(r);
	r = record(5);
	ASSERT_STR_EQ(str(r, "job"), "j-42");
	ASSERT(!cJSON_GetObjectItem(r, "app"));
	cJSON_Delete(r);
}

static void kv_and_long(void)
{
	static char big[20000];
	const char *kv[] = { "error_class", "needs_human", "evidence", "runs/x s3cret-value",
			     NULL };

	log_msg_kv(LOG_ERROR, kv, "login rejected with s3cret-value");
	memset(big, 'a', sizeof(big) - 1);
	big[5000] = '\xe2';	/* a lone lead byte in the middle */
	log_info("%s", big);
}

static void test_fields_redacted_and_long_records_cut(void)
{
	cJSON *r;

	log_set_format(LOG_FORMAT_JSON);
	secret_register("s3cret-value");
	capture(kv_and_long);
	ASSERT_INT_EQ(lines(), 2);
	r = record(0);
	ASSERT_STR_EQ(str(r, "error_class"), "needs_human");
	ASSERT_STR_EQ(str(r, "evidence"), "runs/x [redacted]");
	ASSERT_STR_EQ(str(r, "msg"), "login rejected with [redacted]");
	cJSON_Delete(r);
	ASSERT(!strstr(captured, "s3cret"));
	r = record(1);
	ASSERT_STR_CONTAINS(str(r, "msg"), "more bytes cut]");
	cJSON_Delete(r);
	secret_clear_all();
}

static void plain(void)
{
	log_warn("serving 0.0.0.0 with no authentication");
	log_info("job j-1: done");
}

static void test_text_prefix_style(void)
{
	log_set_format(LOG_FORMAT_TEXT);
	log_set_text_prefix("idlcm-coordinator");
	capture(plain);
	ASSERT_STR_EQ(captured, "idlcm-coordinator: warning: serving 0.0.0.0 with no "
		      "authentication\nidlcm-coordinator: job j-1: done\n");
	log_set_text_prefix(NULL);
}

static void test_parse_format(void)
{
	ASSERT_INT_EQ(log_parse_format("json"), LOG_FORMAT_JSON);
	ASSERT_INT_EQ(log_parse_format("text"), LOG_FORMAT_TEXT);
	ASSERT_INT_EQ(log_parse_format("JSON"), -1);
	ASSERT_INT_EQ(log_parse_format(""), -1);
}

int main(void)
{
	TEST_RUN(test_every_record_parses);
	TEST_RUN(test_job_fields);
	TEST_RUN(test_fields_redacted_and_long_records_cut);
	TEST_RUN(test_text_prefix_style);
	TEST_RUN(test_parse_format);
	return TEST_REPORT();
}
