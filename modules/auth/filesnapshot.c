/* filesnapshot.c - see filesnapshot.h. */
#include "auto_config.h"

#include "auth/filesnapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Times this many seconds old or less cannot tell a later write apart. */
#define RACY_SECONDS 2

static const char *fail(char *err, size_t errlen, const char *path, const char *what, int e)
{
    char eb[128];
    if (e)
        snprintf(err, errlen, "%s: %s: %s", path, what, strerror_r(e, eb, sizeof(eb)));
    else
        snprintf(err, errlen, "%s: %s", path, what);
    return err;
}

static void take_times(struct filesnapshot *snap, const struct stat *sb)
{
    snap->dev = sb->st_dev;
    snap->ino = sb->st_ino;
    snap->size = sb->st_size;
    snap->mtime = sb->st_mtim;
    snap->ctime = sb->st_ctim;
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static bool same_times(const struct filesnapshot *a, const struct filesnapshot *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           same_time(&a->mtime, &b->mtime) && same_time(&a->ctime, &b->ctime);
}

static bool times_are_racy(const struct filesnapshot *snap)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    time_t newest =
        snap->mtime.tv_sec > snap->ctime.tv_sec ? snap->mtime.tv_sec : snap->ctime.tv_sec;
    return now.tv_sec - newest <= RACY_SECONDS;
}

const char *filesnapshot_read(const char *path, size_t max, char **text, size_t *len,
                              struct filesnapshot *snap, char *err, size_t errlen)
{
    const char *msg = NULL;
    char *buf = NULL;
    size_t n = 0;
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return fail(err, errlen, path, "cannot open", errno);
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        msg = fail(err, errlen, path, "cannot stat", errno);
        goto end;
    }
    if (!S_ISREG(sb.st_mode)) {
        msg = fail(err, errlen, path, "not a regular file", 0);
        goto end;
    }
    if ((unsigned long long)sb.st_size > max) {
        char what[64];
        snprintf(what, sizeof(what), "larger than %zu bytes", max);
        msg = fail(err, errlen, path, what, 0);
        goto end;
    }
    take_times(snap, &sb);

    /* A file that grows meanwhile is read up to its old size: the next check sees the change. */
    size_t cap = (size_t)sb.st_size;
    buf = malloc(cap + 1);
    if (!buf) {
        msg = fail(err, errlen, path, "out of memory", 0);
        goto end;
    }
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            msg = fail(err, errlen, path, "cannot read", errno);
            goto end;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    if (EVP_Digest(buf, n, snap->digest, NULL, EVP_sha256(), NULL) != 1) {
        msg = fail(err, errlen, path, "SHA-256 failed", 0);
        goto end;
    }
    atomic_init(&snap->racy, times_are_racy(snap));
    *text = buf;
    *len = n;
    buf = NULL;

end:
    filesnapshot_free_text(buf, n);
    close(fd);
    return msg;
}

void filesnapshot_free_text(char *text, size_t len)
{
    if (!text)
        return;
    OPENSSL_cleanse(text, len);
    free(text);
}

bool filesnapshot_changed(const char *path, size_t max, struct filesnapshot *snap)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return true;
    struct filesnapshot now;
    take_times(&now, &sb);
    if (!same_times(&now, snap))
        return true;
    if (!atomic_load(&snap->racy))
        return false;

    char err[256];
    char *text = NULL;
    size_t len = 0;
    bool changed = filesnapshot_read(path, max, &text, &len, &now, err, sizeof(err)) != NULL ||
                   !same_times(&now, snap) ||
                   CRYPTO_memcmp(now.digest, snap->digest, sizeof(now.digest)) != 0;
    filesnapshot_free_text(text, len);
    /* Once the times are old enough, any later write shows in them: stat alone suffices. */
    if (!changed && !times_are_racy(snap))
        atomic_store(&snap->racy, false);
    return changed;
}
