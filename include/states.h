#ifndef IDLCM_STATES_H
#define IDLCM_STATES_H
/*
 * states: the actions a job can carry and the per-user states each one
 * moves through (DESIGN.md), in one table for the agent, the worker and
 * the coordinator.  agent/lua/job.lua mirrors it for the orchestration.
 */

struct action_states {
	const char *action;
	const char *queued;	/* NULL: the action has no per-user state */
	const char *running;
	const char *failed;
};

/* The action's row, or NULL for an unknown action. */
const struct action_states *action_lookup(const char *action);
#endif
