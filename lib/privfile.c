/* privfile: the one reader of files that hold secrets. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privfile.h"

#define PRIVFILE_MAX 4096

char *privfile_read(const char *path, const char *what, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "cannot read the %s \"%s\": %s", what, path,
			 strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "the %s \"%s\" is not a regular file", what, path);
		return NULL;
	}
	if (st.st_mode & 077) {
		close(fd);
		snprintf(err, errlen, "the %s \"%s\" has mode %04o and can be read by group "
			 "or others; it must be 0600 (chmod 600 %s)", what, path,
			 (unsigned)(st.st_mode & 07777), path);
		return NULL;
	}
	buf = calloc(1, PRIVFILE_MAX + 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n = read(fd, buf, PRIVFILE_MAX + 1);
	close(fd);
	if (n < 0 || n > PRIVFILE_MAX) {
		snprintf(err, errlen, n < 0 ? "cannot read the %s \"%s\"" :
			 "the %s \"%s\" is larger than 4 KiB", what, path);
		privfile_free(buf);
		return NULL;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
			 buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "the %s \"%s\" is empty", what, path);
		privfile_free(buf);
		return NULL;
	}
	return buf;
}

void privfile_free(char *text)
{
	if (!text)
		return;
	/* volatile: the wipe must not be optimised away before free */
	for (volatile char *p = text; *p; p++)
		*p = 0;
	free(text);
}

const char *privfile_credential(const char *name)
{
	/* kept here for the life of the process, so callers need not free */
	static char *known[8];
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char *path = NULL;
	size_t i;

	if (!dir || !*dir || asprintf(&path, "%s/%s", dir, name) < 0)
		return NULL;
	if (access(path, F_OK)) {
		free(path);
		return NULL;
	}
	for (i = 0; i < sizeof(known) / sizeof(known[0]) && known[i]; i++)
		if (!strcmp(known[i], path)) {
			free(path);
			return known[i];
		}
	if (i == sizeof(known) / sizeof(known[0])) {
		free(path);	/* more names than we ever ask for */
		return NULL;
	}
	known[i] = path;
	return path;
}
