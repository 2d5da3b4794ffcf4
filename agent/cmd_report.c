/*
 * idlcm-agent report <run-id|dir>: one self-contained HTML page from a
 * failed run's evidence folder — the error, the steps with their timings,
 * the screenshot (inlined as a data: URI), the last CDP frames, the
 * page's HTML and its frames' (frame-N.html) — written next to the
 * evidence as report.html.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "log.h"

#define EVIDENCE_MAX (64u << 20)
#define FRAME_SHOWN 3000	/* characters of each CDP frame shown */

/* The whole file, or NULL (errno set).  NUL-terminated; *len its size. */
static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[4200];
	FILE *f;
	char *buf;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	buf = malloc(EVIDENCE_MAX + 1);
	n = buf ? fread(buf, 1, EVIDENCE_MAX, f) : 0;
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* Text into HTML: escaped, and redacted once more on the way out. */
static void put_text(FILE *f, const char *s, size_t max)
{
	size_t n = strlen(s);
	char *clean = secret_redact(s, n < max ? n : max, &n);

	for (size_t i = 0; clean && i < n; i++) {
		switch (clean[i]) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(clean[i], f);
		}
	}
	if (strlen(s) > max)
		fputs("…", f);
	free(clean);
}

static void put_base64(FILE *f, const unsigned char *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		fputc(tab[(v >> 18) & 63], f);
		fputc(tab[(v >> 12) & 63], f);
		fputc(i + 1 < n ? tab[(v >> 6) & 63] : '=', f);
		fputc(i + 2 < n ? tab[v & 63] : '=', f);
	}
}

static const char *jstr(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
	return s ? s : "";
}

