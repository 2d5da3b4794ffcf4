/* states: the one table of actions and their per-user states. */
#include <string.h>

#include "states.h"

static const struct action_states table[] = {
	{ "invite", "provisioning_awaiting", "inviting", "invite_failed" },
	{ "update", "update_awaiting", "updating", "update_failed" },
	{ "remove", "delete_awaiting", "removing", "delete_failed" },
	{ "list_users", NULL, NULL, NULL },
	{ "validate", NULL, NULL, NULL },
	{ "sync", NULL, NULL, NULL },
};

const struct action_states *action_lookup(const char *action)
{
	for (size_t i = 0; action && i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].action, action))
			return &table[i];
	return NULL;
}
