/*
 * session: saved sign-in state in the vault (see include/session.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "session.h"

int session_turned_off(void)
{
	const char *off = getenv("IDLCM_SESSIONS");
	return off && !strcmp(off, "off");
}

int session_vault_wanted(void)
{
	if (session_turned_off())
		return 0;
	return (getenv("IDLCM_VAULT_KEY_FILE") && *getenv("IDLCM_VAULT_KEY_FILE")) ||
	       (getenv("IDLCM_VAULT_KEY") && *getenv("IDLCM_VAULT_KEY"));
}

void session_name(char *buf, size_t n, const char *app, const cJSON *account)
{
	const char *user = cJSON_GetStringValue(cJSON_GetObjectItem(account, "username"));
	const char *base = cJSON_GetStringValue(cJSON_GetObjectItem(account, "base_url"));

	/* the vault caps names at 200 characters */
	snprintf(buf, n < 201 ? n : 201, "session/%s/%s@%s", app ? app : "app",
		 user ? user : "account", base ? base : "");
}

/* CookieParam fields Storage.setCookies accepts from what getCookies
 * gives (size, session and the like would be refused). */
static const char *const COOKIE_FIELDS[] = {
	"name", "value", "domain", "path", "secure", "httpOnly", "sameSite",
	"priority", "sourceScheme", "sourcePort", NULL
};

static void register_values(const cJSON *obj)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, obj)
		if (cJSON_IsString(e))
			secret_register_as(e->valuestring, "session");
}

/* Debug logging shows every frame as it arrives, before we could
 * register what it carries: pause it around reads of session values. */
static enum log_level quiet_begin(void)
{
	enum log_level saved = log_get_level();
	if (saved > LOG_INFO)
		log_set_level(LOG_INFO);
	return saved;
}

