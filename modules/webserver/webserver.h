/*
 * webserver.h - the web servers the authorizer works behind, as operator tooling: for each,
 * the glue its configuration needs (`authorizer --print-glue NAME`) and a check of its
 * configuration for settings that skip the authorizer or leak its Variable- headers
 * (`authorizer --check-server NAME FILE`). Nothing here runs while the authorizer serves.
 *
 * What this layer may include: system headers, base/ and config/, and its own headers. Never
 * core/, auth/ or daemon/: it reads a loaded configuration and text an operator gives it, and
 * knows nothing of requests or of the FastCGI daemon.
 *
 * One file per web server (lighttpd.c, apache.c, nginx.c) holds its glue printer and its
 * checker, with a header comment on what that checker detects and what it does not. The table
 * below is the only list of the servers: the command line takes its names, its usage text and
 * its messages from it. To add a web server, write NAME.c with NAME_print_glue and NAME_check,
 * declare the two here, add one row to the table in webserver.c, and list the file in
 * Makefile.am.
 */
#ifndef AUTHZ_WEBSERVER_H
#define AUTHZ_WEBSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config/config.h"

struct identity_headers; /* webserver/identity.h */
struct report;           /* webserver/scan.h */

struct webserver {
    const char *name; /* as given on the command line */
    /* Writes the glue for a configuration with these identity headers to out. */
    void (*print_glue)(FILE *out, const struct identity_headers *ids);
    /*
     * Scans a configuration (text: len bytes, NUL-terminated) and reports each problem found
     * through rep, with its line and `file` (the input's name) or a file the text names.
     */
    void (*check)(struct report *rep, const char *file, const char *text, size_t len);
};

/* The web servers, in the order the usage text lists them. */
extern const struct webserver webservers[];
extern const size_t nwebservers;

/* The rows' functions: a pair from each web server's file. */
void lighttpd_print_glue(FILE *out, const struct identity_headers *ids);
void lighttpd_check(struct report *rep, const char *file, const char *text, size_t len);
void apache_print_glue(FILE *out, const struct identity_headers *ids);
void apache_check(struct report *rep, const char *file, const char *text, size_t len);
void nginx_print_glue(FILE *out, const struct identity_headers *ids);
void nginx_check(struct report *rep, const char *file, const char *text, size_t len);

/* The row called `name` (compared exactly), or NULL if there is none. */
const struct webserver *webserver_find(const char *name);

/* Room for every name of the table joined by separators of up to 4 bytes (a unit test checks). */
#define WEBSERVER_NAMES_MAX 128

/*
 * Writes the names of the table, in its order and joined by sep, into out (outlen bytes, at
 * least 1; always NUL-terminated). Returns false if they did not all fit: a name that does
 * not fit is left out whole, and so are the ones after it.
 */
bool webserver_names(const char *sep, char *out, size_t outlen);

/* Writes ws's glue for the identity headers of cfg to out. */
void webserver_print_glue(const struct webserver *ws, FILE *out, const struct config *cfg);

/*
 * Reads all of `in` and checks it as ws's configuration, writing one "FILE:LINE: what is
 * wrong" line per problem to out; FILE is `name`, or a file that a server's dump of its whole
 * configuration names. Returns the number of problems (0: none found), or -1 with *err set if
 * the input cannot be read or reaches SCAN_MAX_INPUT bytes.
 */
int webserver_check(const struct webserver *ws, FILE *in, const char *name, FILE *out,
                    const char **err);

#endif
