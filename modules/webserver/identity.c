/* identity.c - see identity.h. */
#include "webserver/identity.h"

#include <stdbool.h>
#include <string.h>

#include "base/httpsyntax.h"

static bool already_listed(const struct identity_headers *ids, const char *name)
{
    for (size_t j = 0; j < ids->n; j++)
        if (http_name_eq(ids->name[j], strlen(ids->name[j]), name, strlen(name)))
            return true;
    return false;
}

void identity_collect(const struct config *cfg, struct identity_headers *ids)
{
    ids->n = 0;
    for (size_t i = 0; i < cfg->nmiddlewares; i++) {
        const struct rule *r = &cfg->middlewares[i].rule;
        for (size_t k = 0; k < r->nheaders; k++) {
            const char *t = r->headers[k].target;
            if (ids->n < IDENTITY_MAX && !already_listed(ids, t))
                ids->name[ids->n++] = t;
        }
    }
}
