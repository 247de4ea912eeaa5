/* webserver.c - see webserver.h: the table, and the two modes over it. */
#include "webserver/webserver.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "webserver/identity.h"
#include "webserver/scan.h"

const struct webserver webservers[] = {
    {"lighttpd", lighttpd_print_glue, lighttpd_check},
    {"apache", apache_print_glue, apache_check},
    {"nginx", nginx_print_glue, nginx_check},
};
const size_t nwebservers = sizeof(webservers) / sizeof(*webservers);

const struct webserver *webserver_find(const char *name)
{
    for (size_t i = 0; i < nwebservers; i++)
        if (strcmp(name, webservers[i].name) == 0)
            return &webservers[i];
    return NULL;
}

bool webserver_names(const char *sep, char *out, size_t outlen)
{
    struct buf b;
    buf_init(&b, out, outlen);
    for (size_t i = 0; i < nwebservers; i++) {
        size_t mark = b.len;
        if (i > 0)
            buf_adds(&b, sep);
        if (!buf_adds(&b, webservers[i].name)) {
            buf_truncate(&b, mark); /* no separator without its name */
            return false;
        }
    }
    return true;
}

void webserver_print_glue(const struct webserver *ws, FILE *out, const struct config *cfg)
{
    struct identity_headers ids;
    identity_collect(cfg, &ids);
    ws->print_glue(out, &ids);
}

int webserver_check(const struct webserver *ws, FILE *in, const char *name, FILE *out,
                    const char **err)
{
    size_t len = 0;
    char *text = scan_read_all(in, &len, err);
    if (!text)
        return -1;
    struct report rep = {out, 0};
    ws->check(&rep, name, text, len);
    free(text);
    return rep.problems;
}
