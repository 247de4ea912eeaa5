/* closer.c - see closer.h. */
#include "auto_config.h"

#include "daemon/closer.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How often the lingering connections are checked against their deadline. */
#define SCAN_MS 500
/* The epoll tag of the eventfd that stops the thread; slots use 0..CLOSER_MAX_CONNECTIONS-1. */
#define STOP_TAG UINT64_MAX

/*
 * One lingering connection. A worker that takes a free slot fills it, adds the descriptor
 * to the epoll set and then sets `armed`; from then on only the thread touches the slot,
 * until it gives it back to the free list. gen tells a slot's uses apart, so that an event
 * for a connection already closed can never act on the next connection given the same slot.
 */
struct slot {
    _Atomic bool armed; /* the fields below are filled in and belong to the thread */
    int fd;
    uint32_t gen;
    int64_t deadline_ms;
    size_t drained;
    int next_free;
};

struct closer {
    pthread_t thread;
    int epoll_fd, stop_fd;
    _Atomic bool stopping;
    pthread_mutex_t lock; /* the free list only: held for a push or a pop, never for I/O */
    struct slot slots[CLOSER_MAX_CONNECTIONS];
    int free_head;           /* -1 when every slot is in use */
    char scratch[16 * 1024]; /* what is drained, discarded */
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Reads and discards what is there; true once the connection is done with (the peer closed,
 * an error, or more than CLOSER_MAX_DRAIN bytes), false if it may still send. */
static bool drain(int fd, size_t *drained, char *scratch, size_t space)
{
    for (;;) {
        ssize_t n = recv(fd, scratch, space, MSG_DONTWAIT);
        if (n > 0) {
            *drained += (size_t)n;
            if (*drained > CLOSER_MAX_DRAIN)
                return true;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    }
}

static void push_free(struct closer *c, int i)
{
    pthread_mutex_lock(&c->lock);
    c->slots[i].next_free = c->free_head;
    c->free_head = i;
    pthread_mutex_unlock(&c->lock);
}

/* Closes a slot's connection and frees the slot. Closing the descriptor also takes it out of
 * the epoll set (nothing else refers to that socket). */
static void release(struct closer *c, int i)
{
    struct slot *s = &c->slots[i];
    close(s->fd);
    s->fd = -1;
    s->gen++;
    atomic_store_explicit(&s->armed, false, memory_order_relaxed);
    push_free(c, i); /* the lock orders the above before the next worker's use */
}

static void expire(struct closer *c, int64_t now)
{
    for (int i = 0; i < CLOSER_MAX_CONNECTIONS; i++) {
        struct slot *s = &c->slots[i];
        if (atomic_load_explicit(&s->armed, memory_order_acquire) && s->deadline_ms <= now)
            release(c, i);
    }
}

static void *closer_main(void *arg)
{
    struct closer *c = arg;
    struct epoll_event events[64];
    int64_t next_scan = now_ms() + SCAN_MS;
    for (;;) {
        int n = epoll_wait(c->epoll_fd, events, 64, SCAN_MS);
        if (n < 0 && errno != EINTR)
            break; /* cannot happen with a valid set; the stop closes what is left */
        bool stop = atomic_load(&c->stopping);
        for (int k = 0; k < n; k++) {
            uint64_t tag = events[k].data.u64;
            if (tag == STOP_TAG)
                continue; /* the wake-up of closer_stop, which set `stopping` */
            int i = (int)(tag & 0xffffffffu);
            struct slot *s = &c->slots[i];
            /* Not armed yet: its worker is between adding it and saying so; the event is
             * reported again by the next wait. */
            if (atomic_load_explicit(&s->armed, memory_order_acquire) &&
                s->gen == (uint32_t)(tag >> 32) &&
                drain(s->fd, &s->drained, c->scratch, sizeof(c->scratch)))
                release(c, i);
        }
        int64_t now = now_ms();
        if (now >= next_scan) {
            expire(c, now);
            next_scan = now + SCAN_MS;
        }
        if (stop)
            break;
    }
    return NULL;
}

struct closer *closer_start(char *err, size_t errlen)
{
    struct closer *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "cannot start the connection closer: out of memory");
        return NULL;
    }
    c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    c->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    atomic_init(&c->stopping, false);
    pthread_mutex_init(&c->lock, NULL);
    /* A quarter of the descriptors at most: lingering connections must never starve the
     * accepts and the auth calls of descriptors (a peer that sends a request and never
     * closes could otherwise fill the table). */
    int capacity = CLOSER_MAX_CONNECTIONS;
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY &&
        nofile.rlim_cur / 4 < (rlim_t)capacity)
        capacity = nofile.rlim_cur / 4 > 16 ? (int)(nofile.rlim_cur / 4) : 16;
    for (int i = 0; i < CLOSER_MAX_CONNECTIONS; i++) {
        atomic_init(&c->slots[i].armed, false);
        c->slots[i].fd = -1;
        c->slots[i].next_free = i + 1 < capacity ? i + 1 : -1;
    }
    c->free_head = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = STOP_TAG};
    if (c->epoll_fd < 0 || c->stop_fd < 0 ||
        epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->stop_fd, &ev) != 0) {
        snprintf(err, errlen, "cannot start the connection closer: %s", strerror(errno));
        goto fail;
    }
    int rc = pthread_create(&c->thread, NULL, closer_main, c);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the connection closer: %s", strerror(rc));
        goto fail;
    }
    return c;
fail:
    if (c->epoll_fd >= 0)
        close(c->epoll_fd);
    if (c->stop_fd >= 0)
        close(c->stop_fd);
    pthread_mutex_destroy(&c->lock);
    free(c);
    return NULL;
}

void closer_close(struct closer *c, int fd)
{
    /* Our end first, at once: the web server sees the end of the answer now. If the peer is
     * gone already there is nothing left to protect. */
    if (shutdown(fd, SHUT_WR) != 0) {
        close(fd);
        return;
    }
    pthread_mutex_lock(&c->lock);
    int i = c->free_head;
    if (i >= 0)
        c->free_head = c->slots[i].next_free;
    pthread_mutex_unlock(&c->lock);
    if (i < 0) {
        /* Full: so many peers that do not close are a flood, not web servers. Closing at once
         * may cost one of them its answer (a reset); lingering here would cost a worker. */
        close(fd);
        return;
    }
    struct slot *s = &c->slots[i];
    s->fd = fd;
    s->drained = 0;
    s->deadline_ms = now_ms() + CLOSER_LINGER_S * 1000;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP,
                             .data.u64 = (uint64_t)s->gen << 32 | (uint32_t)i};
    if (epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        s->fd = -1;
        push_free(c, i);
        close(fd);
        return;
    }
    atomic_store_explicit(&s->armed, true, memory_order_release);
}

void closer_stop(struct closer *c)
{
    if (!c)
        return;
    atomic_store(&c->stopping, true);
    uint64_t one = 1;
    /* Only a wake-up: should it fail, the thread still sees `stopping` within SCAN_MS. */
    ssize_t rc = write(c->stop_fd, &one, sizeof(one));
    (void)rc;
    pthread_join(c->thread, NULL);
    for (int i = 0; i < CLOSER_MAX_CONNECTIONS; i++) {
        if (atomic_load(&c->slots[i].armed))
            close(c->slots[i].fd);
    }
    close(c->epoll_fd);
    close(c->stop_fd);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
