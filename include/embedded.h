#ifndef IDLCM_EMBEDDED_H
#define IDLCM_EMBEDDED_H
/* Files compiled into the agent by tools/embed.c: the Lua prelude
 * (agent/lua/NAME.lua) and the injected JavaScript (agent/js/NAME.js). */
#include <stddef.h>

struct embedded_file {
	const char *name;	/* basename, e.g. "page.lua" */
	const char *data;	/* NUL-terminated */
	size_t len;
};

extern const struct embedded_file embedded_files[];

/* The file called name, or NULL. */
const struct embedded_file *embedded_find(const char *name);
#endif
