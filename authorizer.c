/*
 * authorizer.c - fcgi-authorizer's entry point: options, configuration, listening socket,
 * then the workers until a signal says stop.
 */
#include "auto_config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/forward.h"
#include "base/log.h"
#include "config/config.h"
#include "daemon/server.h"
#include "webserver/webserver.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

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

static const char *config_path(const char *option)
{
    if (option)
        return option;
    const char *env = getenv("AUTHORIZER_CONFIG");
    if (env && *env)
        return env;
    return SYSCONFDIR "/authorizer.conf";
}

/* "PREFIX: unknown server 'SERVER' (NAMES)", NAMES being those of the table. */
static void unknown_server(FILE *out, const char *prefix, const char *server)
{
    char servers[WEBSERVER_NAMES_MAX];
    webserver_names(", ", servers, sizeof(servers));
    fprintf(out, "%s: unknown server '%s' (%s)\n", prefix, server, servers);
}

/* --print-glue SERVER: 0, or 2 if there is no such web server. */
static int print_glue(const char *server, const struct config *cfg)
{
    const struct webserver *ws = webserver_find(server);
    if (!ws) {
        unknown_server(stderr, "authorizer: --print-glue", server);
        return 2;
    }
    webserver_print_glue(ws, stdout, cfg);
    return 0;
}

/* Checks `in` (called `name` in messages) as the configuration of `server`; see below. */
static int check_input(const char *server, FILE *in, const char *name)
{
    const struct webserver *ws = webserver_find(server);
    if (!ws) {
        unknown_server(stdout, name, server);
        return 2;
    }
    const char *err = NULL;
    int problems = webserver_check(ws, in, name, stdout, &err);
    if (problems < 0) {
        printf("%s: %s\n", name, err);
        return 2;
    }
    return problems > 0 ? 1 : 0;
}

/* --check-server SERVER FILE: 0 clean, 1 problems found, 2 usage or input errors. */
static int check_server_config(const char *server, int nargs, char **args)
{
    if (nargs != 1) {
        usage(stderr);
        return 2;
    }
    const char *path = args[0];
    bool from_stdin = strcmp(path, "-") == 0;
    FILE *in = from_stdin ? stdin : fopen(path, "r");
    if (!in) {
        fprintf(stderr, "authorizer: %s: %s\n", path, strerror(errno));
        return 2;
    }
    int rc = check_input(server, in, from_stdin ? "stdin" : path);
    if (!from_stdin)
        fclose(in);
    return rc;
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    const char *glue = NULL;
    const char *check_server = NULL;
    int check_only = 0;
    int opt;
    static const struct option long_options[] = {
        {"print-glue", required_argument, NULL, 'G'},
        {"check-server", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    while ((opt = getopt_long(argc, argv, "c:thV", long_options, NULL)) != -1) {
        switch (opt) {
        case 'G':
            glue = optarg;
            break;
        case 'S':
            check_server = optarg;
            break;
        case 'c':
            file = optarg;
            break;
        case 't':
            check_only = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("authorizer (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (check_server)
        return check_server_config(check_server, argc - optind, argv + optind);

    /* Signals wait until the workers serve: a reload or stop during startup is not lost,
     * and a SIGHUP that arrives early does not kill the process. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    if (optind < argc) {
        usage(stderr);
        return 2;
    }

    file = config_path(file);
    struct config *cfg = NULL;
    char err[1024];
    if (config_load(file, &cfg, err, sizeof(err))) {
        fprintf(stderr, "authorizer: %s\n", err);
        return 1;
    }
    if (glue) {
        int rc = print_glue(glue, cfg);
        config_free(cfg);
        return rc;
    }
    if (check_only) {
        printf("authorizer: %s: configuration OK (%zu middlewares)\n", file, cfg->nmiddlewares);
        config_free(cfg);
        return 0;
    }
    log_set_level((enum log_level)cfg->log_level);
    log_set_target((enum log_target)cfg->log_target);

    int rc = 1;
    int fd = server_open_listener(cfg, err, sizeof(err));
    if (fd < 0) {
        log_error("%s: %s", file, err);
        goto end;
    }

    const char *msg = backend_global_init();
    if (msg) {
        log_error("%s", msg);
        goto end;
    }
    rc = server_run(cfg, file, fd);
    cfg = NULL; /* server_run owns and frees it (it may have been reloaded) */
    backend_global_cleanup();
end:
    if (fd > 0)
        close(fd);
    config_free(cfg);
    return rc;
}
