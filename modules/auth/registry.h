/*
 * registry.h - which authenticator answers for which middleware, and the policy made of them.
 *
 * A policy is a loaded configuration plus, for each middleware, its authenticator (see
 * core/policy.h): how the middleware's type decides (today: forward auth over HTTP), with the
 * rule's decision cache in front when it has one. Building one allocates the caches; the
 * configuration itself holds no runtime state, so `authorizer -t` never builds a policy.
 *
 * A new way of deciding is one authenticator in auth/ and one row in registry.c's table.
 */
#ifndef AUTHZ_REGISTRY_H
#define AUTHZ_REGISTRY_H

#include <stddef.h>

#include "config/config.h"
#include "core/policy.h"

/* Process-wide setup of every way of deciding (libcurl, the password hashes' libraries and
 * key). Call once, before any thread starts; cleanup after the last policy is freed. */
const char *auth_global_init(void);
void auth_global_cleanup(void);

/*
 * Builds the policy for cfg, which it takes over (freed with the policy, or at once on
 * failure). Returns NULL and stores the policy in *out, or returns a message in err.
 */
const char *policy_new(struct config *cfg, struct policy **out, char *err, size_t errlen);

/*
 * What `authorizer -t` checks beyond the configuration itself, without building anything that
 * runs (no cache, no thread, no fetch): the keys of middlewares that verify tokens. Returns
 * NULL, or a message naming the file, the line and the setting.
 */
const char *policy_check(const struct config *cfg, char *err, size_t errlen);

/* Frees the policy, its authenticators, caches and configuration. NULL is ignored. */
void policy_free(struct policy *p);

#endif
