/*
 * JIT code named by its runtime: perf's map convention. A JIT (V8 with
 * --perf-basic-prof, the JVM with an agent, LuaJIT, .NET) appends one line per code
 * object to /tmp/perf-PID.map: "START SIZE name", START and SIZE in hex. For one
 * address the latest line covering it wins (code moved or replaced since).
 */
#ifndef CS_PERF_MAP_H
#define CS_PERF_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Larger maps are read up to this size only: coscope runs as root on a map the
 * target writes. */
#define CS_PERF_MAP_MAX_BYTES (64u << 20)

struct cs_perf_map;

struct cs_perf_map *cs_perf_map_new(void);
void cs_perf_map_free(struct cs_perf_map *m);

/*
 * Parses more of the map: `text` is what follows what was added before. A last line
 * without its newline is kept for the next call (the JIT may be writing it). Lines that
 * do not parse are skipped. 0 or -ENOMEM.
 */
int cs_perf_map_add_text(struct cs_perf_map *m, const char *text, size_t len);

/* The name for `addr` (the latest line covering it) and its offset in the code object;
 * NULL if no line covers it. Valid until the next cs_perf_map_add_text. */
const char *cs_perf_map_lookup(struct cs_perf_map *m, uint64_t addr, uint64_t *offset);

/*
 * Opens the map of process `pid` as the process sees it: its /tmp (through
 * /proc/PID/root) and its PID in its own namespace. Safely, since coscope is root and
 * the target writes the file: no symbolic link, a regular file, owned by one of the
 * target's user ids or by root. A descriptor, or -1 (errno set: ENOENT none, EPERM a
 * file refused, others).
 */
int cs_perf_map_open(int pid, char *path, size_t path_len);

/* Reads what was appended to the open map `fd` since the last call (`*read_to` bytes
 * read so far) into `m`, up to CS_PERF_MAP_MAX_BYTES. 0, or a negative errno. */
int cs_perf_map_update(struct cs_perf_map *m, int fd, size_t *read_to);

#endif
