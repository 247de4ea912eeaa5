/* redisconn.c - see redisconn.h. */
#include "auth/redisconn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"

static _Atomic uint64_t stat_round_trips, stat_connects;

int64_t redisconn_clock_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

void redisconn_counts(uint64_t *round_trips, uint64_t *connects)
{
    *round_trips = atomic_load(&stat_round_trips);
    *connects = atomic_load(&stat_connects);
}

/* ---- endpoints ---- */

/* Splits "host:port" or "[v6]:port" and resolves it into e->addrs. */
static const char *resolve(struct redis_endpoint *e, const char *address, char *err, size_t errlen)
{
    char host[REDISCONN_MAX_ADDRESS + 1];
    const char *colon = strrchr(address, ':');
    const char *start = address, *end = colon;
    if (address[0] == '[') {
        start = address + 1;
        end = strchr(address, ']');
        if (!end || end + 1 != colon) {
            snprintf(err, errlen, "address \"%s\": expected [ipv6]:port", address);
            return err;
        }
    }
    if (!colon || end == start ||
        (address[0] != '[' && memchr(start, ':', (size_t)(end - start)))) {
        snprintf(err, errlen, "address \"%s\": expected host:port, [ipv6]:port or /socket/path",
                 address);
        return err;
    }
    const char *port = colon + 1;
    size_t plen = strlen(port);
    if (plen == 0 || plen > 5 || strspn(port, "0123456789") != plen || atoi(port) < 1 ||
        atoi(port) > 65535) {
        snprintf(err, errlen, "address \"%s\": the port must be 1 to 65535", address);
        return err;
    }
    memcpy(host, start, (size_t)(end - start));
    host[end - start] = '\0';

    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *list = NULL;
    int rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0) {
        snprintf(err, errlen, "address \"%s\": %s", address, gai_strerror(rc));
        return err;
    }
    for (struct addrinfo *ai = list; ai && e->naddrs < REDISCONN_MAX_ADDRS; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(e->addrs[0]))
            continue;
        memcpy(&e->addrs[e->naddrs], ai->ai_addr, ai->ai_addrlen);
        e->lens[e->naddrs++] = ai->ai_addrlen;
    }
    freeaddrinfo(list);
    if (e->naddrs == 0) {
        snprintf(err, errlen, "address \"%s\": no usable address", address);
        return err;
    }
    e->tcp = true;
    return NULL;
}

static const char *set_address(struct redis_endpoint *e, const char *address, char *err,
                               size_t errlen)
{
    if (!address || !*address) {
        snprintf(err, errlen, "address: empty");
        return err;
    }
    size_t len = strlen(address);
    if (len > REDISCONN_MAX_ADDRESS) {
        snprintf(err, errlen, "address: longer than %d bytes", REDISCONN_MAX_ADDRESS);
        return err;
    }
    memcpy(e->address, address, len + 1);
    if (address[0] != '/')
        return resolve(e, address, err, errlen);
    struct sockaddr_un *un = (struct sockaddr_un *)&e->addrs[0];
    if (len >= sizeof(un->sun_path)) {
        snprintf(err, errlen, "address \"%s\": a socket path must be shorter than %zu bytes",
                 address, sizeof(un->sun_path));
        return err;
    }
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, address, len + 1);
    e->lens[0] = (socklen_t)sizeof(*un);
    e->naddrs = 1;
    return NULL;
}

static const char *copy_credential(const char *what, const char *value, char *to, bool *has,
                                   char *err, size_t errlen)
{
    if (!value)
        return NULL;
    size_t len = strlen(value);
    if (len == 0 || len > REDISCONN_MAX_CREDENTIAL) {
        snprintf(err, errlen, "%s: must be 1 to %d bytes", what, REDISCONN_MAX_CREDENTIAL);
        return err;
    }
    memcpy(to, value, len + 1);
    *has = true;
    return NULL;
}

const char *redis_endpoint_init(struct redis_endpoint *e, const char *address, const char *user,
                                const char *password, char *err, size_t errlen)
{
    memset(e, 0, sizeof(*e));
    if (user && !password) {
        snprintf(err, errlen, "user: needs a password");
        return err;
    }
    const char *rv = set_address(e, address, err, errlen);
    if (!rv)
        rv = copy_credential("user", user, e->user, &e->has_user, err, errlen);
    if (!rv)
        rv = copy_credential("password", password, e->password, &e->has_password, err, errlen);
    if (rv)
        redis_endpoint_wipe(e);
    return rv;
}

