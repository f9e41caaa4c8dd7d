/* Whole-file helpers on the executor: disk I/O blocks, so it never runs on the loop.
 *
 * Each request is one heap block the job owns: if the waiting task is cancelled, the
 * system calls still run to the end on the worker (they cannot be interrupted) and the
 * block — with the caller's path and data copied in — is freed afterwards. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor.h"

struct file_req {
    char *path;
    char *data;
    size_t len;
    unsigned flags;
    int fd;
};

static void req_free(void *arg, intptr_t result)
{
    (void)result;
    struct file_req *r = arg;
    free(r->data);
    free(r->path);
    free(r);
}

static struct file_req *req_new(const char *path)
{
    struct file_req *r = calloc(1, sizeof *r);
    if (r && path && !(r->path = strdup(path))) {
        free(r);
        r = NULL;
    }
    return r;
}

static intptr_t read_all_job(void *arg)
{
    struct file_req *r = arg;
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    size_t cap = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
    size_t len = 0;
    char *buf = malloc(cap);
    int err = buf ? 0 : -ENOMEM;
    while (!err) {
        if (len + 1 >= cap) { /* files that grow, and /proc files of size 0 */
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                err = -ENOMEM;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            err = -errno;
        else if (n == 0)
            break;
        else
            len += (size_t)n;
    }
    close(fd);
    if (err) {
        free(buf);
        return err;
    }
    buf[len] = '\0';
    r->data = buf;
    r->len = len;
    return 0;
}

int co_file_read_all(const char *path, char **data, size_t *len)
{
    if (!path || !data)
        return CO_EINVAL;
    struct file_req *r = req_new(path);
    if (!r)
        return CO_ENOMEM;
    intptr_t res = 0;
    int rc = co__to_thread(read_all_job, r, req_free, &res);
    if (rc)
        return rc; /* r is freed by req_free if the job still runs */
    if (res == 0) {
        *data = r->data;
        if (len)
            *len = r->len;
        r->data = NULL;
    }
    req_free(r, 0);
    return (int)res;
}

static intptr_t write_all_job(void *arg)
{
    struct file_req *r = arg;
    int oflags = O_WRONLY | O_CREAT | O_CLOEXEC | (r->flags & CO_FILE_APPEND ? O_APPEND : O_TRUNC);
    int fd = open(r->path, oflags, 0644);
    if (fd < 0)
        return -errno;
    int err = 0;
    for (size_t done = 0; done < r->len && !err;) {
        ssize_t n = write(fd, r->data + done, r->len - done);
        if (n < 0 && errno != EINTR)
            err = -errno;
        else if (n > 0)
            done += (size_t)n;
    }
    if (!err && (r->flags & CO_FILE_FSYNC) && fsync(fd) < 0)
        err = -errno;
    if (close(fd) < 0 && !err && errno != EINTR)
        err = -errno;
    return err;
}

int co_file_write_all(const char *path, const void *data, size_t len, unsigned flags)
{
    if (!path || (!data && len) || (flags & ~(unsigned)(CO_FILE_FSYNC | CO_FILE_APPEND)))
        return CO_EINVAL;
    struct file_req *r = req_new(path);
    if (!r)
        return CO_ENOMEM;
    r->data = malloc(len ? len : 1); /* a copy: the job may outlive a cancelled caller */
    if (!r->data) {
        req_free(r, 0);
        return CO_ENOMEM;
    }
    if (len)
        memcpy(r->data, data, len);
    r->len = len;
    r->flags = flags;
    intptr_t res = 0;
    int rc = co__to_thread(write_all_job, r, req_free, &res);
    if (rc)
        return rc;
    req_free(r, 0);
    return (int)res;
}

static intptr_t fsync_job(void *arg)
{
    struct file_req *r = arg;
    return fsync(r->fd) < 0 ? -errno : 0;
}

int co_fsync(int fd)
{
    if (fd < 0)
        return CO_EINVAL;
    struct file_req *r = req_new(NULL);
    if (!r)
        return CO_ENOMEM;
    r->fd = fd;
    intptr_t res = 0;
    int rc = co__to_thread(fsync_job, r, req_free, &res);
    if (rc)
        return rc;
    req_free(r, 0);
    return (int)res;
}
