/*
 * cdp_ws: the live transport — one libwebsockets client connection to the
 * browser's DevTools endpoint.  lws is event-driven; we make it blocking by
 * servicing the context until the thing we wait for happens, with an lws
 * timer (sul) to wake the loop at our deadline, since lws 4.x ignores the
 * timeout given to lws_service().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "cdp.h"
#include "log.h"

#define WS_MESSAGE_LIMIT (64u << 20)	/* a full-page screenshot fits */

/* IDLCM_CDP_MAX_MESSAGE (bytes, at least 64 KiB) overrides the cap. */
static size_t ws_message_limit(void)
{
	const char *v = getenv("IDLCM_CDP_MAX_MESSAGE");
	char *end;
	unsigned long long n = v ? strtoull(v, &end, 10) : 0;

	if (!v || end == v || *end || n < 65536 || n > (1ull << 32))
		return WS_MESSAGE_LIMIT;
	return (size_t)n;
}

struct ws_msg {
	struct ws_msg *next;
	size_t len;
	char *data;			/* outbound: LWS_PRE headroom first */
};

struct ws_transport {
	struct cdp_transport base;
	struct lws_context *ctx;
	struct lws *wsi;
	lws_sorted_usec_list_t wake;
	struct cdp_msgbuf rx;
	struct ws_msg *in_head, *in_tail;
	struct ws_msg *out_head, *out_tail;
	int established, closed;
	char error[256];
	char host[256], path[1024], hosthdr[300];
};

static void queue_push(struct ws_msg **head, struct ws_msg **tail,
		       struct ws_msg *m)
{
	m->next = NULL;
	if (*tail)
		(*tail)->next = m;
	else
		*head = m;
	*tail = m;
}