void redis_endpoint_wipe(struct redis_endpoint *e)
{
    OPENSSL_cleanse(e->password, sizeof(e->password));
}

/* ---- connections ---- */

void redisconn_init(struct redisconn *c)
{
    c->fd = -1;
    c->reader = NULL;
    c->error[0] = '\0';
}

void redisconn_close(struct redisconn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    if (c->reader)
        redisReaderFree(c->reader);
    c->reader = NULL;
}

static void vfail(struct redisconn *c, const struct redis_endpoint *e, const char *fmt, va_list ap)
{
    char what[200];
    vsnprintf(what, sizeof(what), fmt, ap);
    struct buf b;
    buf_init(&b, c->error, sizeof(c->error));
    buf_printf(&b, "redis %s: ", e->address);
    size_t mark = b.len;
    if (!buf_adds(&b, what)) {
        buf_truncate(&b, mark);
        buf_add(&b, what, b.cap - 1 - b.len);
    }
}

void redisconn_fail(struct redisconn *c, const struct redis_endpoint *e, bool close,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(c, e, fmt, ap);
    va_end(ap);
    if (close)
        redisconn_close(c);
}

/* A fault of the connection: recorded, and the connection is closed. */
static bool fault(struct redisconn *c, const struct redis_endpoint *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fault(struct redisconn *c, const struct redis_endpoint *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(c, e, fmt, ap);
    va_end(ap);
    redisconn_close(c);
    return false;
}

/* Copies what a server sent for the log: printable characters only, and not too many. */
static void printable(char *out, size_t cap, const char *in, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++)
        out[n++] = (in[i] >= ' ' && in[i] < 0x7f) ? in[i] : '?';
    out[n] = '\0';
}

/* Waits until fd is ready for events or the deadline passes: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline_us)
{
    for (;;) {
        int64_t left = deadline_us - redisconn_clock_us();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, (int)((left + 999) / 1000));
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

/* A kept connection the server has closed, or that holds bytes nobody asked for, is no use. */
static bool still_usable(struct redisconn *c)
{
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static bool send_all(struct redisconn *c, const struct redis_endpoint *e, const char *p, size_t len,
                     int64_t deadline_us)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(c->fd, p + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return fault(c, e, "send: %s", n < 0 ? strerror(errno) : "nothing sent");
        int rc = wait_fd(c->fd, POLLOUT, deadline_us);
        if (rc == 0)
            return fault(c, e, "could not send within the timeout");
        if (rc < 0)
            return fault(c, e, "poll: %s", strerror(errno));
    }
    return true;
}

