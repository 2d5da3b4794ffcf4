/* plainhttp: one plain-HTTP GET with a deadline (see include/plainhttp.h). */
#include <ctype.h>
#include <errno.h>
#include <strings.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "plainhttp.h"

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for ev until the deadline: 1, 0 at the deadline. */
static int wait_fd(int fd, short ev, long long until)
{
	for (;;) {
		struct pollfd p = { fd, ev, 0 };
		long long left = until - mono_ms();
		int rc;
		if (left <= 0)
			return 0;
		rc = poll(&p, 1, (int)left);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

/* "http://host:port/path" → host, port, path ("[::1]" for IPv6). */
static int split_url(const char *url, char *host, size_t hn, char *port,
		     size_t pn, const char **path)
{
	const char *h = url + 7, *end, *colon;
	size_t n;

	if (strncmp(url, "http://", 7))
		return -1;
	end = h + strcspn(h, "/?#");
	*path = *end == '/' ? end : "/";
	if (*h == '[') {		/* [v6]:port */
		const char *close = memchr(h, ']', (size_t)(end - h));
		if (!close)
			return -1;
		n = (size_t)(close - h - 1);
		colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
		h++;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		n = (size_t)((colon ? colon : end) - h);
	}
	if (!n || n >= hn)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	n = colon ? (size_t)(end - colon - 1) : 2;
	if (!n || n >= pn)
		return -1;
	if (colon) {
		memcpy(port, colon + 1, n);
		port[n] = '\0';
	} else {
		snprintf(port, pn, "80");
	}
	return 0;
}

static int connect_by(const char *host, const char *port, long long until,
		      char *err, size_t errlen)
{
	struct addrinfo hints = { 0 }, *res = NULL, *ai;
	int fd = -1, rc;

	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res))) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	snprintf(err, errlen, "cannot connect to %s:%s", host, port);
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		int e = 0;
		socklen_t el = sizeof(e);
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
			e = errno;
		else if (wait_fd(fd, POLLOUT, until) != 1)
			e = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el))
			e = errno;
		if (e) {
			snprintf(err, errlen, "cannot connect to %s:%s: %s", host, port,
				 strerror(e));
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* Whether buf holds the whole answer: DevTools keeps the connection open
 * despite "Connection: close", so its Content-Length says when to stop. */
static int answer_complete(const char *buf, size_t have)
{
	const char *sep = strstr(buf, "\r\n\r\n"), *h;
	size_t head;

	if (!sep)
		return 0;
	head = (size_t)(sep + 4 - buf);
	for (h = strstr(buf, "\r\n"); h && h < sep; h = strstr(h + 2, "\r\n")) {
		if (!strncasecmp(h + 2, "content-length:", 15)) {
			const char *v = h + 17;
			char *end;
			unsigned long long n;
			while (*v == ' ' || *v == '\t')
				v++;
			if (!isdigit((unsigned char)*v))
				return 0;
			n = strtoull(v, &end, 10);
			return have - head >= n;
		}
	}
	return 0;	/* no length: the server's close ends it */
}

int plainhttp_get(const char *url, int timeout_ms, size_t limit, char **body,
		  size_t *len, int *status, char *err, size_t errlen)
{
	long long until = mono_ms() + (timeout_ms > 0 ? timeout_ms : 5000);
	char host[256], port[16], req[1600];
	const char *path, *sep;
	char *buf = NULL;
	size_t have = 0, cap = 0, head;
	int fd, n, major, minor;

	*body = NULL;
	*len = 0;
	*status = 0;
	if (split_url(url, host, sizeof(host), port, sizeof(port), &path)) {
		snprintf(err, errlen, "not an http://host:port/ URL: \"%s\"", url);
		return -1;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%s\r\n"
		     "Accept: application/json\r\nConnection: close\r\n\r\n", path, host, port);
	if (n < 0 || (size_t)n >= sizeof(req)) {
		snprintf(err, errlen, "URL too long: \"%.100s…\"", url);
		return -1;
	}
	if ((fd = connect_by(host, port, until, err, errlen)) < 0)
		return -1;
	for (int off = 0; off < n;) {
		ssize_t w;
		if (wait_fd(fd, POLLOUT, until) != 1)
			goto timeout;
		w = send(fd, req + off, (size_t)(n - off), MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			goto io;
		off += w > 0 ? (int)w : 0;
	}
	for (;;) {
		ssize_t r;
		if (have + 4096 + 1 > cap) {
			char *nb;
			if (have > limit + 65536) {
				snprintf(err, errlen, "answered more than %zu bytes", limit);
				goto fail;
			}
			cap = cap ? cap * 2 : 8192;
			if (!(nb = realloc(buf, cap))) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			buf = nb;
		}
		if (wait_fd(fd, POLLIN, until) != 1)
			goto timeout;
		r = recv(fd, buf + have, cap - have - 1, 0);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			goto io;
		}
		have += (size_t)r;
		buf[have] = '\0';
		if (answer_complete(buf, have))
			break;
	}
	close(fd);
	fd = -1;
	if (!buf) {
		snprintf(err, errlen, "closed the connection without an answer");
		return -1;
	}
	buf[have] = '\0';
	sep = strstr(buf, "\r\n\r\n");
	if (sscanf(buf, "HTTP/%d.%d %d", &major, &minor, status) != 3 || !sep) {
		snprintf(err, errlen, "did not answer HTTP");
		free(buf);
		return -1;
	}
	head = (size_t)(sep + 4 - buf);
	if (have - head > limit) {
		snprintf(err, errlen, "answered more than %zu bytes", limit);
		free(buf);
		return -1;
	}
	memmove(buf, buf + head, have - head + 1);
	*body = buf;
	*len = have - head;
	return 0;
timeout:
	snprintf(err, errlen, "no answer within %d ms", timeout_ms);
	goto fail;
io:
	snprintf(err, errlen, "%s", strerror(errno));
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return -1;
}