int session_restore(struct cdp *c, const struct page_handle *p, struct vault *v,
		    const char *name, char *init_id, size_t idlen, char *err, size_t errlen)
{
	char *text = NULL, verr[300];
	size_t len;
	cJSON *doc, *cookies, *list, *st, *params, *res = NULL, *ck;
	struct cdp_error ce;
	int rc;

	init_id[0] = '\0';
	rc = vault_get(v, name, &text, &len, verr, sizeof(verr));
	if (rc == VAULT_NOT_FOUND)
		return 0;
	if (rc) {
		snprintf(err, errlen, "cannot read the saved sign-in state: %s", verr);
		return -1;
	}
	doc = cJSON_ParseWithLength(text, len);
	free(text);
	cookies = cJSON_GetObjectItem(doc, "cookies");
	if (!cJSON_IsArray(cookies)) {
		cJSON_Delete(doc);
		snprintf(err, errlen, "the saved sign-in state is unreadable");
		return -1;
	}
	list = cJSON_CreateArray();
	cJSON_ArrayForEach(ck, cookies) {
		cJSON *o = cJSON_CreateObject();
		cJSON *exp = cJSON_GetObjectItem(ck, "expires");
		for (int i = 0; COOKIE_FIELDS[i]; i++) {
			cJSON *f = cJSON_GetObjectItem(ck, COOKIE_FIELDS[i]);
			if (f)
				cJSON_AddItemToObject(o, COOKIE_FIELDS[i], cJSON_Duplicate(f, 1));
		}
		/* getCookies says -1 for a session cookie; setCookies wants none */
		if (cJSON_IsNumber(exp) && exp->valuedouble > 0)
			cJSON_AddNumberToObject(o, "expires", exp->valuedouble);
		secret_register_as(cJSON_GetStringValue(cJSON_GetObjectItem(ck, "value")), "session");
		cJSON_AddItemToArray(list, o);
	}
	st = cJSON_GetObjectItem(doc, "storage");
	register_values(cJSON_GetObjectItem(st, "local"));
	register_values(cJSON_GetObjectItem(st, "session"));

	params = cJSON_CreateObject();
	cJSON_AddItemToObject(params, "cookies", list);
	cJSON_AddStringToObject(params, "browserContextId", p->context_id);
	if (cdp_call(c, NULL, "Storage.setCookies", params, 10000, &res, &ce)) {
		snprintf(err, errlen, "cannot restore cookies: %s", ce.message);
		cJSON_Delete(doc);
		return -1;
	}
	cJSON_Delete(res);
	res = NULL;

	/* Storage belongs to an origin, which has no document yet: seed it
	 * from an init script as the first document of that origin starts
	 * (the caller removes the script once the sign-in check is done). */
	if (cJSON_GetArraySize(cJSON_GetObjectItem(st, "local")) +
	    cJSON_GetArraySize(cJSON_GetObjectItem(st, "session")) > 0) {
		char *data = cJSON_PrintUnformatted(st), *src;
		size_t n = (data ? strlen(data) : 0) + 400;
		cJSON *id;

		src = malloc(n);
		if (!data || !src) {
			free(data);
			free(src);
			cJSON_Delete(doc);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		snprintf(src, n, "(function(s){try{if(location.origin!==s.origin)return;"
			 "for(var k in s.local||{})localStorage.setItem(k,s.local[k]);"
			 "for(var k2 in s.session||{})sessionStorage.setItem(k2,s.session[k2]);"
			 "}catch(e){}})(%s)", data);
		cJSON_free(data);
		params = cJSON_CreateObject();
		cJSON_AddStringToObject(params, "source", src);
		free(src);
		if (cdp_call(c, p->session_id, "Page.addScriptToEvaluateOnNewDocument", params,
			     10000, &res, &ce)) {
			snprintf(err, errlen, "cannot restore storage: %s", ce.message);
			cJSON_Delete(doc);
			return -1;
		}
		id = cJSON_GetObjectItem(res, "identifier");
		if (cJSON_IsString(id))
			snprintf(init_id, idlen, "%s", id->valuestring);
		cJSON_Delete(res);
	}
	cJSON_Delete(doc);
	return 1;
}

static const char STORAGE_JS[] =
	"(() => { const d = (s) => { const o = {}; for (let i = 0; i < s.length; i++) {"
	" const k = s.key(i); o[k] = s.getItem(k); } return o; };"
	" try { return { origin: location.origin, local: d(localStorage),"
	" session: d(sessionStorage) }; } catch (e) { return null; } })()";

int session_save(struct cdp *c, const struct page_handle *p, struct vault *v,
		 const char *name, char *err, size_t errlen)
{
	cJSON *params, *res = NULL, *doc, *ck, *st;
	struct cdp_error ce;
	enum log_level saved = quiet_begin();
	char *text;
	int rc = -1;

	doc = cJSON_CreateObject();
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "browserContextId", p->context_id);
	if (cdp_call(c, NULL, "Storage.getCookies", params, 10000, &res, &ce)) {
		snprintf(err, errlen, "cannot read cookies: %s", ce.message);
		goto out;
	}
	ck = cJSON_DetachItemFromObject(res, "cookies");
	cJSON_Delete(res);
	res = NULL;
	if (!cJSON_IsArray(ck)) {
		cJSON_Delete(ck);
		snprintf(err, errlen, "the browser gave no cookie list");
		goto out;
	}
	{
		cJSON *e;
		cJSON_ArrayForEach(e, ck)
			secret_register_as(cJSON_GetStringValue(cJSON_GetObjectItem(e, "value")),
					   "session");
	}
	cJSON_AddItemToObject(doc, "cookies", ck);

	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "expression", STORAGE_JS);
	cJSON_AddBoolToObject(params, "returnByValue", 1);
	if (!cdp_call(c, p->session_id, "Runtime.evaluate", params, 10000, &res, &ce)) {
		st = cJSON_GetObjectItem(cJSON_GetObjectItem(res, "result"), "value");
		if (cJSON_IsObject(st)) {
			register_values(cJSON_GetObjectItem(st, "local"));
			register_values(cJSON_GetObjectItem(st, "session"));
			cJSON_AddItemToObject(doc, "storage", cJSON_Duplicate(st, 1));
		}
		cJSON_Delete(res);
	}
	cJSON_AddNumberToObject(doc, "saved_at", (double)cdp_epoch_ms(c));
	text = cJSON_PrintUnformatted(doc);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = vault_set(v, name, text, strlen(text), err, errlen);
	cJSON_free(text);
out:
	log_set_level(saved);
	cJSON_Delete(doc);
	return rc;
}

int session_forget(struct cdp *c, const struct page_handle *p, struct vault *v,
		   const char *name)
{
	cJSON *params = cJSON_CreateObject(), *res = NULL;
	struct cdp_error ce;
	char err[300];
	int rc = 0;

	cJSON_AddStringToObject(params, "browserContextId", p->context_id);
	if (cdp_call(c, NULL, "Storage.clearCookies", params, 10000, &res, &ce)) {
		log_debug("clear cookies: %s", ce.message);
		rc = -1;
	}
	cJSON_Delete(res);
	if (v && vault_remove(v, name, err, sizeof(err)) < 0) {
		log_debug("forget %s: %s", name, err);
		rc = -1;
	}
	return rc;
}
