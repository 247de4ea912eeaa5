/* test_redisconn.c - endpoints, and the faults a connection meets before Redis says a word. */
#include "auth/redisconn.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "unit.h"

static void test_addresses_are_checked(void)
{
    static const struct {
        const char *address, *error;
    } bad[] = {
        {"", "address: empty"},
        {"localhost", "expected host:port"},
        {":6379", "expected host:port"},
        {"::1:6379", "expected host:port"},
        {"[::1:6379", "[ipv6]:port"},
        {"[::1]6379", "[ipv6]:port"},
        {"127.0.0.1:", "port must be"},
        {"127.0.0.1:0", "port must be"},
        {"127.0.0.1:65536", "port must be"},
        {"127.0.0.1:63x9", "port must be"},
        {"127.0.0.1:-1", "port must be"},
        {"/run/redis/redis-server.sock/and/a/path/that/is/far/too/long/for/a/unix/socket/"
         "address/to/hold/in/its/sun_path/field.sock",
         "socket path"},
    };
    for (size_t i = 0; i < UNIT_N(bad); i++) {
        struct redis_endpoint e;
        char err[256];
        const char *msg = redis_endpoint_init(&e, bad[i].address, NULL, NULL, err, sizeof(err));
        UNIT_STR_HAS(msg, bad[i].error);
    }
    struct redis_endpoint e;
    char err[256];
    CU_ASSERT_PTR_NULL(redis_endpoint_init(&e, "127.0.0.1:6379", NULL, NULL, err, sizeof(err)));
    CU_ASSERT_TRUE(e.tcp);
    UNIT_INT_EQ(e.naddrs, 1);
    UNIT_INT_EQ(e.addrs[0].ss_family, AF_INET);
    UNIT_INT_EQ(ntohs(((struct sockaddr_in *)&e.addrs[0])->sin_port), 6379);
    CU_ASSERT_PTR_NULL(redis_endpoint_init(&e, "[::1]:6380", NULL, NULL, err, sizeof(err)));
    UNIT_INT_EQ(e.addrs[0].ss_family, AF_INET6);
    CU_ASSERT_PTR_NULL(redis_endpoint_init(&e, "localhost:6379", NULL, NULL, err, sizeof(err)));
    CU_ASSERT_TRUE(e.naddrs >= 1);
    CU_ASSERT_PTR_NULL(redis_endpoint_init(&e, "/run/redis.sock", NULL, NULL, err, sizeof(err)));
    CU_ASSERT_FALSE(e.tcp);
    UNIT_INT_EQ(e.addrs[0].ss_family, AF_UNIX);
    UNIT_STR_EQ(((struct sockaddr_un *)&e.addrs[0])->sun_path, "/run/redis.sock");
    UNIT_STR_EQ(e.address, "/run/redis.sock");
}

static void test_credentials_are_copied_and_wiped(void)
{
    struct redis_endpoint e;
    char err[256];
    UNIT_STR_HAS(redis_endpoint_init(&e, "/r.sock", "user", NULL, err, sizeof(err)),
                 "user: needs a password");
    UNIT_STR_HAS(redis_endpoint_init(&e, "/r.sock", NULL, "", err, sizeof(err)), "password");
    char password[] = "pass-word";
    CU_ASSERT_PTR_NULL(redis_endpoint_init(&e, "/r.sock", "user", password, err, sizeof(err)));
    memset(password, 0, sizeof(password));
    CU_ASSERT_TRUE(e.has_user && e.has_password);
    UNIT_STR_EQ(e.user, "user");
    UNIT_STR_EQ(e.password, "pass-word");
    redis_endpoint_wipe(&e);
    UNIT_STR_EQ(e.password, "");
    CU_ASSERT_PTR_NULL(redis_endpoint_init(&e, "/r.sock", NULL, NULL, err, sizeof(err)));
    CU_ASSERT_FALSE(e.has_user || e.has_password);
}

/* A loopback port with a listener that never accepts nor answers: connects, then silence. */
static int silent_listener(char *address, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 4) == 0);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    snprintf(address, cap, "127.0.0.1:%d", ntohs(sa.sin_port));
    return fd;
}

