/*
 * authorizer.c - fcgi-authorizer's entry point: reads the options and runs one mode.
 *
 *   serve (default)   the FastCGI daemon (daemon/lifecycle.h)
 *   -t                check the configuration
 *   --print-glue      the web-server glue for a configuration (webserver/)
 *   --check-server    a web server's configuration checked for fail-open traps (webserver/)
 */
#include "auto_config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "auth/registry.h"
#include "config/config.h"
#include "daemon/lifecycle.h"
#include "daemon/signals.h"
#include "webserver/webserver.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

enum mode { MODE_SERVE, MODE_TEST, MODE_PRINT_GLUE, MODE_CHECK_SERVER };

struct options {
    enum mode mode;
    const char *file;   /* -c */
    const char *server; /* --print-glue / --check-server */
    int nargs;          /* operands after the options */
    char **args;
};

static void usage(FILE *out)
{
    char servers[WEBSERVER_NAMES_MAX];
    webserver_names("|", servers, sizeof(servers));
    fprintf(out,
            "Usage: authorizer [-c FILE] [-t] [--print-glue SERVER] [-h] [-V]\n"
            "FastCGI authorizer: asks an auth service whether a request may pass.\n\n"
            "  -c FILE  configuration file (default: $AUTHORIZER_CONFIG, then %s)\n"
            "  -t       check the configuration, print what is wrong, exit 0 or 1\n"
            "  --print-glue %s\n"
            "           print the web-server glue for this configuration's identity headers\n"
            "  --check-server %s FILE\n"
            "           report settings in a web server's configuration (FILE, or - for stdin)\n"
            "           that would skip the authorizer or leak its Variable- headers; exit 0\n"
            "           if none, 1 if some\n"
            "  -h       show this help\n"
            "  -V       show the version\n\n"
            "Without `listen` in the configuration it accepts on the socket inherited as fd 0,\n"
            "as lighttpd (bin-path), mod_fcgid and spawn-fcgi provide.\n",
            SYSCONFDIR "/authorizer.conf", servers, servers);
}

/* "PREFIX: unknown server 'SERVER' (NAMES)", NAMES being those of the table. */
static void unknown_server(FILE *out, const char *prefix, const char *server)
{
    char servers[WEBSERVER_NAMES_MAX];
    webserver_names(", ", servers, sizeof(servers));
    fprintf(out, "%s: unknown server '%s' (%s)\n", prefix, server, servers);
}

static const char *config_path(const char *option)
{
    if (option)
        return option;
    const char *env = getenv("AUTHORIZER_CONFIG");
    if (env && *env)
        return env;
    return SYSCONFDIR "/authorizer.conf";
}

/* Fills o from argv; returns -1 to exit 0 (help, version), 2 on a usage error, else 0. */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option long_options[] = {
        {"print-glue", required_argument, NULL, 'G'},
        {"check-server", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    bool test = false;
    const char *glue = NULL, *check = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:thV", long_options, NULL)) != -1) {
        switch (opt) {
        case 'G':
            glue = optarg;
            break;
        case 'S':
            check = optarg;
            break;
        case 'c':
            o->file = optarg;
            break;
        case 't':
            test = true;
            break;
        case 'h':
            usage(stdout);
            return -1;
        case 'V':
            printf("authorizer (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
            return -1;
        default:
            usage(stderr);
            return 2;
        }
    }
    /* One mode: --check-server before --print-glue before -t. */
    o->mode = check ? MODE_CHECK_SERVER : glue ? MODE_PRINT_GLUE : test ? MODE_TEST : MODE_SERVE;
    o->server = check ? check : glue;
    o->nargs = argc - optind;
    o->args = argv + optind;
    if (o->mode != MODE_CHECK_SERVER && o->nargs > 0) {
        usage(stderr);
        return 2;
    }
    return 0;
}

/* --check-server SERVER FILE: 0 clean, 1 problems found, 2 usage or input errors. */
static int run_check_server(const struct options *o)
{
    if (o->nargs != 1) {
        usage(stderr);
        return 2;
    }
    const char *name = o->args[0];
    bool from_stdin = strcmp(name, "-") == 0;
    FILE *in = from_stdin ? stdin : fopen(name, "r");
    if (!in) {
        fprintf(stderr, "authorizer: %s: %s\n", name, strerror(errno));
        return 2;
    }
    const char *label = from_stdin ? "stdin" : name;
    const struct webserver *ws = webserver_find(o->server);
    int rc;
    if (!ws) {
        unknown_server(stdout, label, o->server);
        rc = 2;
    } else {
        const char *err = NULL;
        int problems = webserver_check(ws, in, label, stdout, &err);
        if (problems < 0)
            printf("%s: %s\n", label, err);
        rc = problems < 0 ? 2 : problems > 0 ? 1 : 0;
    }
    if (!from_stdin)
        fclose(in);
    return rc;
}

static struct config *load_or_report(const char *file)
{
    struct config *cfg = NULL;
    char err[1024];
    if (config_load(file, &cfg, err, sizeof(err))) {
        fprintf(stderr, "authorizer: %s\n", err);
        return NULL;
    }
    return cfg;
}

/* --print-glue SERVER: the glue for this configuration's identity headers. */
static int run_print_glue(const struct options *o)
{
    struct config *cfg = load_or_report(config_path(o->file));
    if (!cfg)
        return 1;
    const struct webserver *ws = webserver_find(o->server);
    if (ws)
        webserver_print_glue(ws, stdout, cfg);
    else
        unknown_server(stderr, "authorizer: --print-glue", o->server);
    config_free(cfg);
    return ws ? 0 : 2;
}

/* -t: the configuration checked as a start or reload would check it; nothing is allocated
 * beyond the configuration itself. */
static int run_test(const struct options *o)
{
    const char *file = config_path(o->file);
    struct config *cfg = load_or_report(file);
    if (!cfg)
        return 1;
    char err[1024];
    const char *msg = auth_global_init();
    bool bad = msg || policy_check(cfg, err, sizeof(err));
    if (bad)
        fprintf(stderr, "authorizer: %s\n", msg ? msg : err);
    auth_global_cleanup();
    if (bad) {
        config_free(cfg);
        return 1;
    }
    printf("authorizer: %s: configuration OK (%zu middlewares)\n", file, cfg->nmiddlewares);
    config_free(cfg);
    return 0;
}

int main(int argc, char **argv)
{
    /* Before anything else: a reload or stop during startup is not lost, and an early
     * SIGHUP does not kill the process. */
    signals_block();
    struct options o = {.mode = MODE_SERVE};
    int rc = parse_options(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    switch (o.mode) {
    case MODE_CHECK_SERVER:
        return run_check_server(&o);
    case MODE_PRINT_GLUE:
        return run_print_glue(&o);
    case MODE_TEST:
        return run_test(&o);
    default:
        return daemon_serve(config_path(o.file));
    }
}
