#ifndef IDLCM_ENVSCRUB_H
#define IDLCM_ENVSCRUB_H
/*
 * envscrub: keep the worker's secrets (the vault key, tokens, passwords)
 * out of the environment that Chromium and job processes inherit.
 */

/* Does an environment variable of this name (NAME or NAME=value) hold a
 * secret?  Names with TOKEN, SECRET, PASSW, _KEY or CREDENTIAL (any case):
 * IDLCM_VAULT_KEY, IDLCM_VAULT_KEY_FILE, GITHUB_TOKEN, … */
int env_is_secret(const char *name);
/* A copy of environ without the secret variables (for execve); the
 * strings are shared, only the array is malloc'd. */
char **env_without_secrets(void);
/* Remove the secret variables from this process for good: their values
 * are overwritten in place (so /proc/<pid>/environ of this process and of
 * every child forked later no longer shows them), then unset. */
void env_scrub_secrets(void);
#endif
