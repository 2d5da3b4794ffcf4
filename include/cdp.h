#ifndef IDLCM_CDP_H
#define IDLCM_CDP_H
/*
 * cdp: one DevTools connection to the browser.  Commands get ids and wait
 * for their reply with a per-command timeout; flat sessions are routed by
 * sessionId; events queue per session until someone waits for them.  The
 * bytes travel through a transport (live WebSocket, recorder, replayer).
 */
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* ---- transport: how whole messages move; the rest of cdp never knows. */
struct cdp_transport;
struct cdp_transport_ops {
	const char *name;
	/* Queue one whole text message. 0, or -1 with err. */
	int (*send)(struct cdp_transport *, const char *msg, size_t len,
		    char *err, size_t errlen);
	/* Wait up to timeout_ms for one whole message.  1: *msg is malloc'd
	 * (NUL-terminated, caller frees); 0: timeout; -1: closed (err says why). */
	int (*recv)(struct cdp_transport *, char **msg, size_t *len,
		    int timeout_ms, char *err, size_t errlen);
	/* Milliseconds on this transport's clock: the wall clock when live,
	 * the recording's clock on replay, so timeouts replay as they ran. */
	int64_t (*now_ms)(struct cdp_transport *);
	void (*free)(struct cdp_transport *);
	/* Optional: Unix-epoch milliseconds (NULL: the real clock); a replay
	 * answers with the recording's, so timestamps and TOTP replay too. */
	int64_t (*epoch_ms)(struct cdp_transport *);
	/* Optional: the time as the script reads it (clock.now).  Scripts put
	 * it into commands (a wait's remaining budget), so the recorder notes
	 * each read and the replayer answers with the noted value.  NULL:
	 * now_ms. */
	int64_t (*script_now_ms)(struct cdp_transport *);
	/* Optional: data the job read outside the protocol (a downloaded
	 * file), so a replay gets it too.  The recorder keeps a copy of data;
	 * the replayer ignores data and returns the recorded copy named name
	 * (malloc'd), or NULL when the cassette holds none.  NULL op: the
	 * live data is used as is. */
	char *(*host_data)(struct cdp_transport *, const char *name, const char *data,
			   size_t len, size_t *outlen);
};
/* send() returns this (not -1) when a replay has no such command: the
 * call fails with CDP_ERR_REPLAY and err says what was expected. */
#define CDP_TRANSPORT_DIVERGED (-2)
struct cdp_transport {
	const struct cdp_transport_ops *ops;
};

/* The live transport: a WebSocket to ws://host:port/devtools/browser/… */
struct cdp_transport *cdp_ws_connect(const char *url, int timeout_ms,
				     char *err, size_t errlen);
int64_t cdp_wall_ms(void);	/* monotonic milliseconds */

/* ---- reassembly of a message that arrives in fragments, capped. */
struct cdp_msgbuf {
	char *data;
	size_t len, cap, limit;
	int overflow;		/* the message outgrew limit (2: memory); dropped */
	char head[64];		/* its first bytes: enough to read a reply's id */
	size_t head_len, seen;	/* ... and how many bytes came in all */
	/* After cdp_msgbuf_frame said -1: an error reply for the dropped
	 * message's command when it was a reply (the caller takes it and
	 * sets this to NULL), so the command fails at once. */
	char *dropped_reply;
};
void cdp_msgbuf_init(struct cdp_msgbuf *, size_t limit);
/* Append a fragment; -1 once the message is over the limit. */
int cdp_msgbuf_append(struct cdp_msgbuf *, const void *data, size_t len);
/* Take the whole message (NUL-terminated, caller frees) and reset.  NULL
 * when it overflowed (the buffer resets for the next message too). */
char *cdp_msgbuf_take(struct cdp_msgbuf *, size_t *len);
/* One WebSocket frame of a message (final: the message ends with it).
 * 1: *msg is the whole message (NUL-terminated, caller frees); 0: more
 * frames to come; -1: the message ended over the limit and was dropped;
 * -2: it was dropped for want of memory. */
int cdp_msgbuf_frame(struct cdp_msgbuf *, const void *data, size_t len,
		     int final, char **msg, size_t *msglen);
void cdp_msgbuf_release(struct cdp_msgbuf *);
/* Before take: for a message that overflowed and is a reply, an error
 * reply with its id saying so (caller frees); NULL otherwise. */
char *cdp_msgbuf_oversize_reply(const struct cdp_msgbuf *);

/* ---- the connection */
enum cdp_err_kind {
	CDP_OK = 0,
	CDP_ERR_PROTOCOL,	/* the browser answered {error:{code,message}} */
	CDP_ERR_TIMEOUT,	/* no reply within the command's timeout */
	CDP_ERR_CLOSED,		/* connection gone, or the page crashed/detached */
	CDP_ERR_DEADLINE,	/* the job's wall-clock deadline passed */
	CDP_ERR_USAGE,		/* bad arguments from our side */
	CDP_ERR_REPLAY,		/* the command is not the cassette's next one */
};
struct cdp_error {
	enum cdp_err_kind kind;
	int code;		/* protocol error code */
	char message[512];
};
const char *cdp_err_kind_name(enum cdp_err_kind);

