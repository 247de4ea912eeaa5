/* listener.c - see listener.h. */
#include "daemon/listener.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"

static int listen_unix(const char *path, int mode, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "listen: socket path '%s' is too long", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    struct stat st;
    /* A socket left by an earlier run would make bind fail; anything else is not ours. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        (mode >= 0 && chmod(path, (mode_t)mode) < 0) || listen(fd, SOMAXCONN) < 0) {
        snprintf(err, errlen, "listen: %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int listen_inet(const char *spec, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon[1] == '\0' || (size_t)(colon - spec) >= sizeof(host)) {
        snprintf(err, errlen, "listen: '%s' is not host:port, :port or a socket path", spec);
        return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    char *h = host;
    size_t hl = strlen(h);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h[hl - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "listen: %s: %s", spec, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    int saved = 0;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0)
        snprintf(err, errlen, "listen: %s: %s", spec, strerror(saved));
    return fd;
}

int listener_bind(const char *spec, int mode, char *err, size_t errlen)
{
    if (spec[0] == '/')
        return listen_unix(spec, mode, err, errlen);
    return listen_inet(spec, err, errlen);
}

bool listener_is_socket(int fd)
{
    int val = 0;
    socklen_t len = sizeof(val);
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == 0 && val;
}

/* The first socket systemd passed (fd 3), if it passed any to this very process. */
static int systemd_listener(void)
{
    const char *pid = getenv("LISTEN_PID");
    const char *fds = getenv("LISTEN_FDS");
    if (!pid || !fds || atol(pid) != (long)getpid() || atoi(fds) < 1)
        return -1;
    if (atoi(fds) > 1)
        log_warn("systemd passed %s sockets; accepting on the first only", fds);
    return listener_is_socket(3) ? 3 : -1;
}

int listener_open(const struct config *cfg, char *err, size_t errlen)
{
    int fd = systemd_listener();
    if (fd >= 0) {
        if (cfg->listen)
            log_info("accepting on the socket from systemd; `listen` is not used");
        return fd;
    }
    if (cfg->listen)
        return listener_bind(cfg->listen, cfg->listen_mode, err, errlen);
    if (listener_is_socket(0))
        return 0;
    snprintf(err, errlen,
             "no `listen` is configured and fd 0 is not a listening socket (set listen, start "
             "it from the web server, spawn-fcgi or a systemd socket unit)");
    return -1;
}

bool listener_is_unix(int fd)
{
    struct sockaddr_storage addr;
    socklen_t addrlen = sizeof(addr);
    return getsockname(fd, (struct sockaddr *)&addr, &addrlen) == 0 && addr.ss_family == AF_UNIX;
}
