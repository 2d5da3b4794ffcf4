#ifndef IDLCM_CURL_LAZY_H
#define IDLCM_CURL_LAZY_H
/*
 * curl_lazy: libcurl loaded when a caller first needs it, not at start.
 *
 * Only the worker talks to the coordinator over HTTP(S), but linking
 * libcurl maps its whole dependency chain (GnuTLS, Kerberos, LDAP, SSH,
 * IDN … 30 of the agent's 41 shared libraries) into every process:
 * 4.3 MB of a job process's 12 MB peak RSS was libraries it never called.
 * A job process (`run`) now never loads them; the worker loads libcurl once,
 * before its first call.
 *
 * Include this instead of <curl/curl.h>: the curl_* calls below become
 * calls through a table filled by curl_lazy_load(), which every code path
 * must call (it is cheap after the first time) before its first curl call.
 */
#define CURL_DISABLE_TYPECHECK	/* its macros would hide ours */
#include <curl/curl.h>

struct curl_lazy_table {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
};
extern struct curl_lazy_table curl_lazy;

/* Load libcurl and run curl_global_init once.  0, or -1 with err. */
int curl_lazy_load(char *err, size_t errlen);
/* curl_global_cleanup when it was loaded; for the end of main. */
void curl_lazy_unload(void);

#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_init		(*curl_lazy.easy_init)
#define curl_easy_setopt	(*curl_lazy.easy_setopt)
#define curl_easy_perform	(*curl_lazy.easy_perform)
#define curl_easy_getinfo	(*curl_lazy.easy_getinfo)
#define curl_easy_cleanup	(*curl_lazy.easy_cleanup)
#define curl_easy_strerror	(*curl_lazy.easy_strerror)
#define curl_slist_append	(*curl_lazy.slist_append)
#define curl_slist_free_all	(*curl_lazy.slist_free_all)
#define curl_multi_init		(*curl_lazy.multi_init)
#define curl_multi_add_handle	(*curl_lazy.multi_add_handle)
#define curl_multi_remove_handle (*curl_lazy.multi_remove_handle)
#define curl_multi_perform	(*curl_lazy.multi_perform)
#define curl_multi_poll		(*curl_lazy.multi_poll)
#define curl_multi_info_read	(*curl_lazy.multi_info_read)
#define curl_multi_cleanup	(*curl_lazy.multi_cleanup)

#endif