static struct ws_msg *queue_pop(struct ws_msg **head, struct ws_msg **tail)
{
	struct ws_msg *m = *head;
	if (m) {
		*head = m->next;
		if (!*head)
			*tail = NULL;
	}
	return m;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
		       void *user, void *in, size_t len)
{
	struct ws_transport *t = lws_get_opaque_user_data(wsi);

	if (!t)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		t->established = 1;
		if (t->out_head)
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		snprintf(t->error, sizeof(t->error), "%s",
			 in ? (const char *)in : "connection failed");
		t->closed = 1;
		t->wsi = NULL;
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE: {
		struct ws_msg *m;
		char *data;
		size_t n;
		int rc = cdp_msgbuf_frame(&t->rx, in, len,
					  lws_is_final_fragment(wsi) &&
					  !lws_remaining_packet_payload(wsi), &data, &n);
		if (rc == -1) {
			log_warn("cdp: dropped a message over the cap of %zu bytes%s",
				 t->rx.limit, t->rx.dropped_reply ? "; its command fails" : "");
			/* a reply over the cap fails its command now */
			m = t->rx.dropped_reply ? calloc(1, sizeof(*m)) : NULL;
			if (m) {
				m->data = t->rx.dropped_reply;
				m->len = strlen(m->data);
				t->rx.dropped_reply = NULL;
				queue_push(&t->in_head, &t->in_tail, m);
			}
		}
		if (rc == -2)
			log_warn("cdp: out of memory reading a message");
		if (rc != 1)
			break;
		m = calloc(1, sizeof(*m));
		if (!m) {
			free(data);
			break;
		}
		m->data = data;
		m->len = n;
		queue_push(&t->in_head, &t->in_tail, m);
		break;
	}
	case LWS_CALLBACK_CLIENT_WRITEABLE: {
		struct ws_msg *m = queue_pop(&t->out_head, &t->out_tail);
		if (!m)
			break;
		if (lws_write(wsi, (unsigned char *)m->data + LWS_PRE, m->len,
			      LWS_WRITE_TEXT) < (int)m->len) {
			snprintf(t->error, sizeof(t->error), "write failed");
			free(m->data);
			free(m);
			return -1;
		}
		free(m->data);
		free(m);
		if (t->out_head)
			lws_callback_on_writable(wsi);
		break;
	}
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (!t->error[0])
			snprintf(t->error, sizeof(t->error),
				 "the browser closed the connection");
		t->closed = 1;
		t->wsi = NULL;
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		if (!t->closed && !t->error[0])
			snprintf(t->error, sizeof(t->error), "connection closed");
		t->closed = 1;
		t->wsi = NULL;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols ws_protocols[] = {
	{ "idlcm-cdp", ws_callback, 0, 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void ws_wake(lws_sorted_usec_list_t *sul) { (void)sul; }

/* Service lws until done(t) or ms pass. */
static void ws_service_until(struct ws_transport *t, int ms,
			     int (*done)(struct ws_transport *))
{
	int64_t until = cdp_wall_ms() + ms;
	while (!done(t) && !t->closed) {
		int64_t left = until - cdp_wall_ms();
		if (left <= 0)
			break;
		lws_sul_schedule(t->ctx, 0, &t->wake, ws_wake,
				 left * LWS_US_PER_MS);
		if (lws_service(t->ctx, 0) < 0) {
			/* the context is unusable: say so, or callers would spin */
			if (!t->error[0])
				snprintf(t->error, sizeof(t->error), "websocket service failed");
			t->closed = 1;
			break;
		}
	}
	lws_sul_cancel(&t->wake);
}

static int have_input(struct ws_transport *t) { return t->in_head != NULL; }
static int is_established(struct ws_transport *t) { return t->established; }

static int ws_send(struct cdp_transport *base, const char *msg, size_t len,
		   char *err, size_t errlen)
{
	struct ws_transport *t = (struct ws_transport *)base;
	struct ws_msg *m;

	if (t->closed || !t->wsi) {
		snprintf(err, errlen, "%s", t->error[0] ? t->error : "not connected");
		return -1;
	}
	m = calloc(1, sizeof(*m));
	if (!m || !(m->data = malloc(LWS_PRE + len))) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(m->data + LWS_PRE, msg, len);
	m->len = len;
	queue_push(&t->out_head, &t->out_tail, m);
	lws_callback_on_writable(t->wsi);
	return 0;
}

static int ws_recv(struct cdp_transport *base, char **msg, size_t *len,
		   int timeout_ms, char *err, size_t errlen)
{
	struct ws_transport *t = (struct ws_transport *)base;
	struct ws_msg *m;

	if (!t->in_head && !t->closed)
		ws_service_until(t, timeout_ms, have_input);
	m = queue_pop(&t->in_head, &t->in_tail);
	if (m) {
		*msg = m->data;
		*len = m->len;
		free(m);
		return 1;
	}
	if (t->closed) {
		snprintf(err, errlen, "%s", t->error[0] ? t->error : "connection closed");
		return -1;
	}
	return 0;
}

static int64_t ws_now(struct cdp_transport *base)
{
	(void)base;
	return cdp_wall_ms();
}

static void ws_free(struct cdp_transport *base)
{
	struct ws_transport *t = (struct ws_transport *)base;
	struct ws_msg *m;

	if (t->ctx)
		lws_context_destroy(t->ctx);	/* closes the socket */
	while ((m = queue_pop(&t->in_head, &t->in_tail))) {
		free(m->data);
		free(m);
	}
	while ((m = queue_pop(&t->out_head, &t->out_tail))) {
		free(m->data);
		free(m);
	}
	cdp_msgbuf_release(&t->rx);
	free(t);
}

static const struct cdp_transport_ops ws_ops = {
	"websocket", ws_send, ws_recv, ws_now, ws_free, NULL, NULL, NULL
};

struct cdp_transport *cdp_ws_connect(const char *url, int timeout_ms,
				     char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	struct lws_client_connect_info cc;
	struct ws_transport *t;
	char buf[1400];
	const char *proto = NULL, *addr = NULL, *path = NULL;
	int port = 0, tls;

	if (strlen(url) >= sizeof(buf)) {
		snprintf(err, errlen, "browser url too long");
		return NULL;
	}
	snprintf(buf, sizeof(buf), "%s", url);
	if (lws_parse_uri(buf, &proto, &addr, &port, &path) ||
	    (strcmp(proto, "ws") && strcmp(proto, "wss")) || !*addr) {
		snprintf(err, errlen, "not a ws:// url: \"%s\"", url);
		return NULL;
	}
	tls = !strcmp(proto, "wss");

	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->base.ops = &ws_ops;
	cdp_msgbuf_init(&t->rx, ws_message_limit());
	snprintf(t->host, sizeof(t->host), "%s", addr);
	snprintf(t->path, sizeof(t->path), "/%s", path);
	snprintf(t->hosthdr, sizeof(t->hosthdr), "%s:%d", addr, port);

	lws_set_log_level(log_get_level() >= LOG_DEBUG ? LLL_ERR | LLL_WARN : 0,
			  log_lws_line);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = ws_protocols;
	info.fd_limit_per_thread = 16;
	info.gid = -1;
	info.uid = -1;
	if (tls)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	t->ctx = lws_create_context(&info);
	if (!t->ctx) {
		snprintf(err, errlen, "cannot create websocket context");
		ws_free(&t->base);
		return NULL;
	}

	memset(&cc, 0, sizeof(cc));
	cc.context = t->ctx;
	cc.address = t->host;
	cc.port = port;
	cc.path = t->path;
	cc.host = t->hosthdr;
	cc.origin = NULL;	/* Chromium refuses upgrades carrying an Origin */
	cc.protocol = NULL;
	cc.local_protocol_name = ws_protocols[0].name;
	cc.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
	cc.opaque_user_data = t;
	cc.pwsi = &t->wsi;
	if (!lws_client_connect_via_info(&cc)) {
		snprintf(err, errlen, "cannot connect to %s: %s", url,
			 t->error[0] ? t->error : "connection failed");
		ws_free(&t->base);
		return NULL;
	}
	ws_service_until(t, timeout_ms, is_established);
	if (!t->established) {
		snprintf(err, errlen, "cannot connect to %s: %s", url,
			 t->error[0] ? t->error : "timed out");
		ws_free(&t->base);
		return NULL;
	}
	return &t->base;
}
