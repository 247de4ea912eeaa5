/*
 * redisconn.h - one connection to Redis whose every step ends by a deadline.
 *
 * hiredis parses the replies; this module owns the socket, so that connecting, AUTH, sending
 * and reading all end by the caller's deadline (a non-blocking socket and poll: SO_RCVTIMEO
 * bounds each read, and a server that drips bytes would renew it forever), and so that
 * nothing is parsed that was not asked for. A reply whose first byte is not one of the types
 * the caller expects is refused before hiredis sees it (so no array header makes it allocate
 * room for elements), no reply longer than REDISCONN_MAX_REPLY is buffered, and bytes beyond
 * the one reply are a fault.
 *
 * Any fault closes the connection; the next redisconn_ready opens a new one. An error reply
 * (-ERR, -OOM, -WRONGTYPE, ...) is a reply like any other: the connection stays open.
 *
 * Deadlines are in microseconds of redisconn_clock_us (monotonic). An endpoint is read-only
 * once made and may be shared by any number of threads; a redisconn is used by one thread at
 * a time. Messages name the address, never a password, key or value.
 */
#ifndef AUTHZ_REDISCONN_H
#define AUTHZ_REDISCONN_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define REDISCONN_MAX_ADDRESS 256
#define REDISCONN_MAX_ADDRS 4 /* of a host name, tried in order */
#define REDISCONN_MAX_CREDENTIAL 512
#define REDISCONN_MAX_ARGS 8
#define REDISCONN_MAX_VALUE (64 * 1024 + 128) /* the longest argument or bulk reply */
#define REDISCONN_MAX_REPLY (REDISCONN_MAX_VALUE + 32)
#define REDISCONN_MAX_COMMAND (REDISCONN_MAX_VALUE + 2 * REDISCONN_MAX_CREDENTIAL + 1024)

/* Where Redis is and who to be there. */
struct redis_endpoint {
    char address[REDISCONN_MAX_ADDRESS + 1]; /* as configured */
    struct sockaddr_storage addrs[REDISCONN_MAX_ADDRS];
    socklen_t lens[REDISCONN_MAX_ADDRS];
    size_t naddrs;
    bool tcp;
    bool has_user, has_password;
    char user[REDISCONN_MAX_CREDENTIAL + 1];
    char password[REDISCONN_MAX_CREDENTIAL + 1];
};

/*
 * Parses the address ("host:port", "[ipv6]:port", or a unix socket path starting with '/'),
 * resolving a host name now, and copies the credentials (user: NULL for Redis' default user;
 * password: NULL for no AUTH). NULL on success, else writes what is wrong into err (returned).
 */
const char *redis_endpoint_init(struct redis_endpoint *e, const char *address, const char *user,
                                const char *password, char *err, size_t errlen);

/* Overwrites the password so that it does not linger in freed memory. */
void redis_endpoint_wipe(struct redis_endpoint *e);

struct redisconn {
    int fd;              /* -1: not connected */
    redisReader *reader; /* with fd */
    char error[256];     /* the last fault, for the log */
    char command[REDISCONN_MAX_COMMAND];
};

void redisconn_init(struct redisconn *c);
void redisconn_close(struct redisconn *c);

/* The clock deadlines are measured on. */
int64_t redisconn_clock_us(void);

/*
 * Makes c ready for a command to e: keeps its connection if the server has not closed it
 * (nor sent anything unasked), otherwise connects and authenticates before the deadline.
 * True if it opened a new connection or kept one; false on a fault (see c->error).
 */
bool redisconn_ready(struct redisconn *c, const struct redis_endpoint *e, int64_t deadline_us);

/*
 * Sends one command (argc <= REDISCONN_MAX_ARGS arguments, binary-safe) on a ready connection,
 * and reads its reply, whose first byte must be one of `expect` (e.g. "$-" for a bulk string,
 * nil or error). True with *reply set (the caller frees it with freeReplyObject); false on a
 * fault, with the connection closed.
 */
bool redisconn_command(struct redisconn *c, const struct redis_endpoint *e, int argc,
                       const char *const *argv, const size_t *lens, const char *expect,
                       int64_t deadline_us, redisReply **reply);

/* Records a fault found by the caller ("redis ADDRESS: ..."); closes if asked to. */
void redisconn_fail(struct redisconn *c, const struct redis_endpoint *e, bool close,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Records an error reply (-ERR, -OOM, ...) as the call's fault; the connection stays open. */
void redisconn_error_reply(struct redisconn *c, const struct redis_endpoint *e,
                           const redisReply *r);

/* Commands sent and connections made (authenticated) by all connections of the process. */
void redisconn_counts(uint64_t *round_trips, uint64_t *connects);

#endif
