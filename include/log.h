#ifndef IDLCM_LOG_H
#define IDLCM_LOG_H
/*
 * log: one line per event on stderr, with a timestamp and level, control
 * bytes escaped, and every registered secret replaced by "[redacted]" —
 * redaction happens here, once, so no call site can forget it.
 */
#include <stddef.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "error" | "warn" | "info" | "debug"; -1 if unknown. */
int log_parse_level(const char *name);

/* --log-format: text (the default) or json, one object per line with
 * ts, level, component, pid, msg and the fields the message is about
 * (job, app, action, attempt, the caller's own) — for log shippers. */
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };
void log_set_format(enum log_format format);
enum log_format log_get_format(void);
/* Parse "text" | "json"; -1 if unknown. */
int log_parse_format(const char *name);
/* What this process is in the JSON records ("worker", "job", "run",
 * "coordinator"); name must outlive the process (a literal). */
void log_set_component(const char *name);
/* Text records as "prog: msg" ("prog: warning: msg") with no timestamp
 * or pid: the coordinator's style.  prog must be a literal. */
void log_set_text_prefix(const char *prog);

/* The jobs a record may name: "job ID: …" gets ID's app, action and
 * attempt as JSON fields.  log_job_current(ID) makes ID the job of every
 * record of this process (a job child); NULL ends that. */
void log_job_note(const char *id, const char *app, const char *action, int attempt);
void log_job_forget(const char *id);
void log_job_current(const char *id);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* An emitter for lws_set_log_level(): libwebsockets' lines as records. */
void log_lws_line(int level, const char *line);
/* The same with fields for the JSON record: kv is NULL-terminated
 * key, value pairs (values redacted); text records show only the message. */
void log_msg_kv(enum log_level level, const char *const *kv, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A script's print / log.<level>: info shows at the default level too. */
void log_script(enum log_level level, const char *msg);
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Secrets: values that must never be written anywhere in clear.  Values
 * shorter than 4 bytes are ignored (they would redact ordinary text). */
void secret_register(const char *value);
/* The same, with a name for its placeholder ("account.password"). */
void secret_register_as(const char *value, const char *label);
void secret_clear_all(void);
/* A malloc'd copy of s with every registered secret replaced. */
char *secret_redact(const char *s, size_t len, size_t *out_len);
/* A malloc'd copy of s with every secret (as is, or JSON-escaped) replaced
 * by a stable placeholder: "{{secret:LABEL}}", or "{{secret:N}}" (the
 * N-th registered) — what cassettes store, and what replay compares. */
char *secret_placeholder(const char *s, size_t len, size_t *out_len);
/* True when s contains a registered secret. */
int secret_present(const char *s, size_t len);
#endif
