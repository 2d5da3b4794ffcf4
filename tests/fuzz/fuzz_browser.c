/*
 * Fuzz target: how the agent finds a browser's DevTools endpoint
 * (agent/browser.c) — the DevToolsActivePort file a launched Chromium
 * writes, and the /json/version answer of a browser given as http://.
 * The first byte picks which.  Properties: a URL from DevToolsActivePort
 * is exactly ws://127.0.0.1:<port 1-65535>/devtools/browser/<id>, built
 * from the file's first two lines and never cut short; one from
 * /json/version is the document's own webSocketDebuggerUrl, a ws:// or
 * wss:// URL with no spaces or control characters; nothing leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "browser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void active_port(const char *text, size_t cap)
{
	char *url = malloc(cap);
	const char *nl = strchr(text, '\n');

	if (browser_parse_active_port(text, url, cap)) {
		char *end;
		long port;
		if (strncmp(url, "ws://127.0.0.1:", 15))
			abort();
		port = strtol(url + 15, &end, 10);
		if (port < 1 || port > 65535 || strncmp(end, "/devtools/browser/", 18) ||
		    !end[18] || strpbrk(end + 18, "/?# \t\r\n"))
			abort();
		/* the port and the path are the file's two lines */
		if (!nl || strtol(text, NULL, 10) != port ||
		    strncmp(nl + 1, end, strlen(end)) ||
		    (nl[1 + strlen(end)] && nl[1 + strlen(end)] != '\n'))
			abort();
		if (strlen(url) >= cap)
			abort();
	}
	free(url);
}

static void version(const char *body, size_t len)
{
	char *ws = NULL, *got = browser_parse_version(body, len, &ws);
	cJSON *doc;
	const char *want;

	if (got != ws)
		abort();
	if (!ws)
		return;
	if (strncmp(ws, "ws://", 5) && strncmp(ws, "wss://", 6))
		abort();
	for (const char *p = ws; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			abort();
	doc = cJSON_ParseWithLength(body, len);
	want = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "webSocketDebuggerUrl"));
	if (!want || strcmp(want, ws))
		abort();
	cJSON_Delete(doc);
	free(ws);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (!size)
		return 0;
	text = strndup((const char *)data + 1, size - 1);
	if (data[0] & 1)
		version((const char *)data + 1, size - 1);
	else
		active_port(text, data[0] < 128 ? 600 : (size_t)(data[0] - 127));
	free(text);
	return 0;
}
