/*
 * plainhttp: the GET a job uses for a DevTools endpoint's /json/version,
 * against a real socket server in a child process: the answer, its
 * status, the size cap, a server that never answers, and bad URLs.
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "plainhttp.h"
#include "test.h"

static int srv_fd, srv_port;
static pid_t srv_pid;

/* A server that answers each connection with `answer` (NULL: silence). */
static void serve(const char *answer)
{
	struct sockaddr_in a = { 0 };
	socklen_t al = sizeof(a);

	srv_fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT(!bind(srv_fd, (struct sockaddr *)&a, sizeof(a)));
	ASSERT(!listen(srv_fd, 4));
	getsockname(srv_fd, (struct sockaddr *)&a, &al);
	srv_port = ntohs(a.sin_port);
	srv_pid = fork();
	if (srv_pid == 0) {
		for (;;) {
			char req[2048];
			int c = accept(srv_fd, NULL, NULL);
			if (c < 0)
				_exit(0);
			if (read(c, req, sizeof(req)) <= 0 || strncmp(req, "GET /json/version HTTP/1.1\r\n", 28))
				_exit(3);
			if (!answer) {
				sleep(30);
				_exit(0);
			}
			if (write(c, answer, strlen(answer)) < 0)
				_exit(4);
			if (strstr(answer, "Content-Length:"))
				sleep(30);	/* as DevTools does: open after the answer */
			close(c);
		}
	}
	close(srv_fd);
}

static void stop(void)
{
	kill(srv_pid, SIGKILL);
	waitpid(srv_pid, NULL, 0);
}

static int get(size_t limit, int timeout_ms, char **body, size_t *len, int *status,
	       char *err, size_t errlen)
{
	char url[100];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/json/version", srv_port);
	return plainhttp_get(url, timeout_ms, limit, body, len, status, err, errlen);
}

static void test_answer_and_status(void)
{
	char *body = NULL, err[300] = "";
	size_t len = 0;
	int status = 0;

	serve("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length:27\r\n\r\n"
	      "{\"webSocketDebuggerUrl\":1}\n");
	int rc = get(1 << 20, 3000, &body, &len, &status, err, sizeof(err));
	stop();
	ASSERT_INT_EQ(rc, 0);
	ASSERT_INT_EQ(status, 200);
	ASSERT_STR_EQ(body, "{\"webSocketDebuggerUrl\":1}\n");
	ASSERT_INT_EQ(len, 27);
	free(body);

	serve("HTTP/1.1 404 Not Found\r\n\r\nno");
	rc = get(1 << 20, 3000, &body, &len, &status, err, sizeof(err));
	stop();
	ASSERT_INT_EQ(rc, 0);
	ASSERT_INT_EQ(status, 404);
	free(body);
}

static void test_refuses_what_is_not_http(void)
{
	char *body = NULL, err[300] = "";
	size_t len;
	int status;

	serve("SSH-2.0-OpenSSH_9.2\r\n");
	int rc = get(1 << 20, 3000, &body, &len, &status, err, sizeof(err));
	stop();
	ASSERT_INT_EQ(rc, -1);
	ASSERT_STR_CONTAINS(err, "did not answer HTTP");
	ASSERT(!body);
}

static void test_size_cap(void)
{
	static char big[300000];
	char *body = NULL, err[300] = "";
	size_t len;
	int status;

	strcpy(big, "HTTP/1.1 200 OK\r\n\r\n");
	memset(big + strlen(big), 'x', sizeof(big) - strlen(big) - 1);
	serve(big);
	int rc = get(1000, 3000, &body, &len, &status, err, sizeof(err));
	stop();
	ASSERT_INT_EQ(rc, -1);
	ASSERT_STR_CONTAINS(err, "more than 1000 bytes");
}

static void test_silent_server_times_out(void)
{
	char *body = NULL, err[300] = "";
	size_t len;
	int status;

	serve(NULL);
	int rc = get(1 << 20, 300, &body, &len, &status, err, sizeof(err));
	stop();
	ASSERT_INT_EQ(rc, -1);
	ASSERT_STR_CONTAINS(err, "no answer within 300 ms");
}

static void test_bad_urls_and_refused_port(void)
{
	const char *bad[] = { "https://127.0.0.1:9/", "http://", "http://:80/", "http://[::1/",
			      "http://host:/x", "ftp://a/" };
	char *body, err[300];
	size_t len;
	int status;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_INT_EQ(plainhttp_get(bad[i], 500, 100, &body, &len, &status, err, sizeof(err)), -1);
		ASSERT_STR_CONTAINS(err, "not an http://host:port/ URL");
	}
	serve("HTTP/1.0 200 OK\r\n\r\n");
	stop();		/* the port is free again: refused */
	ASSERT_INT_EQ(get(100, 500, &body, &len, &status, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "cannot connect to 127.0.0.1:");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	TEST_RUN(test_answer_and_status);
	TEST_RUN(test_refuses_what_is_not_http);
	TEST_RUN(test_size_cap);
	TEST_RUN(test_silent_server_times_out);
	TEST_RUN(test_bad_urls_and_refused_port);
	return TEST_REPORT();
}
