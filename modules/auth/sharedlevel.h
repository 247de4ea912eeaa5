/*
 * sharedlevel.h - the configuration's sharedCache made into the shared cache it names.
 *
 * The bridge between config/ (plain settings: an address and file names) and
 * auth/sharedcache.h (a client that wants the secrets themselves): reads passwordFile,
 * secretFile and oldSecretFile, checks them, and makes the struct sharedcache that a policy
 * owns. Also what each middleware's entries are bound to: a fingerprint of the settings that
 * shape its answers, so that a changed policy never reads what an older one stored.
 *
 * File formats. secretFile and oldSecretFile: exactly 32 bytes, or 64 hexadecimal digits;
 * one trailing newline is ignored in both (editors and `echo` add one). passwordFile: the
 * password, one trailing newline ignored. Errors name the file and the sharedCache setting.
 */
#ifndef AUTHZ_SHAREDLEVEL_H
#define AUTHZ_SHAREDLEVEL_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/sharedcache.h"
#include "config/config.h"

/* The shared cache of cfg->shared_cache (which is enabled), or NULL with why in err. Does not
 * connect. */
struct sharedcache *sharedlevel_new(const struct config *cfg, char *err, size_t errlen);

/* What -t checks: the files read and their contents valid. NULL, or err. */
const char *sharedlevel_check(const struct config *cfg, char *err, size_t errlen);

/* The fingerprint of middleware m: its name, kind, url, the answer headers it keeps, what its
 * cache keys on and how long it keeps answers. False if out of memory. */
bool sharedlevel_fingerprint(const struct middleware *m,
                             unsigned char out[SHAREDCACHE_FINGERPRINT_LEN]);

#endif
