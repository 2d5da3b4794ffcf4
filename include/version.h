#ifndef IDLCM_VERSION_H
#define IDLCM_VERSION_H
/* The one version of every binary: the Makefile passes `git describe`
 * as IDLCM_VERSION; a build outside git gets this fallback. */
#ifndef IDLCM_VERSION
#define IDLCM_VERSION "0.1.0"
#endif
#endif
