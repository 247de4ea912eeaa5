/*
 * authorizer.c - fcgi-authorizer's entry point: options, configuration, listening socket,
 * then the workers until a signal says stop.
 */
#include "auto_config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules/backend.h"
#include "modules/config.h"
#include "modules/log.h"
#include "modules/server.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: authorizer [-c FILE] [-t] [-h] [-V]\n"
            "FastCGI authorizer: asks an auth service whether a request may pass.\n\n"
            "  -c FILE  configuration file (default: $AUTHORIZER_CONFIG, then %s)\n"
            "  -t       check the configuration, print what is wrong, exit 0 or 1\n"
            "  -h       show this help\n"
            "  -V       show the version\n\n"
            "Without `listen` in the configuration it accepts on the socket inherited as fd 0,\n"
            "as lighttpd (bin-path), mod_fcgid and spawn-fcgi provide.\n",
            SYSCONFDIR "/authorizer.conf");
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

int main(int argc, char **argv)
{
    const char *file = NULL;
    int check_only = 0;
    int opt;
    while ((opt = getopt(argc, argv, "c:thV")) != -1) {
        switch (opt) {
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
    if (check_only) {
        printf("authorizer: %s: configuration OK (%zu middlewares)\n", file, cfg->nmiddlewares);
        config_free(cfg);
        return 0;
    }
    log_set_level((enum log_level)cfg->log_level);

    int rc = 1;
    int fd = -1;
    if (cfg->listen) {
        fd = server_listen(cfg->listen, cfg->listen_mode, err, sizeof(err));
        if (fd < 0) {
            log_error("%s", err);
            goto end;
        }
    } else if (server_is_listener(0)) {
        fd = 0;
    } else {
        log_error("%s: no `listen` is configured and fd 0 is not a listening socket "
                  "(set listen, or start it from the web server or spawn-fcgi)",
                  file);
        goto end;
    }

    const char *msg = backend_global_init();
    if (msg) {
        log_error("%s", msg);
        goto end;
    }
    rc = server_run(cfg, fd);
    backend_global_cleanup();
end:
    if (fd > 0)
        close(fd);
    config_free(cfg);
    return rc;
}
