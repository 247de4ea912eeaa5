/*
 * filesnapshot.h - reading a small file whole, and telling cheaply whether it changed since.
 *
 * A snapshot is what identifies a file's contents on disk without reading them (device, inode,
 * size, modification and change times, taken before the read) and a SHA-256 of what was read.
 * Whether the file changed is one stat(2) against the snapshot, except in the first seconds
 * after the file was last written: file times advance in coarse ticks (milliseconds on Linux,
 * a second or two on some file systems), so a second write of the same size in the same tick
 * would leave them as they were. While that can happen the contents are read and hashed again.
 *
 * filesnapshot_changed may be called from several threads on the same snapshot: the only field
 * it writes is the atomic `racy`, from true to false.
 */
#ifndef AUTHZ_FILESNAPSHOT_H
#define AUTHZ_FILESNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct filesnapshot {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    unsigned char digest[32]; /* SHA-256 of the contents read */
    _Atomic bool racy;        /* the times are too recent to show a later write */
};

/*
 * Reads path, a regular file of at most max bytes, into *text (malloc'd, NUL-terminated, *len
 * bytes: free it with filesnapshot_free_text) and fills *snap. Returns NULL, or a message
 * naming the path written into err (*text is NULL then). A FIFO or a device is refused without
 * blocking on it.
 */
const char *filesnapshot_read(const char *path, size_t max, char **text, size_t *len,
                              struct filesnapshot *snap, char *err, size_t errlen);

/* Wipes the text (it may hold a refused plaintext password) and frees it. NULL is ignored. */
void filesnapshot_free_text(char *text, size_t len);

/*
 * Whether path differs from the snapshot: another inode or device (replaced by a rename),
 * another size or time, other contents while the times cannot tell, or it cannot be stat'ed or
 * read any more.
 */
bool filesnapshot_changed(const char *path, size_t max, struct filesnapshot *snap);

#endif