static void test_a_refused_connection_is_a_fault(void)
{
    char address[32];
    int fd = silent_listener(address, sizeof(address));
    close(fd); /* nothing listens there now */
    struct redis_endpoint e;
    char err[256];
    CU_ASSERT_PTR_NULL(redis_endpoint_init(&e, address, NULL, NULL, err, sizeof(err)));
    struct redisconn c;
    redisconn_init(&c);
    uint64_t trips, connects, trips2, connects2;
    redisconn_counts(&trips, &connects);
    CU_ASSERT_FALSE(redisconn_ready(&c, &e, redisconn_clock_us() + 100000));
    UNIT_STR_HAS(c.error, "connect: Connection refused");
    UNIT_STR_HAS(c.error, address);
    UNIT_INT_EQ(c.fd, -1);
    redisReply *r = NULL;
    const char *argv[] = {"PING"};
    size_t lens[] = {4};
    CU_ASSERT_FALSE(redisconn_command(&c, &e, 1, argv, lens, "+", redisconn_clock_us(), &r));
    UNIT_STR_HAS(c.error, "not connected");
    redisconn_counts(&trips2, &connects2);
    UNIT_INT_EQ(trips2 - trips, 0);
    UNIT_INT_EQ(connects2 - connects, 0);
    redisconn_close(&c);
}

static void test_silence_ends_at_the_deadline(void)
{
    char address[32];
    int listener = silent_listener(address, sizeof(address));
    struct redis_endpoint e;
    char err[256];
    CU_ASSERT_PTR_NULL(redis_endpoint_init(&e, address, NULL, NULL, err, sizeof(err)));
    struct redisconn c;
    redisconn_init(&c);
    CU_ASSERT_TRUE_FATAL(redisconn_ready(&c, &e, redisconn_clock_us() + 1000000));
    /* A connection that is still fine is kept. */
    int fd = c.fd;
    CU_ASSERT_TRUE(redisconn_ready(&c, &e, redisconn_clock_us() + 1000000));
    UNIT_INT_EQ(c.fd, fd);

    /* Too long, or too many arguments: refused before anything is sent, still connected. */
    static char big[REDISCONN_MAX_COMMAND];
    const char *argv[REDISCONN_MAX_ARGS + 1] = {"SET", "k", big};
    size_t lens[REDISCONN_MAX_ARGS + 1] = {3, 1, sizeof(big)};
    redisReply *r = NULL;
    CU_ASSERT_FALSE(redisconn_command(&c, &e, 3, argv, lens, "+", redisconn_clock_us(), &r));
    UNIT_STR_HAS(c.error, "command too long");
    for (int i = 0; i < REDISCONN_MAX_ARGS + 1; i++) {
        argv[i] = "x";
        lens[i] = 1;
    }
    CU_ASSERT_FALSE(redisconn_command(&c, &e, REDISCONN_MAX_ARGS + 1, argv, lens, "+",
                                      redisconn_clock_us(), &r));
    UNIT_INT_EQ(c.fd, fd);

    /* Nobody answers: the command ends at its deadline and the connection is dropped. */
    int64_t t0 = redisconn_clock_us();
    CU_ASSERT_FALSE(
        redisconn_command(&c, &e, 1, argv, lens, "+", redisconn_clock_us() + 30000, &r));
    CU_ASSERT_TRUE(redisconn_clock_us() - t0 >= 30000);
    CU_ASSERT_PTR_NULL(r);
    UNIT_STR_HAS(c.error, "no reply within the timeout");
    UNIT_INT_EQ(c.fd, -1);
    redisconn_close(&c);
    close(listener);
}

int main(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_addresses_are_checked),
        UNIT_CASE(test_credentials_are_copied_and_wiped),
        UNIT_CASE(test_a_refused_connection_is_a_fault),
        UNIT_CASE(test_silence_ends_at_the_deadline),
        UNIT_END,
    };
    static const struct unit_suite suites[] = {{"redisconn", cases}, {NULL, NULL}};
    return unit_main(suites);
}
