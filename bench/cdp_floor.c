/*
 * cdp_floor: the floor for one CDP round trip — a bare libwebsockets client
 * with nothing between the socket and the reply but a string search for
 * the reply's id.  Also the tests' probe of browser-level state.
 *
 *   idlcm-cdp-floor WS_URL METHOD [PARAMS-JSON]
 *       send one browser-level command, print its reply
 *   idlcm-cdp-floor --rtt N WS_URL
 *       open a page, time N Runtime.evaluate("1") round trips on it, print
 *       one microsecond figure per line
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

struct conn {
	struct lws_context *ctx;
	struct lws *wsi;
	int established, closed;
	char *out;		/* LWS_PRE headroom first */
	size_t outlen;
	char *in;		/* the message being reassembled */
	size_t inlen;
	char *reply;		/* the awaited reply, once it came */
	char want[32];		/* "\"id\":N," */
};

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
	      size_t len)
{
	struct conn *c = lws_get_opaque_user_data(wsi);

	(void)user;
	if (!c)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->established = 1;
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
	case LWS_CALLBACK_CLIENT_CLOSED:
		c->closed = 1;
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		c->in = realloc(c->in, c->inlen + len + 1);
		memcpy(c->in + c->inlen, in, len);
		c->inlen += len;
		c->in[c->inlen] = '\0';
		if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
			break;
		if (!c->reply && strstr(c->in, c->want)) {
			c->reply = c->in;
			c->in = NULL;
		} else {
			free(c->in);
			c->in = NULL;
		}
		c->inlen = 0;
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (c->out) {
			lws_write(wsi, (unsigned char *)c->out + LWS_PRE, c->outlen, LWS_WRITE_TEXT);
			free(c->out);
			c->out = NULL;
		}
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "floor", cb, 0, 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static int next_id = 1;

/* Send one command and service until its reply; the reply (caller frees). */
static char *call(struct conn *c, const char *session, const char *method, const char *params)
{
	int id = next_id++;
	char body[4096];
	int n;

	if (session)
		n = snprintf(body, sizeof(body), "{\"id\":%d,\"sessionId\":\"%s\",\"method\":\"%s\","
			     "\"params\":%s}", id, session, method, params ? params : "{}");
	else
		n = snprintf(body, sizeof(body), "{\"id\":%d,\"method\":\"%s\",\"params\":%s}",
			     id, method, params ? params : "{}");
	if (n < 0 || (size_t)n >= sizeof(body))
		return NULL;
	snprintf(c->want, sizeof(c->want), "\"id\":%d,", id);
	c->out = malloc(LWS_PRE + (size_t)n);
	memcpy(c->out + LWS_PRE, body, (size_t)n);
	c->outlen = (size_t)n;
	lws_callback_on_writable(c->wsi);
	while (!c->reply && !c->closed)
		if (lws_service(c->ctx, 0) < 0)
			return NULL;
	{
		char *r = c->reply;
		c->reply = NULL;
		return r;
	}
}

/* "key":"value" out of a reply, into buf. */
static int field(const char *json, const char *key, char *buf, size_t n)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = json ? strstr(json, pat) : NULL;
	if (!p)
		return -1;
	p += strlen(pat);
	e = strchr(p, '"');
	if (!e || (size_t)(e - p) >= n)
		return -1;
	memcpy(buf, p, (size_t)(e - p));
	buf[e - p] = '\0';
	return 0;
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_client_connect_info cc;
	struct conn c;
	const char *proto, *addr, *path;
	char url[1024], pathbuf[1100], hosthdr[300];
	int port, rtt = 0, a = 1;

	if (argc > 3 && !strcmp(argv[1], "--rtt")) {
		rtt = atoi(argv[2]);
		a = 3;
	}
	if (argc - a < (rtt ? 1 : 2)) {
		fprintf(stderr, "usage: idlcm-cdp-floor WS_URL METHOD [PARAMS]\n"
				"       idlcm-cdp-floor --rtt N WS_URL\n");
		return 2;
	}
	snprintf(url, sizeof(url), "%s", argv[a]);
	if (lws_parse_uri(url, &proto, &addr, &port, &path)) {
		fprintf(stderr, "not a ws:// url: %s\n", argv[a]);
		return 2;
	}
	snprintf(pathbuf, sizeof(pathbuf), "/%s", path);
	snprintf(hosthdr, sizeof(hosthdr), "%s:%d", addr, port);
	lws_set_log_level(0, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = -1;
	info.uid = -1;
	memset(&c, 0, sizeof(c));
	c.ctx = lws_create_context(&info);
	memset(&cc, 0, sizeof(cc));
	cc.context = c.ctx;
	cc.address = addr;
	cc.port = port;
	cc.path = pathbuf;
	cc.host = hosthdr;
	cc.local_protocol_name = protocols[0].name;
	cc.opaque_user_data = &c;
	cc.pwsi = &c.wsi;
	if (!c.ctx || !lws_client_connect_via_info(&cc)) {
		fprintf(stderr, "cannot connect to %s\n", argv[a]);
		return 1;
	}
	while (!c.established && !c.closed)
		lws_service(c.ctx, 0);
	if (!c.established) {
		fprintf(stderr, "cannot connect to %s\n", argv[a]);
		return 1;
	}
	if (!rtt) {
		char *r = call(&c, NULL, argv[a + 1], argc > a + 2 ? argv[a + 2] : NULL);
		if (!r)
			return 1;
		printf("%s\n", r);
		free(r);
	} else {
		char ctxid[128], target[128], session[128], params[400];
		char *r = call(&c, NULL, "Target.createBrowserContext", "{\"disposeOnDetach\":true}");
		if (field(r, "browserContextId", ctxid, sizeof(ctxid)))
			return 1;
		free(r);
		snprintf(params, sizeof(params), "{\"url\":\"about:blank\",\"browserContextId\":\"%s\"}",
			 ctxid);
		r = call(&c, NULL, "Target.createTarget", params);
		if (field(r, "targetId", target, sizeof(target)))
			return 1;
		free(r);
		snprintf(params, sizeof(params), "{\"targetId\":\"%s\",\"flatten\":true}", target);
		r = call(&c, NULL, "Target.attachToTarget", params);
		if (field(r, "sessionId", session, sizeof(session)))
			return 1;
		free(r);
		/* the page as a job (and Puppeteer) has it: Page and Runtime on */
		free(call(&c, session, "Page.enable", NULL));
		free(call(&c, session, "Runtime.enable", NULL));
		free(call(&c, session, "Page.setLifecycleEventsEnabled", "{\"enabled\":true}"));
		for (int i = 0; i < rtt; i++) {
			double t0 = now_us();
			r = call(&c, session, "Runtime.evaluate", "{\"expression\":\"1\"}");
			if (!r)
				return 1;
			printf("%.1f\n", now_us() - t0);
			free(r);
		}
		snprintf(params, sizeof(params), "{\"browserContextId\":\"%s\"}", ctxid);
		free(call(&c, NULL, "Target.disposeBrowserContext", params));
	}
	lws_context_destroy(c.ctx);
	return 0;
}
