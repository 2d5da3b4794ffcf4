#ifndef IDLCM_SESSION_H
#define IDLCM_SESSION_H
/*
 * session: saved sign-in state.  After a successful login the job's
 * cookies (every origin of its browser context) and the localStorage and
 * sessionStorage of the page's origin are sealed in the vault under the
 * integration's account; the next job restores them into its fresh
 * context before asking the script whether it is still signed in.
 *
 * Every value read from or written to the browser is registered as a
 * secret first, so sessions never reach logs, output or evidence; record
 * and replay runs do not use sessions at all (cassettes stay free of them).
 */
#include <stddef.h>
#include <cjson/cJSON.h>
#include "browser.h"
#include "cdp.h"
#include "vault.h"

/* True when a vault key is configured (IDLCM_VAULT_KEY_FILE or
 * IDLCM_VAULT_KEY) and IDLCM_SESSIONS is not "off": keep sign-in state. */
int session_vault_wanted(void);
/* IDLCM_SESSIONS=off: never save or restore sign-in state. */
int session_turned_off(void);

/* "session/<app>/<username>@<base_url>": the vault entry of an account's
 * sign-in state.  app is the script's name (acme for scripts/apps/acme.lua). */
void session_name(char *buf, size_t n, const char *app, const cJSON *account);

/* Restore the saved state into the page's context.  1: restored (and
 * *init_id names the init script that seeds storage, "" when none); 0: no
 * saved state; -1: err (the caller falls back to a login). */
int session_restore(struct cdp *, const struct page_handle *, struct vault *,
		    const char *name, char *init_id, size_t idlen,
		    char *err, size_t errlen);
/* Read the context's cookies and the page origin's storage; seal them. */
int session_save(struct cdp *, const struct page_handle *, struct vault *,
		 const char *name, char *err, size_t errlen);
/* Drop the context's cookies (a rejected session must not leak into the
 * login that follows) and the vault entry. */
int session_forget(struct cdp *, const struct page_handle *, struct vault *,
		   const char *name);
#endif
