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
/* The path of systemd credential NAME ($CREDENTIALS_DIRECTORY/NAME, from
 * a unit's LoadCredential=) when that file exists, else NULL: the default
 * of an option naming a secret file that was not given.  The path is
 * malloc'd and kept for the life of the process. */
const char *privfile_credential(const char *name);
#endif
