/*
 * decide_int.h - decide.c's internals, visible to its unit tests only.
 */
#ifndef AUTHZ_DECIDE_INT_H
#define AUTHZ_DECIDE_INT_H

#include "core/decide.h"

/* The index of the first middleware (in configuration order) with a path matching view k,
 * read split or not (http/pathmatch.h), or -1. */
long decide_middleware_of_view(const struct config *cfg, const struct path_views *views, size_t k,
                               bool split);

/*
 * The middlewares the readings lead to, each reading to its first matching one: their indexes
 * in ascending order, each once, into out (room for PATH_MAX_READINGS). Returns how many.
 */
size_t decide_find_middlewares(const struct config *cfg, const struct path_views *views,
                               size_t *out);

/* The lowest of those, or -1 if no view is protected. */
long decide_find_middleware(const struct config *cfg, const struct path_views *views);

/* Turns an authenticator's answer into the decision (status mapping and exports). */
void decide_outcome(struct decision *d, const struct rule *r, enum auth_status st,
                    const struct auth_result *res, const struct request_view *req,
                    struct decide_ctx *ctx);

#endif