static double jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char CSS[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;"
	"padding:0 1em;color:#1d2125}h1{font-size:1.5em;margin-bottom:.2em}"
	"h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}"
	".meta{color:#555}.error{background:#fdecea;border-left:4px solid #c62828;"
	"padding:.7em 1em;white-space:pre-wrap;font-family:ui-monospace,monospace}"
	"table{border-collapse:collapse;width:100%}td,th{padding:.25em .5em;"
	"border-bottom:1px solid #eee;text-align:left;vertical-align:top}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"tr.failed{background:#fdecea}.bar{background:#90caf9;height:.8em;min-width:1px}"
	"tr.failed .bar{background:#e57373}td.result{min-width:16em}code,pre{font-family:ui-monospace,monospace;"
	"font-size:12px}pre{white-space:pre-wrap;word-break:break-all;margin:0}"
	"img.screenshot{max-width:100%;border:1px solid #ccc}"
	"ol.frames li{margin-bottom:.3em}.sent{color:#1565c0}.recv{color:#2e7d32}"
	".none{color:#888;font-style:italic}";

static void put_steps(FILE *f, const cJSON *doc)
{
	const cJSON *steps = cJSON_GetObjectItem(doc, "steps"), *s;
	double longest = 1;
	int i = 0;

	fputs("<h2>Steps</h2>\n", f);
	if (!cJSON_GetArraySize(steps)) {
		fputs("<p class=\"none\">no page steps were recorded</p>\n", f);
		return;
	}
	cJSON_ArrayForEach(s, steps)
		if (jnum(s, "duration") > longest)
			longest = jnum(s, "duration");
	fputs("<table class=\"steps\"><tr><th>#</th><th>phase</th><th>step</th>"
	      "<th>target</th><th>script line</th><th>start ms</th><th>ms</th>"
	      "<th></th><th>result</th></tr>\n", f);
	cJSON_ArrayForEach(s, steps) {
		int ok = cJSON_IsTrue(cJSON_GetObjectItem(s, "ok"));
		fprintf(f, "<tr class=\"%s\"><td class=\"n\">%d</td><td>", ok ? "ok" : "failed", ++i);
		put_text(f, jstr(s, "phase"), 200);
		fputs("</td><td><code>", f);
		put_text(f, jstr(s, "name"), 200);
		fputs("</code></td><td><code>", f);
		put_text(f, jstr(s, "target"), 300);
		fputs("</code></td><td><code>", f);
		put_text(f, jstr(s, "where"), 300);
		fprintf(f, "</code></td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td>"
			"<td style=\"width:80px\"><div class=\"bar\" style=\"width:%.0f%%\">"
			"</div></td><td class=\"result\">", jnum(s, "start"), jnum(s, "duration"),
			100.0 * jnum(s, "duration") / longest);
		if (ok)
			fputs("ok", f);
		else
			put_text(f, jstr(s, "error"), 2000);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void put_frames(FILE *f, const char *text)
{
	cJSON *frames = text ? cJSON_Parse(text) : NULL, *fr;

	fputs("<h2>Last CDP frames</h2>\n", f);
	if (!cJSON_GetArraySize(frames)) {
		fputs("<p class=\"none\">no frames were saved</p>\n", f);
		cJSON_Delete(frames);
		return;
	}
	fputs("<ol class=\"frames\">\n", f);
	cJSON_ArrayForEach(fr, frames) {
		const char *s = cJSON_GetStringValue(fr);
		if (!s)
			continue;
		fprintf(f, "<li class=\"%s\"><pre>", s[0] == '>' ? "sent" : "recv");
		put_text(f, s, FRAME_SHOWN);
		fputs("</pre></li>\n", f);
	}
	fputs("</ol>\n", f);
	cJSON_Delete(frames);
}

/* frame-1.html …: the documents of the page's same-origin frames. */
static void put_frame_docs(FILE *f, const char *dir)
{
	for (int i = 1; i <= 99; i++) {
		char name[32];
		size_t len = 0;
		char *doc;

		snprintf(name, sizeof(name), "frame-%d.html", i);
		doc = slurp(dir, name, &len);
		if (!doc)
			break;
		fprintf(f, "<details><summary>%s (%zu bytes)</summary><pre>", name, len);
		put_text(f, doc, EVIDENCE_MAX);
		fputs("</pre></details>\n", f);
		free(doc);
	}
}

static int write_report(const char *dir, const char *out, char *err, size_t errlen)
{
	size_t png_len = 0, html_len = 0;
	char *error = slurp(dir, "error.txt", NULL);
	char *steps_text = slurp(dir, "steps.json", NULL);
	char *frames = slurp(dir, "cdp-frames.json", NULL);
	char *png = slurp(dir, "failure.png", &png_len);
	char *html = slurp(dir, "page.html", &html_len);
	cJSON *doc = steps_text ? cJSON_Parse(steps_text) : NULL;
	const char *run = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	char tmp[4200];
	FILE *f;
	int rc = -1;

	if (!error && !doc && !png && !frames) {
		snprintf(err, errlen, "%s holds no failure evidence (error.txt, steps.json, "
			 "failure.png, cdp-frames.json)", dir);
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>idlcm run ", f);
	put_text(f, run, 200);
	fprintf(f, "</title>\n<style>%s</style></head><body>\n<h1>Run <code>", CSS);
	put_text(f, run, 200);
	fputs("</code> failed</h1>\n<p class=\"meta\">", f);
	if (doc) {
		const cJSON *user = cJSON_GetObjectItem(doc, "user");
		fputs("script <code>", f);
		put_text(f, jstr(doc, "script"), 500);
		fputs("</code>, action <code>", f);
		put_text(f, jstr(doc, "action"), 100);
		fputs("</code>", f);
		if (*jstr(user, "email") || *jstr(user, "username")) {
			fputs(", user <code>", f);
			put_text(f, *jstr(user, "email") ? jstr(user, "email") : jstr(user, "username"), 300);
			fputs("</code>", f);
		}
		if (*jstr(doc, "error_class")) {
			fputs(", error class <b>", f);
			put_text(f, jstr(doc, "error_class"), 100);
			fputs("</b>", f);
		}
	}
	fputs("</p>\n<h2>Error</h2>\n<div class=\"error\" id=\"error\">", f);
	put_text(f, error ? error : (doc ? jstr(doc, "error") : "(no error.txt)"), 20000);
	fputs("</div>\n", f);

	put_steps(f, doc);

	fputs("<h2>Screenshot</h2>\n", f);
	if (png && png_len > 8 && !memcmp(png, "\x89PNG", 4)) {
		fputs("<img class=\"screenshot\" id=\"screenshot\" alt=\"the page when the "
		      "job failed\" src=\"data:image/png;base64,", f);
		put_base64(f, (const unsigned char *)png, png_len);
		fputs("\">\n", f);
		/* IHDR width and height: a replay's stand-in is 1×1 */
		if (png_len > 24 && !memcmp(png + 12, "IHDR", 4) &&
		    !memcmp(png + 16, "\0\0\0\1\0\0\0\1", 8))
			fputs("<p class=\"none\">a replayed run: cassettes keep no screenshots "
			      "(record the job again to see the page)</p>\n", f);
	} else {
		fputs("<p class=\"none\">no screenshot was saved</p>\n", f);
	}

	put_frames(f, frames);

	fputs("<h2>Page HTML</h2>\n", f);
	if (html) {
		fprintf(f, "<details><summary>page.html (%zu bytes)</summary><pre>", html_len);
		put_text(f, html, EVIDENCE_MAX);
		fputs("</pre></details>\n", f);
	} else {
		fputs("<p class=\"none\">no page HTML was saved</p>\n", f);
	}
	put_frame_docs(f, dir);
	fputs("<p class=\"meta\">evidence folder: <code>", f);
	put_text(f, dir, 1000);
	fputs("</code></p>\n</body></html>\n", f);
	if (fclose(f)) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		remove(tmp);
		goto out;
	}
	if (rename(tmp, out)) {
		snprintf(err, errlen, "cannot write %s: %s", out, strerror(errno));
		remove(tmp);
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(doc);
	free(error);
	free(steps_text);
	free(frames);
	free(png);
	free(html);
	return rc;
}

static int is_dir(const char *p)
{
	struct stat st;
	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

int cmd_report(int argc, char **argv)
{
	const char *runs = getenv("IDLCM_RUNS_DIR") ? getenv("IDLCM_RUNS_DIR") : "runs";
	const char *which = NULL, *out = NULL;
	char dir[2100], path[2200], err[4400];

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--runs-dir") || !strcmp(argv[i], "--out")) {
			if (!v)
				cli_usage_error("%s wants a %s", argv[i],
						argv[i][2] == 'r' ? "directory" : "file");
			if (argv[i][2] == 'r')
				runs = v;
			else
				out = v;
			i++;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			cli_usage_error("report: unknown option \"%s\"", argv[i]);
		} else if (!which) {
			which = argv[i];
		} else {
			cli_usage_error("report: unexpected argument \"%s\"", argv[i]);
		}
	}
	if (!which)
		cli_usage_error("usage: idlcm-agent report <run-id|dir> [--runs-dir DIR] "
				"[--out FILE]");
	snprintf(dir, sizeof(dir), "%s", which);
	while (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
		dir[strlen(dir) - 1] = '\0';
	if (!is_dir(dir)) {
		snprintf(dir, sizeof(dir), "%s/%s", runs, which);
		if (!is_dir(dir)) {
			fprintf(stderr, "idlcm-agent: no run \"%s\" (neither a directory nor "
				"%s/%s)\n", which, runs, which);
			return EXIT_USAGE;
		}
	}
	if (!out) {
		snprintf(path, sizeof(path), "%s/report.html", dir);
		out = path;
	}
	if (write_report(dir, out, err, sizeof(err))) {
		fprintf(stderr, "idlcm-agent: %s\n", err);
		return EXIT_JOB_FAILED;
	}
	printf("%s\n", out);
	return 0;
}
