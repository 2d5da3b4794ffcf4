/* curl_lazy: libcurl loaded on first use (see include/curl_lazy.h). */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "curl_lazy.h"

struct curl_lazy_table curl_lazy;
static void *handle;
static char load_error[300];

/* Debian's libcurl4-openssl-dev links libcurl.so.4 (the ABI since 2006). */
static const char *const sonames[] = { "libcurl.so.4", "libcurl.so", NULL };

#define SYM(field, name) { (void **)&curl_lazy.field, name }

int curl_lazy_load(char *err, size_t errlen)
{
	const struct { void **slot; const char *name; } syms[] = {
		SYM(global_init, "curl_global_init"),
		SYM(global_cleanup, "curl_global_cleanup"),
		SYM(easy_init, "curl_easy_init"),
		SYM(easy_setopt, "curl_easy_setopt"),
		SYM(easy_perform, "curl_easy_perform"),
		SYM(easy_getinfo, "curl_easy_getinfo"),
		SYM(easy_cleanup, "curl_easy_cleanup"),
		SYM(easy_strerror, "curl_easy_strerror"),
		SYM(slist_append, "curl_slist_append"),
		SYM(slist_free_all, "curl_slist_free_all"),
		SYM(multi_init, "curl_multi_init"),
		SYM(multi_add_handle, "curl_multi_add_handle"),
		SYM(multi_remove_handle, "curl_multi_remove_handle"),
		SYM(multi_perform, "curl_multi_perform"),
		SYM(multi_poll, "curl_multi_poll"),
		SYM(multi_info_read, "curl_multi_info_read"),
		SYM(multi_cleanup, "curl_multi_cleanup"),
	};
	void *h = NULL;

	if (handle)
		return 0;
	if (load_error[0])	/* failed before: the same answer, no retry */
		goto fail;
	for (int i = 0; sonames[i] && !h; i++)
		h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(load_error, sizeof(load_error), "cannot load libcurl: %s "
			 "(install libcurl4)", dlerror());
		goto fail;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		/* POSIX: a function pointer travels through void * */
		void *p = dlsym(h, syms[i].name);
		if (!p) {
			snprintf(load_error, sizeof(load_error),
				 "libcurl lacks %s (it needs 7.66 or later)", syms[i].name);
			dlclose(h);
			memset(&curl_lazy, 0, sizeof(curl_lazy));
			goto fail;
		}
		*syms[i].slot = p;
	}
	if (curl_lazy.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(load_error, sizeof(load_error), "libcurl did not initialise");
		dlclose(h);
		memset(&curl_lazy, 0, sizeof(curl_lazy));
		goto fail;
	}
	handle = h;
	return 0;
fail:
	snprintf(err, errlen, "%s", load_error);
	return -1;
}

void curl_lazy_unload(void)
{
	/* global cleanup, but no dlclose: libraries it pulled in may have
	 * registered exit handlers that must still find their code */
	if (handle)
		curl_lazy.global_cleanup();
}
