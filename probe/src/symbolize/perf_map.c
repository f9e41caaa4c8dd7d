#include "perf_map.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct entry {
    uint64_t start, end; /* [start, end) */
    size_t seq;          /* line number: the later line wins */
    size_t name;         /* offset in names */
};

struct cs_perf_map {
    struct entry *entries; /* sorted by start, then seq, after each add */
    size_t n, cap;
    uint64_t *max_end; /* max_end[i]: the furthest end of entries[0..i] */
    char *names;
    size_t names_len, names_cap;
    char *pending; /* an unfinished last line */
    size_t npending;
    size_t lines;
};

struct cs_perf_map *cs_perf_map_new(void)
{
    return calloc(1, sizeof(struct cs_perf_map));
}

void cs_perf_map_free(struct cs_perf_map *m)
{
    if (!m)
        return;
    free(m->entries);
    free(m->max_end);
    free(m->names);
    free(m->pending);
    free(m);
}

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

static bool parse_hex(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    uint64_t v = 0;
    int digits = 0;
    for (; s < end; s++, digits++) {
        int d = *s >= '0' && *s <= '9'   ? *s - '0'
                : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
                : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
                                         : -1;
        if (d < 0)
            break;
        if (digits == 16)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    if (!digits)
        return false;
    *p = s;
    *out = v;
    return true;
}

/* One line "START SIZE name" (no newline). Malformed lines are skipped. */
static int add_line(struct cs_perf_map *m, const char *s, const char *end)
{
    m->lines++;
    uint64_t start, size;
    if (!parse_hex(&s, end, &start) || s == end || *s != ' ')
        return 0;
    s++;
    if (!parse_hex(&s, end, &size) || s == end || *s != ' ' || !size || start + size < start)
        return 0;
    s++;
    if (s == end)
        return 0;
    size_t len = (size_t)(end - s);
    if (!grow((void **)&m->entries, &m->cap, m->n + 1, sizeof *m->entries) ||
        !grow((void **)&m->names, &m->names_cap, m->names_len + len + 1, 1))
        return -ENOMEM;
    memcpy(m->names + m->names_len, s, len);
    m->names[m->names_len + len] = '\0';
    m->entries[m->n++] = (struct entry){start, start + size, m->lines, m->names_len};
    m->names_len += len + 1;
    return 0;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int index_entries(struct cs_perf_map *m)
{
    qsort(m->entries, m->n, sizeof *m->entries, cmp_entry);
    uint64_t *max_end = realloc(m->max_end, (m->n ? m->n : 1) * sizeof *max_end);
    if (!max_end)
        return -ENOMEM;
    m->max_end = max_end;
    for (size_t i = 0; i < m->n; i++)
        max_end[i] = i && max_end[i - 1] > m->entries[i].end ? max_end[i - 1] : m->entries[i].end;
    return 0;
}

int cs_perf_map_add_text(struct cs_perf_map *m, const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) { /* keep it for the next call */
            char *more = realloc(m->pending, m->npending + (size_t)(end - p));
            if (!more)
                return -ENOMEM;
            memcpy(more + m->npending, p, (size_t)(end - p));
            m->pending = more;
            m->npending += (size_t)(end - p);
            break;
        }
        int err;
        if (m->npending) {
            char *line = realloc(m->pending, m->npending + (size_t)(nl - p));
            if (!line)
                return -ENOMEM;
            memcpy(line + m->npending, p, (size_t)(nl - p));
            err = add_line(m, line, line + m->npending + (nl - p));
            free(line);
            m->pending = NULL;
            m->npending = 0;
        } else {
            err = add_line(m, p, nl);
        }
        if (err)
            return err;
        p = nl + 1;
    }
    return index_entries(m);
}

const char *cs_perf_map_lookup(struct cs_perf_map *m, uint64_t addr, uint64_t *offset)
{
    /* The last entry starting at or before addr, then back while an earlier one can
     * still reach addr (max_end), keeping the latest line that covers it. */
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->entries[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    const struct entry *best = NULL;
    for (size_t i = lo; i-- > 0 && m->max_end[i] > addr;) {
        const struct entry *e = &m->entries[i];
        if (addr < e->end && (!best || e->seq > best->seq))
            best = e;
    }
    if (!best)
        return NULL;
    if (offset)
        *offset = addr - best->start;
    return m->names + best->name;
}

/* The target's PID in its own namespace (last NSpid field) and its user ids. */
static int read_status(int pid, long *nspid, unsigned uids[4])
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[256];
    *nspid = pid;
    bool have_uids = false;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "NSpid:", 6)) {
            char *last = NULL;
            for (char *t = strtok(line + 6, " \t\n"); t; t = strtok(NULL, " \t\n"))
                last = t;
            if (last)
                *nspid = strtol(last, NULL, 10);
        } else if (!strncmp(line, "Uid:", 4)) {
            have_uids =
                sscanf(line + 4, "%u %u %u %u", &uids[0], &uids[1], &uids[2], &uids[3]) == 4;
        }
    }
    fclose(f);
    if (!have_uids) {
        errno = ESRCH;
        return -1;
    }
    return 0;
}

int cs_perf_map_open(int pid, char *path, size_t path_len)
{
    long nspid;
    unsigned uids[4];
    if (read_status(pid, &nspid, uids) != 0)
        return -1;
    snprintf(path, path_len, "/proc/%d/root/tmp/perf-%ld.map", pid, nspid);
    /* O_NONBLOCK: a FIFO put there must not hang the open. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ELOOP ? (errno = EPERM, -1) : -1;
    struct stat st;
    bool owner_ok = false;
    if (fstat(fd, &st) == 0) {
        owner_ok = st.st_uid == 0;
        for (int i = 0; i < 4; i++)
            owner_ok |= st.st_uid == uids[i];
    }
    if (!owner_ok || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    /* What the target sees: /tmp/perf-NSPID.map. */
    snprintf(path, path_len, "/tmp/perf-%ld.map", nspid);
    return fd;
}

int cs_perf_map_update(struct cs_perf_map *m, int fd, size_t *read_to)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -errno;
    size_t size =
        st.st_size > (off_t)CS_PERF_MAP_MAX_BYTES ? CS_PERF_MAP_MAX_BYTES : (size_t)st.st_size;
    if (size <= *read_to)
        return 0;
    size_t want = size - *read_to;
    char *buf = malloc(want);
    if (!buf)
        return -ENOMEM;
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(fd, buf + got, want - got, (off_t)(*read_to + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    *read_to += got;
    int err = cs_perf_map_add_text(m, buf, got);
    free(buf);
    return err;
}
