/*
 * The defects the fuzz targets found, each as a plain test (the inputs
 * also replay from tests/fuzz/corpus/): each failed before its fix.
 */
#include <stdlib.h>
#include <unistd.h>

#include "browser.h"
#include "cdp.h"
#include "cli.h"
#include "httpd.h"
#include "log.h"
#include "vault.h"
#include "test.h"

/* A key given twice next to a vault reference made vault_resolve loop. */
static void test_vault_resolve_duplicate_key_ends(void)
{
	static const unsigned char key[VAULT_KEY_LEN] = { 7 };
	char path[64], err[300];
	struct vault *v;
	cJSON *doc = cJSON_Parse("{\"password\":\"plain\",\"password\":{\"vault\":\"acme/svc\"}}");

	snprintf(path, sizeof(path), "/tmp/idlcm-test-fuzzfind-%d.db", (int)getpid());
	unlink(path);
	v = vault_open(path, key, err, sizeof(err));
	ASSERT(v);
	ASSERT_INT_EQ(vault_set(v, "acme/svc", "hunter2", 7, err, sizeof(err)), 0);
	alarm(10);	/* the old loop never ended */
	ASSERT_INT_EQ(vault_resolve(v, doc, err, sizeof(err)), 0);
	alarm(0);
	ASSERT(!vault_refs_present(doc));
	ASSERT_STR_EQ(cJSON_GetArrayItem(doc, 1)->valuestring, "hunter2");
	ASSERT_STR_EQ(cJSON_GetArrayItem(doc, 1)->string, "password");
	cJSON_Delete(doc);
	vault_close(v);
	secret_clear_all();
	unlink(path);
}

/* {"vault": name} as the whole account stayed a reference, silently. */
static void test_vault_whole_object_reference_refused(void)
{
	static const unsigned char key[VAULT_KEY_LEN] = { 9 };
	char path[64], err[300];
	struct vault *v;
	cJSON *doc = cJSON_Parse("{\"vault\":\"acme/svc\"}");

	snprintf(path, sizeof(path), "/tmp/idlcm-test-fuzzfind2-%d.db", (int)getpid());
	unlink(path);
	v = vault_open(path, key, err, sizeof(err));
	ASSERT(v);
	ASSERT_INT_EQ(vault_set(v, "acme/svc", "hunter2", 7, err, sizeof(err)), 0);
	ASSERT_INT_EQ(vault_resolve(v, doc, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "the whole object refers to vault entry \"acme/svc\"");
	cJSON_Delete(doc);
	vault_close(v);
	secret_clear_all();
	unlink(path);
}

/* Text after a --user object was dropped without a word. */
static void test_cli_json_trailing_text_refused(void)
{
	char err[300];
	cJSON *j = cli_json_arg("--user", "{\"email\":\"a@x.test\"} x", err, sizeof(err));

	ASSERT(!j);
	ASSERT_STR_CONTAINS(err, "--user: unexpected text after the JSON object at byte 22");
	j = cli_json_arg("--user", " {\"email\":\"a@x.test\"}\n", err, sizeof(err));
	ASSERT(j);
	cJSON_Delete(j);
}

/* {"EMAIL": …} passed the check; the script reads user.email and got nil. */
static void test_cli_user_keys_are_case_sensitive(void)
{
	char err[300];
	cJSON *u = cJSON_Parse("{\"EMAIL\":\"a@x.test\"}");

	ASSERT_INT_EQ(cli_check_user("remove", u, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "needs an \"email\" or \"username\"");
	cJSON_Delete(u);
	u = cJSON_Parse("{\"email\":\"a@x.test\",\"Roles\":5}");
	ASSERT_INT_EQ(cli_check_user("update", u, err, sizeof(err)), -1);
	ASSERT_INT_EQ(cli_check_user("invite", u, err, sizeof(err)), 0);
	cJSON_Delete(u);
}

/* content-length: only digits; "+5", " 5", "0x5" are not lengths, and a
 * huge one with a stray character is malformed, not merely too large. */
static void test_httpd_content_length_strict(void)
{
	size_t n = 0;

	ASSERT_INT_EQ(httpd_parse_content_length("12", 100, &n), 0);
	ASSERT_INT_EQ(n, 12);
	ASSERT_INT_EQ(httpd_parse_content_length("101", 100, &n), 1);
	ASSERT_INT_EQ(httpd_parse_content_length("+5", 100, &n), -1);
	ASSERT_INT_EQ(httpd_parse_content_length("-1", 100, &n), -1);
	ASSERT_INT_EQ(httpd_parse_content_length("", 100, &n), -1);
	ASSERT_INT_EQ(httpd_parse_content_length("99999999999999999999999", 100, &n), 1);
	ASSERT_INT_EQ(httpd_parse_content_length("99999999999999999999x9", 100, &n), -1);
}

/* The port line went into the URL as it was. */
static void test_active_port_is_a_port(void)
{
	char url[600];

	ASSERT_INT_EQ(browser_parse_active_port("9222@evil.test:80\n/devtools/browser/x\n",
						url, sizeof(url)), 0);
	ASSERT_INT_EQ(browser_parse_active_port("70000\n/devtools/browser/x\n", url,
						sizeof(url)), 0);
	ASSERT_INT_EQ(browser_parse_active_port("9222\n/devtools/browser/abc\n", url, 10), 0);
	ASSERT_INT_EQ(browser_parse_active_port("9222\n/devtools/browser/abc\n", url,
						sizeof(url)), 1);
	ASSERT_STR_EQ(url, "ws://127.0.0.1:9222/devtools/browser/abc");
}

static void test_json_version_wants_a_websocket(void)
{
	char *ws = NULL;
	const char *doc = "{\"webSocketDebuggerUrl\":\"file:///etc/passwd\"}";

	ASSERT(!browser_parse_version(doc, strlen(doc), &ws));
	doc = "{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9222/devtools/browser/x\"}";
	ASSERT(browser_parse_version(doc, strlen(doc), &ws));
	ASSERT_STR_EQ(ws, "ws://127.0.0.1:9222/devtools/browser/x");
	free(ws);
}

/* A message over the cap is reported dropped, and the next one is whole. */
static void test_ws_frame_over_cap_then_next(void)
{
	struct cdp_msgbuf b;
	char *m = NULL;
	size_t n = 0;

	cdp_msgbuf_init(&b, 8);
	ASSERT_INT_EQ(cdp_msgbuf_frame(&b, "12345", 5, 0, &m, &n), 0);
	ASSERT_INT_EQ(cdp_msgbuf_frame(&b, "67890", 5, 1, &m, &n), -1);
	ASSERT(!m);
	ASSERT_INT_EQ(cdp_msgbuf_frame(&b, "{}", 2, 1, &m, &n), 1);
	ASSERT_STR_EQ(m, "{}");
	free(m);
	cdp_msgbuf_release(&b);
}

int main(void)
{
	TEST_RUN(test_vault_resolve_duplicate_key_ends);
	TEST_RUN(test_vault_whole_object_reference_refused);
	TEST_RUN(test_cli_json_trailing_text_refused);
	TEST_RUN(test_cli_user_keys_are_case_sensitive);
	TEST_RUN(test_httpd_content_length_strict);
	TEST_RUN(test_active_port_is_a_port);
	TEST_RUN(test_json_version_wants_a_websocket);
	TEST_RUN(test_ws_frame_over_cap_then_next);
	return TEST_REPORT();
}
