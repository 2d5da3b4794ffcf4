#ifndef IDLCM_PRIVFILE_H
#define IDLCM_PRIVFILE_H
/*
 * privfile: reading a small file that holds a secret (a bearer token, the
 * vault key).  One rule everywhere: a regular file, not a symlink, that
 * group and others cannot read; otherwise a message that says chmod 600.
 */
#include <stddef.h>

/* The file's text with trailing whitespace dropped (malloc'd; release it
 * with privfile_free, which wipes it), or NULL with err naming what the
 * file is for ("token file", "vault key file") and the path. */
char *privfile_read(const char *path, const char *what, char *err, size_t errlen);
void privfile_free(char *text);
#endif