/* Reads the one reply to the command just sent (see redisconn.h for what is refused). */
static bool read_reply(struct redisconn *c, const struct redis_endpoint *e, const char *expect,
                       int64_t deadline_us, redisReply **out)
{
    char chunk[16384];
    size_t fed = 0;
    for (;;) {
        void *reply = NULL;
        if (redisReaderGetReply(c->reader, &reply) != REDIS_OK)
            return fault(c, e, "malformed reply: %s", c->reader->errstr);
        if (reply) {
            if (c->reader->len > c->reader->pos) {
                freeReplyObject(reply);
                return fault(c, e, "more data than one reply");
            }
            *out = reply;
            return true;
        }
        int rc = wait_fd(c->fd, POLLIN, deadline_us);
        if (rc == 0)
            return fault(c, e, "no reply within the timeout");
        if (rc < 0)
            return fault(c, e, "poll: %s", strerror(errno));
        ssize_t n = recv(c->fd, chunk, sizeof(chunk), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        if (n <= 0)
            return fault(c, e, "%s", n == 0 ? "connection closed" : strerror(errno));
        if (fed == 0 && !memchr(expect, chunk[0], strlen(expect))) {
            char shown[24];
            printable(shown, sizeof(shown), chunk, (size_t)n);
            return fault(c, e, "unexpected reply \"%s\"", shown);
        }
        fed += (size_t)n;
        if (fed > REDISCONN_MAX_REPLY)
            return fault(c, e, "reply longer than %d bytes", REDISCONN_MAX_REPLY);
        if (redisReaderFeed(c->reader, chunk, (size_t)n) != REDIS_OK)
            return fault(c, e, "out of memory");
    }
}

void redisconn_error_reply(struct redisconn *c, const struct redis_endpoint *e, const redisReply *r)
{
    char shown[120];
    printable(shown, sizeof(shown), r->str, r->len);
    redisconn_fail(c, e, false, "%s", shown);
}

bool redisconn_command(struct redisconn *c, const struct redis_endpoint *e, int argc,
                       const char *const *argv, const size_t *lens, const char *expect,
                       int64_t deadline_us, redisReply **reply)
{
    *reply = NULL;
    if (c->fd < 0)
        return fault(c, e, "not connected");
    struct buf b;
    buf_init(&b, c->command, sizeof(c->command));
    buf_printf(&b, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        buf_printf(&b, "$%zu\r\n", lens[i]);
        buf_add(&b, argv[i], lens[i]);
        buf_add(&b, "\r\n", 2);
    }
    if (argc < 1 || argc > REDISCONN_MAX_ARGS || !buf_ok(&b)) {
        redisconn_fail(c, e, false, "command too long");
        return false;
    }
    atomic_fetch_add(&stat_round_trips, 1);
    return send_all(c, e, b.data, b.len, deadline_us) &&
           read_reply(c, e, expect, deadline_us, reply);
}

static bool authenticate(struct redisconn *c, const struct redis_endpoint *e, int64_t deadline_us)
{
    const char *argv[3] = {"AUTH"};
    size_t lens[3] = {4};
    int argc = 1;
    if (e->has_user) {
        argv[argc] = e->user;
        lens[argc++] = strlen(e->user);
    }
    argv[argc] = e->password;
    lens[argc++] = strlen(e->password);
    redisReply *r = NULL;
    bool sent = redisconn_command(c, e, argc, argv, lens, "+-", deadline_us, &r);
    OPENSSL_cleanse(c->command, 2 * REDISCONN_MAX_CREDENTIAL + 64); /* the password */
    if (!sent)
        return false;
    bool ok = r->type == REDIS_REPLY_STATUS;
    if (!ok) {
        char shown[120];
        printable(shown, sizeof(shown), r->str, r->len);
        fault(c, e, "AUTH refused: %s", shown);
    }
    freeReplyObject(r);
    return ok;
}

/* Connects to the first address that answers before the deadline; the socket, or -1. */
static int open_socket(struct redisconn *c, const struct redis_endpoint *e, int64_t deadline_us)
{
    for (size_t i = 0; i < e->naddrs; i++) {
        int fd = socket(e->addrs[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            redisconn_fail(c, e, false, "socket: %s", strerror(errno));
            continue;
        }
        int rc = connect(fd, (const struct sockaddr *)&e->addrs[i], e->lens[i]);
        if (rc < 0 && errno == EINPROGRESS) {
            int so_error = 0;
            socklen_t len = sizeof(so_error);
            rc = wait_fd(fd, POLLOUT, deadline_us);
            if (rc == 0) {
                errno = ETIMEDOUT;
                rc = -1;
            } else if (rc > 0) {
                rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
                if (rc == 0 && so_error != 0) {
                    errno = so_error;
                    rc = -1;
                }
            }
        }
        if (rc == 0) {
            if (e->tcp) {
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            }
            return fd;
        }
        redisconn_fail(c, e, false, "connect: %s",
                       errno == ETIMEDOUT ? "timed out" : strerror(errno));
        close(fd);
        if (redisconn_clock_us() >= deadline_us)
            break;
    }
    return -1;
}

bool redisconn_ready(struct redisconn *c, const struct redis_endpoint *e, int64_t deadline_us)
{
    if (c->fd >= 0 && still_usable(c))
        return true;
    redisconn_close(c);
    int fd = open_socket(c, e, deadline_us);
    if (fd < 0)
        return false;
    c->reader = redisReaderCreate();
    if (!c->reader) {
        close(fd);
        redisconn_fail(c, e, false, "out of memory");
        return false;
    }
    c->fd = fd;
    if (e->has_password && !authenticate(c, e, deadline_us))
        return false;
    atomic_fetch_add(&stat_connects, 1);
    return true;
}