#define CDP_FRAME_RING 50	/* last frames kept for failure reports */

struct cdp_event;
struct cdp_session;
struct cdp_autoreply;
struct cdp_attacher;
struct confine;

struct cdp {
	struct cdp_transport *tr;
	int next_id;
	struct cdp_session *sessions;	/* event queues, "" = browser */
	struct cdp_autoreply *autoreplies;
	struct cdp_attacher *attachers;	/* sessions that auto-attach children */
	int closed;
	char close_reason[256];
	int64_t deadline_ms;		/* transport clock; 0 = none */
	/* A command that got no reply while nothing else came either: the
	 * browser stopped answering.  Later commands get a short probe
	 * instead of their whole timeout until anything arrives again. */
	int unresponsive;
	int64_t last_rx_ms;		/* wall clock of the last message in */
	size_t max_events;		/* per session; oldest dropped past it */
	char *ring[CDP_FRAME_RING];	/* "> {...}" sent / "< {...}" received */
	int ring_next;
	struct confine *confine;	/* the job's confinement (confine.h); owned */
	/* Sees every event first (set by confine_open); 1 = consumed. */
	int (*on_event)(struct cdp *, const char *session, const char *method,
			cJSON *params);

	long round_trips;		/* cdp_call()s sent: each waits a reply */
};

struct cdp *cdp_new(struct cdp_transport *tr);	/* takes tr */
/* Register as secrets the cookies and Authorization values a Network
 * event carries (agent/cdp_scrub.c); called before a frame is logged. */
void cdp_scrub_network(const char *method, const cJSON *params);
void cdp_free(struct cdp *);
int64_t cdp_now(struct cdp *);
int64_t cdp_epoch_ms(struct cdp *);	/* the transport's wall clock */
int64_t cdp_script_now(struct cdp *);	/* now, as clock.now() reads it */
/* Data read outside the protocol (a download), through the transport:
 * live, a copy of data; recording, the same and kept in the cassette;
 * replaying, the cassette's copy (data may be NULL).  Caller frees; NULL
 * when there is none (a replay whose cassette lacks it). */
char *cdp_host_data(struct cdp *, const char *name, const char *data, size_t len,
		    size_t *outlen);

/* Send method on session (NULL or "" = browser) and wait for its reply.
 * Takes params (may be NULL).  0: *result is the reply's result (caller
 * frees); -1: err filled. */
int cdp_call(struct cdp *, const char *session, const char *method,
	     cJSON *params, int timeout_ms, cJSON **result,
	     struct cdp_error *err);
/* Send without waiting; the reply is dropped when it comes. */
int cdp_send_async(struct cdp *, const char *session, const char *method,
		   cJSON *params, struct cdp_error *err);
/* Next queued or arriving event named method (NULL = any) on session.
 * 1: *event = {method, params, sessionId} (caller frees); 0: timeout;
 * -1: err (closed, crashed, deadline). */
int cdp_wait_event(struct cdp *, const char *session, const char *method,
		   int timeout_ms, cJSON **event, struct cdp_error *err);
/* Route incoming messages for ms (a sleep that keeps events flowing). */
int cdp_pump(struct cdp *, int ms, struct cdp_error *err);
/* Forget queued events on session named method (NULL = all). */
void cdp_drop_events(struct cdp *, const char *session, const char *method);
/* When event `on` arrives on session, send `method` with params at once,
 * from inside the receive loop (a native dialog blocks the page, and every
 * command after it, until answered).  params NULL removes the rule. */
int cdp_autoreply(struct cdp *, const char *session, const char *on,
		  const char *method, cJSON *params);
/* Frames from other sites (out-of-process iframes) and workers that
 * session's target starts are attached to it as flat sessions of their own
 * (Target.setAutoAttach, turned on here), each paused at its start until
 * this, from inside the receive loop, sends it setup (an array of
 * {"method","params"}, copied; NULL = none) and resumes it; its own
 * children get the same.  0, or -1 with err. */
int cdp_auto_attach(struct cdp *, const char *session, const cJSON *setup,
		    struct cdp_error *err);
/* One more setup step for the children that attach from now on below
 * session (which called cdp_auto_attach, or is one of its children): a
 * domain turned on in the page late must reach a frame attached later
 * before the frame runs, or its first events are lost.  Children already
 * attached are the caller's to set up.  0, or -1 when session attaches
 * nothing. */
int cdp_auto_attach_add_step(struct cdp *, const char *session, const char *method,
			     const cJSON *params);
/* The last frames in order, oldest first, as a JSON array of strings. */
cJSON *cdp_recent_frames(struct cdp *);
#endif
