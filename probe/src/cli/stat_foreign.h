/* `coscope stat` on a process without libcorun: a session over its loop threads. */
#ifndef CS_STAT_FOREIGN_H
#define CS_STAT_FOREIGN_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Runs a whole `stat` on process `pid` (already known to have no libcorun, and released
 * if coscope launched it): watches its loop threads (the main thread only, if `launched`)
 * for `duration_ns` (0: until SIGINT/SIGTERM/SIGHUP or the process exits) and prints the
 * summary as text or JSON. Returns a coscope exit code.
 */
int cs_foreign_stat_run(int pid, bool launched, uint64_t duration_ns, bool json);

#endif
