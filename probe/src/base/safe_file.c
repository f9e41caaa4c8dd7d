#include "safe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cs_create_output(const char *path, bool force, char *why, size_t why_len)
{
    /* O_NONBLOCK: opening a FIFO with no reader must not hang; not O_TRUNC yet: the file
     * is truncated only once it is known to be the file it claims to be. */
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK | (force ? 0 : O_NOFOLLOW);
    int fd = open(path, flags, 0600);
    if (fd < 0) {
        int err = errno;
        if (err == ELOOP && !force)
            snprintf(why, why_len,
                     "refusing to write through the symbolic link %.300s (use --force)", path);
        else
            snprintf(why, why_len, "cannot create %.300s: %s", path, strerror(err));
        return -err;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        snprintf(why, why_len, "cannot create %.300s: %s", path, strerror(err));
        close(fd);
        return -err;
    }
    if (S_ISREG(st.st_mode) && st.st_nlink > 1 && !force) {
        snprintf(why, why_len,
                 "refusing to write to %.300s: it has other names (hard links; use --force)", path);
        close(fd);
        return -EMLINK;
    }
    if (S_ISREG(st.st_mode) && ftruncate(fd, 0) != 0) {
        int err = errno;
        snprintf(why, why_len, "cannot truncate %.300s: %s", path, strerror(err));
        close(fd);
        return -err;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

FILE *cs_fopen_output(const char *path, bool force, char *why, size_t why_len)
{
    int fd = cs_create_output(path, force, why, why_len);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        snprintf(why, why_len, "cannot create %.300s: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

int cs_open_input(const char *path, char *why, size_t why_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int err = errno;
        snprintf(why, why_len, "cannot read %.300s: %s", path, strerror(err));
        return -err;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        snprintf(why, why_len, "cannot read %.300s: %s", path, strerror(err));
        close(fd);
        return -err;
    }
    if (!S_ISREG(st.st_mode)) {
        bool dir = S_ISDIR(st.st_mode);
        snprintf(why, why_len, "cannot read %.300s: %s", path,
                 dir ? "it is a directory" : "not a regular file");
        close(fd);
        return dir ? -EISDIR : -EINVAL;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

/* $XDG_RUNTIME_DIR only if it is a directory of ours nobody else may enter. */
static const char *runtime_dir(void)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    if (!dir || dir[0] != '/' || lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != geteuid() || (st.st_mode & 077))
        return NULL;
    return dir;
}

int cs_private_dir(const char *what, char *dir, size_t dir_len)
{
    const char *base = runtime_dir();
    int n = snprintf(dir, dir_len, "%s/coscope-%s-XXXXXX", base ? base : "/tmp", what);
    if (n < 0 || (size_t)n >= dir_len)
        return -ENAMETOOLONG;
    /* mkdtemp: a fresh name, created 0700, never an existing directory or link */
    if (!mkdtemp(dir))
        return -errno;
    return 0;
}
